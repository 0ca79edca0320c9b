package dev.alma.train;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** Values of transformers' schedulers worked out by hand from their definitions. */
class LrScheduleTest {
    @Test
    void cosineWithWarmup() {
        LrSchedule s = new LrSchedule(LrSchedule.Kind.COSINE, 2e-4, 10, 100);
        assertEquals(0, s.lr(0));
        assertEquals(1e-4, s.lr(5), 1e-18);
        assertEquals(2e-4, s.lr(10), 1e-18);
        assertEquals(1e-4, s.lr(55), 1e-16);
        assertEquals(0, s.lr(100), 1e-18);
    }

    @Test
    void inverseSqrtWithWarmup() {
        LrSchedule s = new LrSchedule(LrSchedule.Kind.INVERSE_SQRT, 1e-3, 10, 1000);
        assertEquals(5e-4, s.lr(5), 1e-18);
        assertEquals(1e-3, s.lr(10), 1e-18);
        assertEquals(5e-4, s.lr(40), 1e-18);
        LrSchedule noWarmup = new LrSchedule(LrSchedule.Kind.INVERSE_SQRT, 1, 0, 1000);
        assertEquals(1, noWarmup.lr(0));
        assertEquals(1 / Math.sqrt(1.5), noWarmup.lr(5000), 1e-15);
    }

    @Test
    void warmupRatioRoundsUp() {
        assertEquals(2, LrSchedule.warmupSteps(0.01, 150));
        assertEquals(0, LrSchedule.warmupSteps(0, 150));
        assertThrows(IllegalArgumentException.class, () -> LrSchedule.warmupSteps(1.5, 10));
        assertThrows(IllegalArgumentException.class, () -> LrSchedule.kind("polynomial"));
    }
}
