package dev.alma.backend.cpu;

import dev.alma.Fixtures;
import dev.alma.io.GgufFile;
import dev.alma.io.SafeTensors;
import dev.alma.model.GgufCheckpoint;
import dev.alma.tensor.DType;
import dev.alma.tensor.Tensor;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The Q8_0 kernel on llama.cpp's own quantization of the bf16 fixture model. */
class QuantFixtureTest {

    @Test
    void llamaCppQ8_0DecodesToTheBf16WeightsWithinHalfAStepOfTheHalfPrecisionScale() throws IOException {
        Path hfDir = Fixtures.fixture("models/tiny-llama-gqa-bf16");
        List<SafeTensors> hf = new ArrayList<>();
        try (Stream<Path> s = Files.list(hfDir)) {
            for (Path p : s.filter(p -> p.toString().endsWith(".safetensors")).sorted().toList()) hf.add(SafeTensors.open(p));
        }
        int checked = 0;
        Random rnd = new Random(8);
        try (GgufFile f = GgufFile.open(Fixtures.fixture("gguf/tiny-llama-gqa-q8_0.gguf"))) {
            for (Tensor g : GgufCheckpoint.of(f).tensors().values()) {
                // half a step of d = amax/127, plus d's rounding to f16 (2^-11 relative) times |q| <= 127
                // q/k rows are permuted by the converter (checked on the F32 file); compare the others
                if (g.type() != DType.Q8_0 || g.name().contains("q_proj") || g.name().contains("k_proj")) continue;
                Tensor h = hf.stream().map(s -> s.get(g.name())).filter(java.util.Objects::nonNull).findFirst().orElseThrow();
                CpuMatrix m = CpuMatrix.of(g);
                int cols = g.cols();
                float[] row = new float[cols], x = new float[cols];
                for (int i = 0; i < cols; i++) x[i] = (float) rnd.nextGaussian();
                for (int r = 0; r < g.rows(); r++) {
                    m.row(r, row, 0);
                    double dot = 0, abs = 0;
                    for (int b = 0; b < cols / 32; b++) {
                        double amax = 0;
                        for (int i = 32 * b; i < 32 * b + 32; i++) amax = Math.max(amax, Math.abs(h.getFloat((long) r * cols + i)));
                        for (int i = 32 * b; i < 32 * b + 32; i++) {
                            float want = h.getFloat((long) r * cols + i);
                            if (Math.abs(row[i] - want) > amax / 127 * (0.5 + 127 * 0x1p-11) + 1e-7)
                                throw new AssertionError(g.name() + " row " + r + " col " + i + ": " + row[i] + " vs " + want);
                            dot += (double) row[i] * x[i];
                            abs += Math.abs((double) row[i] * x[i]);
                        }
                    }
                    assertEquals(dot, m.dot(r, x, 0), abs * 1e-5, g.name() + " dot row " + r);
                }
                checked++;
            }
        } finally {
            for (SafeTensors s : hf) s.close();
        }
        assertTrue(checked >= 3 * 5 + 2, "checked " + checked + " Q8_0 tensors");
    }
}
