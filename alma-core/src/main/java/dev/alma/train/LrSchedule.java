package dev.alma.train;

/**
 * Learning rate per optimiser step, as Hugging Face transformers' schedulers compute it: linear warm-up from 0
 * over {@code warmupSteps}, then cosine decay to 0 at {@code totalSteps} ({@code get_cosine_schedule_with_warmup}),
 * inverse square root decay ({@code get_inverse_sqrt_schedule}, timescale = warm-up steps), linear decay, or
 * constant. Step {@code s} is the number of optimiser steps already taken, so a run with warm-up takes its first
 * step at learning rate 0, as the Trainer does.
 */
public record LrSchedule(Kind kind, double peak, long warmupSteps, long totalSteps) {
    /** Schedule shapes. */
    public enum Kind { COSINE, INVERSE_SQRT, LINEAR, CONSTANT }

    public LrSchedule {
        if (!(peak >= 0)) throw new IllegalArgumentException("learning rate " + peak + " must be non-negative");
        if (warmupSteps < 0 || totalSteps < 0) throw new IllegalArgumentException("step counts must be non-negative");
    }

    /** Warm-up steps for a ratio of the total, rounded up as {@code TrainingArguments.get_warmup_steps} does. */
    public static long warmupSteps(double ratio, long totalSteps) {
        if (!(ratio >= 0 && ratio <= 1)) throw new IllegalArgumentException("warm-up ratio " + ratio + " must be in [0, 1]");
        return (long) Math.ceil(totalSteps * ratio);
    }

    /** The schedule kind named {@code cosine}, {@code inverse_sqrt}, {@code linear} or {@code constant}. */
    public static Kind kind(String name) {
        return switch (name) {
            case "cosine" -> Kind.COSINE;
            case "inverse_sqrt" -> Kind.INVERSE_SQRT;
            case "linear" -> Kind.LINEAR;
            case "constant", "constant_with_warmup" -> Kind.CONSTANT;
            default -> throw new IllegalArgumentException("unknown scheduler '" + name + "' (cosine, inverse_sqrt, linear, constant)");
        };
    }

    /** The learning rate of the step taken after {@code step} earlier steps. */
    public double lr(long step) {
        return peak * factor(step);
    }

    private double factor(long step) {
        if (step < warmupSteps) return (double) step / Math.max(1, warmupSteps);
        return switch (kind) {
            case CONSTANT -> 1.0;
            case LINEAR -> Math.max(0.0, (double) (totalSteps - step) / Math.max(1, totalSteps - warmupSteps));
            case COSINE -> {
                double progress = (double) (step - warmupSteps) / Math.max(1, totalSteps - warmupSteps);
                yield Math.max(0.0, 0.5 * (1.0 + Math.cos(Math.PI * 0.5 * 2.0 * progress)));
            }
            case INVERSE_SQRT -> {
                long timescale = warmupSteps > 0 ? warmupSteps : 10_000;
                long shift = timescale - warmupSteps;
                yield 1.0 / Math.sqrt((double) (step + shift) / timescale);
            }
        };
    }
}
