package dev.alma.cuda;

import org.junit.jupiter.api.Test;

import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The decode-step graph bookkeeping against a fake CUDA graph API: what is captured, replayed, re-captured, evicted
 * and run launch by launch, and that errors name the kernel. The fake runs no kernel while "capturing".
 */
class LaunchTapeTest {
    /** Records which kernels ran for real and which were captured, and the graph calls made. */
    static final class FakeGraphs implements LaunchTape.Graphs {
        final List<String> log = new ArrayList<>();
        final List<Long> destroyed = new ArrayList<>();
        boolean capturing;
        int beginError, endError;
        long nextExec = 100;

        @Override
        public int begin() {
            log.add("begin");
            if (beginError != 0) return beginError;
            capturing = true;
            return 0;
        }

        @Override
        public int end(long[] exec) {
            capturing = false;
            log.add("end");
            if (endError != 0) return endError;
            exec[0] = nextExec++;
            return 0;
        }

        @Override
        public int launch(long exec) {
            log.add("launch " + exec);
            return 0;
        }

        @Override
        public int destroy(long exec) {
            destroyed.add(exec);
            return 0;
        }

        @Override
        public String error(int code) {
            return "error " + code;
        }

        LaunchTape.Kernel kernel(String name) {
            return a -> {
                log.add((capturing ? "captured " : "ran ") + name + " " + a[0]);
                return a.length > 1 ? (int) a[1] : 0;
            };
        }
    }

    private static final int STEP = LaunchTape.MIN_LAUNCHES;

    private static void step(LaunchTape tape, LaunchTape.Kernel k, long arg) {
        for (int i = 0; i < STEP; i++) tape.launch("k" + i, k, i == 0 ? arg : i);
    }

    @Test
    void notRecordingRunsAtOnce() {
        FakeGraphs g = new FakeGraphs();
        LaunchTape tape = new LaunchTape(g, true);
        tape.launch("k", g.kernel("k"), 7);
        assertEquals(List.of("ran k 7"), g.log);
        assertTrue(tape.isEmpty());
    }

    @Test
    void aRepeatedStepIsCapturedOnceThenReplayed() {
        FakeGraphs g = new FakeGraphs();
        LaunchTape tape = new LaunchTape(g, true);
        LaunchTape.Kernel k = g.kernel("k");
        tape.start();
        step(tape, k, 1);
        assertTrue(g.log.isEmpty(), "nothing runs while recording: " + g.log);
        tape.stop();
        assertEquals("begin", g.log.getFirst());
        assertEquals(STEP, g.log.stream().filter(s -> s.startsWith("captured ")).count());
        assertFalse(g.log.stream().anyMatch(s -> s.startsWith("ran ")), g.log.toString());
        assertEquals("launch 100", g.log.getLast());
        g.log.clear();
        tape.start();
        step(tape, k, 1);
        tape.stop();
        assertEquals(List.of("launch 100"), g.log, "same launches, same arguments: one replay");
        g.log.clear();
        tape.start();
        step(tape, k, 2);  // one argument differs: a new graph
        tape.stop();
        assertEquals("begin", g.log.getFirst());
        assertEquals("launch 101", g.log.getLast());
        LaunchTape.Stats st = tape.stats();
        assertEquals(2, st.captures());
        assertEquals(1, st.replays());
        assertEquals(2, st.cached());
        tape.close();
        assertEquals(List.of(100L, 101L), g.destroyed);
    }

    @Test
    void theLeastRecentlyUsedGraphIsDestroyedWhenTheCacheIsFull() {
        FakeGraphs g = new FakeGraphs();
        LaunchTape tape = new LaunchTape(g, true);
        LaunchTape.Kernel k = g.kernel("k");
        for (int s = 0; s <= LaunchTape.CACHED; s++) {
            tape.start();
            step(tape, k, s);
            tape.stop();
        }
        assertEquals(List.of(100L), g.destroyed);
        assertEquals(LaunchTape.CACHED, tape.stats().cached());
    }

    @Test
    void shortTapesAndDisabledGraphsRunLaunchByLaunch() {
        FakeGraphs g = new FakeGraphs();
        LaunchTape tape = new LaunchTape(g, true);
        tape.start();
        tape.launch("k", g.kernel("k"), 3);
        tape.stop();
        assertEquals(List.of("ran k 3"), g.log);
        g.log.clear();
        LaunchTape off = new LaunchTape(g, false);
        off.start();
        assertFalse(off.recording());
        off.launch("k", g.kernel("k"), 4);
        assertEquals(List.of("ran k 4"), g.log);
    }

    @Test
    void aFailedCaptureFallsBackToLaunchingAndTurnsGraphsOff() {
        FakeGraphs g = new FakeGraphs();
        g.endError = 900;
        LaunchTape tape = new LaunchTape(g, true);
        LaunchTape.Kernel k = g.kernel("k");
        tape.start();
        step(tape, k, 1);
        tape.stop();
        assertEquals(STEP, g.log.stream().filter(s -> s.startsWith("ran ")).count(), g.log.toString());
        assertTrue(tape.stats().disabledBecause().contains("error 900"));
        tape.start();
        assertFalse(tape.recording(), "graphs stay off after a failed capture");
    }

    @Test
    void aRefusedLaunchIsReportedByName() {
        FakeGraphs g = new FakeGraphs();
        LaunchTape tape = new LaunchTape(g, true);
        LaunchTape.Kernel k = g.kernel("k");
        tape.start();
        for (int i = 0; i < STEP; i++) tape.launch("kernel" + i, k, i, i == 5 ? 1 : 0);  // 1 = cudaErrorInvalidValue
        CudaException e = assertThrows(CudaException.class, tape::stop);
        assertTrue(e.getMessage().contains("kernel5"), e.getMessage());
        assertTrue(tape.isEmpty());
        assertEquals(0, tape.stats().cached());
    }

    @Test
    void recordedKernelsCaptureNothing() throws Exception {
        int count = 0;
        for (Field f : Kernels.class.getDeclaredFields()) {
            if (f.getType() != LaunchTape.Kernel.class) continue;
            Object k = f.get(null);
            for (Field inner : k.getClass().getDeclaredFields())
                assertTrue(Modifier.isStatic(inner.getModifiers()), f.getName() + " captures " + inner.getName());
            count++;
        }
        assertTrue(count >= 15, "kernels found: " + count);
    }

    @Test
    void pageTableStrideDoublesOnly() {
        assertEquals(4, CudaBackend.tableStride(1));
        assertEquals(4, CudaBackend.tableStride(4));
        assertEquals(8, CudaBackend.tableStride(5));
        assertEquals(8, CudaBackend.tableStride(8));
        assertEquals(256, CudaBackend.tableStride(129));
        int changes = 0;
        for (int pages = 2; pages <= 512; pages++)
            if (CudaBackend.tableStride(pages) != CudaBackend.tableStride(pages - 1)) changes++;
        assertEquals(7, changes, "4 → 8 → … → 512");
    }
}
