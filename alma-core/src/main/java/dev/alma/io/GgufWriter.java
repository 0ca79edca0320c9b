package dev.alma.io;

import dev.alma.tensor.DType;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.stream.IntStream;

/**
 * Writes a GGUF v3 file: metadata, then F32, F16, BF16, Q8_0, Q4_0, Q4_K, Q5_K or Q6_K tensors encoded from floats (see
 * {@link Quantizer}). A tensor's values come from an array or are streamed row by row from a {@link Rows} source,
 * so a multi-GB file (a 7B-shape test model) never sits on the heap. Shapes are given row-major like
 * {@link dev.alma.tensor.Tensor}; the file stores them innermost first. The file appears atomically.
 */
public final class GgufWriter {

    /** Produces row {@code r} of a tensor (its last dimension's worth of values) into {@code out}. */
    @FunctionalInterface
    public interface Rows {
        void row(long r, float[] out);
    }

    private record Value(GgufValueType type, GgufValueType elem, Object value) {
    }

    private record Spec(String name, DType type, long[] shape, Rows rows, long bytes) {
    }

    /** Values per chunk of rows encoded in parallel. */
    private static final int CHUNK_VALUES = 1 << 20;

    private final Map<String, Value> metadata = new LinkedHashMap<>();
    private java.util.function.LongConsumer progress = done -> {
    };
    private final List<Spec> tensors = new ArrayList<>();
    private int alignment = GgufFile.DEFAULT_ALIGNMENT;

    private GgufWriter put(String key, GgufValueType type, GgufValueType elem, Object value) {
        metadata.put(key, new Value(type, elem, value));
        return this;
    }

    /** Adds a string value. */
    public GgufWriter putString(String key, String v) {
        return put(key, GgufValueType.STRING, null, v);
    }

    /** Adds a UINT32 value (the type llama.cpp uses for sizes and counts). */
    public GgufWriter putUInt32(String key, int v) {
        return put(key, GgufValueType.UINT32, null, v);
    }

    /** Adds an INT32 value. */
    public GgufWriter putInt32(String key, int v) {
        return put(key, GgufValueType.INT32, null, v);
    }

    /** Adds a UINT64 value. */
    public GgufWriter putUInt64(String key, long v) {
        return put(key, GgufValueType.UINT64, null, v);
    }

    /** Adds a FLOAT32 value. */
    public GgufWriter putFloat32(String key, float v) {
        return put(key, GgufValueType.FLOAT32, null, v);
    }

    /** Adds a FLOAT64 value. */
    public GgufWriter putFloat64(String key, double v) {
        return put(key, GgufValueType.FLOAT64, null, v);
    }

    /** Adds a BOOL value. */
    public GgufWriter putBool(String key, boolean v) {
        return put(key, GgufValueType.BOOL, null, v);
    }

    /** Adds an array of strings. */
    public GgufWriter putStrings(String key, String[] v) {
        return put(key, GgufValueType.ARRAY, GgufValueType.STRING, v.clone());
    }

    /** Adds an array of FLOAT32. */
    public GgufWriter putFloat32s(String key, float[] v) {
        return put(key, GgufValueType.ARRAY, GgufValueType.FLOAT32, v.clone());
    }

    /** Adds an array of INT32. */
    public GgufWriter putInt32s(String key, int[] v) {
        return put(key, GgufValueType.ARRAY, GgufValueType.INT32, v.clone());
    }

    /** Sets the tensor-data alignment (a power of two) and records it as {@code general.alignment}. */
    public GgufWriter alignment(int alignment) {
        if (alignment <= 0 || Integer.bitCount(alignment) != 1)
            throw new IllegalArgumentException("alignment " + alignment + " is not a power of two");
        this.alignment = alignment;
        return putUInt32("general.alignment", alignment);
    }

    /** Adds a tensor holding {@code values} (row-major), encoded as {@code type}. */
    public GgufWriter tensor(String name, DType type, long[] shape, float[] values) {
        long count = 1;
        for (long d : shape) count *= d;
        if (count != values.length)
            throw new IllegalArgumentException(name + ": shape holds " + count + " values, got " + values.length);
        int cols = (int) shape[shape.length - 1];
        return tensor(name, type, shape, (r, out) -> System.arraycopy(values, Math.toIntExact(r * cols), out, 0, cols));
    }

    /** Adds a tensor whose rows {@code rows} produces while the file is written, encoded as {@code type}. */
    public GgufWriter tensor(String name, DType type, long[] shape, Rows rows) {
        if (!Quantizer.supports(type)) throw new IllegalArgumentException(name + ": cannot write " + type);
        if (shape.length < 1 || shape.length > GgufFile.MAX_DIMS)
            throw new IllegalArgumentException(name + ": " + shape.length + " dimensions");
        long count = 1;
        for (long d : shape) count = Math.multiplyExact(count, d);
        long cols = shape[shape.length - 1];
        if (cols % type.blockSize() != 0 || cols > Integer.MAX_VALUE)
            throw new IllegalArgumentException(name + ": row length " + cols + " is not a whole number of " + type + " blocks");
        tensors.add(new Spec(name, type, shape.clone(), rows, type.byteSize(count)));
        return this;
    }

    /** Rows of uniform random values in {@code [-scale, scale)} from {@code seed} (the same rows on every call). */
    public static Rows randomRows(long seed, float scale) {
        return (r, out) -> {
            SplittableRandom rnd = new SplittableRandom(seed * 0x9E3779B97F4A7C15L + r);
            for (int i = 0; i < out.length; i++) out[i] = (float) ((rnd.nextDouble() * 2 - 1) * scale);
        };
    }

    /** Bytes of tensor data the file will hold (without the header and alignment padding). */
    public long tensorBytes() {
        return tensors.stream().mapToLong(Spec::bytes).sum();
    }

    /** Calls {@code progress} with the tensor bytes written so far as {@link #write} goes (from the writing thread). */
    public GgufWriter progress(java.util.function.LongConsumer progress) {
        this.progress = progress;
        return this;
    }

    /** Writes the file atomically (a temporary file beside it, then a rename). */
    public void write(Path file) {
        AtomicFiles.write(file, this::writeTo);
    }

    private void writeTo(OutputStream out) throws IOException {
        Header h = new Header();
        h.i32(GgufFile.MAGIC).i32(3).i64(tensors.size()).i64(metadata.size());
        for (Map.Entry<String, Value> e : metadata.entrySet()) {
            h.str(e.getKey()).i32(e.getValue().type().ordinal());
            h.value(e.getValue());
        }
        long offset = 0;
        for (Spec t : tensors) {
            h.str(t.name()).i32(t.shape().length);
            for (int d = t.shape().length - 1; d >= 0; d--) h.i64(t.shape()[d]);
            h.i32(GgmlType.id(t.type())).i64(offset);
            offset = align(offset + t.bytes());
        }
        long written = h.size();
        out.write(h.bytes(), 0, h.size());
        written += pad(out, written);
        long done = 0;
        for (Spec t : tensors) {
            int cols = (int) t.shape()[t.shape().length - 1], rowBytes = (int) t.type().byteSize(cols);
            long rows = t.shape().length == 1 ? 1 : t.bytes() / rowBytes;
            // rows come from the source one by one, in order; a chunk of them is encoded in parallel (the K-quants'
            // scale search is most of a 7B conversion's time)
            int chunk = (int) Math.max(1, Math.min(rows, CHUNK_VALUES / cols));
            float[] row = new float[cols], values = new float[chunk * cols];
            byte[] bytes = new byte[chunk * rowBytes];
            for (long r0 = 0; r0 < rows; r0 += chunk) {
                int n = (int) Math.min(chunk, rows - r0);
                for (int i = 0; i < n; i++) {
                    t.rows().row(r0 + i, row);
                    System.arraycopy(row, 0, values, i * cols, cols);
                }
                IntStream.range(0, n).parallel().forEach(i -> Quantizer.encode(t.type(), values, i * cols, cols,
                        ByteBuffer.wrap(bytes, i * rowBytes, rowBytes).order(ByteOrder.LITTLE_ENDIAN)));
                out.write(bytes, 0, n * rowBytes);
                done += (long) n * rowBytes;
                progress.accept(done);
            }
            written += t.bytes();
            written += pad(out, written);
        }
    }

    private long align(long n) {
        return Math.ceilDiv(n, alignment) * (long) alignment;
    }

    private int pad(OutputStream out, long written) throws IOException {
        int n = (int) (align(written) - written);
        out.write(new byte[n]);
        return n;
    }

    /** The little-endian header (metadata and tensor infos), built in memory. */
    private static final class Header {
        private ByteBuffer b = ByteBuffer.allocate(1 << 16).order(ByteOrder.LITTLE_ENDIAN);

        private ByteBuffer room(int n) {
            if (b.remaining() < n) {
                ByteBuffer bigger = ByteBuffer.allocate(Math.max(b.capacity() * 2, b.position() + n)).order(ByteOrder.LITTLE_ENDIAN);
                bigger.put(b.flip());
                b = bigger;
            }
            return b;
        }

        Header i32(int v) {
            room(4).putInt(v);
            return this;
        }

        Header i64(long v) {
            room(8).putLong(v);
            return this;
        }

        Header str(String s) {
            byte[] u = s.getBytes(StandardCharsets.UTF_8);
            i64(u.length);
            room(u.length).put(u);
            return this;
        }

        void value(Value v) {
            switch (v.type()) {
                case STRING -> str((String) v.value());
                case UINT32, INT32 -> i32((Integer) v.value());
                case UINT64 -> i64((Long) v.value());
                case FLOAT32 -> room(4).putFloat((Float) v.value());
                case FLOAT64 -> room(8).putDouble((Double) v.value());
                case BOOL -> room(1).put((byte) ((Boolean) v.value() ? 1 : 0));
                case ARRAY -> {
                    i32(v.elem().ordinal());
                    switch (v.elem()) {
                        case STRING -> {
                            String[] a = (String[]) v.value();
                            i64(a.length);
                            for (String s : a) str(s);
                        }
                        case FLOAT32 -> {
                            float[] a = (float[]) v.value();
                            i64(a.length);
                            for (float f : a) room(4).putFloat(f);
                        }
                        case INT32 -> {
                            int[] a = (int[]) v.value();
                            i64(a.length);
                            for (int x : a) i32(x);
                        }
                        default -> throw new IllegalStateException("array of " + v.elem());
                    }
                }
                default -> throw new IllegalStateException("value of " + v.type());
            }
        }

        int size() {
            return b.position();
        }

        byte[] bytes() {
            return b.array();
        }
    }
}
