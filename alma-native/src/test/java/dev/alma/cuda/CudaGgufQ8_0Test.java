package dev.alma.cuda;

import dev.alma.backend.Backend;
import dev.alma.backend.KvCache;
import dev.alma.backend.cpu.CpuBackend;
import dev.alma.model.Checkpoint;
import dev.alma.model.LlamaModel;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The Q8_0 GGUF fixture model ({@code gguf/tiny-llama-gqa-q8_0.gguf}) on the GPU against the same model on the CPU
 * backend (whose Q8_0 kernels are the twin): logits of every prompt position and 24 greedy steps, float32 math
 * ≤ 1e-5 relative with the same greedy tokens; tensor-core math ≤ 3e-2. Skipped without a device.
 */
class CudaGgufQ8_0Test {
    private static final int[] PROMPT = {1, 450, 4996, 17354, 1701, 432, 17204, 975, 278, 17366, 11203, 29889, 13};

    private record Run(float[][] logits, int[] greedy) {
    }

    private static Run run(Backend backend) {
        Checkpoint ckpt = Checkpoint.open(CudaModelParityTest.fixture("gguf/tiny-llama-gqa-q8_0.gguf"));
        try (LlamaModel m = LlamaModel.create(ckpt, backend, List.of(), ckpt);
             LlamaModel.Context ctx = m.newContext(256)) {
            KvCache cache = ctx.cache();
            int seq = cache.create();
            int n = PROMPT.length;
            int[] seqs = new int[n], pos = new int[n], rows = new int[n];
            for (int i = 0; i < n; i++) {
                pos[i] = i;
                rows[i] = i;
            }
            List<float[]> logits = new ArrayList<>(List.of(m.forward(ctx, PROMPT, seqs, pos, rows)));
            int[] greedy = new int[24];
            for (int s = 0; s < greedy.length; s++) {
                greedy[s] = argmax(logits.getLast());
                logits.add(m.forward(ctx, new int[]{greedy[s]}, new int[]{seq}, new int[]{n + s}, new int[]{0})[0]);
            }
            return new Run(logits.toArray(float[][]::new), greedy);
        }
    }

    private static int argmax(float[] x) {
        int best = 0;
        for (int i = 1; i < x.length; i++) if (x[i] > x[best]) best = i;
        return best;
    }

    @Test
    void q8_0ModelMatchesTheCpuBackend() {
        GpuAssumptions.assumeDevice();
        Run cpu;
        try (CpuBackend b = new CpuBackend(2)) {
            cpu = run(b);
        }
        try (CudaBackend f32 = new CudaBackend(0, false)) {
            Run gpu = run(f32);
            double err = TestData.relError(gpu.logits(), cpu.logits());
            assertTrue(err <= 1e-5, "float32 math: logits differ by " + err);
            assertArrayEquals(cpu.greedy(), gpu.greedy(), "greedy tokens");
        }
        try (CudaBackend tc = new CudaBackend(0, true)) {
            double err = TestData.relError(run(tc).logits(), cpu.logits());
            assertTrue(err <= 3e-2, "tensor-core math: logits differ by " + err);
        }
    }
}
