package dev.alma.train;

/**
 * The causal-LM loss as transformers computes it: the logits at position {@code t} predict {@code labels[t+1]}
 * (labels are shifted inside the loss), positions whose target is {@code -100} are ignored, and the loss is the sum
 * over supervised targets divided by a caller-chosen count (the supervised tokens of the whole optimiser step).
 */
final class CrossEntropy {
    /** Label value that is not supervised. */
    static final int IGNORE = -100;

    private CrossEntropy() {
    }

    /** Target of row {@code r} of a {@code [batch·seqLen]} layout, or {@link #IGNORE}. */
    static int target(int[] labels, int r, int seqLen) {
        return (r % seqLen) == seqLen - 1 ? IGNORE : labels[r + 1];
    }

    /** Number of supervised targets in {@code labels} after shifting. */
    static int count(int[] labels, int seqLen) {
        int c = 0;
        for (int r = 0; r < labels.length; r++) if (target(labels, r, seqLen) != IGNORE) c++;
        return c;
    }

    /**
     * Returns the summed negative log-likelihood over supervised targets and, when {@code gradScale} is not 0,
     * overwrites {@code logits} with {@code gradScale·(softmax − onehot)} (zero rows for ignored targets).
     */
    static double lossAndGrad(float[] logits, int n, int vocab, int[] labels, int seqLen, float gradScale) {
        double[] rowLoss = new double[n];
        Gemm.parallel(Math.max(1, n / 16), t -> {
            int tasks = Math.max(1, n / 16), r0 = n * t / tasks, r1 = n * (t + 1) / tasks;
            for (int r = r0; r < r1; r++) {
                int y = target(labels, r, seqLen), o = r * vocab;
                if (y == IGNORE) {
                    if (gradScale != 0) java.util.Arrays.fill(logits, o, o + vocab, 0f);
                    continue;
                }
                if (y < 0 || y >= vocab) throw new IllegalArgumentException("label " + y + " outside the vocabulary of " + vocab);
                float max = Float.NEGATIVE_INFINITY;
                for (int i = 0; i < vocab; i++) max = Math.max(max, logits[o + i]);
                double sum = 0;
                for (int i = 0; i < vocab; i++) sum += Math.exp(logits[o + i] - max);
                double lse = max + Math.log(sum);
                rowLoss[r] = lse - logits[o + y];
                if (gradScale != 0) {
                    for (int i = 0; i < vocab; i++) logits[o + i] = (float) (Math.exp(logits[o + i] - lse) * gradScale);
                    logits[o + y] -= gradScale;
                }
            }
        });
        double total = 0;
        for (double l : rowLoss) total += l;
        return total;
    }
}
