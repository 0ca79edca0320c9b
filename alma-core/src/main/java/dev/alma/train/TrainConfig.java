package dev.alma.train;

/**
 * Optimisation settings of a run. Defaults ({@link #defaults()}) follow ALMA's recipe: AdamW with betas
 * 0.9/0.999, eps 1e-8, weight decay 0.01, gradient clipping at 1.0, warm-up ratio 0.01, inverse-sqrt schedule.
 *
 * @param maxSteps    optimiser steps; when 0, {@code epochs} passes over the data decide
 * @param gradAccum   micro-batches per optimiser step
 * @param saveEvery   steps between training checkpoints (0: only at the end)
 * @param evalEvery   steps between validation runs (0: only at the end)
 */
public record TrainConfig(double lr, long maxSteps, int epochs, int gradAccum, double warmupRatio,
                          LrSchedule.Kind scheduler, double weightDecay, double beta1, double beta2, double eps,
                          double maxGradNorm, long seed, int saveEvery, int evalEvery) {
    public TrainConfig {
        if (!(lr > 0)) throw new IllegalArgumentException("learning rate " + lr + " must be positive");
        if (maxSteps < 0 || epochs < 0 || maxSteps == 0 && epochs == 0)
            throw new IllegalArgumentException("give a positive number of steps or epochs");
        if (gradAccum <= 0) throw new IllegalArgumentException("gradient accumulation " + gradAccum + " must be positive");
        if (saveEvery < 0 || evalEvery < 0) throw new IllegalArgumentException("save/eval intervals must be non-negative");
        if (!(maxGradNorm >= 0)) throw new IllegalArgumentException("max gradient norm must be non-negative");
    }

    /** ALMA's settings with learning rate 2e-5 for one epoch. */
    public static TrainConfig defaults() {
        return new TrainConfig(2e-5, 0, 1, 1, 0.01, LrSchedule.Kind.INVERSE_SQRT, 0.01, 0.9, 0.999, 1e-8, 1.0, 42, 0, 0);
    }

    public TrainConfig withLr(double v) {
        return new TrainConfig(v, maxSteps, epochs, gradAccum, warmupRatio, scheduler, weightDecay, beta1, beta2, eps, maxGradNorm, seed, saveEvery, evalEvery);
    }

    public TrainConfig withSteps(long steps, int epochs) {
        return new TrainConfig(lr, steps, epochs, gradAccum, warmupRatio, scheduler, weightDecay, beta1, beta2, eps, maxGradNorm, seed, saveEvery, evalEvery);
    }

    public TrainConfig withGradAccum(int v) {
        return new TrainConfig(lr, maxSteps, epochs, v, warmupRatio, scheduler, weightDecay, beta1, beta2, eps, maxGradNorm, seed, saveEvery, evalEvery);
    }

    public TrainConfig withSchedule(LrSchedule.Kind kind, double warmupRatio) {
        return new TrainConfig(lr, maxSteps, epochs, gradAccum, warmupRatio, kind, weightDecay, beta1, beta2, eps, maxGradNorm, seed, saveEvery, evalEvery);
    }

    public TrainConfig withSeed(long v) {
        return new TrainConfig(lr, maxSteps, epochs, gradAccum, warmupRatio, scheduler, weightDecay, beta1, beta2, eps, maxGradNorm, v, saveEvery, evalEvery);
    }

    public TrainConfig withIntervals(int save, int eval) {
        return new TrainConfig(lr, maxSteps, epochs, gradAccum, warmupRatio, scheduler, weightDecay, beta1, beta2, eps, maxGradNorm, seed, save, eval);
    }
}
