package dev.alma.eval;

/** Sums of per-segment sufficient statistics. */
final class Statistics {
    private Statistics() {
    }

    /** The element-wise sum over segments, added in segment order (as sacreBLEU's {@code sum_of_lists}). */
    static double[] sum(double[][] segments) {
        if (segments.length == 0) throw new IllegalArgumentException("no segments to score");
        double[] total = new double[segments[0].length];
        for (double[] row : segments) {
            for (int j = 0; j < total.length; j++) total[j] += row[j];
        }
        return total;
    }

    /** The element-wise sum of the segments at the given indices (a bootstrap resample). */
    static double[] sum(double[][] segments, int[] indices) {
        double[] total = new double[segments[0].length];
        for (int i : indices) {
            double[] row = segments[i];
            for (int j = 0; j < total.length; j++) total[j] += row[j];
        }
        return total;
    }
}
