package dev.alma.eval;

/**
 * sacreBLEU's signature string: {@code nrefs}, then (for statistical tests) {@code bs}, {@code ar}, {@code seed},
 * then the metric's own fields, then {@code version}, joined with {@code |}.
 */
final class Signature {
    /** The sacreBLEU version whose behaviour this package reproduces, written into every signature. */
    static final String VERSION = "2.6.0";

    private Signature() {
    }

    /** A signature with the metric's own {@code key:value} fields. */
    static String of(int numRefs, String... fields) {
        StringBuilder b = new StringBuilder("nrefs:").append(numRefs < 0 ? "var" : Integer.toString(numRefs));
        for (String f : fields) b.append('|').append(f);
        return b.append("|version:").append(VERSION).toString();
    }

    /**
     * Inserts the statistical-test fields after {@code nrefs}, in sacreBLEU's order: {@code bs} (bootstrap
     * resamples, 0 = absent), {@code ar} (randomization trials, 0 = absent), {@code seed}.
     */
    static String withTest(String signature, int bootstrap, int trials, String seed) {
        int bar = signature.indexOf('|');
        StringBuilder b = new StringBuilder(signature.substring(0, bar));
        if (bootstrap > 0) b.append("|bs:").append(bootstrap);
        if (trials > 0) b.append("|ar:").append(trials);
        b.append("|seed:").append(seed);
        return b.append(signature.substring(bar)).toString();
    }

    static String yesNo(boolean b) {
        return b ? "yes" : "no";
    }
}
