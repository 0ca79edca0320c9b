package dev.alma.cuda;

import com.fasterxml.jackson.databind.JsonNode;
import dev.alma.decode.DecodingOptions;
import dev.alma.decode.Generator;
import dev.alma.decode.Greedy;
import dev.alma.decode.Hypothesis;
import dev.alma.decode.Logits;
import dev.alma.io.Json;
import dev.alma.model.Checkpoint;
import dev.alma.model.LlamaModel;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The tiny fixture models on the GPU (and, to check the checks, on the CPU) against the independent references
 * (transformers float32, float64 from the bf16 weights, PEFT): logits at every prompt position, the 32 greedy
 * tokens, the five beams of beam search. The GPU tests are skipped without a device.
 */
class CudaModelParityTest {
    private static void needsDevice() {
        GpuAssumptions.assumeDevice();
    }

    /** A file under the shared fixtures ($ALMA_SHARED or the build's default), which must exist. */
    static Path fixture(String relative) {
        String root = System.getenv("ALMA_SHARED");
        if (root == null || root.isBlank()) root = System.getenv("ALMA_SHARED_DEFAULT");
        if (root == null || root.isBlank()) root = "../shared";
        Path p = Path.of(root, "fixtures", relative).toAbsolutePath().normalize();
        if (!Files.exists(p)) throw new AssertionError("fixture missing: " + p + " (set ALMA_SHARED to the shared folder)");
        return p;
    }

    @Test
    void theChecksHoldTheCpuBackendToTheSameBar() {
        JsonNode ref = Json.read(fixture("models/ref-mha-f32.json"));
        Path dir = fixture("models/tiny-llama-mha-f32");
        try (dev.alma.backend.cpu.CpuBackend cpu = new dev.alma.backend.cpu.CpuBackend(2)) {
            Checkpoint ckpt = Checkpoint.open(dir);
            try (LlamaModel m = LlamaModel.create(ckpt, cpu, List.of(), ckpt)) {
                run(m, ref, "tiny-llama-mha-f32 on the CPU", false, 1e-5);
                assertBeams(ref.get(0), new Generator(m, BEAMS).generate(ints(ref.get(0).get("ids"))), "prompt 0");
            }
        }
    }

    @Test
    void float32ModelMatchesTransformersWithFloat32Math() {
        needsDevice();
        check("tiny-llama-mha-f32", "ref-mha-f32.json", false, 1e-5);
    }

    @Test
    void bf16GqaModelMatchesTheFloat64ReferenceWithFloat32Math() {
        needsDevice();
        check("tiny-llama-gqa-bf16", "ref-gqa-bf16.json", false, 1e-5);
    }

    /**
     * -Dalma.cuda.gemvStream=0 and =2 (a warp per row, and the streamed one-token GEMVs that are the default on compute
     * capability 9.0, the emulator's): the same logits and greedy tokens, every decode step's products taken by either
     * (the other streamed variants differ only in their grid and stages, which CudaKernelsTest covers; a streamed
     * variant costs the emulator about two minutes here).
     */
    @ParameterizedTest
    @ValueSource(ints = {0, 2})
    void bf16GqaModelMatchesTheFloat64ReferenceWithEitherGemvKernels(int gemvStream) {
        needsDevice();
        String before = System.getProperty(CudaBackend.GEMV_STREAM_PROPERTY);
        try {
            System.setProperty(CudaBackend.GEMV_STREAM_PROPERTY, Integer.toString(gemvStream));
            check("tiny-llama-gqa-bf16", "ref-gqa-bf16.json", false, 1e-5);
            assertEquals(gemvStream, AlmaCuda.alma_gemv_variant());
        } finally {
            if (before == null) System.clearProperty(CudaBackend.GEMV_STREAM_PROPERTY);
            else System.setProperty(CudaBackend.GEMV_STREAM_PROPERTY, before);
            CudaRuntime.check(AlmaCuda.alma_gemv_set_variant(CudaBackend.gemvStream()), "alma_gemv_set_variant");
        }
    }

    /**
     * -Dalma.cuda.gemvStreamBeams=true with the streamed GEMVs of variant 2: the tiny bf16 model's five beams with
     * tensor-core math (8 new tokens) are those of the tensor-core GEMVs, which round x alike and sum in another order:
     * the same tokens, scores to 1e-4.
     */
    @Test
    void streamedBeamGemvsGiveTheTensorCoreBeams() {
        needsDevice();
        int[] prompt = ints(Json.read(fixture("models/ref-gqa-bf16.json")).get(0).get("ids"));
        String stream = System.getProperty(CudaBackend.GEMV_STREAM_PROPERTY);
        String beams = System.getProperty(CudaBackend.GEMV_STREAM_BEAMS_PROPERTY);
        try {
            System.setProperty(CudaBackend.GEMV_STREAM_PROPERTY, "2");
            List<Hypothesis> tc = bf16Beams(prompt, "false"), streamed = bf16Beams(prompt, "true");
            assertEquals(5, streamed.size());
            for (int k = 0; k < 5; k++) {
                assertArrayEquals(tc.get(k).tokens(), streamed.get(k).tokens(), "beam " + k);
                assertEquals(tc.get(k).score(), streamed.get(k).score(), 1e-4, "score " + k);
            }
        } finally {
            restore(CudaBackend.GEMV_STREAM_PROPERTY, stream);
            restore(CudaBackend.GEMV_STREAM_BEAMS_PROPERTY, beams);
            CudaRuntime.check(AlmaCuda.alma_gemv_set_variant(CudaBackend.gemvStream()), "alma_gemv_set_variant");
            CudaRuntime.check(AlmaCuda.alma_gemv_stream_beams(CudaBackend.gemvStreamBeams() ? 1 : 0),
                    "alma_gemv_stream_beams");
        }
    }

    /** The five beams of the tiny bf16 GQA model (tensor-core math), with the beams' GEMVs streamed or not. */
    private static List<Hypothesis> bf16Beams(int[] prompt, String streamBeams) {
        System.setProperty(CudaBackend.GEMV_STREAM_BEAMS_PROPERTY, streamBeams);
        try (CudaBackend gpu = new CudaBackend(0, true)) {
            Checkpoint ckpt = Checkpoint.open(fixture("models/tiny-llama-gqa-bf16"));
            try (LlamaModel m = LlamaModel.create(ckpt, gpu, List.of(), ckpt)) {
                return new Generator(m, BEAMS.withMaxNewTokens(8)).generate(prompt);
            }
        }
    }

    private static void restore(String property, String value) {
        if (value == null) System.clearProperty(property);
        else System.setProperty(property, value);
    }

    @Test
    void bf16GqaModelStaysCloseWithTensorCoreMath() {
        needsDevice();
        check("tiny-llama-gqa-bf16", "ref-gqa-bf16.json", true, 3e-2);
    }

    @Test
    void beamSearchMatchesTransformersWithFloat32Math() {
        needsDevice();
        JsonNode ref = Json.read(fixture("models/ref-mha-f32.json"));
        onTinyF32Model(m -> {
            Generator g = new Generator(m, BEAMS);
            for (int p = 0; p < ref.size(); p++) assertBeams(ref.get(p), g.generate(ints(ref.get(p).get("ids"))), "prompt " + p);
        });
    }

    @Test
    void beamSearchOfABatchMatchesTransformersWithFloat32Math() {
        // every prompt of the fixture in one batch (alma translate --batch): one forward pass per step over all
        // their beams, each prompt's beams as HF generate gives them alone
        needsDevice();
        JsonNode ref = Json.read(fixture("models/ref-mha-f32.json"));
        onTinyF32Model(m -> {
            List<int[]> prompts = new java.util.ArrayList<>();
            for (int p = 0; p < ref.size(); p++) prompts.add(ints(ref.get(p).get("ids")));
            List<List<Hypothesis>> got = new Generator(m, BEAMS).generate(prompts);
            for (int p = 0; p < ref.size(); p++) assertBeams(ref.get(p), got.get(p), "batched prompt " + p);
        });
    }

    @Test
    void promptsJoiningRunningBeamsGetTheCpusBeams(@org.junit.jupiter.api.io.TempDir Path dir) {
        // continuous batching (alma translate --batch, TranslationQueue): with at most 3 prompts at once, a prompt's
        // forward pass shares a step with other prompts' beams (a random model whose EOS row is scaled up ends the
        // searches after different numbers of steps); every prompt gets the CPU's beams of it alone
        needsDevice();
        int vocab = 64;
        new dev.alma.model.RandomCheckpoint(vocab, 32, 4, 2, 2, 64).write(dir, 11, (name, v) -> {
            if (name.equals("lm_head.weight")) for (int c = 0; c < 32; c++) v[2 * 32 + c] *= 2.5f;
        });
        java.util.SplittableRandom r = new java.util.SplittableRandom(3);
        List<int[]> prompts = new java.util.ArrayList<>();
        for (int i = 0; i < 10; i++) {
            int[] p = new int[3 + (7 * i) % 12];
            p[0] = 1;
            for (int j = 1; j < p.length; j++) p[j] = r.nextInt(3, vocab);
            prompts.add(p);
        }
        DecodingOptions o = DecodingOptions.alma().withBeams(4).withNumReturn(2).withMaxNewTokens(20);
        List<List<Hypothesis>> cpu = new java.util.ArrayList<>();
        try (LlamaModel m = LlamaModel.open(dir, dev.alma.model.ModelOptions.defaults().withThreads(1))) {
            for (int[] p : prompts) cpu.add(new Generator(m, o).generate(p));
        }
        try (CudaBackend gpu = new CudaBackend(0, false)) {
            Checkpoint ckpt = Checkpoint.open(dir);
            try (LlamaModel m = LlamaModel.create(ckpt, gpu, List.of(), ckpt)) {
                List<List<Hypothesis>> got = new Generator(m, o).generate(prompts, 3, null);
                for (int i = 0; i < prompts.size(); i++)
                    for (int k = 0; k < 2; k++) {
                        assertArrayEquals(cpu.get(i).get(k).tokens(), got.get(i).get(k).tokens(), "prompt " + i + " beam " + k);
                        assertEquals(cpu.get(i).get(k).score(), got.get(i).get(k).score(), 1e-4, "prompt " + i + " score " + k);
                    }
            }
        }
    }

    /** HF generate's settings of the fixture's beams: 5 beams, 32 new tokens, all five returned. */
    private static final DecodingOptions BEAMS = DecodingOptions.alma().withMaxNewTokens(32).withNumReturn(5);

    /** The fixture's f32 model on the GPU with float32 math, closed after {@code body}. */
    /**
     * {@code --kv-cache f16} on the GPU (float32 math): the five beams of the fixture's prompts are the CPU's with
     * its f16 cache, token for token, and the scores agree to f16 rounding.
     */
    @Test
    void anF16CacheGivesTheBeamsOfTheCpusF16Cache() {
        needsDevice();
        JsonNode ref = Json.read(fixture("models/ref-mha-f32.json"));
        Path dir = fixture("models/tiny-llama-mha-f32");
        dev.alma.model.ModelOptions f16 = dev.alma.model.ModelOptions.defaults().withKvCache(dev.alma.tensor.DType.F16);
        String math = System.getProperty(CudaBackend.MATH_PROPERTY);
        System.setProperty(CudaBackend.MATH_PROPERTY, "f32");
        try (LlamaModel gpu = LlamaModel.open(dir, f16.withDevice("cuda"));
             LlamaModel cpu = LlamaModel.open(dir, f16.withDevice("cpu"))) {
            assertEquals(dev.alma.tensor.DType.F16, gpu.kvCacheType());
            for (int p = 0; p < Math.min(3, ref.size()); p++) {
                int[] prompt = ints(ref.get(p).get("ids"));
                List<Hypothesis> a = new Generator(gpu, BEAMS).generate(prompt), b = new Generator(cpu, BEAMS).generate(prompt);
                for (int k = 0; k < 5; k++) {
                    assertArrayEquals(b.get(k).tokens(), a.get(k).tokens(), "prompt " + p + " beam " + k);
                    assertEquals(b.get(k).score(), a.get(k).score(), 1e-2, "prompt " + p + " score " + k);
                }
            }
        } finally {
            if (math == null) System.clearProperty(CudaBackend.MATH_PROPERTY);
            else System.setProperty(CudaBackend.MATH_PROPERTY, math);
        }
    }

    private static void onTinyF32Model(java.util.function.Consumer<LlamaModel> body) {
        try (CudaBackend gpu = new CudaBackend(0, false)) {
            Checkpoint ckpt = Checkpoint.open(fixture("models/tiny-llama-mha-f32"));
            try (LlamaModel m = LlamaModel.create(ckpt, gpu, List.of(), ckpt)) {
                body.accept(m);
            }
        }
    }

    /** The 5 beams of one prompt against the reference's: tokens exactly, scores to 1e-4. */
    private static void assertBeams(JsonNode r, List<Hypothesis> got, String what) {
        assertEquals(5, got.size(), "beams of " + what);
        for (int k = 0; k < 5; k++) {
            assertArrayEquals(ints(r.get("beam5").get(k)), got.get(k).tokens(), what + " beam " + k);
            assertEquals(r.get("beam5_scores").get(k).asDouble(), got.get(k).score(), 1e-4, what + " score " + k);
        }
    }

    @Test
    void loraAdapterMatchesPeftWithFloat32Math() {
        needsDevice();
        JsonNode ref = Json.read(fixture("models/ref-mha-f32-lora.json"));
        try (CudaBackend gpu = new CudaBackend(0, false)) {
            Checkpoint ckpt = Checkpoint.open(fixture("models/tiny-llama-mha-f32"));
            dev.alma.model.LoraAdapter lora = dev.alma.model.LoraAdapter.open(fixture("models/tiny-llama-mha-f32-lora"));
            try (LlamaModel m = LlamaModel.create(ckpt, gpu, List.of(lora), () -> {
                lora.close();
                ckpt.close();
            })) {
                run(m, ref, "tiny-llama-mha-f32 + LoRA", false, 1e-5);
            }
        }
    }

    /**
     * Logsumexp and top-8 logits of every prompt position against the reference (the CPU backend's bar: 1e-5
     * relative with float32 math), and with float32 math the greedy continuation token for token.
     */
    private static void check(String model, String refFile, boolean tensorCores, double tol) {
        JsonNode ref = Json.read(fixture("models/" + refFile));
        Path dir = fixture("models/" + model);
        try (CudaBackend gpu = new CudaBackend(0, tensorCores)) {
            Checkpoint ckpt = Checkpoint.open(dir);
            try (LlamaModel m = LlamaModel.create(ckpt, gpu, List.of(), ckpt)) {
                run(m, ref, model, tensorCores, tol);
            }
        }
    }

    private static void run(LlamaModel m, JsonNode ref, String model, boolean tensorCores, double tol) {
        for (int p = 0; p < ref.size(); p++) {
            JsonNode prompt = ref.get(p);
            int[] ids = ints(prompt.get("ids"));
            int n = ids.length;
            int[] seqs = new int[n], pos = new int[n], rows = new int[n];
            for (int i = 0; i < n; i++) pos[i] = rows[i] = i;
            float[][] logits;
            try (LlamaModel.Context ctx = m.newContext(n)) {
                Arrays.fill(seqs, ctx.cache().create());
                logits = m.forward(ctx, ids, seqs, pos, rows);
            }
            double worst = 0;  // |got - want| / max(1, |want|) over logsumexp and the top 8, as the CPU is held to
            for (int i = 0; i < n; i++) {
                double lse = prompt.get("logsumexp").get(i).asDouble();
                worst = Math.max(worst, Math.abs(Logits.logSumExp(logits[i]) - lse) / Math.max(1, Math.abs(lse)));
                int[] top = ints(prompt.get("top_ids").get(i));
                for (int j = 0; j < top.length; j++) {
                    double want = prompt.get("top_logits").get(i).get(j).asDouble();
                    worst = Math.max(worst, Math.abs(logits[i][top[j]] - want) / Math.max(1, Math.abs(want)));
                }
            }
            String what = model + " prompt " + p + (tensorCores ? " (tensor-core math)" : " (float32 math)");
            assertTrue(worst <= tol, what + ": logits differ by " + worst + " > " + tol);
            if (!tensorCores) {
                int[] want = ints(prompt.get("greedy"));
                int[] got = Greedy.generate(m, ids, want.length, m.config().eosTokenId());
                assertArrayEquals(want, Arrays.copyOf(got, want.length), what + ": greedy tokens");
            }
        }
    }

    private static int[] ints(JsonNode a) {
        int[] r = new int[a.size()];
        for (int i = 0; i < r.length; i++) r[i] = a.get(i).asInt();
        return r;
    }
}
