package dev.alma.io;

import dev.alma.Fixtures;
import dev.alma.model.LlamaConfig;
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
import java.util.function.Consumer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class GgufFileTest {

    @Test
    void readsConverterMetadataAndTensorInfos() {
        try (GgufFile f = GgufFile.open(Fixtures.fixture("gguf/tiny-llama-mha-f32.gguf"))) {
            assertEquals(3, f.version());
            assertEquals(32, f.alignment());
            assertEquals(27, f.keys().size());
            assertEquals("llama", f.getString("general.architecture"));
            assertEquals(GgufValueType.UINT32, f.typeOf("llama.embedding_length"));
            assertEquals(48, f.getInt("llama.embedding_length"));
            assertEquals(48L, f.get("llama.embedding_length"));
            assertEquals(1e-5f, f.getFloat("llama.attention.layer_norm_rms_epsilon"));
            assertEquals(Boolean.TRUE, f.get("tokenizer.ggml.add_bos_token"));
            assertFalse(f.getBoolean("tokenizer.ggml.add_eos_token", true));
            assertEquals(10000.0, f.getDouble("llama.rope.freq_base", 10000.0));
            GgufArray tokens = f.getArray("tokenizer.ggml.tokens");
            assertEquals(GgufValueType.STRING, tokens.type());
            assertEquals(32000, tokens.size());
            assertEquals("▁the", tokens.strings()[278]);
            assertEquals(GgufValueType.INT32, f.getArray("tokenizer.ggml.token_type").type());
            assertEquals(21, f.tensors().size());
            Tensor q = f.tensor("blk.0.attn_q.weight");
            assertEquals(DType.F32, q.type());
            assertArrayEquals(new long[]{48, 48}, q.shape());
            assertArrayEquals(new long[]{128, 48}, f.tensor("blk.1.ffn_up.weight").shape());
            assertArrayEquals(new long[]{48, 128}, f.tensor("blk.1.ffn_down.weight").shape());
            assertArrayEquals(new long[]{32000, 48}, f.tensor("token_embd.weight").shape());
            assertArrayEquals(new long[]{48}, f.tensor("output_norm.weight").shape());
            assertEquals(32000L * 48 * 4, f.tensor("output.weight").data().byteSize());
            assertNull(f.tensor("nope"));
        }
    }

    @Test
    void typedAccessorsNameKeyAndType() {
        try (GgufFile f = GgufFile.open(Fixtures.fixture("gguf/tiny-llama-mha-f16.gguf"))) {
            FormatException e = assertThrows(FormatException.class, () -> f.getString("llama.block_count"));
            assertEquals("llama.block_count", e.field());
            assertTrue(e.getMessage().contains("UINT32"), e.getMessage());
            assertThrows(FormatException.class, () -> f.getInt("general.architecture"));
            assertThrows(FormatException.class, () -> f.getArray("general.architecture"));
            assertThrows(FormatException.class, () -> f.getBoolean("llama.block_count", false));
            e = assertThrows(FormatException.class, () -> f.getInt("llama.missing"));
            assertEquals("llama.missing", e.field());
            assertTrue(e.getMessage().contains("missing"));
            assertEquals(7, f.getInt("llama.missing", 7));
            assertThrows(FormatException.class, () -> f.getArray("tokenizer.ggml.tokens").floats());
            assertThrows(FormatException.class, () -> f.getArray("tokenizer.ggml.scores").strings());
        }
    }

    @Test
    void writerRoundTripsMetadataAndTensors(@TempDir Path dir) {
        float[] values = new float[3 * 2 * 64];
        for (int i = 0; i < values.length; i++) values[i] = (float) Math.sin(i * 0.37) * (1 + i % 5);
        Path p = dir.resolve("rt.gguf");
        new GgufWriter()
                .alignment(64)
                .putString("s", "héllo ▁")
                .putUInt32("u32", -1)
                .putInt32("i32", -5)
                .putUInt64("u64", 1L << 40)
                .putFloat32("f32", 1.5f)
                .putFloat64("f64", Math.PI)
                .putBool("b", true)
                .putStrings("as", new String[]{"", "x", "yz"})
                .putFloat32s("af", new float[]{-1, 2.5f})
                .putInt32s("ai", new int[]{3, -4})
                .tensor("f32", DType.F32, new long[]{3, 2, 64}, values)
                .tensor("f16", DType.F16, new long[]{6, 64}, values)
                .tensor("bf16", DType.BF16, new long[]{384}, values)
                .tensor("q8", DType.Q8_0, new long[]{6, 64}, values)
                .tensor("q4", DType.Q4_0, new long[]{6, 64}, values)
                .tensor("q4k", DType.Q4_K, new long[]{3, 256}, GgufWriter.randomRows(5, 1))
                .tensor("q5k", DType.Q5_K, new long[]{3, 256}, GgufWriter.randomRows(7, 1))
                .tensor("q6k", DType.Q6_K, new long[]{3, 256}, GgufWriter.randomRows(6, 1))
                .write(p);
        try (GgufFile f = GgufFile.open(p)) {
            assertEquals(64, f.alignment());
            assertEquals("héllo ▁", f.getString("s"));
            assertEquals(0xFFFF_FFFFL, f.getLong("u32"));
            assertThrows(FormatException.class, () -> f.getInt("u32"));
            assertEquals(-5, f.getInt("i32"));
            assertEquals(1L << 40, f.getLong("u64"));
            assertEquals(1.5f, f.getFloat("f32"));
            assertEquals(Math.PI, f.getDouble("f64"));
            assertTrue(f.getBoolean("b", false));
            assertArrayEquals(new String[]{"", "x", "yz"}, f.getArray("as").strings());
            assertArrayEquals(new float[]{-1, 2.5f}, f.getArray("af").floats());
            assertArrayEquals(new int[]{3, -4}, f.getArray("ai").ints());
            assertArrayEquals(new long[]{3, 2, 64}, f.tensor("f32").shape());
            assertArrayEquals(values, f.tensor("f32").toFloatArray());
            float[] half = f.tensor("f16").toFloatArray(), bf = f.tensor("bf16").toFloatArray();
            for (int i = 0; i < values.length; i++) {
                assertEquals(Float.float16ToFloat(Float.floatToFloat16(values[i])), half[i]);
                assertEquals(values[i], bf[i], Math.abs(values[i]) * 0x1p-8);
            }
            assertEquals(6 * 2 * 34, f.tensor("q8").data().byteSize());
            assertEquals(6 * 2 * 18, f.tensor("q4").data().byteSize());
            assertEquals(3 * 144, f.tensor("q4k").data().byteSize());
            assertEquals(DType.Q5_K, f.tensor("q5k").type());
            assertEquals(3 * 176, f.tensor("q5k").data().byteSize());
            assertEquals(DType.Q6_K, f.tensor("q6k").type());
            assertArrayEquals(new long[]{3, 256}, f.tensor("q6k").shape());
            for (Tensor t : f.tensors().values())
                assertEquals(0, (t.data().address() - f.tensor("f32").data().address()) % 64, t.name() + " aligned");
        }
    }

    /** Little-endian GGUF bytes, built field by field. */
    static final class Bytes {
        ByteBuffer b = ByteBuffer.allocate(1 << 12).order(ByteOrder.LITTLE_ENDIAN);

        private ByteBuffer room(int n) {
            if (b.remaining() < n) {
                ByteBuffer bigger = ByteBuffer.allocate(Math.max(2 * b.capacity(), b.position() + n)).order(ByteOrder.LITTLE_ENDIAN);
                b = bigger.put(b.flip());
            }
            return b;
        }

        Bytes u32(long v) {
            room(4).putInt((int) v);
            return this;
        }

        Bytes u64(long v) {
            room(8).putLong(v);
            return this;
        }

        Bytes str(String s) {
            byte[] u = s.getBytes(StandardCharsets.UTF_8);
            room(8 + u.length).putLong(u.length).put(u);
            return this;
        }

        Bytes header(long tensors, long kvs) {
            return u32(GgufFile.MAGIC).u32(3).u64(tensors).u64(kvs);
        }

        /** A tensor info (dims innermost first). */
        Bytes tensor(String name, int type, long offset, long... dims) {
            str(name).u32(dims.length);
            for (long d : dims) u64(d);
            return u32(type).u64(offset);
        }

        /** Pads to 32 and appends {@code n} data bytes. */
        Bytes data(int n) {
            while (b.position() % 32 != 0) room(1).put((byte) 0);
            room(n).put(new byte[n]);
            return this;
        }

        byte[] done() {
            return Arrays.copyOf(b.array(), b.position());
        }
    }

    static FormatException reject(Path dir, Consumer<Bytes> build) throws IOException {
        Bytes b = new Bytes();
        build.accept(b);
        Path p = dir.resolve("bad.gguf");
        Files.write(p, b.done());
        FormatException e = assertThrows(FormatException.class, () -> GgufFile.open(p).close());
        assertEquals(p, e.file());
        return e;
    }

    static void expect(Path dir, String field, String text, Consumer<Bytes> build) throws IOException {
        FormatException e = reject(dir, build);
        assertEquals(field, e.field(), e.getMessage());
        assertTrue(e.getMessage().contains(text), "'" + e.getMessage() + "' lacks '" + text + "'");
    }

    @Test
    void malformedFilesFailNamingTheField(@TempDir Path dir) throws IOException {
        expect(dir, "header", "too short", b -> b.u32(GgufFile.MAGIC));
        expect(dir, "magic", "not a GGUF", b -> b.u32(0x67676a74).u32(3).u64(0).u64(0));
        expect(dir, "version", "version 1", b -> b.u32(GgufFile.MAGIC).u32(1).u64(0).u64(0));
        expect(dir, "version", "big-endian", b -> b.u32(GgufFile.MAGIC).u32(3L << 24).u64(0).u64(0));
        expect(dir, "tensor count", "cannot fit", b -> b.header(1000, 0).u64(0));
        expect(dir, "tensor count", "limit", b -> b.header(1L << 40, 0));
        expect(dir, "tensor count", "limit", b -> b.header(-1, 0));
        expect(dir, "metadata count", "limit", b -> b.header(0, Long.MAX_VALUE));
        expect(dir, "metadata count", "cannot fit", b -> b.header(0, 100).u64(0));
        expect(dir, "metadata key #0", "exceeds", b -> b.header(0, 1).u64(1L << 50).u32(0).u64(0));
        expect(dir, "metadata key #0", "exceeds", b -> b.header(0, 1).u64(-8).u32(0).u64(0));
        expect(dir, "metadata key #0", "limit of 1024", b -> b.header(0, 1).str("k".repeat(2000)).u32(4).u32(0));
        expect(dir, "k", "unknown metadata value type 13", b -> b.header(0, 1).str("k").u32(13).u64(0));
        expect(dir, "k", "exceeds", b -> b.header(0, 1).str("k").u32(8).u64(1L << 40).u64(0));
        expect(dir, "k", "array length", b -> b.header(0, 1).str("k").u32(9).u32(6).u64(1L << 40));
        expect(dir, "k", "array length", b -> b.header(0, 1).str("k").u32(9).u32(8).u64(Long.MAX_VALUE));
        expect(dir, "k", "limit", b -> b.header(0, 1).str("k").u32(9).u32(0).u64((1 << 24) + 1).data((1 << 24) + 1));
        expect(dir, "k[1]", "exceeds", b -> b.header(0, 1).str("k").u32(9).u32(8).u64(2).str("a").u64(1L << 33).u64(0));
        expect(dir, "k", "nested arrays", b -> b.header(0, 1).str("k").u32(9).u32(9).u64(0).u64(0));
        expect(dir, "k", "truncated", b -> b.header(0, 1).str("k").u32(10).u32(0));
        expect(dir, "k", "duplicate", b -> b.header(0, 2).str("k").u32(4).u32(0).str("k").u32(4).u32(0).u64(0).u64(0));
        expect(dir, "general.alignment", "power of two", b -> b.header(0, 1).str("general.alignment").u32(4).u32(3).u64(0).u64(0));
        expect(dir, "general.alignment", "not an integer", b -> b.header(0, 1).str("general.alignment").u32(8).str("32").u64(0));
        expect(dir, "w", "unsupported tensor type 3 (Q4_1)", b -> b.header(1, 0).tensor("w", 3, 0, 32, 2).data(64));
        expect(dir, "w", "unsupported tensor type 99", b -> b.header(1, 0).tensor("w", 99, 0, 32, 2).data(64));
        expect(dir, "w.n_dims", "5 dimensions", b -> b.header(1, 0).str("w").u32(5).u64(1).u64(1).u64(1).u64(1).u64(1).u32(0).u64(0).data(64));
        expect(dir, "w.n_dims", "0 dimensions", b -> b.header(1, 0).str("w").u32(0).u32(0).u64(0).data(64));
        expect(dir, "w.dims", "out of range", b -> b.header(1, 0).tensor("w", 0, 0, 4, LlamaConfig.MAX_DIM + 1L).data(64));
        expect(dir, "w.dims", "out of range", b -> b.header(1, 0).tensor("w", 0, 0, 0, 4).data(64));
        expect(dir, "w.dims", "out of range", b -> b.header(1, 0).tensor("w", 0, 0, -1L).data(64));
        expect(dir, "w.dims", "overflows", b -> b.header(1, 0).tensor("w", 0, 0, 1 << 20, 1 << 20, 1 << 20, 1 << 20).data(64));
        expect(dir, "w.dims", "block size 32", b -> b.header(1, 0).tensor("w", 8, 0, 48, 2).data(128));
        expect(dir, "w.offset", "outside", b -> b.header(1, 0).tensor("w", 0, 0, 16, 2).data(127));
        expect(dir, "w.offset", "outside", b -> b.header(1, 0).tensor("w", 0, 1L << 62, 16, 2).data(128));
        expect(dir, "w.offset", "alignment", b -> b.header(1, 0).tensor("w", 0, 4, 16, 2).data(256));
        expect(dir, "v.offset", "overlaps tensor w", b -> b.header(2, 0).tensor("w", 0, 0, 16, 2).tensor("v", 0, 96, 8).data(256));
        expect(dir, "w", "duplicate tensor", b -> b.header(2, 0).tensor("w", 0, 0, 8).tensor("w", 0, 32, 8).data(64));
        expect(dir, "w.offset", "truncated", b -> b.header(1, 0).str("w").u32(2).u64(8).u64(8).u32(0));
    }

    @Test
    void acceptsVersion2AndEmptyData(@TempDir Path dir) throws IOException {
        Path p = dir.resolve("v2.gguf");
        Files.write(p, new Bytes().u32(GgufFile.MAGIC).u32(2).u64(0).u64(1).str("general.name").u32(8).str("x").done());
        try (GgufFile f = GgufFile.open(p)) {
            assertEquals(2, f.version());
            assertEquals("x", f.getString("general.name"));
            assertTrue(f.tensors().isEmpty());
        }
        FormatException e = assertThrows(FormatException.class, () -> GgufFile.open(dir.resolve("absent.gguf")));
        assertTrue(e.getMessage().contains("not found"));
    }
}
