package dev.alma.model;

import dev.alma.Fixtures;
import dev.alma.decode.DecodingOptions;
import dev.alma.decode.Generator;
import dev.alma.tensor.DType;
import org.junit.jupiter.api.Test;

import java.util.stream.IntStream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@link ModelOptions#kvCache}: an f16 cache gives the f32 cache's logits to f16 rounding, and its decoding. */
class KvCacheTypeTest {
    @Test
    void anF16CacheGivesTheLogitsToF16RoundingAndTheSameGreedyTokens() {
        var dir = Fixtures.fixture("models/tiny-llama-mha-f32");
        int[] prompt = IntStream.range(0, 40).map(i -> 3 + (i * 37) % 900).toArray();
        try (LlamaModel f32 = LlamaModel.open(dir, ModelOptions.defaults().withThreads(1));
             LlamaModel f16 = LlamaModel.open(dir, ModelOptions.defaults().withThreads(1).withKvCache(DType.F16))) {
            assertEquals(DType.F16, f16.kvCacheType());
            assertEquals(DType.F16, f16.withLoras(java.util.List.of()).kvCacheType(), "a LoRA view keeps the cache type");
            float[][] a, b;
            try (LlamaModel.Context ca = f32.newContext(64); LlamaModel.Context cb = f16.newContext(64)) {
                a = f32.append(ca, ca.cache().create(), prompt, true);
                b = f16.append(cb, cb.cache().create(), prompt, true);
            }
            double worst = 0, scale = 0;
            for (int t = 0; t < a.length; t++)
                for (int v = 0; v < a[t].length; v++) {
                    worst = Math.max(worst, Math.abs(a[t][v] - b[t][v]));
                    scale = Math.max(scale, Math.abs(a[t][v]));
                }
            assertTrue(worst > 0, "the f16 cache changed nothing: is it f16?");
            assertTrue(worst < 2e-3 * scale, "logits differ by " + worst + " of " + scale);
            DecodingOptions greedy = DecodingOptions.greedy(16);
            assertArrayEquals(new Generator(f32, greedy).generate(prompt).getFirst().tokens(),
                    new Generator(f16, greedy).generate(prompt).getFirst().tokens());
        }
        assertThrows(IllegalArgumentException.class, () -> ModelOptions.defaults().withKvCache(DType.Q8_0));
    }
}
