package dev.alma.decode;

import dev.alma.model.LlamaModel;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.LinkedBlockingQueue;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Continuous batching: prompts that join a running batch whenever another finishes get what they get alone. The
 * model is random with its EOS row of {@code lm_head} scaled up, so the prompts finish after different numbers of
 * steps, which is what lets a waiting prompt join a batch in the middle of other prompts' searches.
 */
class ContinuousBatchTest {
    static final int VOCAB = EosModel.VOCAB, MAX_NEW = 20;
    static LlamaModel model;
    static final List<int[]> prompts = new ArrayList<>();

    @BeforeAll
    static void build(@TempDir Path dir) {
        model = EosModel.open(dir, 2.5f);
        prompts.addAll(EosModel.prompts(12, 3, i -> 3 + (7 * i) % 12));
    }

    @AfterAll
    static void close() {
        model.close();
    }

    static DecodingOptions beams() {
        return DecodingOptions.alma().withBeams(4).withNumReturn(2).withMaxNewTokens(MAX_NEW);
    }

    static void assertSame(List<Hypothesis> alone, List<Hypothesis> batched, String what) {
        assertEquals(alone.size(), batched.size(), what);
        for (int k = 0; k < alone.size(); k++) {
            assertArrayEquals(alone.get(k).tokens(), batched.get(k).tokens(), what + ", hypothesis " + k);
            assertEquals(alone.get(k).score(), batched.get(k).score(), 1e-4, what + ", hypothesis " + k);
        }
    }

    /** Each prompt generated alone, and the number of forward passes that took. */
    static List<List<Hypothesis>> alone(Generator g) {
        List<List<Hypothesis>> out = new ArrayList<>();
        for (int[] p : prompts) out.add(g.generate(p));
        return out;
    }

    @Test
    void theSearchesEndAfterDifferentNumbersOfSteps() {
        Set<Integer> lengths = new HashSet<>();
        for (List<Hypothesis> hs : alone(new Generator(model, DecodingOptions.greedy(MAX_NEW))))
            lengths.add(hs.getFirst().tokens().length);
        assertTrue(lengths.size() >= 4, "greedy lengths " + lengths + ": too alike to test joining");
    }

    @Test
    void beamSearchInARunningBatchEqualsEachPromptAlone() {
        Generator g = new Generator(model, beams());
        List<List<Hypothesis>> alone = alone(g);
        for (int live : new int[]{1, 2, 3, 5, 12}) {
            List<List<Hypothesis>> got = g.generate(prompts, live, null);
            for (int i = 0; i < prompts.size(); i++) assertSame(alone.get(i), got.get(i), live + " at once, prompt " + i);
        }
    }

    @Test
    void greedyAndSamplingInARunningBatchEqualEachPromptAlone() {
        for (DecodingOptions o : List.of(DecodingOptions.greedy(MAX_NEW),
                DecodingOptions.greedy(MAX_NEW).withSampling(0.9, 20, 0.95, 5).withNumReturn(3))) {
            Generator g = new Generator(model, o);
            List<List<Hypothesis>> alone = alone(g);
            for (int live : new int[]{2, 5}) {
                List<List<Hypothesis>> got = g.generate(prompts, live, null);
                for (int i = 0; i < prompts.size(); i++)
                    assertSame(alone.get(i), got.get(i), o + ", " + live + " at once, prompt " + i);
            }
        }
    }

    @Test
    void aPromptJoinsAsSoonAsAnotherFinishes() {
        int[] passes = {0};
        Generator g = new Generator(model, beams()).withStepObserver(c -> passes[0]++);
        // three at a time, each group waiting for its slowest prompt
        int grouped = 0;
        for (int i = 0; i < prompts.size(); i += 3) {
            passes[0] = 0;
            g.generate(prompts.subList(i, Math.min(prompts.size(), i + 3)));
            grouped += passes[0];
        }
        passes[0] = 0;
        g.generate(prompts, 3, null);
        assertTrue(passes[0] < grouped, passes[0] + " forward passes with 3 running at once against " + grouped + " in groups of 3");
    }

    @Test
    void promptsWaitForRoomInTheCacheAndItGrowsForOneThatNeedsMore() {
        Generator g = new Generator(model, beams());
        List<int[]> withLong = new ArrayList<>(prompts);
        int[] longOne = new int[400];
        for (int j = 0; j < longOne.length; j++) longOne[j] = 3 + j % 60;
        withLong.add(5, longOne);
        List<List<Hypothesis>> alone = new ArrayList<>();
        for (int[] p : withLong) alone.add(g.generate(p));

        Set<Integer> capacities = new HashSet<>();
        Generator watched = g.withStepObserver(c -> capacities.add(c.capacity()));
        Map<Integer, List<Hypothesis>> got = new ConcurrentHashMap<>();
        PromptFeed feed = PromptFeed.of(withLong);
        // sized for two prompts of 1 token: two of the real ones fit together only when short (each reserves its
        // length and 4 beams of 20 + 64 positions), the long one not even alone
        PromptFeed small = new PromptFeed() {
            public int[] poll() {
                return feed.poll();
            }

            public int[] take() throws InterruptedException {
                return feed.take();
            }

            public int typicalLength() {
                return 1;
            }
        };
        watched.generate(small, 2, got::put, null);
        assertEquals(withLong.size(), got.size());
        for (int i = 0; i < withLong.size(); i++) assertSame(alone.get(i), got.get(i), "prompt " + i);
        assertEquals(2, capacities.size(), "the cache is made anew once, for the long prompt: " + capacities);
    }

    @Test
    void aFeedThatWaitsForPromptsGetsEachOneAsItComes() throws Exception {
        Generator g = new Generator(model, DecodingOptions.greedy(MAX_NEW));
        List<List<Hypothesis>> alone = alone(g);
        LinkedBlockingQueue<int[]> queue = new LinkedBlockingQueue<>();
        int[] end = new int[0];
        PromptFeed feed = new PromptFeed() {
            public int[] poll() {
                int[] p = queue.peek();
                return p == null || p == end ? null : queue.poll();
            }

            public int[] take() throws InterruptedException {
                int[] p = queue.take();
                return p == end ? null : p;
            }
        };
        Thread producer = Thread.ofPlatform().start(() -> {
            try {
                for (int[] p : prompts) {
                    queue.add(p);
                    Thread.sleep(15);
                }
                queue.add(end);
            } catch (InterruptedException ignored) {
            }
        });
        Map<Integer, List<Hypothesis>> got = new ConcurrentHashMap<>();
        g.generate(feed, 4, got::put, null);
        producer.join();
        assertEquals(prompts.size(), got.size());
        for (int i = 0; i < prompts.size(); i++) assertSame(alone.get(i), got.get(i), "prompt " + i);
    }

    @Test
    void aBadPromptFromAFeedIsNamedByItsIndex() {
        List<int[]> bad = new ArrayList<>(prompts.subList(0, 3));
        bad.set(2, new int[]{1, VOCAB + 5});
        Generator g = new Generator(model, beams());
        var e = assertThrows(IllegalArgumentException.class, () -> g.generate(PromptFeed.of(bad), 2, (i, h) -> {
        }, null));
        assertTrue(e.getMessage().contains("prompt 2") && e.getMessage().contains(String.valueOf(VOCAB + 5)), e.getMessage());
    }

    @Test
    void aPromptTooLongForTheNewTokensIsRefusedOrClampedToTheContext() {
        int context = model.config().maxPositions();
        int[] p = new int[context - 5];
        p[0] = 1;
        for (int j = 1; j < p.length; j++) p[j] = 3 + j % 50;
        Generator g = new Generator(model, DecodingOptions.greedy(MAX_NEW));
        var e = assertThrows(dev.alma.AlmaException.class, () -> g.generate(List.of(prompts.getFirst(), p), 2, null));
        assertTrue(e.getMessage().contains("prompt 1"), e.getMessage());
        List<List<Hypothesis>> got = g.withClampToContext().generate(List.of(prompts.getFirst(), p), 2, null);
        assertTrue(got.get(1).getFirst().tokens().length <= 5, "generated past the context");
        assertSame(alone(g).getFirst(), got.getFirst(), "the short prompt beside it");
    }

    @Test
    void theCacheIsNoLargerThanTheBackendHasMemoryFor(@TempDir Path dir) {
        EosModel.open(dir, 2.5f).close();
        Generator g = new Generator(model, beams());
        long need = 14 + 4 * (MAX_NEW + ContinuousBatch.PAGE_SLACK);  // the longest prompt's reservation
        // the CPU backend, claiming memory for a prompt and a half
        dev.alma.backend.cpu.CpuBackend cpu = new dev.alma.backend.cpu.CpuBackend(1);
        dev.alma.backend.Backend tight = (dev.alma.backend.Backend) java.lang.reflect.Proxy.newProxyInstance(
                getClass().getClassLoader(), new Class<?>[]{dev.alma.backend.Backend.class}, (proxy, method, args) -> {
                    if (method.getName().equals("kvPositionsAvailable")) return need * 3 / 2;
                    try {
                        return method.invoke(cpu, args);
                    } catch (java.lang.reflect.InvocationTargetException e) {
                        throw e.getCause();
                    }
                });
        dev.alma.model.Checkpoint ckpt = dev.alma.model.Checkpoint.open(dir);
        try (LlamaModel small = LlamaModel.create(ckpt, tight, List.of(), ckpt)) {
            Set<Integer> capacities = new HashSet<>();
            Generator sg = new Generator(small, beams()).withStepObserver(c -> capacities.add(c.capacity()));
            assertEquals(1, sg.promptsAtOnce(14, 4));
            List<List<Hypothesis>> got = sg.generate(prompts, 4, null), alone = alone(g);
            for (int i = 0; i < prompts.size(); i++) assertSame(alone.get(i), got.get(i), "prompt " + i);
            for (int c : capacities) assertTrue(c <= need * 3 / 2 + 16, "a cache of " + c + " positions");
        }
        assertEquals(4, g.promptsAtOnce(14, 4), "the heap of a test JVM holds four caches of this tiny model");
    }

    @Test
    void promptsStoppedToMakeRoomForOthersGetWhatTheyGetAlone() {
        Generator g = new Generator(model, beams());
        List<List<Hypothesis>> alone = alone(g);
        int[] passes = {0};
        ContinuousBatch loop = new ContinuousBatch(model, new BeamSearch(model, beams(), model.config().eosTokenId(),
                new StopStrings(List.of(), null)), MAX_NEW, false, c -> passes[0]++);
        // a cache for one prompt's worst case: more join while their beams are short, and one is stopped (and later
        // run again) when the beams of those before it need the pages
        long worst = loop.need(14, MAX_NEW);
        Map<Integer, List<Hypothesis>> got = new ConcurrentHashMap<>();
        loop.run(PromptFeed.of(prompts), prompts.size(), worst, got::put);
        assertTrue(loop.preemptions > 0, "no prompt was stopped: the test does not test it");
        for (int i = 0; i < prompts.size(); i++) assertSame(alone.get(i), got.get(i), "prompt " + i);
        int optimistic = passes[0];
        passes[0] = 0;
        g.withStepObserver(c -> passes[0]++).generate(prompts, 1, null);
        assertTrue(optimistic < passes[0], optimistic + " forward passes, against " + passes[0] + " one at a time");
    }
}
