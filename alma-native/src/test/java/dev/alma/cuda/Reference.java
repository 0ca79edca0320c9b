package dev.alma.cuda;

/** Float64 references of the backend operations (the definitions the kernels and their CPU twins are held to). */
final class Reference {
    private Reference() {
    }

    /** {@code x · Wᵀ} with w {@code [rows, cols]} row-major. */
    static double[][] matmul(float[][] x, float[] w, int rows, int cols) {
        double[][] xd = new double[x.length][];
        for (int i = 0; i < x.length; i++) xd[i] = new double[x[i].length];
        for (int i = 0; i < x.length; i++) for (int c = 0; c < x[i].length; c++) xd[i][c] = x[i][c];
        return matmul(xd, w, rows, cols);
    }

    /** {@code x · Wᵀ} of float64 rows (a reference's own output, e.g. normalised rows). */
    static double[][] matmul(double[][] x, float[] w, int rows, int cols) {
        double[][] y = new double[x.length][rows];
        for (int i = 0; i < x.length; i++)
            for (int r = 0; r < rows; r++) {
                double s = 0;
                for (int c = 0; c < cols; c++) s += x[i][c] * w[r * cols + c];
                y[i][r] = s;
            }
        return y;
    }

    static double[][] rmsNorm(float[][] x, float[] gamma, double eps) {
        double[][] y = new double[x.length][];
        for (int i = 0; i < x.length; i++) {
            double ss = 0;
            for (float v : x[i]) ss += (double) v * v;
            double inv = 1 / Math.sqrt(ss / x[i].length + eps);
            y[i] = new double[x[i].length];
            for (int j = 0; j < x[i].length; j++) y[i][j] = x[i][j] * inv * gamma[j];
        }
        return y;
    }

    /** RoPE with the angles Hugging Face defines (float32 inverse frequencies and angles), rotated in float64. */
    static double[][] rope(float[][] x, int heads, int headDim, int[] positions, double theta, boolean interleaved) {
        int half = headDim / 2;
        double[][] y = new double[x.length][];
        for (int i = 0; i < x.length; i++) {
            y[i] = new double[x[i].length];
            for (int j = 0; j < x[i].length; j++) y[i][j] = x[i][j];
            for (int j = 0; j < half; j++) {
                float inv = 1f / (float) Math.pow((float) theta, (float) (2 * j) / headDim);
                double angle = (float) positions[i] * inv;
                double c = Math.cos(angle), s = Math.sin(angle);
                for (int h = 0; h < heads; h++) {
                    int a = h * headDim + (interleaved ? 2 * j : j);
                    int b = interleaved ? a + 1 : a + half;
                    y[i][a] = x[i][a] * c - (double) x[i][b] * s;
                    y[i][b] = x[i][b] * c + (double) x[i][a] * s;
                }
            }
        }
        return y;
    }

    static double[][] swiglu(float[][] gate, float[][] up) {
        double[][] y = new double[gate.length][];
        for (int i = 0; i < gate.length; i++) {
            y[i] = new double[gate[i].length];
            for (int j = 0; j < gate[i].length; j++) {
                double g = gate[i][j];
                y[i][j] = g / (1 + Math.exp(-g)) * up[i][j];
            }
        }
        return y;
    }

    /**
     * Causal attention of one query row over keys/values {@code 0..last} of a sequence's history ({@code keys[p]} is
     * the {@code kvHeads × headDim} row of position p).
     */
    static double[] attention(float[] q, float[][] keys, float[][] values, int last, int heads, int kvHeads,
                              int headDim) {
        double[] out = new double[heads * headDim];
        int group = heads / kvHeads;
        double scale = 1 / Math.sqrt(headDim);
        for (int h = 0; h < heads; h++) {
            int kvh = h / group;
            double[] s = new double[last + 1];
            double max = Double.NEGATIVE_INFINITY;
            for (int p = 0; p <= last; p++) {
                double dot = 0;
                for (int d = 0; d < headDim; d++) dot += (double) q[h * headDim + d] * keys[p][kvh * headDim + d];
                s[p] = dot * scale;
                max = Math.max(max, s[p]);
            }
            double sum = 0;
            for (int p = 0; p <= last; p++) sum += s[p] = Math.exp(s[p] - max);
            for (int p = 0; p <= last; p++)
                for (int d = 0; d < headDim; d++) out[h * headDim + d] += s[p] / sum * values[p][kvh * headDim + d];
        }
        return out;
    }
}
