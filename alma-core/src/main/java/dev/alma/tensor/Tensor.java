package dev.alma.tensor;

import java.lang.foreign.MemorySegment;
import java.util.Arrays;

/**
 * A stored tensor: its name, type, shape (row-major, outermost first, as Hugging Face writes it: a linear
 * layer's weight is {@code [out_features, in_features]}) and its bytes, usually a slice of a memory-mapped file.
 */
public record Tensor(String name, DType type, long[] shape, MemorySegment data) {

    public Tensor {
        shape = shape.clone();
    }

    @Override
    public long[] shape() {
        return shape.clone();
    }

    /** Number of dimensions. */
    public int rank() {
        return shape.length;
    }

    /** Size of dimension {@code i}. */
    public long dim(int i) {
        return shape[i];
    }

    /** Number of elements. */
    public long count() {
        long n = 1;
        for (long d : shape) n = Math.multiplyExact(n, d);
        return n;
    }

    /** Rows of a matrix (1 for a vector). */
    public int rows() {
        return shape.length == 1 ? 1 : Math.toIntExact(count() / shape[shape.length - 1]);
    }

    /** Columns of a matrix (the length of a vector). */
    public int cols() {
        return Math.toIntExact(shape[shape.length - 1]);
    }

    /** Reads element {@code i} as a float (plain types only). */
    public float getFloat(long i) {
        return switch (type) {
            case F32 -> data.getAtIndex(Layouts.F32, i);
            case F16 -> Float.float16ToFloat(data.getAtIndex(Layouts.I16, i));
            case BF16 -> Float.intBitsToFloat(data.getAtIndex(Layouts.I16, i) << 16);
            default -> throw new UnsupportedOperationException("getFloat on " + type + " tensor " + name);
        };
    }

    /** Copies the whole tensor into a new float array (plain types only; for small tensors and tests). */
    public float[] toFloatArray() {
        float[] out = new float[Math.toIntExact(count())];
        for (int i = 0; i < out.length; i++) out[i] = getFloat(i);
        return out;
    }

    /** Shape as text, e.g. {@code [4096, 11008]}. */
    public String shapeString() {
        return Arrays.toString(shape);
    }

    @Override
    public String toString() {
        return name + " " + type + " " + shapeString();
    }
}
