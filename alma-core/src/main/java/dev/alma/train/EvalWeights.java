package dev.alma.train;

import dev.alma.tensor.DType;
import dev.alma.tensor.Tensor;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The current weights of a {@link TrainableLlama} as an in-memory inference checkpoint (F32 tensors under Hugging
 * Face names, nothing written to disk), with every LoRA update merged into a copy of its base weight:
 * {@code W + (alpha/r)·B·A}. The training model is left untouched. The copies live in native memory owned by
 * {@link Arena#ofAuto()}, freed by the garbage collector once the checkpoint (and any model bound to it) is gone;
 * they take as much memory as the model's f32 weights.
 */
public final class EvalWeights {
    private static final ValueLayout.OfFloat LE_FLOAT = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private EvalWeights() {
    }

    /**
     * A checkpoint of {@code model}'s weights as they are now.
     *
     * @param source named as the checkpoint's origin in error messages (usually the model directory trained)
     */
    public static dev.alma.model.Checkpoint snapshot(TrainableLlama model, Path source) {
        Map<String, float[]> merged = new LinkedHashMap<>();
        for (Parameter p : model.baseParameters()) merged.put(p.name(), p.data());
        List<Parameter> lora = model.loraParameters();
        if (!lora.isEmpty()) {
            float scaling = (float) model.lora().scaling();
            for (int i = 0; i < lora.size(); i += 2) {
                Parameter a = lora.get(i), b = lora.get(i + 1);
                String weight = a.name().substring(0, a.name().length() - ".lora_A.weight".length()) + ".weight";
                float[] w = merged.get(weight).clone();
                addProduct(w, b.data(), a.data(), b.shape()[0], a.shape()[0], a.shape()[1], scaling);
                merged.put(weight, w);
            }
        }
        Arena arena = Arena.ofAuto();
        Map<String, Tensor> tensors = new LinkedHashMap<>();
        for (Parameter p : model.baseParameters()) {
            float[] v = merged.get(p.name());
            MemorySegment seg = arena.allocate((long) v.length * Float.BYTES, 64);
            MemorySegment.copy(v, 0, seg, LE_FLOAT, 0, v.length);
            tensors.put(p.name(), new Tensor(p.name(), DType.F32, p.longShape(), seg));
        }
        return new dev.alma.model.Checkpoint(source, model.config(), tensors, List.of());
    }

    /** {@code w[out,in] += s · b[out,r] · a[r,in]}, rows in parallel. */
    static void addProduct(float[] w, float[] b, float[] a, int out, int r, int in, float s) {
        Gemm.parallel(Math.max(1, Math.min(out, 64)), t -> {
            int tasks = Math.max(1, Math.min(out, 64)), o0 = out * t / tasks, o1 = out * (t + 1) / tasks;
            for (int o = o0; o < o1; o++)
                for (int k = 0; k < r; k++) {
                    float c = s * b[o * r + k];
                    if (c != 0f) Gemm.axpy(c, a, k * in, w, o * in, in);
                }
        });
    }
}
