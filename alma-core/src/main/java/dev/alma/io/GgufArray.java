package dev.alma.io;

import dev.alma.tensor.Layouts;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;

/**
 * An array value of GGUF metadata, a view of the mapped file (validated when the file was opened). Nothing is
 * decoded until one of the typed accessors copies it out; each copy is proportional to the array's real size in
 * the file, never to a length field alone.
 */
public final class GgufArray {
    private final Path file;
    private final String key;
    private final GgufValueType type;
    private final int size;
    private final MemorySegment data;

    GgufArray(Path file, String key, GgufValueType type, int size, MemorySegment data) {
        this.file = file;
        this.key = key;
        this.type = type;
        this.size = size;
        this.data = data;
    }

    /** The element type. */
    public GgufValueType type() {
        return type;
    }

    /** Number of elements. */
    public int size() {
        return size;
    }

    /** The elements of a string array. */
    public String[] strings() {
        if (type != GgufValueType.STRING) throw wrongType("strings");
        String[] out = new String[size];
        long off = 0;
        for (int i = 0; i < size; i++) {
            long n = data.get(Layouts.I64, off);
            out[i] = utf8(data, off + 8, n);
            off += 8 + n;
        }
        return out;
    }

    /** The elements of a numeric array as floats (FLOAT32 exactly; other numeric types converted). */
    public float[] floats() {
        if (type.size() < 0 || type == GgufValueType.BOOL) throw wrongType("numbers");
        float[] out = new float[size];
        for (int i = 0; i < size; i++) out[i] = (float) type.readDouble(data, (long) i * type.size());
        return out;
    }

    /** The elements of an integer array as ints; an element outside the int range is a format error. */
    public int[] ints() {
        long[] v = longs();
        int[] out = new int[size];
        for (int i = 0; i < size; i++) {
            if (v[i] != (int) v[i])
                throw new FormatException(file, key + "[" + i + "]", (type == GgufValueType.UINT64 ? Long.toUnsignedString(v[i]) : v[i]) + " does not fit an int");
            out[i] = (int) v[i];
        }
        return out;
    }

    /** The elements of an integer (or bool) array as longs; UINT64 values above 2^63 wrap. */
    public long[] longs() {
        if (!type.integral() && type != GgufValueType.BOOL) throw wrongType("integers");
        long[] out = new long[size];
        for (int i = 0; i < size; i++) out[i] = type.readLong(data, (long) i * type.size());
        return out;
    }

    private FormatException wrongType(String wanted) {
        return new FormatException(file, key, "is an array of " + type + ", not of " + wanted);
    }

    static String utf8(MemorySegment s, long off, long n) {
        byte[] b = s.asSlice(off, n).toArray(ValueLayout.JAVA_BYTE);
        return new String(b, StandardCharsets.UTF_8);
    }

    @Override
    public String toString() {
        return "array of " + size + " " + type;
    }
}
