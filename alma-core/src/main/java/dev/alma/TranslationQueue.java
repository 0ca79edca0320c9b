package dev.alma;

import dev.alma.decode.Generator;
import dev.alma.decode.Hypothesis;
import dev.alma.decode.PromptFeed;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;

/**
 * Translates texts submitted from any thread in shared forward passes: up to {@link TranslationOptions#maxBatch}
 * texts run at once, and a text joins at the next step as soon as there is room, without waiting for the others
 * (continuous batching). Each text gets what it would get alone, up to float rounding. One thread of its own
 * runs the model; made by {@link Translator#queue}.
 *
 * <pre>{@code
 * try (TranslationQueue q = translator.queue(TranslationOptions.defaults(), 1)) {
 *     CompletableFuture<String> en = q.submit("Guten Morgen!", "de", "en");   // from request threads
 * }
 * }</pre>
 *
 * <p>If the model fails (the KV cache does not fit the heap, say), every text not yet translated completes
 * exceptionally with that error, and so do texts submitted later.
 */
public final class TranslationQueue implements AutoCloseable {
    private record Job(int[] ids, String to, CompletableFuture<List<Translator.Candidate>> result) {
    }

    /** Put after the last job by {@link #close}. */
    private static final Job END = new Job(null, null, null);

    private final Translator translator;
    private final TranslationOptions options;
    private final LinkedBlockingQueue<Job> waiting = new LinkedBlockingQueue<>();
    /** Jobs by their index in the feed (the model's thread only); null once answered. */
    private final List<Job> taken = new ArrayList<>();
    private final Generator generator;
    private final Thread worker;
    private final java.util.concurrent.atomic.AtomicInteger pending = new java.util.concurrent.atomic.AtomicInteger();
    private boolean closed;
    private Throwable failure;

    TranslationQueue(Translator translator, Generator generator, TranslationOptions options) {
        this.translator = translator;
        this.options = options;
        this.generator = generator;
        this.worker = Thread.ofPlatform().name("alma-translation-queue").daemon(true)
                .start(() -> run(generator, options.maxBatch()));
    }

    /**
     * How many texts whose prompts have about {@code promptTokens} tokens surely fit at once in the memory the
     * backend has for the KV cache now, at most {@link TranslationOptions#maxBatch} ({@link Translator#textsAtOnce}).
     */
    public int textsAtOnce(int promptTokens) {
        return generator.promptsAtOnce(promptTokens, options.maxBatch());
    }

    /** Translates {@code text} from {@code from} to {@code to}; the prompt is checked here, on the caller's thread. */
    public CompletableFuture<String> submit(String text, String from, String to) {
        return submitNBest(text, from, to).thenApply(c -> c.getFirst().text());
    }

    /**
     * The best translations of {@code text}, best first, as many as the queue was made for.
     *
     * @throws AlmaException for an empty text, an unknown language or a prompt beyond the model's context
     * @throws IllegalStateException after {@link #close}
     */
    public CompletableFuture<List<Translator.Candidate>> submitNBest(String text, String from, String to) {
        int[] ids = translator.promptIds(text, from, to, options);
        CompletableFuture<List<Translator.Candidate>> f = new CompletableFuture<>();
        synchronized (this) {
            if (closed) throw new IllegalStateException("the translation queue is closed");
            if (failure != null) {
                f.completeExceptionally(failure);
            } else {
                pending.incrementAndGet();
                waiting.add(new Job(ids, to, f));
            }
        }
        return f;
    }

    /** Texts submitted and not yet translated (running or waiting to run). */
    public int pending() {
        return pending.get();
    }

    private void run(Generator generator, int maxBatch) {
        PromptFeed feed = new PromptFeed() {
            @Override
            public int[] poll() {
                Job j = waiting.peek();  // this thread is the only one that takes jobs out
                if (j == null || j == END) return null;
                return take(waiting.poll());
            }

            @Override
            public int[] take() throws InterruptedException {
                Job j = waiting.take();
                return j == END ? null : take(j);
            }

            private int[] take(Job j) {
                taken.add(j);
                return j.ids;
            }
        };
        try {
            generator.generate(feed, maxBatch, this::answer, null);
        } catch (Throwable t) {
            fail(t);
        }
    }

    private void answer(int index, List<Hypothesis> hypotheses) {
        Job j = taken.set(index, null);
        pending.decrementAndGet();  // before the caller hears of it
        try {
            j.result.complete(translator.candidates(hypotheses, j.to));
        } catch (RuntimeException e) {
            j.result.completeExceptionally(e);
        }
    }

    /** Completes every unanswered job with {@code t}, and every later one. */
    private void fail(Throwable t) {
        List<Job> left = new ArrayList<>();
        synchronized (this) {
            failure = t;
            waiting.drainTo(left);
        }
        for (Job j : taken) if (j != null) left.add(j);
        for (Job j : left) {
            if (j == END) continue;
            pending.decrementAndGet();
            j.result.completeExceptionally(t);
        }
    }

    /** Stops taking texts and waits until every submitted one is translated (or has failed). */
    @Override
    public void close() {
        synchronized (this) {
            if (!closed) {
                closed = true;
                waiting.add(END);
            }
        }
        try {
            worker.join();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
