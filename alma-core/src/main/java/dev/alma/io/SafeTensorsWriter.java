package dev.alma.io;

import dev.alma.tensor.DType;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Writes a {@code .safetensors} file from float arrays (stored as F32, F16 or BF16) or from a producer that
 * streams each tensor's bytes, so multi-GB files never sit on the heap. The file appears atomically: it is
 * written to a temporary file beside the target and renamed.
 */
public final class SafeTensorsWriter {

    /** Streams a tensor's bytes (exactly its byte size) to {@code out}. */
    @FunctionalInterface
    public interface Body {
        void write(OutputStream out) throws IOException;
    }

    private record Entry(String name, DType type, long[] shape, long bytes, Body body) {
    }

    private final List<Entry> entries = new ArrayList<>();
    private final Map<String, String> metadata = new LinkedHashMap<>();

    /** Adds a tensor whose values are {@code values}, stored as {@code type} (F32, F16 or BF16). */
    public SafeTensorsWriter add(String name, DType type, long[] shape, float[] values) {
        long count = 1;
        for (long d : shape) count *= d;
        if (count != values.length)
            throw new IllegalArgumentException(name + ": shape holds " + count + " values, got " + values.length);
        return add(name, type, shape, out -> writeFloats(out, type, values));
    }

    /** Adds a tensor whose bytes {@code body} streams. */
    public SafeTensorsWriter add(String name, DType type, long[] shape, Body body) {
        long count = 1;
        for (long d : shape) count *= d;
        entries.add(new Entry(name, type, shape.clone(), type.byteSize(count), body));
        return this;
    }

    /** Adds a {@code __metadata__} entry. */
    public SafeTensorsWriter metadata(String key, String value) {
        metadata.put(key, value);
        return this;
    }

    /** Writes the file atomically. */
    public void write(Path file) {
        Map<String, Object> header = new LinkedHashMap<>();
        if (!metadata.isEmpty()) header.put("__metadata__", metadata);
        long offset = 0;
        for (Entry e : entries) {
            Map<String, Object> v = new LinkedHashMap<>();
            v.put("dtype", e.type.name());
            v.put("shape", e.shape);
            v.put("data_offsets", new long[]{offset, offset + e.bytes});
            header.put(e.name, v);
            offset += e.bytes;
        }
        byte[] json = Json.write(header).getBytes(java.nio.charset.StandardCharsets.UTF_8);
        int pad = (8 - json.length % 8) % 8;
        byte[] padded = java.util.Arrays.copyOf(json, json.length + pad);
        java.util.Arrays.fill(padded, json.length, padded.length, (byte) ' ');
        AtomicFiles.write(file, out -> {
            out.write(ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(padded.length).array());
            out.write(padded);
            for (Entry e : entries) {
                CountingStream counted = new CountingStream(out);
                e.body.write(counted);
                if (counted.count != e.bytes)
                    throw new IllegalStateException(e.name + ": wrote " + counted.count + " bytes, expected " + e.bytes);
            }
        });
    }

    /** Writes {@code values} to {@code out} in {@code type}'s little-endian encoding. */
    public static void writeFloats(OutputStream out, DType type, float[] values) throws IOException {
        int width = type == DType.F32 ? 4 : 2;
        ByteBuffer buf = ByteBuffer.allocate(8192 * width).order(ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < values.length; i++) {
            switch (type) {
                case F32 -> buf.putFloat(values[i]);
                case F16 -> buf.putShort(Float.floatToFloat16(values[i]));
                case BF16 -> buf.putShort(toBf16(values[i]));
                default -> throw new IllegalArgumentException("cannot write " + type + " from floats");
            }
            if (!buf.hasRemaining()) {
                out.write(buf.array(), 0, buf.position());
                buf.clear();
            }
        }
        out.write(buf.array(), 0, buf.position());
    }

    /** Rounds a float to bfloat16 (round to nearest even, NaN kept quiet). */
    public static short toBf16(float v) {
        int bits = Float.floatToRawIntBits(v);
        if (Float.isNaN(v)) return (short) ((bits >>> 16) | 0x40);
        int rounding = 0x7FFF + ((bits >>> 16) & 1);
        return (short) ((bits + rounding) >>> 16);
    }

    private static final class CountingStream extends java.io.FilterOutputStream {
        long count;

        CountingStream(OutputStream out) {
            super(out);
        }

        @Override
        public void write(int b) throws IOException {
            out.write(b);
            count++;
        }

        @Override
        public void write(byte[] b, int off, int len) throws IOException {
            out.write(b, off, len);
            count += len;
        }
    }
}
