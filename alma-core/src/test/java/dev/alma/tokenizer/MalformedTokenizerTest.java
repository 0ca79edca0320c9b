package dev.alma.tokenizer;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.alma.io.FormatException;
import dev.alma.io.Json;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Random;
import java.util.function.Consumer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/** Broken tokenizer files fail with a {@link FormatException} naming the file and field, and with nothing else. */
class MalformedTokenizerTest {
    @TempDir
    Path dir;

    private static byte[] realModel() throws IOException {
        return Files.readAllBytes(TokenizerCases.file("llama2-tokenizer.model"));
    }

    private Path write(String name, byte[] data) throws IOException {
        Path p = dir.resolve(name);
        Files.write(p, data);
        return p;
    }

    private static FormatException rejects(Path file) {
        FormatException e = assertThrows(FormatException.class, () -> Tokenizer.load(file));
        assertEquals(file, e.file());
        assertTrue(e.getMessage().startsWith(file.toString()), e.getMessage());
        return e;
    }

    /** Loading either succeeds or fails with a FormatException; any other throwable fails the test. */
    private static void loadsOrRejects(Path file, String what) {
        try {
            Tokenizer tok = Tokenizer.load(file);
            tok.decode(tok.encode("Prüfung: 漢字 🙂 text"));
        } catch (FormatException e) {
            assertEquals(file, e.file(), what);
        } catch (Throwable t) {
            fail(what + ": " + t, t);
        }
    }

    @Test
    void truncatedModelFilesAreRejected() throws IOException {
        byte[] model = realModel();
        int n = model.length;
        for (int cut : new int[]{1, 2, 3, 7, 100, 1000, n / 3, n / 2, n - 300, n - 40, n - 10, n - 1}) {
            FormatException e = rejects(write("cut" + cut + ".model", Arrays.copyOf(model, cut)));
            assertTrue(e.field() != null && !e.field().isEmpty(), "field named for cut at " + cut + ": " + e.getMessage());
        }
        rejects(write("empty.model", new byte[0]));
    }

    @Test
    void corruptedModelFilesLoadOrFailCleanly() throws IOException {
        byte[] model = realModel();
        Random rnd = new Random(11);
        int n = model.length;
        for (int k = 0; k < 16; k++) {
            byte[] copy = model.clone();
            // Half the flips hit the start (piece headers), half the end (trainer and normalizer specs).
            int at = k % 2 == 0 ? rnd.nextInt(200) : n - 1 - rnd.nextInt(400);
            copy[at] ^= (byte) (1 + rnd.nextInt(255));
            loadsOrRejects(write("flip" + k + ".model", copy), "byte " + at + " flipped");
        }
    }

    @Test
    void randomGarbageIsRejected() throws IOException {
        Random rnd = new Random(5);
        for (int k = 0; k < 30; k++) {
            byte[] junk = new byte[1 + rnd.nextInt(5000)];
            rnd.nextBytes(junk);
            if (junk[0] == '{') junk[0] = 0;
            rejects(write("junk" + k + ".model", junk));
        }
    }

    @Test
    void hostileLengthsDoNotAllocate() throws IOException {
        // A piece message claiming 2 GB, a varint that never ends, a string claiming more than the file holds.
        rejects(write("len.model", new byte[]{0x0A, (byte) 0xFF, (byte) 0xFF, (byte) 0xFF, (byte) 0xFF, 0x07}));
        byte[] endless = new byte[20];
        Arrays.fill(endless, (byte) 0xFF);
        endless[0] = 0x08;
        rejects(write("varint.model", endless));
        rejects(write("str.model", new byte[]{0x0A, 0x04, 0x0A, 0x7F, 'a', 'b'}));
    }

    @Test
    void unsupportedModelKindsAreNamed() throws IOException {
        byte[] model = realModel();
        // Rewrite trainer_spec.model_type (field 3, varint) from BPE (2) to UNIGRAM (1).
        byte[] copy = model.clone();
        int at = indexOf(copy, new byte[]{0x18, 0x02, 0x20}); // model_type = 2, then vocab_size's key
        assertTrue(at > 0, "model_type field found");
        copy[at + 1] = 1;
        FormatException e = rejects(write("unigram.model", copy));
        assertEquals("trainer_spec.model_type", e.field());
    }

    private static int indexOf(byte[] data, byte[] needle) {
        outer:
        for (int i = 0; i + needle.length <= data.length; i++) {
            for (int j = 0; j < needle.length; j++) if (data[i + j] != needle[j]) continue outer;
            return i;
        }
        return -1;
    }

    @Test
    void truncatedGgufFilesAreRejectedByTheGgufReader() throws IOException {
        // recognised by the magic even without the .gguf extension
        FormatException e = rejects(write("vocab.bin", new byte[]{'G', 'G', 'U', 'F', 3, 0, 0, 0}));
        assertTrue(e.getMessage().contains("vocab.bin"), e.getMessage());
    }

    @Test
    void ggufVocabularyTokenizesLikeTheModelFile() {
        Tokenizer gguf = Tokenizer.load(dev.alma.Fixtures.fixture("gguf/tiny-llama-mha-f32.gguf"));
        Tokenizer sp = Tokenizer.load(dev.alma.Fixtures.fixture("tokenizer/llama2-tokenizer.model"));
        for (String text : new String[]{"Guten Morgen, wie geht's?", "  zwei  Leerzeichen", "中文 🙂 \u0001", ""})
            assertArrayEquals(sp.encode(text), gguf.encode(text), text);
    }

    @Test
    void missingFilesAndDirectoriesAreRejected() throws IOException {
        rejects(dir.resolve("absent.model"));
        rejects(Files.createDirectory(dir.resolve("empty-model-dir")));
    }

    @Test
    void truncatedOrInvalidJsonIsRejected() throws IOException {
        byte[] json = Files.readAllBytes(TokenizerCases.file("llama2-tokenizer.json"));
        for (int cut : new int[]{1, 100, json.length / 2, json.length - 2}) {
            rejects(write("cut" + cut + ".json", Arrays.copyOf(json, cut)));
        }
        rejects(write("array.json", "[1, 2]".getBytes()));
    }

    @Test
    void inconsistentJsonPipelinesAreRejectedWithTheirField() throws IOException {
        JsonNode base = Json.MAPPER.readTree(TinyTokenizerJson.LEGACY);
        assertEquals(1, Tokenizer.load(write("ok.json", Json.MAPPER.writeValueAsBytes(base))).encode("a").length);
        expectField(base, "model.merges[0]", r -> ((ArrayNode) r.path("model").path("merges")).set(0, Json.MAPPER.createArrayNode().add("▁").add("nosuchtoken")));
        expectField(base, "model.merges[1]", r -> ((ArrayNode) r.path("model").path("merges")).set(1, Json.MAPPER.getNodeFactory().numberNode(3)));
        expectField(base, "model.vocab", r -> ((ObjectNode) r.path("model").path("vocab")).put("extra", 40000));
        expectField(base, "model.vocab.extra", r -> ((ObjectNode) r.path("model").path("vocab")).put("extra", -3));
        expectField(base, "model.type", r -> ((ObjectNode) r.path("model")).put("type", "Unigram"));
        expectField(base, "model", r -> ((ObjectNode) r).remove("model"));
        expectField(base, "normalizer.normalizers[0].type", r -> ((ObjectNode) r.path("normalizer").path("normalizers").get(0)).put("type", "Precompiled"));
        expectField(base, "pre_tokenizer.type", r -> ((ObjectNode) r).set("pre_tokenizer", Json.MAPPER.createObjectNode().put("type", "ByteLevel")));
        expectField(base, "decoder.decoders[0].pattern", r -> ((ObjectNode) r.path("decoder").path("decoders").get(0)).set("pattern", Json.MAPPER.createObjectNode().put("Regex", " +")));
    }

    private void expectField(JsonNode base, String field, Consumer<JsonNode> breakIt) throws IOException {
        JsonNode copy = base.deepCopy();
        breakIt.accept(copy);
        Path p = write("broken.json", Json.MAPPER.writeValueAsBytes(copy));
        FormatException e = rejects(p);
        assertEquals(field, e.field(), e.getMessage());
    }
}
