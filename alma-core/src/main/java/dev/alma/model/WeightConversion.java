package dev.alma.model;

import dev.alma.AlmaException;
import dev.alma.backend.cpu.CpuBackend;
import dev.alma.io.Quantizer;
import dev.alma.tensor.DType;
import dev.alma.tensor.Tensor;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.function.LongFunction;
import java.util.stream.IntStream;

/**
 * A checkpoint's f32, f16 or bf16 matrices held as another type as they load ({@link ModelOptions#weights}): a
 * Hugging Face ALMA checkpoint quantized to Q8_0 in memory takes half the memory of f16 and, on a memory-bound CPU,
 * decodes faster (a random 7B-shape bf16 checkpoint on this project's 2-core machine: 2.95 / 2.71 → 4.40 / 3.87
 * tok/s), without a converted file ({@code alma convert} writes one). The values are those
 * {@code alma convert} and llama.cpp's converter write for the type ({@link Quantizer}).
 */
public final class WeightConversion {
    /** Values per task of {@link #convert}. */
    private static final int PART_VALUES = 1 << 16;

    private WeightConversion() {
    }

    /**
     * Whether {@link #convert} applies to {@code t}: a matrix stored as F32, F16 or BF16, not already {@code type},
     * whose rows are whole blocks of {@code type} (other tensors keep their stored type).
     */
    public static boolean converts(Tensor t, DType type) {
        return type != null && t.rank() == 2 && t.type() != type
                && (t.type() == DType.F32 || t.type() == DType.F16 || t.type() == DType.BF16)
                && Quantizer.supports(type) && t.cols() % type.blockSize() == 0;
    }

    /** {@code t} encoded as {@code type} into memory from {@code memory} (bytes → a segment), rows in parallel. */
    public static Tensor convert(Tensor t, DType type, LongFunction<MemorySegment> memory) {
        if (!converts(t, type)) throw new IllegalArgumentException(t.name() + " " + t.type() + " " + t.shapeString() + " cannot be held as " + type);
        int rows = t.rows(), cols = t.cols(), per = Math.max(1, PART_VALUES / cols);
        long rowBytes = type.byteSize(cols);
        MemorySegment seg = memory.apply(rowBytes * rows);
        IntStream.range(0, Math.ceilDiv(rows, per)).parallel().forEach(part -> {
            int r0 = part * per, r1 = Math.min(rows, r0 + per);
            float[] v = new float[(r1 - r0) * cols];
            CpuBackend.decodeRows(t, r0, r1, v);
            ByteBuffer out = seg.asSlice(r0 * rowBytes, (r1 - r0) * rowBytes).asByteBuffer().order(ByteOrder.LITTLE_ENDIAN);
            for (int r = 0; r < r1 - r0; r++) Quantizer.encode(type, v, r * cols, cols, out);
        });
        return new Tensor(t.name(), type, t.shape(), seg);
    }

    /**
     * Native memory from an automatic arena (freed once unreachable), which counts against the JVM's direct-memory
     * limit; running out is an {@link AlmaException} naming {@code what} and the option that raises the limit.
     */
    public static LongFunction<MemorySegment> automaticMemory(String what) {
        return bytes -> {
            try {
                return Arena.ofAuto().allocate(bytes, 64);
            } catch (OutOfMemoryError e) {
                throw new AlmaException(what + ": cannot allocate " + bytes + " bytes of native memory ("
                        + e.getMessage() + "); -XX:MaxDirectMemorySize raises the JVM's limit");
            }
        };
    }
}
