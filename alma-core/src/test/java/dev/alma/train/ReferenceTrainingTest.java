package dev.alma.train;

import com.fasterxml.jackson.databind.JsonNode;
import dev.alma.Fixtures;
import dev.alma.io.Json;
import dev.alma.io.SafeTensors;
import dev.alma.tensor.Tensor;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The stage-2 loss, every gradient, one AdamW step and the stage-1 loss after it, against PyTorch's values. */
class ReferenceTrainingTest {
    static JsonNode refs;
    static Path dir;

    @BeforeAll
    static void read() {
        dir = Fixtures.fixture("training");
        refs = Json.read(Fixtures.fixture("training/train-refs.json"));
    }

    static Batch batch(JsonNode ids, JsonNode labels) {
        int b = ids.size(), t = ids.get(0).size();
        int[] in = new int[b * t], lab = new int[b * t];
        for (int i = 0; i < b; i++)
            for (int j = 0; j < t; j++) {
                in[i * t + j] = ids.get(i).get(j).asInt();
                lab[i * t + j] = labels == null ? in[i * t + j] : labels.get(i).get(j).asInt();
            }
        return new Batch(b, t, in, lab);
    }

    static double relDiff(float[] got, float[] want) {
        double num = 0, den = 0;
        for (int i = 0; i < got.length; i++) {
            num += Math.pow((double) got[i] - want[i], 2);
            den += (double) want[i] * want[i];
        }
        return Math.sqrt(num / den);
    }

    @Test
    void stage2LossGradientsAdamWAndStage1Loss() {
        TrainableLlama model = ModelFiles.load(dir.resolve("train-llama-v512"));
        JsonNode s2 = refs.get("stage2");
        Batch b = batch(s2.get("input_ids"), s2.get("labels"));
        int count = b.targets();
        model.zeroGrad();
        double loss = model.forwardBackward(b, 1f / count, -1) / count;
        double want = s2.get("loss").asDouble();
        assertEquals(want, loss, 1e-5 * want, "stage-2 loss");

        try (SafeTensors grads = SafeTensors.open(dir.resolve("train-grads.safetensors"))) {
            assertEquals(grads.tensors().size(), model.trainableParameters().size(), "parameter count");
            for (Parameter p : model.trainableParameters()) {
                Tensor g = grads.get(p.name());
                assertNotNull(g, "reference gradient of " + p.name());
                double rel = relDiff(p.grad(), g.toFloatArray());
                assertTrue(rel < 1e-4, p.name() + " gradient differs by " + rel + " relative");
            }
        }

        JsonNode a = refs.get("adamw");
        new AdamW(a.get("betas").get(0).asDouble(), a.get("betas").get(1).asDouble(), a.get("eps").asDouble(),
                a.get("weight_decay").asDouble(), true).step(model.trainableParameters(), a.get("lr").asDouble());
        try (SafeTensors after = SafeTensors.open(dir.resolve("train-after-adamw.safetensors"))) {
            for (Parameter p : model.trainableParameters()) {
                float[] w = after.get(p.name()).toFloatArray();
                double max = 0;
                for (int i = 0; i < w.length; i++) max = Math.max(max, Math.abs(w[i] - p.data()[i]));
                assertTrue(max < 1e-6, p.name() + " after AdamW differs by " + max);
            }
        }

        JsonNode s1 = refs.get("stage1");
        Batch mono = batch(s1.get("input_ids"), null);
        double loss1 = model.lossSum(mono) / mono.targets();
        double want1 = s1.get("loss_after_adamw").asDouble();
        assertEquals(want1, loss1, 1e-5 * want1, "stage-1 loss after the AdamW step");
    }
}
