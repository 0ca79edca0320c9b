package dev.alma.decode;

import dev.alma.AlmaException;
import dev.alma.backend.KvCache;
import dev.alma.model.LlamaModel;
import dev.alma.tokenizer.Tokenizer;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import java.util.function.Consumer;
import java.util.function.Function;

/**
 * Text generation with a {@link LlamaModel}: greedy decoding, sampling or beam search as {@link DecodingOptions}
 * say, with Hugging Face {@code generate} semantics, for one prompt or a batch.
 *
 * <p>A batch is decoded together, one forward pass per step over the next token of every live sequence, each
 * prompt in its own KV-cache sequences (no padding); every prompt gets what it would get alone (up to the rounding
 * of the batched products). With a limit on the prompts at once, or from a {@link PromptFeed}, a prompt joins the
 * running batch as soon as another finishes (continuous batching).
 * Instances are immutable; each {@code generate} call has its own KV cache, so concurrent calls are as safe as
 * {@link LlamaModel#forward} with separate contexts.
 *
 * <pre>{@code
 * List<Hypothesis> best = new Generator(model, DecodingOptions.alma()).generate(promptIds);
 * }</pre>
 */
public final class Generator {
    private final LlamaModel model;
    private final DecodingOptions options;
    private final Function<int[], String> detokenizer;
    private final int eosId;
    private final Consumer<KvCache> observer;
    private final boolean clampToContext;

    /** A generator with the model's EOS id ({@code eos_token_id} of its config). */
    public Generator(LlamaModel model, DecodingOptions options) {
        this(model, options, null, model.config().eosTokenId(), null, false);
    }

    private Generator(LlamaModel model, DecodingOptions options, Function<int[], String> detokenizer, int eosId,
                      Consumer<KvCache> observer, boolean clampToContext) {
        this.model = Objects.requireNonNull(model, "model");
        this.options = Objects.requireNonNull(options, "options");
        this.detokenizer = detokenizer;
        this.eosId = eosId;
        this.observer = observer;
        this.clampToContext = clampToContext;
    }

    /** Turns generated ids into text, for {@link DecodingOptions#stopStrings()}. */
    public Generator withDetokenizer(Function<int[], String> detokenizer) {
        return new Generator(model, options, detokenizer, eosId, observer, clampToContext);
    }

    /** Uses {@code tokenizer}'s {@link Tokenizer#decode} for stop strings. */
    public Generator withTokenizer(Tokenizer tokenizer) {
        return withDetokenizer(tokenizer::decode);
    }

    /** Ends sequences at {@code eosId} instead of the model's EOS (-1: never). */
    public Generator withEosId(int eosId) {
        return new Generator(model, options, detokenizer, eosId, observer, clampToContext);
    }

    /**
     * Calls {@code observer} with the KV cache after the prompts' forward pass and after every step's forward pass,
     * when the cache holds the most (for memory reports); the number of calls is the number of forward passes.
     */
    public Generator withStepObserver(Consumer<KvCache> observer) {
        return new Generator(model, options, detokenizer, eosId, observer, clampToContext);
    }

    /**
     * Lets a prompt too long for {@code maxNewTokens} more positions in the model's context generate up to the
     * context's end, instead of refusing it.
     */
    public Generator withClampToContext() {
        return new Generator(model, options, detokenizer, eosId, observer, true);
    }

    public DecodingOptions options() {
        return options;
    }

    /** Generates from one prompt (token ids, BOS included by the caller). */
    public List<Hypothesis> generate(int[] prompt) {
        return generate(List.of(prompt), null).getFirst();
    }

    /** Generates from every prompt of a batch. */
    public List<List<Hypothesis>> generate(List<int[]> prompts) {
        return generate(prompts, null);
    }

    /**
     * Generates from every prompt of a batch, all of them at once.
     *
     * @param listener receives each token as it is chosen, and can stop a sequence (greedy and sampling only;
     *                 null for none)
     * @return per prompt: beam search, the {@code numReturn} best hypotheses, best first, scored as Hugging Face's
     * {@code sequences_scores}; sampling, the {@code numReturn} samples in order; greedy, the one continuation
     */
    public List<List<Hypothesis>> generate(List<int[]> prompts, TokenListener listener) {
        return generate(prompts, prompts.size(), listener);
    }

    /**
     * Generates from every prompt of a list, at most {@code maxLive} of them at once: a prompt joins as soon as
     * one finishes ({@link #generate(PromptFeed, int, PromptResults, TokenListener)}).
     *
     * @return per prompt, in list order, what {@link #generate(List, TokenListener)} returns
     */
    public List<List<Hypothesis>> generate(List<int[]> prompts, int maxLive, TokenListener listener) {
        if (prompts.isEmpty()) return List.of();
        ContinuousBatch loop = loop(listener);
        long[] needs = new long[prompts.size()];
        for (int i = 0; i < prompts.size(); i++) {
            int[] p = prompts.get(i);
            check(model, p, i);
            needs[i] = loop.need(p.length, loop.limit(p, i));
        }
        // room for the largest prompts that can run together
        Arrays.sort(needs);
        long capacity = 0;
        int live = Math.min(Math.max(maxLive, 1), needs.length);
        for (int i = needs.length - live; i < needs.length; i++) capacity += needs[i];
        if (capacity > Integer.MAX_VALUE)
            throw new AlmaException("a batch of " + live + " prompts needs " + capacity + " KV positions; split it");
        List<List<Hypothesis>> out = new ArrayList<>(java.util.Collections.nCopies(prompts.size(), null));
        loop.run(PromptFeed.of(prompts), maxLive, capacity, out::set);
        return out;
    }

    /**
     * Continuous batching: generates from every prompt {@code feed} gives, at most {@code maxLive} at once, one
     * forward pass per step over the next token of every running sequence and the whole of each prompt that joins.
     * A prompt joins as soon as one finishes (or at once while fewer run), without waiting for the others; it
     * gets what it would get alone, up to the rounding of the batched products. Returns when the feed has ended
     * and every prompt is finished.
     *
     * <p>The KV cache is made for {@code maxLive} prompts of {@link PromptFeed#typicalLength()} tokens and is made
     * anew, when the batch is empty, for a prompt that needs more alone.
     *
     * @param results  receives each prompt's hypotheses as it finishes, with its index in the feed
     * @param listener as in {@link #generate(List, TokenListener)}, with the prompt's index in the feed
     */
    public void generate(PromptFeed feed, int maxLive, PromptResults results, TokenListener listener) {
        Objects.requireNonNull(feed, "feed");
        Objects.requireNonNull(results, "results");
        if (maxLive < 1) throw new IllegalArgumentException("at most " + maxLive + " prompts at once");
        ContinuousBatch loop = loop(listener);
        long capacity = maxLive * loop.need(Math.max(1, feed.typicalLength()), options.maxNewTokens());
        loop.run(feed, maxLive, capacity, results);
    }

    /**
     * How many prompts of {@code promptTokens} tokens surely run at once, at most {@code maxLive}, within the memory
     * the backend has for the KV cache now ({@link dev.alma.backend.Backend#kvPositionsAvailable}): with room for
     * each one's prompt and all its sequences' new tokens. At least 1. More run together while their sequences are
     * short (a prompt whose pages others need is stopped and run again later), except with a {@link TokenListener}.
     */
    public int promptsAtOnce(int promptTokens, int maxLive) {
        ContinuousBatch loop = loop(null);
        int limit = Math.max(1, Math.min(options.maxNewTokens(), model.config().maxPositions() - promptTokens));
        long need = loop.need(Math.max(1, promptTokens), limit);
        long available = model.kvPositionsAvailable();
        return (int) Math.max(1, Math.min(maxLive, available / need));
    }

    /** The loop for these options; checks that the options fit the model. */
    private ContinuousBatch loop(TokenListener listener) {
        int vocab = model.config().vocabSize();
        StopStrings stops = new StopStrings(options.stopStrings(), detokenizer);
        Search search;
        if (options.numBeams() > 1) {
            if (listener != null)
                throw new IllegalArgumentException("streaming needs greedy decoding or sampling, not beam search");
            if (vocab < 2 * options.numBeams())
                throw new IllegalArgumentException("beam search with " + options.numBeams() + " beams needs a vocabulary of at least "
                        + 2 * options.numBeams() + " tokens, not " + vocab);
            search = new BeamSearch(model, options, eosId, stops);
        } else {
            search = new SamplingSearch(options, eosId, stops, listener);
        }
        return new ContinuousBatch(model, search, options.maxNewTokens(), clampToContext, observer);
    }

    /** Checks that a prompt is not empty and its ids are in the vocabulary. */
    static void check(LlamaModel model, int[] p, int index) {
        int vocab = model.config().vocabSize();
        if (p.length == 0) throw new IllegalArgumentException("prompt " + index + " is empty");
        for (int t : p)
            if (t < 0 || t >= vocab)
                throw new IllegalArgumentException("prompt " + index + ": token id " + t + " is outside the vocabulary of " + vocab);
    }
}
