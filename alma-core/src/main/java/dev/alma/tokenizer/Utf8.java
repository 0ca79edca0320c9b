package dev.alma.tokenizer;

/**
 * UTF-8 helpers with SentencePiece's rules: a sequence is valid only when it is the shortest form of a scalar value
 * (no overlong forms, no surrogates, nothing above U+10FFFF); an invalid sequence is replaced one byte at a time
 * by U+FFFD.
 */
final class Utf8 {
    /** Returned by {@link #sequenceLength} when more bytes could still make the sequence valid. */
    static final int INCOMPLETE = 0;
    /** Returned by {@link #sequenceLength} when the first byte can never start a valid sequence here. */
    static final int INVALID = -1;

    private Utf8() {
    }

    /**
     * Length of the valid character at {@code bytes[off]}, {@link #INVALID} when no continuation can make it valid
     * (the caller replaces one byte with U+FFFD), or {@link #INCOMPLETE} when it is a valid prefix cut off at
     * {@code end}.
     */
    static int sequenceLength(byte[] bytes, int off, int end) {
        int b0 = bytes[off] & 0xFF;
        if (b0 < 0x80) return 1;
        int need;
        int min;
        if ((b0 & 0xE0) == 0xC0) {
            need = 2;
            min = 0x80;
        } else if ((b0 & 0xF0) == 0xE0) {
            need = 3;
            min = 0x800;
        } else if ((b0 & 0xF8) == 0xF0) {
            need = 4;
            min = 0x10000;
        } else {
            return INVALID;
        }
        int cp = b0 & (0x7F >> need);
        int have = Math.min(need, end - off);
        for (int i = 1; i < have; i++) {
            int b = bytes[off + i] & 0xFF;
            if ((b & 0xC0) != 0x80) return INVALID;
            cp = (cp << 6) | (b & 0x3F);
        }
        if (have < need) return prefixCanComplete(cp, have, need) ? INCOMPLETE : INVALID;
        if (cp < min || (cp >= 0xD800 && cp < 0xE000) || cp > 0x10FFFF) return INVALID;
        return need;
    }

    /** Whether a cut-off sequence of {@code have} of {@code need} bytes (value bits so far {@code cp}) can still be valid. */
    private static boolean prefixCanComplete(int cp, int have, int need) {
        int missing = need - have;
        int lo = cp << (6 * missing);
        int hi = lo | ((1 << (6 * missing)) - 1);
        int min = need == 2 ? 0x80 : need == 3 ? 0x800 : 0x10000;
        if (hi < min || lo > 0x10FFFF) return false;
        // Entirely inside the surrogate block: no completion is a scalar value.
        return !(lo >= 0xD800 && hi < 0xE000);
    }

    /** Appends {@code bytes[off, end)} decoded, each byte of an invalid or cut-off sequence as U+FFFD. */
    static void decode(byte[] bytes, int off, int end, StringBuilder out) {
        int i = off;
        while (i < end) {
            int n = sequenceLength(bytes, i, end);
            if (n <= 0) {
                out.append('\uFFFD');
                i++;
            } else {
                appendCodePoint(bytes, i, n, out);
                i += n;
            }
        }
    }

    /**
     * Appends the complete characters of {@code bytes[off, end)} and U+FFFD for bytes that can never become valid;
     * returns the offset of a trailing cut-off sequence that more bytes may complete (or {@code end}).
     */
    static int decodeComplete(byte[] bytes, int off, int end, StringBuilder out) {
        int i = off;
        while (i < end) {
            int n = sequenceLength(bytes, i, end);
            if (n == INCOMPLETE) return i;
            if (n == INVALID) {
                out.append('\uFFFD');
                i++;
            } else {
                appendCodePoint(bytes, i, n, out);
                i += n;
            }
        }
        return end;
    }

    private static void appendCodePoint(byte[] bytes, int off, int n, StringBuilder out) {
        int b0 = bytes[off] & 0xFF;
        if (n == 1) {
            out.append((char) b0);
            return;
        }
        int cp = b0 & (0x7F >> n);
        for (int i = 1; i < n; i++) cp = (cp << 6) | (bytes[off + i] & 0x3F);
        out.appendCodePoint(cp);
    }

    /** Writes the UTF-8 bytes of {@code cp} to {@code out[at..]} and returns how many were written (1 to 4). */
    static int encode(int cp, byte[] out, int at) {
        if (cp < 0x80) {
            out[at] = (byte) cp;
            return 1;
        }
        if (cp < 0x800) {
            out[at] = (byte) (0xC0 | (cp >> 6));
            out[at + 1] = (byte) (0x80 | (cp & 0x3F));
            return 2;
        }
        if (cp < 0x10000) {
            out[at] = (byte) (0xE0 | (cp >> 12));
            out[at + 1] = (byte) (0x80 | ((cp >> 6) & 0x3F));
            out[at + 2] = (byte) (0x80 | (cp & 0x3F));
            return 3;
        }
        out[at] = (byte) (0xF0 | (cp >> 18));
        out[at + 1] = (byte) (0x80 | ((cp >> 12) & 0x3F));
        out[at + 2] = (byte) (0x80 | ((cp >> 6) & 0x3F));
        out[at + 3] = (byte) (0x80 | (cp & 0x3F));
        return 4;
    }
}
