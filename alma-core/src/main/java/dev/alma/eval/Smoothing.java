package dev.alma.eval;

import java.util.Locale;

/**
 * BLEU's smoothing of zero n-gram precisions (Chen and Cherry, 2014), named as in sacreBLEU's
 * {@code --smooth-method}.
 */
public enum Smoothing {
    /** No smoothing: a zero precision makes BLEU (nearly) zero. */
    NONE("none", Double.NaN),
    /** Method 1: a zero match count is replaced by a small value (default 0.1). */
    FLOOR("floor", 0.1),
    /** Method 2: k (default 1) is added to matches and totals of orders 2 and up. */
    ADD_K("add-k", 1),
    /** Method 3, NIST's (mteval-v13a): the k-th zero precision becomes 1 / (2^k · total). sacreBLEU's default. */
    EXP("exp", Double.NaN);

    private final String id;
    private final double defaultValue;

    Smoothing(String id, double defaultValue) {
        this.id = id;
        this.defaultValue = defaultValue;
    }

    /** The sacreBLEU name ({@code none}, {@code floor}, {@code add-k}, {@code exp}). */
    public String id() {
        return id;
    }

    /** Whether the method takes a value (floor and add-k do). */
    public boolean hasValue() {
        return !Double.isNaN(defaultValue);
    }

    /** The value used when none is given; NaN for methods without one. */
    public double defaultValue() {
        return defaultValue;
    }

    /** The method with this sacreBLEU name. */
    public static Smoothing of(String id) {
        for (Smoothing s : values()) {
            if (s.id.equals(id.toLowerCase(Locale.ROOT))) return s;
        }
        throw new IllegalArgumentException("unknown smoothing method '" + id + "' (expected exp, floor, add-k or none)");
    }
}
