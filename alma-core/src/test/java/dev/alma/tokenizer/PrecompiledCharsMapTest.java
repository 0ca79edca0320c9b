package dev.alma.tokenizer;

import dev.alma.io.FormatException;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/**
 * Normalization with a compiled character map (as {@code nmt_nfkc} models carry), on a map built here in
 * darts-clone's double-array layout.
 */
class PrecompiledCharsMapTest {
    private static final Path FILE = Path.of("test.model");

    /** A trie node over UTF-8 bytes. */
    private static final class Node {
        final TreeMap<Integer, Node> children = new TreeMap<>();
        int value = -1;
    }

    /** Builds a charsmap blob: every node gets its own 256-unit block for its children; values sit at label 0. */
    static byte[] blob(Map<String, String> rules) {
        Node root = new Node();
        ByteArrayOutputStream normalized = new ByteArrayOutputStream();
        for (Map.Entry<String, String> r : rules.entrySet()) {
            Node n = root;
            for (byte b : r.getKey().getBytes(StandardCharsets.UTF_8)) n = n.children.computeIfAbsent(b & 0xFF, k -> new Node());
            n.value = normalized.size();
            normalized.writeBytes(r.getValue().getBytes(StandardCharsets.UTF_8));
            normalized.write(0);
        }
        List<Node> order = new ArrayList<>();
        collect(root, order);
        int[] units = new int[256 * (order.size() + 1)];
        place(root, 0, 0, units, new int[]{256});
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        int size = units.length * 4;
        out.write(size);
        out.write(size >>> 8);
        out.write(size >>> 16);
        out.write(size >>> 24);
        for (int u : units) {
            out.write(u);
            out.write(u >>> 8);
            out.write(u >>> 16);
            out.write(u >>> 24);
        }
        out.writeBytes(normalized.toByteArray());
        return out.toByteArray();
    }

    private static void collect(Node n, List<Node> order) {
        order.add(n);
        for (Node c : n.children.values()) collect(c, order);
    }

    private static void place(Node n, int pos, int label, int[] units, int[] nextBlock) {
        int base = nextBlock[0];
        nextBlock[0] += 256;
        units[pos] = label | (n.value >= 0 ? 1 << 8 : 0) | ((pos ^ base) << 10);
        if (n.value >= 0) units[base] = 0x80000000 | n.value;
        for (Map.Entry<Integer, Node> c : n.children.entrySet()) place(c.getValue(), base + c.getKey(), c.getKey(), units, nextBlock);
    }

    private static SentencePieceTokenizer tokenizer(boolean removeExtraWhitespaces, byte[] charsMap) {
        String[] p = {"<unk>", "<s>", "</s>", "▁", "A", "f", "i", "X", "a", "b"};
        int[] t = {2, 3, 3, 1, 1, 1, 1, 1, 1, 1};
        return new SentencePieceTokenizer(p, new float[p.length], t, 1, 2,
                new SentencePieceTokenizer.Options(true, removeExtraWhitespaces, true, false, false),
                new PrecompiledCharsMap(FILE, charsMap));
    }

    private static byte[] rules() {
        Map<String, String> r = new LinkedHashMap<>();
        r.put("Ａ", "A");
        r.put("ﬁ", "fi");
        r.put("\u3000", " ");
        r.put("ab", "X");
        return blob(r);
    }

    @Test
    void longestRuleReplacesThenWhitespaceRulesApply() {
        SentencePieceTokenizer tok = tokenizer(false, rules());
        assertArrayEquals(new int[]{3, 4, 5, 6}, tok.encode("Ａﬁ"));
        assertArrayEquals(new int[]{3, 7, 8}, tok.encode("aba"));
        assertArrayEquals(new int[]{3, 8, 3, 3, 9}, tok.encode("a\u3000 b"));
        SentencePieceTokenizer collapsing = tokenizer(true, rules());
        assertArrayEquals(new int[]{3, 8, 3, 9}, collapsing.encode("\u3000 a\u3000 b \u3000"));
        assertArrayEquals(new int[0], collapsing.encode(" \u3000 "));
    }

    @Test
    void brokenMapsAreRejectedOrNeverMatch() {
        assertThrows(FormatException.class, () -> new PrecompiledCharsMap(FILE, new byte[]{1, 2, 3}));
        assertThrows(FormatException.class, () -> new PrecompiledCharsMap(FILE, new byte[]{(byte) 0xFF, 0, 0, 0, 1, 2, 3, 4}));
        assertThrows(FormatException.class, () -> new PrecompiledCharsMap(FILE, new byte[]{6, 0, 0, 0, 1, 2, 3, 4, 5, 6}));
        Random rnd = new Random(3);
        for (int k = 0; k < 50; k++) {
            byte[] junk = new byte[4 + 4 * (1 + rnd.nextInt(300)) + rnd.nextInt(20)];
            rnd.nextBytes(junk);
            int size = (junk.length - 4) / 4 * 4;
            junk[0] = (byte) size;
            junk[1] = (byte) (size >>> 8);
            junk[2] = 0;
            junk[3] = 0;
            tokenizer(false, junk).encode("Ａﬁ ab \u3000 🙂 ü");
        }
    }
}
