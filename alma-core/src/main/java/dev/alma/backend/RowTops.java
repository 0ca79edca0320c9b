package dev.alma.backend;

/**
 * The largest scores of some rows of logits, with each row's log-sum-exp: what beam search needs of a step
 * ({@code log p(token) = value - logSumExp}) without reading whole vocabulary rows. Row {@code i}'s {@code k}
 * largest values are {@code values[i]}, largest first (lower index first on ties), at indices {@code ids[i]}.
 */
public record RowTops(double[] logSumExp, int[][] ids, float[][] values) {

    /** The rows' tops computed on the host from rows already read. */
    public static RowTops of(float[][] rows, int k) {
        int n = rows.length;
        double[] lse = new double[n];
        int[][] ids = new int[n][];
        float[][] values = new float[n][];
        for (int i = 0; i < n; i++) {
            float[] row = rows[i];
            if (k < 1 || k > row.length) throw new IllegalArgumentException("top-" + k + " of a row of " + row.length);
            lse[i] = logSumExp(row);
            ids[i] = top(row, k);
            values[i] = new float[k];
            for (int j = 0; j < k; j++) values[i][j] = row[ids[i][j]];
        }
        return new RowTops(lse, ids, values);
    }

    /** log Σ exp(x) = max + log Σ exp(x - max), the sum in double; -inf for a row of -inf. */
    public static double logSumExp(float[] x) {
        float max = Float.NEGATIVE_INFINITY;
        for (float v : x) max = Math.max(max, v);
        if (max == Float.NEGATIVE_INFINITY) return max;
        double s = 0;
        for (float v : x) s += Math.exp(v - max);
        return max + Math.log(s);
    }

    /**
     * Indexes of the {@code k} largest values of {@code x} ({@code 1 <= k <= x.length}), largest first, lower index
     * first on ties, NaN never ranked above a number (insertion into a sorted list).
     */
    public static int[] top(float[] x, int k) {
        int[] idx = new int[k];
        int n = 0;
        for (int i = 0; i < x.length; i++) {
            if (n == k && !(x[i] > x[idx[k - 1]])) continue;
            int j = n < k ? n++ : k - 1;
            while (j > 0 && x[i] > x[idx[j - 1]]) {
                idx[j] = idx[j - 1];
                j--;
            }
            idx[j] = i;
        }
        return idx;
    }
}
