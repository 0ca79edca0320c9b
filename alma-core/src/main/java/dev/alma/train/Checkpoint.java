package dev.alma.train;

import com.fasterxml.jackson.databind.JsonNode;
import dev.alma.io.FormatException;
import dev.alma.io.Json;
import dev.alma.io.SafeTensors;
import dev.alma.io.SafeTensorsWriter;
import dev.alma.tensor.DType;
import dev.alma.tensor.Tensor;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * A training checkpoint in one safetensors file, replaced atomically (written beside, then renamed): the trainable
 * parameters by name, AdamW's moments ({@code adamw.exp_avg.<name>}, {@code adamw.exp_avg_sq.<name>}) and, in the
 * metadata, the step count, the run's settings and the loss history. The data position and every random draw are
 * functions of the step and the seed, so nothing else is needed to continue exactly.
 */
final class Checkpoint {
    static final String FILE = "checkpoint.safetensors";

    private Checkpoint() {
    }

    static void save(Path dir, TrainableLlama model, AdamW adam, long step, TrainConfig cfg, List<StepLog> history) {
        SafeTensorsWriter w = new SafeTensorsWriter();
        for (Parameter p : model.trainableParameters()) {
            float[][] mv = adam.moments(p);
            w.add(p.name(), DType.F32, p.longShape(), p.data());
            w.add("adamw.exp_avg." + p.name(), DType.F32, p.longShape(), mv[0]);
            w.add("adamw.exp_avg_sq." + p.name(), DType.F32, p.longShape(), mv[1]);
        }
        List<Object> h = new ArrayList<>();
        for (StepLog s : history)
            h.add(new Object[]{s.step(), s.lr(), s.loss(), s.gradNorm(), s.tokens(), s.seconds(), Double.isNaN(s.evalLoss()) ? null : s.evalLoss()});
        w.metadata("step", Long.toString(step));
        w.metadata("adamw_steps", Long.toString(adam.steps()));
        w.metadata("config", Json.write(cfg));
        w.metadata("history", Json.write(h));
        w.write(dir.resolve(FILE));
    }

    /** What {@link #load} restores besides the tensors. */
    record State(long step, List<StepLog> history) {
    }

    /** Restores parameters and moments into {@code model}/{@code adam}; fails when the settings differ. */
    static State load(Path dir, TrainableLlama model, AdamW adam, TrainConfig cfg) {
        Path file = dir.resolve(FILE);
        try (SafeTensors st = SafeTensors.open(file)) {
            Map<String, String> meta = st.metadata();
            String saved = meta.get("config");
            if (saved == null) throw new FormatException(file, "config", "missing from the metadata");
            JsonNode was = Json.parse(file, "config", saved.getBytes(StandardCharsets.UTF_8));
            JsonNode now = Json.MAPPER.valueToTree(cfg);
            for (String f : List.of("lr", "maxSteps", "epochs", "gradAccum", "warmupRatio", "scheduler", "weightDecay",
                    "beta1", "beta2", "eps", "maxGradNorm", "seed"))
                if (!was.path(f).asText().equals(now.path(f).asText()))
                    throw new FormatException(file, "config." + f, "checkpoint has " + was.path(f) + ", this run " + now.path(f)
                            + "; resume with the same settings");
            for (Parameter p : model.trainableParameters()) {
                copy(file, st, p.name(), p.data());
                float[][] mv = adam.moments(p);
                copy(file, st, "adamw.exp_avg." + p.name(), mv[0]);
                copy(file, st, "adamw.exp_avg_sq." + p.name(), mv[1]);
            }
            adam.setSteps(parseLong(file, meta, "adamw_steps"));
            List<StepLog> history = new ArrayList<>();
            JsonNode h = Json.parse(file, "history", meta.getOrDefault("history", "[]").getBytes(StandardCharsets.UTF_8));
            for (JsonNode r : h)
                history.add(new StepLog(r.get(0).asLong(), r.get(1).asDouble(), r.get(2).asDouble(), r.get(3).asDouble(),
                        r.get(4).asLong(), r.get(5).asDouble(), r.get(6).isNull() ? Double.NaN : r.get(6).asDouble()));
            return new State(parseLong(file, meta, "step"), history);
        }
    }

    private static long parseLong(Path file, Map<String, String> meta, String key) {
        try {
            return Long.parseLong(meta.getOrDefault(key, ""));
        } catch (NumberFormatException e) {
            throw new FormatException(file, key, "'" + meta.get(key) + "' is not a step count");
        }
    }

    private static void copy(Path file, SafeTensors st, String name, float[] into) {
        Tensor t = st.get(name);
        if (t == null) throw new FormatException(file, name, "missing tensor");
        if (t.type() != DType.F32 || t.count() != into.length)
            throw new FormatException(file, name, t.type() + " " + t.shapeString() + " does not match " + into.length + " f32 values");
        t.data().asByteBuffer().order(java.nio.ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(into);
    }
}
