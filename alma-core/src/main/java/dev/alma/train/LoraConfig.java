package dev.alma.train;

import java.util.List;
import java.util.Set;

/**
 * A LoRA adapter's shape as PEFT defines it: rank {@code r}, {@code alpha} (the update is scaled by
 * {@code alpha/r}), dropout on the adapter's input during training, and the target projections by module name.
 * ALMA's recipe is {@link #alma()}: r 16, alpha 32, dropout 0.05, {@code down_proj}.
 */
public record LoraConfig(int r, double alpha, double dropout, List<String> targets) {
    /** Projection names that can carry an adapter. */
    public static final Set<String> MODULES = dev.alma.model.LoraAdapter.TARGETS;

    public LoraConfig {
        if (r <= 0 || r > 4096) throw new IllegalArgumentException("LoRA rank " + r + " is out of range 1..4096");
        if (!(alpha > 0)) throw new IllegalArgumentException("LoRA alpha " + alpha + " must be positive");
        if (!(dropout >= 0 && dropout < 1)) throw new IllegalArgumentException("LoRA dropout " + dropout + " must be in [0, 1)");
        targets = List.copyOf(targets);
        if (targets.isEmpty()) throw new IllegalArgumentException("LoRA needs at least one target module");
        for (String t : targets)
            if (!MODULES.contains(t)) throw new IllegalArgumentException("LoRA target '" + t + "' is not one of " + MODULES);
    }

    /** ALMA's stage-2 LoRA: r 16, alpha 32, dropout 0.05 on {@code down_proj}. */
    public static LoraConfig alma() {
        return new LoraConfig(16, 32, 0.05, List.of("down_proj"));
    }

    /** The factor {@code alpha/r} applied to {@code B·A}. */
    public double scaling() {
        return alpha / r;
    }
}
