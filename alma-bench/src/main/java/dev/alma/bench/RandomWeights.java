package dev.alma.bench;

import dev.alma.io.Quantizer;
import dev.alma.tensor.DType;
import dev.alma.tensor.Segments;
import dev.alma.tensor.Tensor;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.SplittableRandom;

/** Random weight matrices in off-heap memory, in any type the CPU backend reads, for the kernel benchmarks. */
public final class RandomWeights {
    private RandomWeights() {
    }

    /**
     * A {@code rows × cols} matrix of uniform values in {@code ±sqrt(3/cols)}, encoded as {@code type}. Q4_K (which
     * the {@link Quantizer} does not write) gets random blocks: random 6-bit scales and nibbles under f16 super-block
     * scales, the same work for the kernel as real data.
     */
    public static Tensor matrix(String name, DType type, int rows, int cols, long seed) {
        long bytes = type.byteSize((long) rows * cols);
        MemorySegment seg = Arena.ofAuto().allocate(bytes, 64);
        SplittableRandom rnd = new SplittableRandom(seed);
        if (type == DType.Q4_K) {
            for (long i = 0; i < bytes; i++) seg.set(ValueLayout.JAVA_BYTE, i, (byte) rnd.nextInt(256));
            long blockBytes = type.blockBytes();
            for (long b = 0; b < bytes; b += blockBytes) {
                seg.set(ValueLayout.JAVA_SHORT_UNALIGNED, b, Float.floatToFloat16((float) rnd.nextDouble(1e-3, 2e-3)));
                seg.set(ValueLayout.JAVA_SHORT_UNALIGNED, b + 2, Float.floatToFloat16((float) rnd.nextDouble(1e-3, 2e-3)));
            }
        } else {
            float[] row = new float[cols];
            float scale = (float) Math.sqrt(3.0 / cols);
            ByteBuffer buf = ByteBuffer.allocate((int) type.byteSize(cols)).order(ByteOrder.LITTLE_ENDIAN);
            for (int r = 0; r < rows; r++) {
                for (int i = 0; i < cols; i++) row[i] = (float) ((rnd.nextDouble() * 2 - 1) * scale);
                buf.clear();
                Quantizer.encode(type, row, 0, cols, buf);
                Segments.copy(MemorySegment.ofArray(buf.array()), 0, seg, (long) r * buf.capacity(), buf.capacity());
            }
        }
        return new Tensor(name, type, new long[]{rows, cols}, seg);
    }

    /** {@code n} uniform values in {@code [-1, 1)}. */
    public static float[] floats(int n, long seed) {
        SplittableRandom rnd = new SplittableRandom(seed);
        float[] v = new float[n];
        for (int i = 0; i < n; i++) v[i] = (float) (rnd.nextDouble() * 2 - 1);
        return v;
    }
}
