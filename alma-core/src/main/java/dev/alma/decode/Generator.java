package dev.alma.decode;

import dev.alma.backend.RowTops;

import dev.alma.AlmaException;
import dev.alma.backend.KvCache;
import dev.alma.model.LlamaModel;
import dev.alma.tokenizer.Tokenizer;

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
 * prompt in its own KV-cache sequences (no padding); every prompt gets exactly what it would get alone.
 * Instances are immutable; each {@code generate} call has its own KV cache, so concurrent calls are as safe as
 * {@link LlamaModel#forward} with separate contexts.
 *
 * <pre>{@code
 * List<Hypothesis> best = new Generator(model, DecodingOptions.alma()).generate(promptIds);
 * }</pre>
 */
public final class Generator {
    /** KV positions reserved per sequence beyond its tokens: room for partly filled and copied pages. */
    static final int PAGE_SLACK = 64;

    private final LlamaModel model;
    private final DecodingOptions options;
    private final Function<int[], String> detokenizer;
    private final int eosId;
    private final Consumer<KvCache> observer;

    /** A generator with the model's EOS id ({@code eos_token_id} of its config). */
    public Generator(LlamaModel model, DecodingOptions options) {
        this(model, options, null, model.config().eosTokenId(), null);
    }

    private Generator(LlamaModel model, DecodingOptions options, Function<int[], String> detokenizer, int eosId,
                      Consumer<KvCache> observer) {
        this.model = Objects.requireNonNull(model, "model");
        this.options = Objects.requireNonNull(options, "options");
        this.detokenizer = detokenizer;
        this.eosId = eosId;
        this.observer = observer;
    }

    /** Turns generated ids into text, for {@link DecodingOptions#stopStrings()}. */
    public Generator withDetokenizer(Function<int[], String> detokenizer) {
        return new Generator(model, options, detokenizer, eosId, observer);
    }

    /** Uses {@code tokenizer}'s {@link Tokenizer#decode} for stop strings. */
    public Generator withTokenizer(Tokenizer tokenizer) {
        return withDetokenizer(tokenizer::decode);
    }

    /** Ends sequences at {@code eosId} instead of the model's EOS (-1: never). */
    public Generator withEosId(int eosId) {
        return new Generator(model, options, detokenizer, eosId, observer);
    }

    /**
     * Calls {@code observer} with the KV cache after the prompts' forward pass and after every step's forward pass,
     * when the cache holds the most (for memory reports); the number of calls is the number of forward passes.
     */
    public Generator withStepObserver(Consumer<KvCache> observer) {
        return new Generator(model, options, detokenizer, eosId, observer);
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
     * Generates from every prompt of a batch.
     *
     * @param listener receives each token as it is chosen, and can stop a sequence (greedy and sampling only;
     *                 null for none)
     * @return per prompt: beam search, the {@code numReturn} best hypotheses, best first, scored as Hugging Face's
     * {@code sequences_scores}; sampling, the {@code numReturn} samples in order; greedy, the one continuation
     */
    public List<List<Hypothesis>> generate(List<int[]> prompts, TokenListener listener) {
        if (prompts.isEmpty()) return List.of();
        int vocab = model.config().vocabSize();
        long capacity = 0;
        int perPrompt = options.numBeams() > 1 ? options.numBeams() : options.doSample() ? options.numReturn() : 1;
        for (int i = 0; i < prompts.size(); i++) {
            int[] p = prompts.get(i);
            if (p.length == 0) throw new IllegalArgumentException("prompt " + i + " is empty");
            for (int t : p)
                if (t < 0 || t >= vocab)
                    throw new IllegalArgumentException("prompt " + i + ": token id " + t + " is outside the vocabulary of " + vocab);
            if ((long) p.length + options.maxNewTokens() > model.config().maxPositions())
                throw new AlmaException("prompt " + i + " has " + p.length + " tokens; with max_new_tokens "
                        + options.maxNewTokens() + " it exceeds the model's context of " + model.config().maxPositions());
            capacity += p.length + (long) perPrompt * (options.maxNewTokens() + PAGE_SLACK);
        }
        if (capacity > Integer.MAX_VALUE)
            throw new AlmaException("a batch of " + prompts.size() + " prompts needs " + capacity + " KV positions; split it");
        StopStrings stops = new StopStrings(options.stopStrings(), detokenizer);
        if (options.numBeams() > 1) {
            if (listener != null)
                throw new IllegalArgumentException("streaming needs greedy decoding or sampling, not beam search");
            if (vocab < 2 * options.numBeams())
                throw new IllegalArgumentException("beam search with " + options.numBeams() + " beams needs a vocabulary of at least "
                        + 2 * options.numBeams() + " tokens, not " + vocab);
        }
        try (LlamaModel.Context ctx = model.newContext((int) capacity)) {
            return options.numBeams() > 1
                    ? new BeamSearch(model, options, eosId, stops, observer).run(ctx, prompts)
                    : new SamplingSearch(model, options, eosId, stops, observer).run(ctx, prompts, listener);
        }
    }

    /**
     * One forward pass's inputs: token ids, their cache sequences and positions, and the rows whose logits are
     * wanted.
     */
    record Batch(int[] tokens, int[] seqs, int[] positions, int[] rows) {
        float[][] logits(LlamaModel model, LlamaModel.Context ctx) {
            return model.forward(ctx, tokens, seqs, positions, rows);
        }

        /** The wanted rows' {@code k} largest logits and log-sum-exps ({@link LlamaModel#forwardTops}). */
        RowTops tops(LlamaModel model, LlamaModel.Context ctx, int k) {
            return model.forwardTops(ctx, tokens, seqs, positions, rows, k);
        }
    }

    /**
     * Every prompt into a new cache sequence, in one forward pass, wanting each prompt's logits after its last token.
     *
     * @param seqs receives each prompt's sequence
     */
    static Batch prefill(LlamaModel.Context ctx, List<int[]> prompts, int[] seqs) {
        int total = 0;
        for (int[] p : prompts) total += p.length;
        int[] tokens = new int[total], seqOf = new int[total], positions = new int[total], last = new int[prompts.size()];
        int at = 0;
        for (int b = 0; b < prompts.size(); b++) {
            int[] p = prompts.get(b);
            seqs[b] = ctx.cache().create();
            System.arraycopy(p, 0, tokens, at, p.length);
            Arrays.fill(seqOf, at, at + p.length, seqs[b]);
            for (int i = 0; i < p.length; i++) positions[at + i] = i;
            at += p.length;
            last[b] = at - 1;
        }
        return new Batch(tokens, seqOf, positions, last);
    }

    /** One new token per listed sequence, wanting the logits of each, in order. */
    static Batch step(List<Integer> tokens, List<Integer> seqs, List<Integer> positions) {
        int n = tokens.size();
        int[] rows = new int[n];
        for (int i = 0; i < n; i++) rows[i] = i;
        return new Batch(toArray(tokens), toArray(seqs), toArray(positions), rows);
    }

    private static int[] toArray(List<Integer> xs) {
        return xs.stream().mapToInt(Integer::intValue).toArray();
    }
}
