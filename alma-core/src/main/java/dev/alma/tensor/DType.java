package dev.alma.tensor;

/**
 * Storage types of weight tensors. Quantized types store a row as consecutive blocks of {@link #blockSize()}
 * values taking {@link #blockBytes()} bytes each (the GGUF layouts), so a row of {@code n} values takes
 * {@code n / blockSize * blockBytes} bytes.
 */
public enum DType {
    F32(1, 4),
    F16(1, 2),
    BF16(1, 2),
    /** 32 int8 values and one f16 scale. */
    Q8_0(32, 34),
    /** 32 4-bit values (offset 8) and one f16 scale. */
    Q4_0(32, 18),
    /** Super-blocks of 256: f16 d, f16 dmin, 12 bytes of 6-bit scales/mins, 128 bytes of nibbles. */
    Q4_K(256, 144),
    /**
     * Super-blocks of 256: f16 d, f16 dmin, 12 bytes of 6-bit scales/mins (as Q4_K), 32 bytes of fifth bits, 128 bytes
     * of nibbles.
     */
    Q5_K(256, 176),
    /** Super-blocks of 256: 128 bytes low nibbles, 64 bytes high bits, 16 int8 scales, f16 d. */
    Q6_K(256, 210),
    I32(1, 4),
    I64(1, 8);

    private final int blockSize;
    private final int blockBytes;

    DType(int blockSize, int blockBytes) {
        this.blockSize = blockSize;
        this.blockBytes = blockBytes;
    }

    /** Values per block (1 for plain types). */
    public int blockSize() {
        return blockSize;
    }

    /** Bytes per block. */
    public int blockBytes() {
        return blockBytes;
    }

    /** True for the block-quantized types. */
    public boolean quantized() {
        return blockSize > 1;
    }

    /**
     * Bytes taken by {@code count} values, or -1 when {@code count} is not a whole number of blocks or the
     * size overflows a long.
     */
    public long byteSize(long count) {
        if (count < 0 || count % blockSize != 0) return -1;
        long blocks = count / blockSize;
        if (blocks > Long.MAX_VALUE / blockBytes) return -1;
        return blocks * blockBytes;
    }
}
