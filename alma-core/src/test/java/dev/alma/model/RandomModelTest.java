package dev.alma.model;

import dev.alma.AlmaException;
import dev.alma.tensor.DType;
import dev.alma.tensor.Tensor;
import org.junit.jupiter.api.Test;

import java.lang.foreign.ValueLayout;
import java.util.Arrays;

import static org.junit.jupiter.api.Assertions.*;

/** {@code random:} model specs: parsing, the host draw of random weights, and a forward pass of such a model. */
class RandomModelTest {

    @Test
    void namedAndExplicitShapesParse() {
        RandomModel.Spec s7 = RandomModel.parse("random:7b");
        assertEquals(DType.BF16, s7.type());
        LlamaConfig c = s7.config();
        assertArrayEquals(new int[]{4096, 11008, 32, 32},
                new int[]{c.hiddenSize(), c.intermediateSize(), c.numLayers(), c.numHeads()});
        assertEquals(32, c.numKvHeads());
        assertEquals(128, c.headDim());
        assertEquals(32000, c.vocabSize());
        RandomModel.Spec s13 = RandomModel.parse("random:13b:f16");
        assertEquals(DType.F16, s13.type());
        assertEquals(5120, s13.config().hiddenSize());
        assertEquals(40, s13.config().numLayers());
        RandomModel.Spec g = RandomModel.parse("random:256,512,3,8,2:q8_0");
        assertEquals(DType.Q8_0, g.type());
        assertEquals(2, g.config().numKvHeads());
        assertEquals(32, g.config().headDim());
        assertEquals(DType.Q5_K, RandomModel.parse("random:7b:q5_k").type());
        assertEquals(DType.Q4_K, RandomModel.parse("random:512,1024,2,8:Q4_K").type());
        assertTrue(RandomModel.isSpec("random:7b"));
        assertFalse(RandomModel.isSpec("models/7b"));
    }

    @Test
    void badSpecsNameWhatIsWrong() {
        String[][] cases = {
                {"random:7b:q9", "type 'q9'"},
                {"random:64,128,2", "HIDDEN,FFN,LAYERS,HEADS"},
                {"random:64,x,2,4", "FFN 'x' is not a number"},
                {"random:64,128,2,0", "heads 0 is out of range"},
                {"random:66,128,2,4", "not a multiple of heads"},
                {"random:64,100,2,4:q8_0", "multiples of 32"},
                {"random:512,1000,2,4:q5_k", "multiples of 256"},
                {"random:64,128,2,4,3", "not a multiple of num_key_value_heads"},
                {"random:7b:bf16:x", "random:SHAPE[:TYPE]"}};
        for (String[] c : cases) {
            AlmaException e = assertThrows(AlmaException.class, () -> RandomModel.parse(c[0]), c[0]);
            assertTrue(e.getMessage().contains(c[1]), c[0] + ": " + e.getMessage());
        }
    }

    @Test
    void hostDrawIsUniformInRangeAndReproducible() {
        Tensor a = RandomModel.uniform("a", DType.F32, 40, 96, 7, 0.5f), b = RandomModel.uniform("b", DType.F32, 40, 96, 7, 0.5f);
        Tensor other = RandomModel.uniform("c", DType.F32, 40, 96, 8, 0.5f);
        float[] va = a.data().toArray(ValueLayout.JAVA_FLOAT), vb = b.data().toArray(ValueLayout.JAVA_FLOAT);
        float[] vo = other.data().toArray(ValueLayout.JAVA_FLOAT);
        assertArrayEquals(va, vb);
        assertFalse(Arrays.equals(va, vo));
        double sum = 0, sq = 0;
        for (float v : va) {
            assertTrue(v >= -0.5f && v < 0.5f, "value " + v);
            sum += v;
            sq += v * v;
        }
        assertEquals(0, sum / va.length, 0.02);
        assertEquals(0.25 / 3, sq / va.length, 0.01);  // variance of U(-s, s) is s²/3
        assertArrayEquals(new long[]{40, 96}, a.shape());
        assertEquals(DType.Q8_0.byteSize(64) * 3, RandomModel.uniform("q", DType.Q8_0, 3, 64, 1, 1f).data().byteSize());
        assertThrows(AlmaException.class, () -> RandomModel.uniform("q", DType.Q8_0, 3, 40, 1, 1f));
    }

    @Test
    void aRandomModelRunsAndIsTheSameEachTime() {
        float[][] first = null;
        for (int round = 0; round < 2; round++) {
            try (LlamaModel m = LlamaModel.open(java.nio.file.Path.of("random:64,128,2,4,2:f32"),
                    new ModelOptions("cpu", 2, java.util.List.of()))) {
                assertEquals(2, m.config().numLayers());
                try (LlamaModel.Context ctx = m.newContext(8)) {
                    float[][] logits = m.append(ctx, ctx.cache().create(), new int[]{1, 500, 31999}, true);
                    assertEquals(32000, logits[2].length);
                    for (float v : logits[2]) assertTrue(Float.isFinite(v));
                    float lo = Float.MAX_VALUE, hi = -Float.MAX_VALUE;
                    for (float v : logits[2]) {
                        lo = Math.min(lo, v);
                        hi = Math.max(hi, v);
                    }
                    assertTrue(hi - lo > 1e-3, "logits spread " + lo + ".." + hi);
                    if (first == null) first = logits;
                    else for (int i = 0; i < 3; i++) assertArrayEquals(first[i], logits[i], 1e-4f);  // same weights; the JIT may sum differently
                }
            }
        }
        AlmaException e = assertThrows(AlmaException.class, () -> LlamaModel.open(java.nio.file.Path.of("random:7b"),
                new ModelOptions("cpu", 1, java.util.List.of(java.nio.file.Path.of("adapter")))));
        assertTrue(e.getMessage().contains("LoRA adapters need a checkpoint"), e.getMessage());
    }
}
