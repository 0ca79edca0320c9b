package dev.alma.decode;

import dev.alma.AlmaException;
import dev.alma.backend.KvCache;
import dev.alma.backend.RowTops;
import dev.alma.model.LlamaModel;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;

/**
 * The decoding loop: one forward pass per step over the next token of every running sequence and the whole prompt
 * of every prompt that joins, with prompts joining whenever there is room (continuous batching).
 *
 * <p>At most {@code maxLive} prompts run at once, within a KV cache no larger than the backend has memory for
 * ({@link dev.alma.backend.Backend#kvPositionsAvailable}). A prompt joins when the free pages hold its prompt, a page
 * for each of its sequences and one more for each running sequence; when the next pass would find too few pages for
 * the running sequences, the prompts that joined last are stopped, their pages freed, and they run again from the
 * start when there is room (preemption by recomputation: their results do not change). With a {@link TokenListener},
 * which must not hear a prompt's tokens twice, a prompt instead reserves its worst case while it runs: its length
 * plus, for each of its sequences ({@link Search#width}), its token limit and {@link #PAGE_SLACK} positions. A prompt
 * whose worst case needs more than the whole cache waits until the batch is empty, and the cache is made anew for
 * it. Each prompt is searched on its own, so what it gets does not depend on the prompts it shares passes with (up
 * to the rounding of the batched products).
 */
final class ContinuousBatch {
    /** KV positions reserved per sequence beyond its tokens: room for partly filled and copied pages. */
    static final int PAGE_SLACK = 64;

    private final LlamaModel model;
    private final Search search;
    private final int maxNewTokens;
    private final boolean clampToContext;
    private final Consumer<KvCache> observer;
    /** Prompts stopped to make room for others' pages (and run again from the start later). */
    int preemptions;

    /**
     * @param clampToContext a prompt that leaves fewer than {@code maxNewTokens} positions of the model's context
     *                       generates up to the context's end (else it is refused)
     * @param observer       called with the cache after every forward pass (may be null)
     */
    ContinuousBatch(LlamaModel model, Search search, int maxNewTokens, boolean clampToContext, Consumer<KvCache> observer) {
        this.model = model;
        this.search = search;
        this.maxNewTokens = maxNewTokens;
        this.clampToContext = clampToContext;
        this.observer = observer;
    }

    /** The most tokens a prompt may generate. */
    int limit(int[] prompt, int index) {
        int context = model.config().maxPositions();
        if (prompt.length + (long) maxNewTokens <= context) return maxNewTokens;
        if (clampToContext && prompt.length < context) return context - prompt.length;
        throw new AlmaException("prompt " + index + " has " + prompt.length + " tokens; with max_new_tokens "
                + maxNewTokens + " it exceeds the model's context of " + context);
    }

    /** KV positions a prompt reserves while it runs. */
    long need(int promptLength, int limit) {
        return promptLength + (long) search.width() * (limit + PAGE_SLACK);
    }

    /** A prompt taken from the feed that is not running: waiting for room, or stopped to make room. */
    private record Waiting(int[] ids, int index) {
    }

    /**
     * Generates for every prompt of {@code feed}, handing each prompt's hypotheses to {@code results} when it
     * finishes.
     *
     * @param capacity KV positions to start with (grown for a prompt that needs more alone)
     */
    void run(PromptFeed feed, int maxLive, long capacity, PromptResults results) {
        if (maxLive < 1) throw new IllegalArgumentException("at most " + maxLive + " prompts at once");
        capacity = Math.min(capacity, Math.max(1, model.kvPositionsAvailable()));
        boolean optimistic = search.restartable();
        LlamaModel.Context ctx = model.newContext(positions(capacity));
        try {
            List<Search.Entry> live = new ArrayList<>();  // in the order they joined
            ArrayDeque<Waiting> waiting = new ArrayDeque<>();
            int taken = 0;
            long reserved = 0;
            boolean ended = false;
            while (true) {
                KvCache cache = ctx.cache();
                for (Search.Entry e : live) e.advance(cache);
                for (Search.Entry e : live) {
                    if (!e.done()) continue;
                    reserved -= need(e.ids.length, e.limit);
                    results.accept(e.index, e.result());
                }
                live.removeIf(Search.Entry::done);

                // Optimistic: the next pass must find its pages; else the prompts that joined last make room
                int stepPages = 0;
                for (Search.Entry e : live) stepPages += e.stepPages(cache);
                while (optimistic && stepPages > cache.freePages() && live.size() > 1) {
                    Search.Entry last = live.removeLast();
                    stepPages -= last.stepPages(cache);
                    last.release(cache);
                    reserved -= need(last.ids.length, last.limit);
                    waiting.addFirst(new Waiting(last.ids, last.index));
                    preemptions++;
                }

                StepBatch batch = new StepBatch();
                int[] from = new int[live.size()];
                for (int i = 0; i < live.size(); i++) {
                    from[i] = batch.rows();
                    live.get(i).addTo(batch);
                }
                int sequences = batch.rows();
                int joinedPages = 0;
                List<Search.Entry> joining = new ArrayList<>();
                while (live.size() + joining.size() < maxLive) {
                    boolean idle = live.isEmpty() && joining.isEmpty();
                    Waiting w = waiting.pollFirst();
                    if (w == null && !ended) {
                        int[] p = idle ? take(feed) : feed.poll();
                        if (p == null) {
                            ended = idle;
                        } else {
                            Generator.check(model, p, taken);
                            w = new Waiting(p, taken++);
                        }
                    }
                    if (w == null) break;
                    int limit = limit(w.ids, w.index);
                    long need = need(w.ids.length, limit);
                    int promptPages = Math.ceilDiv(w.ids.length, cache.pageSize());
                    boolean fits = optimistic
                            // its prompt and a page per sequence for its first steps, a page per running sequence left
                            ? promptPages + search.width() + sequences + joinedPages + stepPages <= cache.freePages()
                            : reserved + need <= cache.capacity();
                    if (need > cache.capacity() || !fits) {
                        if (!idle) {
                            waiting.addFirst(w);
                            break;
                        }
                        if (need > cache.capacity()) {  // alone, it needs a larger cache: made anew
                            ctx.close();
                            ctx = null;
                            ctx = model.newContext(positions(need));
                            cache = ctx.cache();
                        }
                    }
                    reserved += need;
                    joinedPages += promptPages + search.width();
                    int seq = cache.create();
                    batch.addPrompt(w.ids, seq);
                    joining.add(search.start(w.index, w.ids, seq, limit, cache));
                }
                if (batch.isEmpty()) break;  // nothing running, nothing to come

                int first = batch.rows() - joining.size();
                if (search.tops()) {
                    RowTops tops = batch.tops(model, ctx, search.topK());
                    for (int i = 0; i < live.size(); i++) live.get(i).score(tops, from[i]);
                    for (int j = 0; j < joining.size(); j++) joining.get(j).score(tops, first + j);
                } else {
                    float[][] logits = batch.logits(model, ctx);
                    for (int i = 0; i < live.size(); i++) live.get(i).score(logits, from[i]);
                    for (int j = 0; j < joining.size(); j++) joining.get(j).score(logits, first + j);
                }
                if (observer != null) observer.accept(ctx.cache());
                live.addAll(joining);
            }
        } finally {
            if (ctx != null) ctx.close();
        }
    }

    private static int[] take(PromptFeed feed) {
        try {
            return feed.take();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AlmaException("interrupted while waiting for the next prompt", e);
        }
    }

    private static int positions(long capacity) {
        if (capacity > Integer.MAX_VALUE)
            throw new AlmaException("the batch needs " + capacity + " KV positions; run fewer prompts at once");
        return (int) Math.max(1, capacity);
    }
}
