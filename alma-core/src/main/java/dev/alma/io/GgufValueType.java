package dev.alma.io;

import dev.alma.tensor.Layouts;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * The value types of GGUF metadata, by their on-disk id. Fixed-size types carry their byte width; strings
 * (a 64-bit length and UTF-8 bytes) and arrays (an element type, a 64-bit count, the elements) have none.
 */
public enum GgufValueType {
    UINT8(1), INT8(1), UINT16(2), INT16(2), UINT32(4), INT32(4), FLOAT32(4), BOOL(1), STRING(-1), ARRAY(-1),
    UINT64(8), INT64(8), FLOAT64(8);

    private final int size;

    GgufValueType(int size) {
        this.size = size;
    }

    /** Bytes taken by one value, or -1 for the variable-length types. */
    public int size() {
        return size;
    }

    /** True for the integer types (signed or unsigned, any width). */
    public boolean integral() {
        return switch (this) {
            case UINT8, INT8, UINT16, INT16, UINT32, INT32, UINT64, INT64 -> true;
            default -> false;
        };
    }

    /** Reads an integer value of this type at {@code off} (unsigned types zero-extended; UINT64 may wrap). */
    long readLong(MemorySegment s, long off) {
        return switch (this) {
            case UINT8 -> s.get(ValueLayout.JAVA_BYTE, off) & 0xFFL;
            case INT8 -> s.get(ValueLayout.JAVA_BYTE, off);
            case UINT16 -> s.get(Layouts.I16, off) & 0xFFFFL;
            case INT16 -> s.get(Layouts.I16, off);
            case UINT32 -> s.get(Layouts.I32, off) & 0xFFFF_FFFFL;
            case INT32 -> s.get(Layouts.I32, off);
            case UINT64, INT64 -> s.get(Layouts.I64, off);
            case BOOL -> s.get(ValueLayout.JAVA_BYTE, off) != 0 ? 1 : 0;
            default -> throw new IllegalStateException(this + " is not an integer type");
        };
    }

    /** Reads a numeric value of this type at {@code off} as a double. */
    double readDouble(MemorySegment s, long off) {
        return switch (this) {
            case FLOAT32 -> s.get(Layouts.F32, off);
            case FLOAT64 -> Double.longBitsToDouble(s.get(Layouts.I64, off));
            case UINT64 -> {
                long v = s.get(Layouts.I64, off);
                yield v >= 0 ? v : (double) (v >>> 1) * 2.0;
            }
            default -> readLong(s, off);
        };
    }

    /** The type with on-disk id {@code id}, or null when there is none. */
    static GgufValueType byId(long id) {
        GgufValueType[] all = values();
        return id >= 0 && id < all.length ? all[(int) id] : null;
    }
}
