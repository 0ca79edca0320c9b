package dev.alma.io;

import dev.alma.tensor.DType;

/** ggml's tensor type ids, as stored in GGUF tensor infos, and their mapping to {@link DType}. */
final class GgmlType {
    /** ggml's names by id, for error messages (ids 4 and 5 were removed types). */
    private static final String[] NAMES = {"F32", "F16", "Q4_0", "Q4_1", "Q4_2", "Q4_3", "Q5_0", "Q5_1", "Q8_0",
            "Q8_1", "Q2_K", "Q3_K", "Q4_K", "Q5_K", "Q6_K", "Q8_K", "IQ2_XXS", "IQ2_XS", "IQ3_XXS", "IQ1_S", "IQ4_NL",
            "IQ3_S", "IQ2_S", "IQ4_XS", "I8", "I16", "I32", "I64", "F64", "IQ1_M", "BF16"};

    private GgmlType() {
    }

    /** The supported type for ggml id {@code id}, or null. */
    static DType toDType(long id) {
        return switch ((int) Math.min(Math.max(id, -1), Integer.MAX_VALUE)) {
            case 0 -> DType.F32;
            case 1 -> DType.F16;
            case 2 -> DType.Q4_0;
            case 8 -> DType.Q8_0;
            case 12 -> DType.Q4_K;
            case 13 -> DType.Q5_K;
            case 14 -> DType.Q6_K;
            case 30 -> DType.BF16;
            default -> null;
        };
    }

    /** ggml's id of {@code t}. */
    static int id(DType t) {
        return switch (t) {
            case F32 -> 0;
            case F16 -> 1;
            case Q4_0 -> 2;
            case Q8_0 -> 8;
            case Q4_K -> 12;
            case Q5_K -> 13;
            case Q6_K -> 14;
            case BF16 -> 30;
            default -> throw new IllegalArgumentException(t + " has no GGUF tensor type");
        };
    }

    /** "N" or "N (NAME)" for error messages. */
    static String describe(long id) {
        return id >= 0 && id < NAMES.length ? id + " (" + NAMES[(int) id] + ")" : Long.toUnsignedString(id);
    }
}
