package dev.alma.decode;

import jdk.incubator.vector.DoubleVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * The log-sum-exp of a vocabulary's scores with the Vector API: the row's maximum, then float32 exponentials of
 * {@code x - max} (the library's vectorised exp, about 1 ulp) widened to double and summed there. A beam-search step
 * takes one per beam over the whole vocabulary; scalar {@code Math.exp} made that most of the step's host time.
 * Only touched when {@link #AVAILABLE}.
 */
final class VectorExp {
    /** True when the {@code jdk.incubator.vector} module is loaded (and {@code alma.noSimd} is not set). */
    static final boolean AVAILABLE = !Boolean.getBoolean("alma.noSimd")
            && ModuleLayer.boot().findModule("jdk.incubator.vector").isPresent();

    private VectorExp() {
    }

    static double logSumExp(float[] x) {
        return V.logSumExp(x);
    }

    /** The Vector-API code; a nested class so that nothing loads it unless {@link #AVAILABLE}. */
    private static final class V {
        static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
        static final VectorSpecies<Double> D = VectorSpecies.of(double.class, F.vectorShape());

        static double logSumExp(float[] x) {
            int upper = F.loopBound(x.length);
            FloatVector mv = FloatVector.broadcast(F, Float.NEGATIVE_INFINITY);
            for (int i = 0; i < upper; i += F.length()) mv = mv.max(FloatVector.fromArray(F, x, i));
            float max = mv.reduceLanes(VectorOperators.MAX);
            for (int i = upper; i < x.length; i++) max = Math.max(max, x[i]);
            if (max == Float.NEGATIVE_INFINITY) return max;
            FloatVector m = FloatVector.broadcast(F, max);
            DoubleVector lo = DoubleVector.zero(D), hi = DoubleVector.zero(D);
            for (int i = 0; i < upper; i += F.length()) {
                FloatVector e = FloatVector.fromArray(F, x, i).sub(m).lanewise(VectorOperators.EXP);
                lo = lo.add((DoubleVector) e.convertShape(VectorOperators.F2D, D, 0));
                hi = hi.add((DoubleVector) e.convertShape(VectorOperators.F2D, D, 1));
            }
            double s = lo.add(hi).reduceLanes(VectorOperators.ADD);
            for (int i = upper; i < x.length; i++) s += Math.exp(x[i] - max);
            return max + Math.log(s);
        }
    }
}
