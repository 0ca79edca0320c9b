package dev.alma.io;

import dev.alma.Fixtures;
import dev.alma.model.GgufCheckpoint;
import dev.alma.tensor.DType;
import dev.alma.tensor.Tensor;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

class QuantizerTest {

    /** Quantizing the bf16 fixture weights gives the very bytes llama.cpp's converter wrote to the Q8_0 GGUF. */
    @Test
    void q8_0IsBitExactWithLlamaCppsConverter() throws IOException {
        List<SafeTensors> hf = new ArrayList<>();
        try (Stream<Path> s = Files.list(Fixtures.fixture("models/tiny-llama-gqa-bf16"))) {
            for (Path p : s.filter(p -> p.toString().endsWith(".safetensors")).sorted().toList()) hf.add(SafeTensors.open(p));
        }
        int compared = 0;
        try (GgufCheckpoint ck = GgufCheckpoint.open(Fixtures.fixture("gguf/tiny-llama-gqa-q8_0.gguf"))) {
            for (Tensor g : ck.tensors().values()) {
                // q/k rows are permuted by the converter; their blocks are the same, in another row order
                if (g.type() != DType.Q8_0 || g.name().contains("q_proj") || g.name().contains("k_proj")) continue;
                Tensor h = hf.stream().map(f -> f.get(g.name())).filter(java.util.Objects::nonNull).findFirst().orElseThrow();
                float[] values = h.toFloatArray();
                ByteBuffer buf = ByteBuffer.allocate((int) g.data().byteSize()).order(ByteOrder.LITTLE_ENDIAN);
                Quantizer.encode(DType.Q8_0, values, 0, values.length, buf);
                assertArrayEquals(g.data().toArray(ValueLayout.JAVA_BYTE), buf.array(), g.name());
                compared++;
            }
        } finally {
            for (SafeTensors f : hf) f.close();
        }
        assertEquals(3 * 5 + 2, compared);
    }

    @Test
    void roundingAndLayoutOfSmallBlocks() {
        float[] x = new float[32];
        for (int i = 0; i < 32; i++) x[i] = i - 15.5f; // -15.5 .. 15.5
        ByteBuffer q8 = ByteBuffer.allocate(34).order(ByteOrder.LITTLE_ENDIAN);
        Quantizer.encode(DType.Q8_0, x, 0, 32, q8);
        float d = Float.float16ToFloat(q8.getShort(0));
        assertEquals(15.5f / 127, d, 15.5f / 127 * 0x1p-11f, "d rounded to f16");
        assertEquals(-127, q8.get(2));
        assertEquals(127, q8.get(33));
        ByteBuffer q4 = ByteBuffer.allocate(18).order(ByteOrder.LITTLE_ENDIAN);
        Quantizer.encode(DType.Q4_0, x, 0, 32, q4);
        // the first value of largest magnitude is -15.5, so d = 15.5 / 8 and it maps to code 0 (value (0-8)*d)
        assertEquals(15.5f / 8, Float.float16ToFloat(q4.getShort(0)), 15.5f / 8 * 0x1p-11f);
        assertEquals(0, q4.get(2) & 0xF);
        assertEquals(15, (q4.get(17) >> 4) & 0xF, "15.5 clamps to code 15");
        assertThrows(IllegalArgumentException.class, () -> Quantizer.encode(DType.Q8_0, x, 0, 31, q8.clear()));
        assertThrows(IllegalArgumentException.class, () -> Quantizer.encode(DType.Q4_K, x, 0, 32, q8.clear()));
    }
}
