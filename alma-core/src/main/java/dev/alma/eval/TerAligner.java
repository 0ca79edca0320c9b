package dev.alma.eval;

import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The number of TER edits between two word sequences (words as integer ids), following sacreBLEU's
 * {@code lib_ter} step by step: greedy block shifts chosen as tercom ranks them (largest gain, then longest, then
 * earliest source, then earliest target), each evaluated with a beam-limited Levenshtein distance (beam 25 around
 * the length-ratio diagonal), at most 10 words per shift, at most 50 positions away, and at most 1,000 shift
 * candidates per sentence pair in total. Identical shift decisions make identical edit counts.
 */
final class TerAligner {
    static final int MAX_SHIFT_SIZE = 10;
    static final int MAX_SHIFT_DIST = 50;
    static final int BEAM_WIDTH = 25;
    static final int MAX_CACHE_SIZE = 10_000;
    static final int MAX_SHIFT_CANDIDATES = 1_000;
    /** Stands for sacreBLEU's {@code int(1e16)}: larger than any real distance, and INF + 1 does not overflow. */
    private static final int INF = 1_000_000_000;

    static final byte NOP = 0, SUB = 1, INS = 2, DEL = 3, UNDEF = 4;

    private TerAligner() {
    }

    /** The TER edit count (shifts plus edit distance) to turn {@code hyp} into {@code ref}. */
    static int edits(int[] hyp, int[] ref) {
        if (ref.length == 0) return hyp.length;
        BeamEditDistance ed = new BeamEditDistance(ref);
        int shifts = 0;
        int[] input = hyp;
        int[] checked = {0};
        while (true) {
            Shift best = bestShift(input, ref, ed, checked);
            if (checked[0] >= MAX_SHIFT_CANDIDATES) break;
            if (best == null || best.gain <= 0) break;
            shifts++;
            input = best.words;
        }
        return shifts + ed.distance(input, false).cost;
    }

    private record Shift(int gain, int length, int startH, int target, int[] words) {
        /** Tercom's ranking, as sacreBLEU's tuple {@code (gain, length, -start_h, -target)} compared with {@code >}. */
        boolean beats(Shift o) {
            if (gain != o.gain) return gain > o.gain;
            if (length != o.length) return length > o.length;
            if (startH != o.startH) return startH < o.startH;
            return target < o.target;
        }
    }

    /** sacreBLEU's {@code _shift}: the best shift of this round, or null when no candidate was evaluated. */
    private static Shift bestShift(int[] h, int[] r, BeamEditDistance ed, int[] checked) {
        Alignment pre = ed.distance(h, true);
        int nH = h.length, nR = r.length;
        // The trace rewrites the hypothesis into the reference; flipped, it rewrites the reference into the
        // hypothesis, from which the alignment (reference position -> hypothesis position) is read.
        int[] align = new int[nR];
        boolean[] aligned = new boolean[nR];
        int[] hypErr = new int[nH + 1]; // prefix sums of error flags
        int[] refErr = new int[nR + 1];
        int posH = -1, posR = -1;
        for (byte op : pre.trace) {
            byte flipped = op == INS ? DEL : op == DEL ? INS : op;
            switch (flipped) {
                case NOP, SUB -> {
                    posH++;
                    posR++;
                    align[posR] = posH;
                    aligned[posR] = true;
                    int e = flipped == SUB ? 1 : 0;
                    hypErr[posH + 1] = hypErr[posH] + e;
                    refErr[posR + 1] = refErr[posR] + e;
                }
                case INS -> {
                    posH++;
                    hypErr[posH + 1] = hypErr[posH] + 1;
                }
                case DEL -> {
                    posR++;
                    align[posR] = posH;
                    aligned[posR] = true;
                    refErr[posR + 1] = refErr[posR] + 1;
                }
                default -> throw new IllegalStateException("unknown edit operation " + op);
            }
        }
        Shift best = null;
        for (int startH = 0; startH < nH; startH++) {
            // sacreBLEU visits every start_r and skips those more than MAX_SHIFT_DIST away; same pairs, same order
            int fromR = Math.max(0, startH - MAX_SHIFT_DIST), toR = Math.min(nR - 1, startH + MAX_SHIFT_DIST);
            for (int startR = fromR; startR <= toR; startR++) {
                int length = 0;
                while (h[startH + length] == r[startR + length] && length < MAX_SHIFT_SIZE) {
                    length++;
                    best = tryShift(h, startH, startR, length, pre.cost, align, aligned, hypErr, refErr, ed, checked, best);
                    if (checked[0] >= MAX_SHIFT_CANDIDATES) return best;
                    if (nH == startH + length || nR == startR + length) break;
                }
            }
        }
        return best;
    }

    private static Shift tryShift(int[] h, int startH, int startR, int length, int preCost, int[] align,
                                  boolean[] aligned, int[] hypErr, int[] refErr, BeamEditDistance ed, int[] checked,
                                  Shift best) {
        // only shift words that are wrong, to a place where the reference is not matched yet
        if (hypErr[startH + length] - hypErr[startH] == 0) return best;
        if (refErr[startR + length] - refErr[startR] == 0) return best;
        if (startH <= align[startR] && align[startR] < startH + length) return best;
        int prevIdx = -1;
        for (int offset = -1; offset < length; offset++) {
            int pos = startR + offset;
            int idx;
            if (pos == -1) idx = 0;
            else if (pos < align.length && aligned[pos]) idx = align[pos] + 1;
            else break;
            if (idx == prevIdx) continue;
            prevIdx = idx;
            int[] shifted = perform(h, startH, length, idx);
            Shift candidate = new Shift(preCost - ed.distance(shifted, false).cost, length, startH, idx, shifted);
            checked[0]++;
            if (best == null || candidate.beats(best)) best = candidate;
        }
        return best;
    }

    /** sacreBLEU's {@code _perform_shift}, with Python's clamped slices. */
    static int[] perform(int[] w, int start, int length, int target) {
        if (target < start) {
            return concat(w, 0, target, start, start + length, target, start, start + length, w.length);
        } else if (target > start + length) {
            return concat(w, 0, start, start + length, target, start, start + length, target, w.length);
        } else {
            return concat(w, 0, start, start + length, length + target, start, start + length, length + target, w.length);
        }
    }

    /** The concatenation of the slices {@code w[from:to]} given as pairs. */
    private static int[] concat(int[] w, int... bounds) {
        int[] out = new int[w.length];
        int n = 0;
        for (int k = 0; k < bounds.length; k += 2) {
            int from = Math.min(Math.max(bounds[k], 0), w.length);
            int to = Math.min(Math.max(bounds[k + 1], 0), w.length);
            if (to <= from) continue;
            if (n + to - from > out.length) throw new IllegalStateException("shift changed the sentence length");
            System.arraycopy(w, from, out, n, to - from);
            n += to - from;
        }
        if (n != w.length) throw new IllegalStateException("shift changed the sentence length");
        return out;
    }

    /** An edit distance and its trace of operations (rewriting the hypothesis into the reference). */
    record Alignment(int cost, byte[] trace) {
    }

    /**
     * One row of the edit-distance matrix, stored only over the beam {@code [lo, lo + cost.length)}: cost and last
     * operation per reference position; outside it a cell is unreached (INF, UNDEF), exactly as sacreBLEU's rows
     * that it initialises with infinities. Memory is thus O(beam) per row, not O(reference length).
     */
    private record Row(int lo, int[] cost, byte[] op) {
        int costAt(int j) {
            int d = j - lo;
            return d >= 0 && d < cost.length ? cost[d] : INF;
        }

        byte opAt(int j) {
            int d = j - lo;
            return d >= 0 && d < op.length ? op[d] : UNDEF;
        }
    }

    /** A prefix-tree node of hypothesis words holding the matrix row after that prefix. */
    private static final class Node {
        final Row row;
        /** Children by word id; few per node, so a linear scan beats hashing. */
        private int[] words = new int[2];
        private Node[] children = new Node[2];
        private int size;

        Node(Row row) {
            this.row = row;
        }

        Node child(int word) {
            for (int i = 0; i < size; i++) {
                if (words[i] == word) return children[i];
            }
            return null;
        }

        void add(int word, Node child) {
            if (size == words.length) {
                words = Arrays.copyOf(words, 2 * size);
                children = Arrays.copyOf(children, 2 * size);
            }
            words[size] = word;
            children[size++] = child;
        }
    }

    /**
     * sacreBLEU's {@code BeamEditDistance}: Levenshtein distance to a fixed reference, exploring only a band around
     * the pseudo-diagonal, with rows cached by hypothesis prefix (all hypotheses here have the same length, so a
     * cached row equals a recomputed one).
     */
    static final class BeamEditDistance {
        private final int[] ref;
        private final Row initial;
        private final Node root;
        private int cacheSize;

        BeamEditDistance(int[] ref) {
            this.ref = ref;
            int[] cost = new int[ref.length + 1];
            byte[] op = new byte[ref.length + 1];
            for (int j = 0; j <= ref.length; j++) {
                cost[j] = j;
                op[j] = INS;
            }
            this.initial = new Row(0, cost, op);
            this.root = new Node(initial);
        }

        /** The distance to the hypothesis {@code h}, with the trace of operations when {@code withTrace}. */
        Alignment distance(int[] h, boolean withTrace) {
            int nH = h.length, nR = ref.length;
            Row[] dist = new Row[nH + 1];
            dist[0] = initial;
            Node node = root;
            int start = 0;
            for (int w : h) {
                Node child = node.child(w);
                if (child == null) break;
                node = child;
                dist[++start] = child.row;
            }
            double ratio = nH > 0 ? (double) nR / nH : 1;
            int beam = BEAM_WIDTH < ratio / 2 ? (int) Math.ceil(ratio / 2 + BEAM_WIDTH) : BEAM_WIDTH;
            for (int i = start + 1; i <= nH; i++) {
                int diag = (int) Math.floor(i * ratio);
                int minJ = Math.max(0, diag - beam);
                int maxJ = i == nH ? nR + 1 : Math.min(nR + 1, diag + beam);
                int width = Math.max(0, maxJ - minJ);
                int[] cost = new int[width];
                byte[] op = new byte[width];
                Row prevRow = dist[i - 1];
                int[] prev = prevRow.cost;
                int prevLo = prevRow.lo, prevLen = prev.length;
                int word = h[i - 1];
                int j = minJ;
                int left = INF; // the cell left of the beam is unreached
                if (j == 0 && j < maxJ) {
                    cost[0] = left = prevRow.costAt(0) + 1;
                    op[0] = DEL;
                    j = 1;
                }
                // tercom prefers match/substitution, then insertion, then deletion; the trace is flipped later,
                // hence deletion before insertion here (a later option wins only when strictly cheaper)
                for (; j < maxJ; j++) {
                    int d = j - 1 - prevLo;
                    int diagCost = d >= 0 && d < prevLen ? prev[d] : INF;
                    int upCost = d + 1 >= 0 && d + 1 < prevLen ? prev[d + 1] : INF;
                    boolean same = word == ref[j - 1];
                    int best = diagCost + (same ? 0 : 1);
                    byte bestOp = same ? NOP : SUB;
                    if (best >= INF) { // unreached diagonal: INF and INF + 1 both stay "unreached"
                        best = INF;
                        bestOp = UNDEF;
                    }
                    int c = upCost + 1;
                    if (c < best) {
                        best = c;
                        bestOp = DEL;
                    }
                    c = left + 1;
                    if (c < best) {
                        best = c;
                        bestOp = INS;
                    }
                    cost[j - minJ] = best;
                    op[j - minJ] = bestOp;
                    left = best;
                }
                dist[i] = new Row(minJ, cost, op);
            }
            byte[] trace = withTrace ? trace(dist, nH, nR) : null;
            if (cacheSize < MAX_CACHE_SIZE) {
                for (int i = start; i < nH; i++) {
                    Node child = new Node(dist[i + 1]);
                    node.add(h[i], child);
                    cacheSize++;
                    node = child;
                }
            }
            return new Alignment(dist[nH].costAt(nR), trace);
        }

        private static byte[] trace(Row[] dist, int nH, int nR) {
            byte[] reversed = new byte[nH + nR];
            int n = 0, i = nH, j = nR;
            while (i > 0 || j > 0) {
                byte op = dist[i].opAt(j);
                reversed[n++] = op;
                switch (op) {
                    case NOP, SUB -> {
                        i--;
                        j--;
                    }
                    case INS -> j--;
                    case DEL -> i--;
                    default -> throw new IllegalStateException("TER beam search left cell (" + i + ", " + j + ") unreached");
                }
            }
            byte[] trace = new byte[n];
            for (int k = 0; k < n; k++) trace[k] = reversed[n - 1 - k];
            return trace;
        }
    }

    /** Maps the words of one sentence pair to integer ids (equal words, equal ids). */
    static int[][] ids(List<String> hyp, List<String> ref) {
        Map<String, Integer> vocab = new HashMap<>();
        return new int[][]{ids(hyp, vocab), ids(ref, vocab)};
    }

    private static int[] ids(List<String> words, Map<String, Integer> vocab) {
        int[] out = new int[words.size()];
        for (int i = 0; i < out.length; i++) out[i] = vocab.computeIfAbsent(words.get(i), k -> vocab.size());
        return out;
    }

}
