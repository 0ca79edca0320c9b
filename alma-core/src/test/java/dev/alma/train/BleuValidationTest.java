package dev.alma.train;

import dev.alma.Fixtures;
import dev.alma.TranslationOptions;
import dev.alma.Translator;
import dev.alma.backend.cpu.CpuBackend;
import dev.alma.eval.BleuScore;
import dev.alma.io.FormatException;
import dev.alma.model.LlamaModel;
import dev.alma.model.ModelOptions;
import dev.alma.tokenizer.Tokenizer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Validation BLEU during training: the in-memory weights, the translations and the scores. */
class BleuValidationTest {
    static final int[] IDS = {1, 450, 4996, 17354, 1701, 432, 29892, 975, 278, 17366, 11203, 29889};

    static float[] logits(LlamaModel model) {
        try (LlamaModel.Context ctx = model.newContext(IDS.length)) {
            float[][] rows = model.append(ctx, ctx.cache().create(), IDS, true);
            int vocab = model.config().vocabSize();
            float[] out = new float[rows.length * vocab];
            for (int i = 0; i < rows.length; i++) System.arraycopy(rows[i], 0, out, i * vocab, vocab);
            return out;
        }
    }

    static LlamaModel bind(TrainableLlama m, Path dir) {
        CpuBackend be = new CpuBackend(2);
        return LlamaModel.create(EvalWeights.snapshot(m, dir), be, List.of(), be);
    }

    @Test
    void snapshotGivesTheSameLogitsAsTheCheckpointOnDisk() {
        Path dir = Fixtures.fixture("models/tiny-llama-mha-f32");
        float[] fromDisk, fromMemory;
        try (LlamaModel disk = LlamaModel.open(dir, ModelOptions.defaults())) {
            fromDisk = logits(disk);
        }
        try (LlamaModel mem = bind(ModelFiles.load(dir), dir)) {
            fromMemory = logits(mem);
        }
        assertArrayEquals(fromDisk, fromMemory, "in-memory F32 copy of the full weights");
    }

    @Test
    void mergedLoraMatchesTheTrainingForward() {
        Path dir = Fixtures.fixture("models/tiny-llama-mha-f32");
        TrainableLlama m = ModelFiles.load(dir);
        ModelFiles.loadAdapter(m, Fixtures.fixture("models/tiny-llama-mha-f32-lora"));
        float[] before = m.baseParameters().get(4).data().clone();
        float[] want = m.logits(IDS, 1, IDS.length), got;
        try (LlamaModel mem = bind(m, dir)) {
            got = logits(mem);
        }
        double maxDiff = 0, maxAbs = 0;
        for (int i = 0; i < want.length; i++) {
            maxDiff = Math.max(maxDiff, Math.abs(want[i] - got[i]));
            maxAbs = Math.max(maxAbs, Math.abs(want[i]));
        }
        assertTrue(maxDiff <= 1e-5 * Math.max(1, maxAbs), "max |Δlogit| " + maxDiff + " (max |logit| " + maxAbs + ")");
        assertArrayEquals(before, m.baseParameters().get(4).data(), "the training weights are not changed by the merge");
        // without the adapter merged the logits differ: the merge is what makes them agree
        float[] base;
        try (LlamaModel plain = LlamaModel.open(dir, ModelOptions.defaults())) {
            base = logits(plain);
        }
        double baseDiff = 0;
        for (int i = 0; i < want.length; i++) baseDiff = Math.max(baseDiff, Math.abs(want[i] - base[i]));
        assertTrue(baseDiff > 1e-3, "the fixture adapter changes the logits (" + baseDiff + ")");
    }

    @Test
    void snapshotFollowsTrainedFullWeights() {
        Path dir = Fixtures.fixture("models/tiny-llama-mha-f32");
        TrainableLlama m = ModelFiles.load(dir);
        float[] before;
        try (LlamaModel mem = bind(m, dir)) {
            before = logits(mem);
        }
        // one AdamW-like update of every base weight, as a full-weight step makes it
        java.util.Random rng = new java.util.Random(3);
        for (Parameter p : m.baseParameters()) {
            float[] v = p.data();
            for (int i = 0; i < v.length; i++) v[i] += (float) (rng.nextGaussian() * 1e-2);
        }
        float[] want = m.logits(IDS, 1, IDS.length), got;
        try (LlamaModel mem = bind(m, dir)) {
            got = logits(mem);
        }
        double diff = 0, moved = 0;
        for (int i = 0; i < want.length; i++) {
            diff = Math.max(diff, Math.abs(want[i] - got[i]) / Math.max(1, Math.abs(want[i])));
            moved = Math.max(moved, Math.abs(before[i] - got[i]));
        }
        // two float32 forward passes whose products sum in different orders (the trainer's tiles chain each element
        // over its inputs in one lane; the backend's few-token and dot-product kernels sum lanes at the end)
        assertTrue(diff <= 3e-5, "relative |Δlogit| " + diff);
        assertTrue(moved > 1e-3, "the snapshot takes the weights as they are now (" + moved + ")");
    }

    @Test
    void reportedBleuIsSacreBleuOfTheTranslatorsOutputs() {
        Path dir = Fixtures.fixture("models/tiny-llama-mha-f32");
        List<Stage2Data.Example> valid = Stage2Data.read(Fixtures.path("data/alma-human-written"), "valid", List.of("de-en", "en-zh"), 3);
        Tokenizer tok = Tokenizer.load(dir);
        BleuValidation v = new BleuValidation(valid, tok, 2, 8, dir);
        assertEquals(List.of("de-en", "en-zh"), v.directions());
        List<BleuValidation.Result> results = v.evaluate(ModelFiles.load(dir));
        assertEquals(2, results.size());
        try (Translator t = Translator.open(dir, ModelOptions.defaults(), TranslationOptions.greedy(8))) {
            for (BleuValidation.Result r : results) {
                String[] fromTo = r.direction().split("-");
                assertEquals(2, r.sources().size());
                List<String> hyps = t.translateAll(r.sources(), fromTo[0], fromTo[1], TranslationOptions.greedy(8));
                assertEquals(hyps, r.hypotheses(), r.direction());
                BleuScore want = BleuValidation.metricFor(fromTo[1]).corpusScore(hyps, List.of(r.references()));
                assertTrue(r.bleu().sysLen() > 0, "noise translations are not empty");
                assertEquals(want, r.bleu(), r.direction()); // score, n-gram counts, lengths and signature
            }
        }
        assertTrue(results.get(1).bleu().signature().contains("tok:zh"), results.get(1).bleu().signature());
        assertTrue(results.get(0).bleu().signature().contains("tok:13a"), results.get(0).bleu().signature());
    }

    @Test
    void metricIsSacreBleuWithTheTargetsTokenizer() {
        List<String> refs = List.of("我们今天去公园散步。", "天气很好。");
        List<String> hyps = List.of("我们今天去公园。", "天气很好。");
        // zh tokenization splits every CJK character: partial matches score; 13a sees one word per sentence
        assertTrue(BleuValidation.metricFor("zh").corpusScore(hyps, List.of(refs)).score() > 40);
        assertTrue(BleuValidation.metricFor("en").corpusScore(hyps, List.of(refs)).score() < BleuValidation.metricFor("zh").corpusScore(hyps, List.of(refs)).score());
        assertEquals(100.0, BleuValidation.metricFor("en").corpusScore(List.of("The cat sat."), List.of(List.of("The cat sat."))).score(), 1e-9);
    }

    @Test
    void badSettingsAreRejected() {
        Path dir = Fixtures.fixture("models/tiny-llama-mha-f32");
        Tokenizer tok = Tokenizer.load(dir);
        List<Stage2Data.Example> ex = List.of(new Stage2Data.Example("de", "en", "Hallo", "Hello"));
        assertThrows(IllegalArgumentException.class, () -> new BleuValidation(ex, tok, 0, 8, dir));
        assertThrows(IllegalArgumentException.class, () -> new BleuValidation(ex, tok, 1, 0, dir));
        assertThrows(IllegalArgumentException.class, () -> new BleuValidation(List.of(), tok, 1, 8, dir));
    }

    @Test
    void logRoundTripsAndKeepsOnlyStepsBeforeAResume(@TempDir Path tmp) throws Exception {
        Files.writeString(tmp.resolve(BleuLog.FILE), "step,direction,bleu,sentences\n0,de-en,0.1200,2\n2,de-en,1.5000,2\n4,de-en,3.0000,2\n");
        BleuLog log = BleuLog.read(tmp, 2);
        assertEquals(List.of(new BleuLog.Entry(0, "de-en", 0.12, 2), new BleuLog.Entry(2, "de-en", 1.5, 2)), log.entries());
        log.write(tmp);
        assertEquals("step,direction,bleu,sentences\n0,de-en,0.1200,2\n2,de-en,1.5000,2\n", Files.readString(tmp.resolve(BleuLog.FILE)));
        Files.writeString(tmp.resolve(BleuLog.FILE), "step,direction,bleu,sentences\n1,de-en,x,2\n");
        FormatException e = assertThrows(FormatException.class, () -> BleuLog.read(tmp, 5));
        assertTrue(e.getMessage().contains("line 2"), e.getMessage());
        assertTrue(BleuLog.read(tmp.resolve("none"), 5).entries().isEmpty());
    }
}
