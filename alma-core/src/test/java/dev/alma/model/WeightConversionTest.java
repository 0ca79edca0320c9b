package dev.alma.model;

import com.fasterxml.jackson.databind.JsonNode;
import dev.alma.Fixtures;
import dev.alma.backend.cpu.CpuBackend;
import dev.alma.io.Json;
import dev.alma.tensor.DType;
import dev.alma.tensor.Tensor;
import org.junit.jupiter.api.Test;

import java.lang.foreign.MemorySegment;
import java.util.List;

import static dev.alma.model.ModelParityTest.ints;
import static dev.alma.model.ModelParityTest.worstLogitError;
import static org.junit.jupiter.api.Assertions.*;

/** {@link ModelOptions#weights}: a checkpoint's matrices quantized as they load. */
class WeightConversionTest {

    private static float[] lastLogits(LlamaModel m, int[] ids) {
        try (LlamaModel.Context ctx = m.newContext(ids.length)) {
            return m.append(ctx, ctx.cache().create(), ids, false)[0];
        }
    }

    @Test
    void bf16ShardsHeldAsQ8_0ComputeWhatLlamaCppsQ8_0FileDoes() {
        // GgufExportTest shows the Q8_0 export of these shards is llama.cpp's file byte for byte; quantized in memory
        // instead, the model must give that file's logits (up to the order of float operations: the GGUF file keeps
        // Q/K rows permuted for interleaved RoPE), and not the bf16 model's: measured 2.4e-5-3.2e-5 against 0.84
        JsonNode refs = Json.read(Fixtures.fixture("models/ref-gqa-bf16.json"));
        try (LlamaModel q = LlamaModel.open(Fixtures.fixture("models/tiny-llama-gqa-bf16"), ModelOptions.defaults().withWeights(DType.Q8_0));
             LlamaModel file = LlamaModel.open(Fixtures.fixture("gguf/tiny-llama-gqa-q8_0.gguf"), ModelOptions.defaults());
             LlamaModel bf16 = LlamaModel.open(Fixtures.fixture("models/tiny-llama-gqa-bf16"), ModelOptions.defaults())) {
            double toFile = 0, toBf16 = 0;
            for (JsonNode r : refs) {
                int[] ids = ints(r.get("ids"));
                float[] got = lastLogits(q, ids), want = lastLogits(file, ids), plain = lastLogits(bf16, ids);
                for (int i = 0; i < got.length; i++) {
                    toFile = Math.max(toFile, Math.abs(got[i] - want[i]) / Math.max(1, Math.abs(want[i])));
                    toBf16 = Math.max(toBf16, Math.abs(got[i] - plain[i]) / Math.max(1, Math.abs(plain[i])));
                }
            }
            System.out.println("held as Q8_0: worst relative logit difference " + toFile + " to the Q8_0 file, " + toBf16 + " to bf16");
            assertTrue(toFile <= 1e-4, "against llama.cpp's Q8_0 file " + toFile);
            assertTrue(toBf16 > 1e-3, "no different from bf16: " + toBf16);
        }
    }

    @Test
    void matricesThatAreNotWholeBlocksStayAsStoredAndTheModelStillMatches() {
        // hidden 48: only the FFN's down projection (128 columns) becomes Q8_0; LoRA adapters still apply on top
        Tensor square = null;
        try (Checkpoint c = Checkpoint.open(Fixtures.fixture("models/tiny-llama-mha-f32"))) {
            square = c.tensors().get("model.layers.0.self_attn.q_proj.weight");
            assertFalse(WeightConversion.converts(square, DType.Q8_0));
            assertTrue(WeightConversion.converts(c.tensors().get("model.layers.0.mlp.down_proj.weight"), DType.Q8_0));
            assertFalse(WeightConversion.converts(c.tensors().get("model.norm.weight"), DType.Q8_0), "vectors stay");
            assertFalse(WeightConversion.converts(square, DType.F32), "already F32");
        }
        try (LlamaModel m = LlamaModel.open(Fixtures.fixture("models/tiny-llama-mha-f32"), ModelOptions.defaults()
                .withWeights(DType.Q8_0).withLoras(List.of(Fixtures.fixture("models/tiny-llama-mha-f32-lora"))))) {
            double err = worstLogitError(m, Json.read(Fixtures.fixture("models/ref-mha-f32-lora.json")));
            assertTrue(err > 1e-6 && err <= 5e-2, "half the matrices Q8_0: " + err);
        }
    }

    @Test
    void convertedRowsDecodeToTheQuantizedValues() {
        // a bf16 matrix held as BF16 again would be refused; as F16 every value survives (bf16 has 8 significant bits)
        try (Checkpoint c = Checkpoint.open(Fixtures.fixture("models/tiny-llama-gqa-bf16"))) {
            Tensor t = c.tensors().get("model.layers.1.mlp.up_proj.weight");
            assertFalse(WeightConversion.converts(t, DType.BF16));
            Tensor f16 = WeightConversion.convert(t, DType.F16, bytes -> MemorySegment.ofArray(new byte[(int) bytes]));
            assertEquals(DType.F16, f16.type());
            float[] want = new float[(int) t.count()], got = new float[want.length];
            CpuBackend.decodeRows(t, 0, t.rows(), want);
            CpuBackend.decodeRows(f16, 0, f16.rows(), got);
            for (int i = 0; i < want.length; i++)
                assertEquals(want[i], got[i], Math.abs(want[i]) * 1e-3 + 1e-7, "value " + i);
        }
    }

    @Test
    void randomModelsTakeTheirTypeFromTheSpecNotTheOption() {
        assertThrows(dev.alma.AlmaException.class, () ->
                LlamaModel.open(java.nio.file.Path.of("random:64,128,2,4:f32"), ModelOptions.defaults().withWeights(DType.Q8_0)));
    }
}
