package dev.alma.tokenizer;

import dev.alma.io.FormatException;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;

/**
 * SentencePiece's compiled normalization rules ({@code NormalizerSpec.precompiled_charsmap}, e.g. of
 * {@code nmt_nfkc}): a little-endian {@code uint32} size, a darts-clone double-array trie over UTF-8 byte strings of
 * that many bytes, then the replacement strings, each ended by a NUL byte. The longest rule matching a prefix of the
 * input wins. Every array access is bounds-checked, so a corrupt map never matches rather than crashes.
 */
final class PrecompiledCharsMap {
    private final int[] units;
    private final byte[] replacements;

    PrecompiledCharsMap(Path file, byte[] blob) {
        String field = "normalizer_spec.precompiled_charsmap";
        if (blob.length <= 4) throw new FormatException(file, field, "is only " + blob.length + " bytes");
        long trieSize = (blob[0] & 0xFFL) | (blob[1] & 0xFFL) << 8 | (blob[2] & 0xFFL) << 16 | (blob[3] & 0xFFL) << 24;
        if (trieSize > blob.length - 4 || trieSize % 4 != 0 || trieSize == 0)
            throw new FormatException(file, field, "trie size " + trieSize + " does not fit the " + blob.length + "-byte map");
        units = new int[(int) (trieSize / 4)];
        for (int i = 0; i < units.length; i++) {
            int o = 4 + 4 * i;
            units[i] = (blob[o] & 0xFF) | (blob[o + 1] & 0xFF) << 8 | (blob[o + 2] & 0xFF) << 16 | (blob[o + 3] & 0xFF) << 24;
        }
        replacements = new byte[blob.length - 4 - (int) trieSize];
        System.arraycopy(blob, 4 + (int) trieSize, replacements, 0, replacements.length);
    }

    /**
     * The longest rule matching a prefix of {@code in[off, end)}: returns its length in bytes (0 when none) and, when
     * there is one, stores its replacement in {@code replacement[0]}.
     */
    int longestMatch(byte[] in, int off, int end, String[] replacement) {
        int nodePos = 0;
        if (units.length == 0) return 0;
        nodePos ^= offset(units[0]);
        int best = 0;
        int bestValue = -1;
        for (int i = off; i < end; i++) {
            int label = in[i] & 0xFF;
            nodePos ^= label;
            if (nodePos < 0 || nodePos >= units.length) break;
            int unit = units[nodePos];
            if ((unit & (0x80000000 | 0xFF)) != label) break;
            nodePos ^= offset(unit);
            if (((unit >>> 8) & 1) != 0) {
                if (nodePos < 0 || nodePos >= units.length) break;
                best = i + 1 - off;
                bestValue = units[nodePos] & 0x7FFFFFFF;
            }
        }
        if (best == 0 || bestValue >= replacements.length) return 0;
        int stop = bestValue;
        while (stop < replacements.length && replacements[stop] != 0) stop++;
        replacement[0] = new String(replacements, bestValue, stop - bestValue, StandardCharsets.UTF_8);
        return best;
    }

    private static int offset(int unit) {
        return (unit >>> 10) << ((unit & (1 << 9)) >>> 6);
    }
}
