package dev.alma.train;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Gradient accumulation gives the gradient of the token mean over all micro-batches; clipping caps the global norm. */
class AccumulationAndClippingTest {

    @Test
    void twoMicroBatchesEqualOneBatchOfBoth() {
        TrainableLlama a = TrainableLlama.random(GradientCheckTest.tinyConfig(13), 0.3, 4);
        TrainableLlama b = TrainableLlama.random(GradientCheckTest.tinyConfig(13), 0.3, 4);
        int[] ids1 = {1, 5, 7, 9, 2, 1}, lab1 = {-100, -100, 7, 9, 2, -100};
        int[] ids2 = {1, 3, 3, 4, 12, 2}, lab2 = {-100, 3, 3, 4, 12, 2};
        Batch m1 = new Batch(1, 6, ids1, lab1), m2 = new Batch(1, 6, ids2, lab2);
        int[] both = new int[12], bothLab = new int[12];
        System.arraycopy(ids1, 0, both, 0, 6);
        System.arraycopy(ids2, 0, both, 6, 6);
        System.arraycopy(lab1, 0, bothLab, 0, 6);
        System.arraycopy(lab2, 0, bothLab, 6, 6);
        Batch whole = new Batch(2, 6, both, bothLab);
        int count = m1.targets() + m2.targets();
        assertEquals(whole.targets(), count);
        a.zeroGrad();
        double la = a.forwardBackward(m1, 1f / count, -1) + a.forwardBackward(m2, 1f / count, -1);
        b.zeroGrad();
        double lb = b.forwardBackward(whole, 1f / count, -1);
        assertEquals(lb, la, 1e-5 * lb);
        for (int i = 0; i < a.trainableParameters().size(); i++) {
            float[] ga = a.trainableParameters().get(i).grad(), gb = b.trainableParameters().get(i).grad();
            assertTrue(ReferenceTrainingTest.relDiff(ga, gb) < 1e-5, a.trainableParameters().get(i).name());
        }
    }

    @Test
    void clipsToTheGlobalNorm() {
        Parameter p = new Parameter("a", new int[]{2}, new float[2], true), q = new Parameter("b", new int[]{1}, new float[1], true);
        p.setTrainable(true);
        q.setTrainable(true);
        p.grad()[0] = 3;
        p.grad()[1] = 0;
        q.grad()[0] = 4;
        double before = Trainer.clip(List.of(p, q), 1.0);
        assertEquals(5.0, before, 1e-12);
        assertEquals(0.6, p.grad()[0], 1e-6);
        assertEquals(0.8, q.grad()[0], 1e-6);
        q.grad()[0] = 0.1f;
        p.grad()[0] = 0;
        Trainer.clip(List.of(p, q), 1.0);
        assertEquals(0.1f, q.grad()[0], "a norm below the cap is left alone");
    }
}
