package dev.alma;

import dev.alma.decode.DecodingOptions;
import dev.alma.decode.Generator;
import dev.alma.decode.Hypothesis;
import dev.alma.model.LlamaModel;
import dev.alma.model.ModelOptions;
import dev.alma.tokenizer.Tokenizer;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Translates text with an ALMA model. Open one per model and share it: it is safe to call from many threads
 * (each call has its own KV cache; weights are shared and read in place).
 *
 * <pre>{@code
 * try (Translator t = Translator.open(Path.of("ALMA-7B-R"))) {
 *     String en = t.translate("Guten Morgen!", "de", "en");
 * }
 * }</pre>
 */
public final class Translator implements AutoCloseable {
    private final LlamaModel model;
    private final Tokenizer tokenizer;
    private final TranslationOptions defaults;

    private Translator(LlamaModel model, Tokenizer tokenizer, TranslationOptions defaults) {
        this.model = model;
        this.tokenizer = tokenizer;
        this.defaults = defaults;
    }

    /** Opens a checkpoint directory (or GGUF file) on the CPU with ALMA's decoding defaults. */
    public static Translator open(Path model) {
        return open(model, ModelOptions.defaults(), TranslationOptions.defaults());
    }

    /** Opens a model with the given device/thread/LoRA options and default translation options. */
    public static Translator open(Path model, ModelOptions modelOptions, TranslationOptions defaults) {
        Tokenizer tok = Tokenizer.load(model);
        return new Translator(LlamaModel.open(model, modelOptions), tok, defaults);
    }

    /** Wraps an already open model and tokenizer; closing the translator closes the model. */
    public static Translator of(LlamaModel model, Tokenizer tokenizer, TranslationOptions defaults) {
        return new Translator(model, tokenizer, defaults);
    }

    /** The model. */
    public LlamaModel model() {
        return model;
    }

    /** The tokenizer. */
    public Tokenizer tokenizer() {
        return tokenizer;
    }

    /** Translates {@code text} from language {@code from} to {@code to} (codes such as {@code de}, {@code en}). */
    public String translate(String text, String from, String to) {
        return translate(text, from, to, defaults);
    }

    /** Translates with explicit options. */
    public String translate(String text, String from, String to, TranslationOptions options) {
        return translateAll(List.of(text), from, to, options).getFirst();
    }

    /** Translates many texts; the result list is in input order. */
    public List<String> translateAll(List<String> texts, String from, String to) {
        return translateAll(texts, from, to, defaults);
    }

    /**
     * Translates many texts, {@link TranslationOptions#maxBatch} at a time in shared forward passes (one per step
     * over all of them; a text starts as soon as another finishes); each result is what translating the text alone
     * gives, up to float rounding (the products of a batch sum in another order: scores agree to ~1e-6, which
     * could only change a translation at a near-tie of two beams).
     */
    public List<String> translateAll(List<String> texts, String from, String to, TranslationOptions options) {
        List<List<Candidate>> all = candidates(texts, from, to, options);
        List<String> out = new ArrayList<>(all.size());
        for (List<Candidate> c : all) out.add(c.getFirst().text());
        return out;
    }

    /** A translation with its score (beam search: Hugging Face's sequence score; otherwise the sum of log-probs). */
    public record Candidate(String text, double score) {
    }

    /**
     * The {@code n} best translations of {@code text}, best first (beam search with at least {@code n} beams, or
     * {@code n} samples when sampling).
     */
    public List<Candidate> translateNBest(String text, String from, String to, int n, TranslationOptions options) {
        return translateAllNBest(List.of(text), from, to, n, options).getFirst();
    }

    /** {@link #translateNBest} for many texts in one batch, as {@link #translateAll}; the lists are in input order. */
    public List<List<Candidate>> translateAllNBest(List<String> texts, String from, String to, int n, TranslationOptions options) {
        return candidates(texts, from, to, nBest(options, n));
    }

    /**
     * Translates with greedy decoding or sampling and hands the text to {@code onText} as it is generated, piece
     * by piece (never half a UTF-8 character); {@code onText} returns false to stop early.
     *
     * @return the cleaned translation of what was generated
     */
    public String translateStreaming(String text, String from, String to, TranslationOptions options,
                                     java.util.function.Predicate<String> onText) {
        if (options.decoding().numBeams() > 1)
            throw new AlmaException("streaming needs greedy decoding or sampling, not " + options.decoding().numBeams() + " beams");
        int[] prompt = promptIds(text, from, to, options);
        dev.alma.tokenizer.StreamingDecoder stream = tokenizer.streamingDecoder();
        Generator g = generator(options);
        boolean[] stopped = {false};
        Hypothesis h = g.generate(List.of(prompt), (p, s, token) -> {
            String piece = stream.accept(token);
            stopped[0] = !piece.isEmpty() && !onText.test(piece);
            return !stopped[0];
        }).getFirst().getFirst();
        String tail = stream.finish(); // bytes held back for a character the generation did not complete
        if (!stopped[0] && !tail.isEmpty()) onText.test(tail);
        return candidates(List.of(h), to).getFirst().text();
    }

    private List<List<Candidate>> candidates(List<String> texts, String from, String to, TranslationOptions options) {
        List<int[]> prompts = new ArrayList<>(texts.size());
        for (String t : texts) prompts.add(promptIds(t, from, to, options));
        if (prompts.isEmpty()) return List.of();
        List<List<Hypothesis>> hyps = generator(options).generate(prompts, options.maxBatch(), null);
        List<List<Candidate>> out = new ArrayList<>(hyps.size());
        for (List<Hypothesis> hs : hyps) out.add(candidates(hs, to));
        return out;
    }

    /** Hypotheses as cleaned translations into {@code to}. */
    List<Candidate> candidates(List<Hypothesis> hs, String to) {
        String suffix = PromptStyle.suffix(to);
        List<Candidate> c = new ArrayList<>(hs.size());
        for (Hypothesis h : hs) c.add(new Candidate(OutputCleaner.clean(tokenizer.decode(h.tokens()), suffix), h.score()));
        return c;
    }

    /** Options that return the {@code n} best translations (beam search widened to {@code n} beams if needed). */
    static TranslationOptions nBest(TranslationOptions options, int n) {
        if (n < 1) throw new AlmaException("the number of translations per text must be at least 1, not " + n);
        DecodingOptions d = options.decoding();
        if (!d.doSample() && d.numBeams() < n) d = d.withBeams(n);
        return options.withDecoding(d.withNumReturn(n));
    }

    /**
     * A queue that translates texts submitted from any thread, {@link TranslationOptions#maxBatch} at a time in
     * shared forward passes, each starting as soon as there is room (continuous batching): for a server, where
     * requests come one by one, or for a stream of lines. Close it to finish.
     *
     * @param n translations per text ({@link TranslationQueue#submitNBest}); 1 for the best only
     */
    public TranslationQueue queue(TranslationOptions options, int n) {
        TranslationOptions o = nBest(options, n);
        return new TranslationQueue(this, generator(o), o);
    }

    /**
     * How many texts whose prompts have about {@code promptTokens} tokens surely fit at once with these options (at
     * most {@link TranslationOptions#maxBatch}) in the memory the backend has for the KV cache now, each with room
     * for its worst case ({@link Generator#promptsAtOnce}); {@link #translateAll} and a {@link TranslationQueue} run
     * more together while translations are short.
     */
    public int textsAtOnce(TranslationOptions options, int promptTokens) {
        return generator(options).promptsAtOnce(promptTokens, options.maxBatch());
    }

    /**
     * A generator for these options: each prompt may generate up to the end of the model's context if
     * {@code maxNewTokens} would pass it.
     */
    Generator generator(TranslationOptions options) {
        DecodingOptions d = options.decoding();
        if (options.stopAtNewline()) {
            List<String> stops = new ArrayList<>(d.stopStrings());
            stops.add("\n");
            d = d.withStopStrings(stops);
        }
        return new Generator(model, d).withTokenizer(tokenizer).withEosId(tokenizer.eosId()).withClampToContext();
    }

    /**
     * The prompt's token ids: BOS followed by the tokenized prompt, no EOS.
     *
     * @throws AlmaException for an empty text, an unknown language or a prompt beyond the model's context
     */
    public int[] promptIds(String text, String from, String to, TranslationOptions options) {
        if (text == null || PyStrings.strip(text).isEmpty()) throw new AlmaException("nothing to translate: the text is empty");
        String prompt = options.promptStyle().build(text, from, to);
        int[] body = tokenizer.encode(prompt);
        int[] ids = new int[body.length + 1];
        ids[0] = tokenizer.bosId();
        System.arraycopy(body, 0, ids, 1, body.length);
        if (ids.length >= model.config().maxPositions())
            throw new AlmaException("input too long: the prompt is " + ids.length + " tokens and the model's context is "
                    + model.config().maxPositions());
        return ids;
    }

    @Override
    public void close() {
        model.close();
    }
}
