package dev.alma.train;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * Runs fine-tuning: per optimiser step, {@code gradAccum} micro-batches whose loss is the token mean over all the
 * step's supervised targets (as transformers' Trainer with {@code num_items_in_batch}), global-norm gradient
 * clipping, AdamW on f32 master weights, the learning-rate schedule, periodic validation and atomic checkpoints
 * in the output directory from which {@link #resume()} continues with the same losses.
 */
public final class Trainer {
    /** Receives each finished step. */
    @FunctionalInterface
    public interface Listener {
        void onStep(StepLog log, long totalSteps);
    }

    private final TrainableLlama model;
    private final BatchSource data;
    private final List<Batch> valid;
    private final TrainConfig cfg;
    private final Path outDir;
    private final AdamW adam;
    private final LrSchedule schedule;
    private final long totalSteps;
    private final List<StepLog> history = new ArrayList<>();
    private long step;

    /**
     * @param valid    validation batches (may be empty)
     * @param outDir   where checkpoints go
     */
    public Trainer(TrainableLlama model, BatchSource data, List<Batch> valid, TrainConfig cfg, Path outDir) {
        this.model = model;
        this.data = data;
        this.valid = List.copyOf(valid);
        this.cfg = cfg;
        this.outDir = outDir;
        this.adam = new AdamW(cfg.beta1(), cfg.beta2(), cfg.eps(), cfg.weightDecay(), false);
        if (cfg.maxSteps() > 0) totalSteps = cfg.maxSteps();
        else {
            if (data.batchesPerEpoch() < 0) throw new IllegalArgumentException("this data has no epochs: give a number of steps");
            totalSteps = (long) cfg.epochs() * Math.max(1, data.batchesPerEpoch() / cfg.gradAccum());
        }
        schedule = new LrSchedule(cfg.scheduler(), cfg.lr(), LrSchedule.warmupSteps(cfg.warmupRatio(), totalSteps), totalSteps);
    }

    /** Optimiser steps of the whole run. */
    public long totalSteps() {
        return totalSteps;
    }

    /** Steps taken so far. */
    public long step() {
        return step;
    }

    /** The log of every step taken so far (including those before a resume). */
    public List<StepLog> history() {
        return Collections.unmodifiableList(history);
    }

    /** Whether the output directory holds a checkpoint. */
    public boolean hasCheckpoint() {
        return Files.isRegularFile(outDir.resolve(Checkpoint.FILE));
    }

    /** Continues from the output directory's checkpoint; returns the step it was taken at. */
    public long resume() {
        Checkpoint.State s = Checkpoint.load(outDir, model, adam, cfg);
        step = s.step();
        history.clear();
        history.addAll(s.history());
        return step;
    }

    /** Writes a checkpoint of the current state. */
    public void checkpoint() {
        Checkpoint.save(outDir, model, adam, step, cfg, history);
    }

    /** Trains until {@code stopAt} steps (at most the total), checkpointing and evaluating as configured. */
    public void run(long stopAt, Listener listener) {
        List<Parameter> params = model.trainableParameters();
        long end = Math.min(stopAt, totalSteps);
        while (step < end) {
            long t0 = System.nanoTime();
            model.zeroGrad();
            Batch[] micro = new Batch[cfg.gradAccum()];
            long targets = 0, tokens = 0;
            for (int a = 0; a < micro.length; a++) {
                micro[a] = data.batch(step * cfg.gradAccum() + a);
                targets += micro[a].targets();
                tokens += micro[a].tokens();
            }
            double lossSum = 0;
            float scale = targets == 0 ? 0f : (float) (1.0 / targets);
            for (int a = 0; a < micro.length; a++) {
                long index = step * cfg.gradAccum() + a;
                long key = ((cfg.seed() + 1) * 0x9E3779B97F4A7C15L + index * 0xBF58476D1CE4E5B9L) & Long.MAX_VALUE;
                lossSum += model.forwardBackward(micro[a], scale, key);
            }
            double norm = clip(params, cfg.maxGradNorm());
            double lr = schedule.lr(step);
            adam.step(params, lr);
            step++;
            StepLog log = new StepLog(step, lr, targets == 0 ? 0 : lossSum / targets, norm, tokens, (System.nanoTime() - t0) / 1e9, Double.NaN);
            if (!valid.isEmpty() && (cfg.evalEvery() > 0 && step % cfg.evalEvery() == 0 || step == totalSteps))
                log = log.withEval(evaluate());
            history.add(log);
            if (cfg.saveEvery() > 0 && step % cfg.saveEvery() == 0 || step == end) checkpoint();
            if (listener != null) listener.onStep(log, totalSteps);
        }
    }

    /** Token-mean loss over the validation batches. */
    public double evaluate() {
        double sum = 0;
        long n = 0;
        for (Batch b : valid) {
            sum += model.lossSum(b);
            n += b.targets();
        }
        return n == 0 ? Double.NaN : sum / n;
    }

    /** Scales gradients so that their global L2 norm is at most {@code max}; returns the norm before. */
    static double clip(List<Parameter> params, double max) {
        double ss = 0;
        for (Parameter p : params)
            for (float g : p.grad()) ss += (double) g * g;
        double norm = Math.sqrt(ss);
        if (max > 0) {
            float coef = (float) Math.min(1.0, max / (norm + 1e-6));
            if (coef < 1f)
                for (Parameter p : params) {
                    float[] g = p.grad();
                    for (int i = 0; i < g.length; i++) g[i] *= coef;
                }
        }
        return norm;
    }
}
