package dev.alma.model;

import dev.alma.Fixtures;
import dev.alma.backend.Backend;
import dev.alma.backend.cpu.CpuBackend;
import org.junit.jupiter.api.Test;

import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.IntStream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** {@link Backend#chunkTokens}: the model splits a batch into passes of that many tokens, with the same logits. */
class ChunkTest {
    /** The CPU backend, but with chunks of {@code chunk} tokens, counting the passes (one embedding gather each). */
    private static Backend chunked(CpuBackend cpu, int chunk, AtomicInteger passes) {
        return (Backend) Proxy.newProxyInstance(Backend.class.getClassLoader(), new Class<?>[]{Backend.class},
                (proxy, method, args) -> {
                    if (method.getName().equals("chunkTokens")) return chunk;
                    if (method.getName().equals("embed")) passes.incrementAndGet();
                    try {
                        return method.invoke(cpu, args);
                    } catch (InvocationTargetException e) {
                        throw e.getCause();
                    }
                });
    }

    @Test
    void aPromptLongerThanAChunkTakesSeveralPassesWithTheSameLogits() {
        var dir = Fixtures.fixture("models/tiny-llama-mha-f32");
        int[] prompt = IntStream.range(0, 23).map(i -> 3 + (i * 53) % 900).toArray();
        AtomicInteger passes = new AtomicInteger();
        try (CpuBackend cpu = new CpuBackend(1); Checkpoint a = Checkpoint.open(dir); Checkpoint b = Checkpoint.open(dir);
             LlamaModel whole = LlamaModel.create(a, cpu, List.of(), null);
             LlamaModel inFives = LlamaModel.create(b, chunked(cpu, 5, passes), List.of(), null)) {
            float[][] x, y;
            try (LlamaModel.Context cx = whole.newContext(32); LlamaModel.Context cy = inFives.newContext(32)) {
                x = whole.append(cx, cx.cache().create(), prompt, true);
                y = inFives.append(cy, cy.cache().create(), prompt, true);
            }
            assertEquals(5, passes.get(), "23 tokens in chunks of 5");
            assertEquals(prompt.length, y.length);
            // The same arithmetic per token but products blocked by other row counts: float32 rounding apart.
            for (int t = 0; t < x.length; t++) assertArrayEquals(x[t], y[t], 1e-4f, "logits after token " + t);
        }
    }

    @Test
    void aBackendAskingForEmptyChunksIsRefused() {
        var dir = Fixtures.fixture("models/tiny-llama-mha-f32");
        try (CpuBackend cpu = new CpuBackend(1); Checkpoint ckpt = Checkpoint.open(dir)) {
            assertThrows(IllegalArgumentException.class,
                    () -> LlamaModel.create(ckpt, chunked(cpu, 0, new AtomicInteger()), List.of(), null));
        }
    }
}
