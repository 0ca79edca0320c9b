package dev.alma.cuda;

import dev.alma.backend.KvCache;
import dev.alma.model.Checkpoint;
import dev.alma.model.LlamaModel;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Decode steps run as CUDA graphs give bit-for-bit the logits of the same steps launched one by one (greedy and
 * three forked beams, across page boundaries so that the page tables grow and copy-on-write copies happen), and the
 * graphs are replayed rather than captured every step. Skipped without a device.
 */
class CudaGraphTest {

    @Test
    void graphStepsEqualEagerSteps() {
        withTinyModel((gpu, m) -> {
            gpu.useGraphs(false);
            float[][] eager = decode(m);
            gpu.useGraphs(true);
            float[][] graph = decode(m);
            LaunchTape.Stats st = gpu.graphStats();
            assertNull(st.disabledBecause(), "graphs were turned off");
            assertEquals(eager.length, graph.length);
            for (int i = 0; i < eager.length; i++) assertArrayEquals(eager[i], graph[i], "logits of step row " + i);
            assertTrue(st.replays() > 3 * st.captures(), "captures " + st.captures() + ", replays " + st.replays());
        });
    }

    /**
     * Programmatic dependent launches (with the GEMVs of one token loading weight chunks before they wait) give the
     * same logits, bit for bit, launched one by one and in graphs. On a GPU this also checks that no kernel touches
     * activations before its wait; in the emulator (a compute capability 9.0 device there, but launches are ordinary)
     * it checks the preloading GEMVs, which only run while PDL is on.
     */
    @Test
    void programmaticDependentLaunchesGiveTheSameLogits() {
        withTinyModel((gpu, m) -> {
            gpu.useGraphs(false);
            boolean before = gpu.usesPdl();
            gpu.usePdl(false);
            float[][] plain = decode(m);
            try {
                assertEquals(gpu.capability() >= 90, gpu.usePdl(true));
                float[][] eager = decode(m);
                gpu.useGraphs(true);
                float[][] graph = decode(m);
                for (int i = 0; i < plain.length; i++) {
                    assertArrayEquals(plain[i], eager[i], "PDL launches, logits of step row " + i);
                    assertArrayEquals(plain[i], graph[i], "PDL launches in graphs, logits of step row " + i);
                }
            } finally {
                gpu.usePdl(before);
            }
        });
    }

    /** Runs body with the tiny GQA bf16 fixture model on CUDA device 0 (skipped without a device). */
    private static void withTinyModel(java.util.function.BiConsumer<CudaBackend, LlamaModel> body) {
        GpuAssumptions.assumeDevice();
        Checkpoint ckpt = Checkpoint.open(CudaModelParityTest.fixture("models/tiny-llama-gqa-bf16"));
        try (CudaBackend gpu = new CudaBackend(0, true); LlamaModel m = LlamaModel.create(ckpt, gpu, List.of(), ckpt)) {
            body.accept(gpu, m);
        }
    }

    /** 40 greedy steps then 20 steps of 3 beams forked from it; the logits of every step. */
    private static float[][] decode(LlamaModel m) {
        List<float[]> out = new java.util.ArrayList<>();
        int vocab = m.config().vocabSize();
        try (LlamaModel.Context ctx = m.newContext(512)) {
            KvCache cache = ctx.cache();
            int seq = cache.create();
            int[] prompt = {1, 5, 9, 13, 17, 21, 25, 29, 33, 37, 41};
            int[] pos = new int[prompt.length], seqs = new int[prompt.length];
            for (int i = 0; i < prompt.length; i++) {
                pos[i] = i;
                seqs[i] = seq;
            }
            float[] last = m.forward(ctx, prompt, seqs, pos, new int[]{prompt.length - 1})[0];
            int p = prompt.length;
            for (int s = 0; s < 40; s++, p++) {
                int tok = argmax(last) % vocab;
                last = m.forward(ctx, new int[]{tok}, new int[]{seq}, new int[]{p}, new int[]{0})[0];
                out.add(last);
            }
            int[] beams = {seq, cache.fork(seq), cache.fork(seq)};
            int[] toks = {argmax(last), (argmax(last) + 1) % vocab, (argmax(last) + 2) % vocab};
            for (int s = 0; s < 20; s++, p++) {
                float[][] l = m.forward(ctx, toks, beams, new int[]{p, p, p}, new int[]{0, 1, 2});
                for (int b = 0; b < 3; b++) {
                    out.add(l[b]);
                    toks[b] = (argmax(l[b]) + b) % vocab;
                }
            }
        }
        return out.toArray(float[][]::new);
    }

    private static int argmax(float[] x) {
        int best = 0;
        for (int i = 1; i < x.length; i++) if (x[i] > x[best]) best = i;
        return best;
    }
}
