package dev.alma.io;

import dev.alma.AlmaException;
import dev.alma.model.GgufCheckpoint;
import dev.alma.tensor.DType;
import dev.alma.tensor.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Random;
import java.util.function.Consumer;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Corrupted GGUF and safetensors files (truncations, flipped bytes, huge length and count fields, random bytes):
 * the readers may reject them, but only with the project's own exception types, never with an out-of-memory
 * error, an index or arithmetic exception, or a negative array size.
 */
class ReaderFuzzTest {
    private int opened, rejected;

    /** Writes {@code bytes}, runs {@code reader} on it; anything but success or an AlmaException fails the test. */
    private void check(Path p, byte[] bytes, String what, Consumer<Path> reader) {
        try {
            Files.write(p, bytes);
        } catch (IOException e) {
            throw new AssertionError(e);
        }
        try {
            reader.accept(p);
            opened++;
        } catch (AlmaException e) {
            rejected++;
        } catch (Throwable t) {
            throw new AssertionError(what + ": " + t, t);
        }
    }

    /** Opens a GGUF and touches everything a loader would: metadata, arrays, tensors, the LLaMA view. */
    static void readGguf(Path p) {
        try (GgufFile f = GgufFile.open(p)) {
            for (String k : f.keys()) {
                Object v = f.get(k);
                if (v instanceof GgufArray a) {
                    try {
                        if (a.type() == GgufValueType.STRING) a.strings();
                        else if (a.type().integral()) a.ints();
                        else a.floats();
                    } catch (AlmaException ignored) {
                        // an int array holding values beyond int is a legitimate rejection
                    }
                }
            }
            for (Tensor t : f.tensors().values()) touch(t);
            try {
                GgufCheckpoint ck = GgufCheckpoint.of(f);
                ck.vocabulary();
            } catch (AlmaException ignored) {
                // the damaged model may be rejected as a model while still being a readable GGUF
            }
        }
    }

    static void readSafeTensors(Path p) {
        try (SafeTensors s = SafeTensors.open(p)) {
            for (Tensor t : s.tensors().values()) touch(t);
        }
    }

    private static void touch(Tensor t) {
        long n = t.count();
        if (n == 0 || t.type().quantized() || t.type() == DType.I32 || t.type() == DType.I64) {
            if (t.data().byteSize() > 0) t.data().get(java.lang.foreign.ValueLayout.JAVA_BYTE, t.data().byteSize() - 1);
            return;
        }
        t.getFloat(0);
        t.getFloat(n - 1);
    }

    static byte[] sampleGguf(Path dir) throws IOException {
        Path p = dir.resolve("sample.gguf");
        GgufWriter.Rows rnd = GgufWriter.randomRows(3, 1);
        new GgufWriter()
                .putString("general.architecture", "llama")
                .putUInt32("llama.context_length", 64)
                .putUInt32("llama.embedding_length", 32)
                .putUInt32("llama.feed_forward_length", 32)
                .putUInt32("llama.block_count", 1)
                .putUInt32("llama.attention.head_count", 2)
                .putFloat32("llama.attention.layer_norm_rms_epsilon", 1e-5f)
                .putStrings("tokenizer.ggml.tokens", new String[]{"<unk>", "<s>", "</s>", "▁a"})
                .putFloat32s("tokenizer.ggml.scores", new float[]{0, 0, 0, -1})
                .putInt32s("tokenizer.ggml.token_type", new int[]{2, 3, 3, 1})
                .putUInt64("u64", 77)
                .putFloat64("f64", 0.5)
                .putBool("b", true)
                .tensor("token_embd.weight", DType.Q8_0, new long[]{4, 32}, rnd)
                .tensor("output_norm.weight", DType.F32, new long[]{32}, rnd)
                .tensor("blk.0.attn_norm.weight", DType.F32, new long[]{32}, rnd)
                .tensor("blk.0.ffn_norm.weight", DType.F32, new long[]{32}, rnd)
                .tensor("blk.0.attn_q.weight", DType.Q4_0, new long[]{32, 32}, rnd)
                .tensor("blk.0.attn_k.weight", DType.Q4_0, new long[]{32, 32}, rnd)
                .tensor("blk.0.attn_v.weight", DType.F16, new long[]{32, 32}, rnd)
                .tensor("blk.0.attn_output.weight", DType.BF16, new long[]{32, 32}, rnd)
                .tensor("blk.0.ffn_gate.weight", DType.F16, new long[]{32, 32}, rnd)
                .tensor("blk.0.ffn_up.weight", DType.F16, new long[]{32, 32}, rnd)
                .tensor("blk.0.ffn_down.weight", DType.Q8_0, new long[]{32, 32}, rnd)
                .write(p);
        readGguf(p); // the unmodified sample is valid
        return Files.readAllBytes(p);
    }

    static byte[] sampleSafeTensors(Path dir) throws IOException {
        Path p = dir.resolve("sample.safetensors");
        float[] v = new float[96];
        for (int i = 0; i < v.length; i++) v[i] = i * 0.25f - 3;
        new SafeTensorsWriter()
                .metadata("format", "pt")
                .add("a.weight", DType.F32, new long[]{4, 24}, v)
                .add("b.weight", DType.BF16, new long[]{96}, v)
                .add("c.weight", DType.F16, new long[]{2, 3, 16}, v)
                .write(p);
        readSafeTensors(p);
        return Files.readAllBytes(p);
    }

    /** Offset where tensor data starts (fields before it are the header). */
    static int ggufHeaderEnd(byte[] file) {
        for (int i = file.length - 1; i > 0; i--)
            if (new String(file, 0, i, StandardCharsets.ISO_8859_1).endsWith("blk.0.ffn_down.weight")) return Math.min(file.length, i + 4 * 8 + 4 + 8 + 32);
        throw new AssertionError("sample has no header end");
    }

    private void mutateAll(Path p, byte[] base, int headerEnd, Consumer<Path> reader, long seed) {
        Random rnd = new Random(seed);
        // 1. truncations: every length through the header, then every 13th
        for (int n = 0; n < base.length; n += n < headerEnd ? 1 : 13)
            check(p, Arrays.copyOf(base, n), "truncated to " + n, reader);
        // 2. each header position overwritten by huge / negative / boundary 8- and 4-byte values
        long[] longs = {-1L, 1L << 62, 1L << 32, base.length + 1L};
        int[] ints = {-1, Integer.MAX_VALUE, 13, 99};
        for (int at = 0; at < headerEnd; at++) {
            for (long v : longs) {
                if (at + 8 > base.length) break;
                byte[] m = base.clone();
                ByteBuffer.wrap(m).order(ByteOrder.LITTLE_ENDIAN).putLong(at, v);
                check(p, m, "u64 " + v + " at " + at, reader);
            }
            for (int v : ints) {
                byte[] m = base.clone();
                ByteBuffer.wrap(m).order(ByteOrder.LITTLE_ENDIAN).putInt(at, v);
                check(p, m, "u32 " + v + " at " + at, reader);
            }
        }
        // 3. random bytes flipped, mostly in the header
        for (int i = 0; i < 3000; i++) {
            byte[] m = base.clone();
            int flips = 1 + rnd.nextInt(4);
            StringBuilder what = new StringBuilder("flipped");
            for (int k = 0; k < flips; k++) {
                int at = rnd.nextInt(rnd.nextInt(4) == 0 ? m.length : headerEnd);
                m[at] = (byte) rnd.nextInt(256);
                what.append(' ').append(at);
            }
            check(p, m, what.toString(), reader);
        }
        // 4. random files, some with a valid prefix
        for (int i = 0; i < 150; i++) {
            byte[] m = new byte[rnd.nextInt(2 * headerEnd)];
            rnd.nextBytes(m);
            int keep = Math.min(m.length, rnd.nextInt(headerEnd));
            if (rnd.nextBoolean()) System.arraycopy(base, 0, m, 0, keep);
            check(p, m, "random file " + i, reader);
        }
    }

    /**
     * Where the thousands of mutated files are written: a directory in memory ({@code /dev/shm}) when there is one,
     * since writing small files to a busy disk costs milliseconds each; else {@code fallback}.
     */
    private static Path scratch(Path fallback) throws IOException {
        Path shm = Path.of("/dev/shm");
        return Files.isDirectory(shm) && Files.isWritable(shm) ? Files.createTempDirectory(shm, "alma-fuzz") : fallback;
    }

    private static void delete(Path dir, Path fallback) throws IOException {
        if (dir.equals(fallback)) return;
        try (var files = Files.list(dir)) {
            for (Path f : files.toList()) Files.delete(f);
        }
        Files.delete(dir);
    }

    @Test
    void corruptedGgufFilesOnlyRaiseAlmaExceptions(@TempDir Path tmp) throws IOException {
        Path dir = scratch(tmp);
        try {
            byte[] base = sampleGguf(dir);
            mutateAll(dir.resolve("m.gguf"), base, ggufHeaderEnd(base), ReaderFuzzTest::readGguf, 1);
        } finally {
            delete(dir, tmp);
        }
        assertTrue(rejected > 1000 && opened > 10, "opened " + opened + ", rejected " + rejected);
    }

    @Test
    void corruptedSafeTensorsFilesOnlyRaiseAlmaExceptions(@TempDir Path tmp) throws IOException {
        Path dir = scratch(tmp);
        try {
            fuzzSafeTensors(dir);
        } finally {
            delete(dir, tmp);
        }
        assertTrue(rejected > 1000 && opened > 10, "opened " + opened + ", rejected " + rejected);
    }

    private void fuzzSafeTensors(Path dir) throws IOException {
        byte[] base = sampleSafeTensors(dir);
        int headerEnd = (int) (8 + ByteBuffer.wrap(base).order(ByteOrder.LITTLE_ENDIAN).getLong(0));
        Path p = dir.resolve("m.safetensors");
        mutateAll(p, base, headerEnd, ReaderFuzzTest::readSafeTensors, 2);
        // every number of the JSON header replaced by hostile values, and every structural character removed
        String json = new String(base, 8, headerEnd - 8, StandardCharsets.UTF_8);
        String[] hostile = {"-1", "9223372036854775807", "18446744073709551616", "1e300", "0.5", "4294967296", "[]", "null", "\"7\""};
        Matcher m = Pattern.compile("-?\\d+").matcher(json);
        while (m.find())
            for (String h : hostile)
                check(p, withHeader(json.substring(0, m.start()) + h + json.substring(m.end()), base, headerEnd),
                        "number at " + m.start() + " -> " + h, ReaderFuzzTest::readSafeTensors);
        for (int i = 0; i < json.length(); i++)
            if ("{}[],:\"".indexOf(json.charAt(i)) >= 0)
                check(p, withHeader(json.substring(0, i) + json.substring(i + 1), base, headerEnd), "removed char " + i,
                        ReaderFuzzTest::readSafeTensors);
        check(p, withHeader("{\"a\":" + "[".repeat(5000) + "]".repeat(5000) + "}", base, headerEnd), "deep nesting", ReaderFuzzTest::readSafeTensors);
        check(p, withHeader("{\"a\":{\"dtype\":\"F32\",\"shape\":[],\"data_offsets\":[0,4]}}", base, headerEnd), "scalar", ReaderFuzzTest::readSafeTensors);
        check(p, withHeader("{\"a\":{\"dtype\":\"F32\",\"shape\":[0, 4],\"data_offsets\":[0,0]}}", base, headerEnd), "empty", ReaderFuzzTest::readSafeTensors);
    }

    /** The sample's data behind a replacement JSON header. */
    private static byte[] withHeader(String json, byte[] base, int headerEnd) {
        byte[] h = json.getBytes(StandardCharsets.UTF_8);
        ByteBuffer b = ByteBuffer.allocate(8 + h.length + base.length - headerEnd).order(ByteOrder.LITTLE_ENDIAN);
        b.putLong(h.length).put(h).put(base, headerEnd, base.length - headerEnd);
        return b.array();
    }
}
