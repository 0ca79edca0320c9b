package dev.alma.backend.cpu;

import dev.alma.AlmaException;
import dev.alma.tensor.DType;
import dev.alma.tensor.Layouts;
import dev.alma.tensor.Tensor;

import java.lang.foreign.MemorySegment;

/**
 * Base of the block-quantized weight matrices: each row is {@link #blocks} consecutive blocks of the tensor's
 * type, read in place. Subclasses decode blocks for {@link #row} and multiply on the blocks for {@link #dot}.
 */
abstract class QuantMatrix extends CpuMatrix {
    final MemorySegment w;
    /** Blocks per row. */
    final int blocks;
    /** Bytes per row. */
    final long rowBytes;

    QuantMatrix(Tensor t) {
        super(t);
        DType type = t.type();
        if (cols % type.blockSize() != 0)
            throw new AlmaException(t.name() + ": row length " + cols + " is not a multiple of the " + type
                    + " block size " + type.blockSize());
        this.w = t.data();
        this.blocks = cols / type.blockSize();
        this.rowBytes = (long) blocks * type.blockBytes();
        if (w.byteSize() != rowBytes * rows)
            throw new AlmaException(t.name() + ": " + w.byteSize() + " bytes of data, " + type + " shape "
                    + t.shapeString() + " needs " + rowBytes * rows);
    }

    /**
     * Sums of consecutive runs of {@code run} activations from {@code x[off]}:
     * {@code sums[k] = x[off + run·k] + .. + x[off + run·k + run-1]} for {@code k < n / run}.
     */
    static float[] runSums(float[] x, int off, int n, int run) {
        float[] sums = new float[n / run];
        for (int k = 0; k < sums.length; k++) {
            float s = 0;
            for (int i = off + run * k; i < off + run * (k + 1); i++) s += x[i];
            sums[k] = s;
        }
        return sums;
    }

    /** The f16 value at byte {@code off}. */
    static float f16(MemorySegment w, long off) {
        return Float.float16ToFloat(w.get(Layouts.I16, off));
    }

    /** The unsigned byte at {@code off}. */
    static int u8(MemorySegment w, long off) {
        return w.get(java.lang.foreign.ValueLayout.JAVA_BYTE, off) & 0xFF;
    }
}
