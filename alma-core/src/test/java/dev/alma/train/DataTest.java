package dev.alma.train;

import dev.alma.Fixtures;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Stage-1 packing and mixing, stage-2 prompts, labels and ALMA's data layout. */
class DataTest {
    static final CharTokenizer TOK = new CharTokenizer(200);

    @Test
    void almaPrompt() {
        assertEquals("Translate this from German to English:\nGerman: Guten Morgen\nEnglish:",
                Stage2Data.prompt("de", "en", "Guten Morgen"));
        assertEquals("Translate this from English to Icelandic:\nEnglish: x\nIcelandic:", Stage2Data.prompt("en", "is", "x"));
        assertThrows(IllegalArgumentException.class, () -> Stage2Data.prompt("xx", "en", "a"));
    }

    @Test
    void promptIdsEqualTransformersOnTheWmt22Prompts() {
        dev.alma.tokenizer.Tokenizer llama = dev.alma.tokenizer.Tokenizer.load(Fixtures.fixture("tokenizer/llama2-tokenizer.model"));
        var refs = dev.alma.io.Json.read(Fixtures.fixture("models/ref-mha-f32.json"));
        assertEquals(8, refs.size());
        for (var r : refs) {
            String[] dir = r.get("name").asText().split("-");
            int[] want = new int[r.get("ids").size()];
            for (int i = 0; i < want.length; i++) want[i] = r.get("ids").get(i).asInt();
            // the source sentence of the reference prompt, cut out of its decoded text by the template
            String text = llama.decode(want), head = Stage2Data.prompt(dir[0], dir[1], "");
            String prefix = head.substring(0, head.indexOf(": \n") + 2), suffix = head.substring(head.indexOf(": \n") + 2);
            assertTrue(text.startsWith(prefix) && text.endsWith(suffix), "template of " + r.get("name") + ": " + text);
            String source = text.substring(prefix.length(), text.length() - suffix.length());
            var enc = Stage2Data.encode(new Stage2Data.Example(dir[0], dir[1], source, ""), llama, 4096);
            int[] prompt = Arrays.copyOf(enc.ids(), enc.ids().length - 1); // <s> + prompt, as fed for translation
            assertArrayEquals(want, prompt, r.get("name").asText());
        }
    }

    @Test
    void labelsSuperviseTargetAndEosOnly() {
        var e = new Stage2Data.Example("de", "en", "Hallo", "Hi");
        Stage2Data.Encoded enc = Stage2Data.encode(e, TOK, 512);
        String prompt = Stage2Data.prompt("de", "en", "Hallo");
        int p = prompt.length(); // one id per character
        assertEquals(1 + p + 2 + 1, enc.ids().length);
        assertEquals(1, enc.ids()[0]);
        assertEquals(2, enc.ids()[enc.ids().length - 1]);
        for (int i = 0; i <= p; i++) assertEquals(-100, enc.labels()[i], "prompt position " + i);
        assertArrayEquals(Arrays.copyOfRange(enc.ids(), p + 1, enc.ids().length), Arrays.copyOfRange(enc.labels(), p + 1, enc.ids().length));
        Stage2Data.Encoded cut = Stage2Data.encode(e, TOK, 10);
        assertEquals(10, cut.ids().length);
        assertEquals(2, cut.ids()[9], "</s> kept after truncation");
    }

    @Test
    void paddedBatchesIgnorePadding() {
        List<Stage2Data.Example> ex = List.of(new Stage2Data.Example("de", "en", "a", "bb"), new Stage2Data.Example("en", "de", "ccc", "d"));
        Stage2Data d = new Stage2Data(ex, TOK, 512, 2, 1);
        Batch b = d.batch(0);
        assertEquals(2, b.size());
        int supervised = 0;
        for (Stage2Data.Encoded e : d.examples()) for (int l : e.labels()) if (l != -100) supervised++;
        assertEquals(supervised, b.targets(), "padding adds no targets");
        assertEquals(1, d.batchesPerEpoch());
    }

    @Test
    void readsAlmaLayoutBothDirections() {
        Path root = Fixtures.path("data/alma-human-written");
        List<Stage2Data.Example> train = Stage2Data.read(root, "train", List.of("cs-en", "en-cs", "de-en"), 3);
        assertEquals(9, train.size());
        assertEquals("cs", train.get(0).src());
        assertEquals("en", train.get(1).src());
        assertEquals(train.get(0).source(), train.get(1).target());
        assertEquals("28-Year-Old Chef Found Dead at San Francisco Mall", train.get(0).target());
        assertEquals("de", train.get(6).src(), "de-en read from the aligned text files");
        List<Stage2Data.Example> valid = Stage2Data.read(root, "valid", List.of("zh-en"), 2);
        assertEquals(2, valid.size());
        assertEquals("zh", valid.get(0).src());
    }

    @Test
    void misalignedTextFilesAreRejected(@TempDir Path tmp) throws Exception {
        Path d = Files.createDirectories(tmp.resolve("deen"));
        Files.writeString(d.resolve("train.de-en.de"), "a\nb\n");
        Files.writeString(d.resolve("train.de-en.en"), "a\n");
        var e = assertThrows(dev.alma.io.FormatException.class, () -> Stage2Data.read(tmp, "train", List.of(), 0));
        assertTrue(e.getMessage().contains("train.de-en.en"), e.getMessage());
    }

    @Test
    void stage1PacksDocumentsDeterministically() {
        Map<String, List<String>> docs = Map.of("en", List.of("hello world", "abc"), "is", List.of("góðan dag"));
        Stage1Data a = new Stage1Data(docs, Map.of(), TOK, 8, 2, 5), b = new Stage1Data(docs, Map.of(), TOK, 8, 2, 5);
        int[] stream = new int[0];
        for (int i = 0; i < 30; i++) {
            int[] blk = a.block(i);
            assertEquals(8, blk.length);
            stream = concat(stream, blk);
        }
        assertArrayEquals(a.block(3), b.block(3), "same seed, same blocks (random access)");
        assertArrayEquals(b.block(29), a.block(29));
        assertEquals(1, stream[0], "stream starts with <s>");
        // every document appears whole between <s> and </s>
        int start = -1;
        for (int i = 0; i < stream.length; i++) {
            if (stream[i] == 1) start = i;
            if (stream[i] == 2 && start >= 0) {
                int[] doc = Arrays.copyOfRange(stream, start + 1, i);
                assertTrue(docs.values().stream().flatMap(List::stream).anyMatch(t -> Arrays.equals(TOK.encode(t), doc)),
                        "a whole document between <s> and </s>: " + Arrays.toString(doc));
            }
        }
        Batch batch = a.batch(1);
        assertArrayEquals(batch.inputIds(), batch.labels(), "every next token supervised");
        assertEquals(2 * 7, batch.targets());
    }

    @Test
    void stage1MixFollowsRatios() {
        Map<String, List<String>> docs = Map.of("en", List.of("e"), "ru", List.of("r"));
        Stage1Data d = new Stage1Data(docs, Map.of(), TOK, 30, 1, 1);
        Map<Integer, Integer> counts = new HashMap<>();
        for (int i = 0; i < 400; i++) for (int id : d.block(i)) counts.merge(id, 1, Integer::sum);
        double en = counts.get(TOK.encode("e")[0]), ru = counts.get(TOK.encode("r")[0]);
        double want = .22 / (.17 + .22);
        assertEquals(want, ru / (en + ru), 0.03, "share of ru documents under ALMA's ratios");
    }

    static int[] concat(int[] a, int[] b) {
        int[] c = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, c, a.length, b.length);
        return c;
    }
}
