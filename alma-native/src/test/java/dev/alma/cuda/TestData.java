package dev.alma.cuda;

import dev.alma.backend.Activations;
import dev.alma.backend.Backend;
import dev.alma.tensor.DType;
import dev.alma.tensor.Tensor;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Random;

/** Random tensors in the three weight types, their exact float values, and loading rows into a backend. */
final class TestData {
    private TestData() {
    }

    static float[] random(Random rnd, int count, float scale) {
        float[] v = new float[count];
        for (int i = 0; i < count; i++) v[i] = (float) ((rnd.nextDouble() * 2 - 1) * scale);
        return v;
    }

    static short toBf16(float f) {
        int bits = Float.floatToRawIntBits(f);
        if (Float.isNaN(f)) return (short) ((bits >>> 16) | 0x40);
        return (short) ((bits + 0x7FFF + ((bits >>> 16) & 1)) >>> 16);
    }

    static float fromBf16(short h) {
        return Float.intBitsToFloat((h & 0xFFFF) << 16);
    }

    /** {@code v} rounded to {@code type} and back (what the tensor stores). */
    static float round(float v, DType type) {
        return switch (type) {
            case F32 -> v;
            case F16 -> Float.float16ToFloat(Float.floatToFloat16(v));
            case BF16 -> fromBf16(toBf16(v));
            default -> throw new IllegalArgumentException(type.toString());
        };
    }

    static float[] round(float[] v, DType type) {
        float[] r = new float[v.length];
        for (int i = 0; i < v.length; i++) r[i] = round(v[i], type);
        return r;
    }

    /** A {@code [rows, cols]} tensor (a vector when rows is 0) of {@code type} holding {@code values} rounded. */
    static Tensor tensor(String name, DType type, int rows, int cols, float[] values) {
        long count = (long) Math.max(rows, 1) * cols;
        if (values.length != count) throw new IllegalArgumentException(values.length + " values for " + count);
        MemorySegment seg = Arena.ofAuto().allocate(type.byteSize(count), 16);
        for (int i = 0; i < values.length; i++) {
            switch (type) {
                case F32 -> seg.setAtIndex(ValueLayout.JAVA_FLOAT_UNALIGNED, i, values[i]);
                case F16 -> seg.setAtIndex(ValueLayout.JAVA_SHORT_UNALIGNED, i, Float.floatToFloat16(values[i]));
                case BF16 -> seg.setAtIndex(ValueLayout.JAVA_SHORT_UNALIGNED, i, toBf16(values[i]));
                default -> throw new IllegalArgumentException(type.toString());
            }
        }
        long[] shape = rows == 0 ? new long[]{cols} : new long[]{rows, cols};
        return new Tensor(name, type, shape, seg);
    }

    /** New activations {@code [capacity, cols]} whose first rows are {@code rows} (loaded through embed). */
    static Activations load(Backend b, float[][] rows, int capacity, int cols) {
        Activations x = b.allocate(capacity, cols);
        float[] flat = new float[rows.length * cols];
        int[] ids = new int[rows.length];
        for (int i = 0; i < rows.length; i++) {
            System.arraycopy(rows[i], 0, flat, i * cols, cols);
            ids[i] = i;
        }
        if (rows.length > 0) b.embed(b.weight(tensor("input", DType.F32, rows.length, cols, flat)), ids, x);
        return x;
    }

    static float[][] read(Backend b, Activations x, int n) {
        float[][] out = new float[n][x.cols()];
        for (int i = 0; i < n; i++) b.read(x, i, out[i], 0);
        return out;
    }

    static float[][] randomRows(Random rnd, int n, int cols, float scale) {
        float[][] r = new float[n][];
        for (int i = 0; i < n; i++) r[i] = random(rnd, cols, scale);
        return r;
    }

    /** max |a - ref| / max |ref|: the error relative to the reference's scale. */
    static double relError(float[][] a, double[][] ref) {
        double num = 0, den = 0;
        for (int i = 0; i < ref.length; i++)
            for (int j = 0; j < ref[i].length; j++) {
                num = Math.max(num, Math.abs(a[i][j] - ref[i][j]));
                den = Math.max(den, Math.abs(ref[i][j]));
            }
        return den == 0 ? num : num / den;
    }

    static double relError(float[][] a, float[][] b) {
        double[][] d = new double[b.length][];
        for (int i = 0; i < b.length; i++) {
            d[i] = new double[b[i].length];
            for (int j = 0; j < b[i].length; j++) d[i][j] = b[i][j];
        }
        return relError(a, d);
    }
}
