package dev.alma;

import dev.alma.decode.Greedy;
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
        int[] prompt = promptIds(text, from, to, options);
        int budget = model.config().maxPositions() - prompt.length;
        int maxNew = Math.min(options.decoding().maxNewTokens(), budget);
        int[] out = Greedy.generate(model, prompt, maxNew, tokenizer.eosId());
        return OutputCleaner.clean(tokenizer.decode(out), PromptStyle.suffix(to));
    }

    /** Translates many texts; the result list is in input order. */
    public List<String> translateAll(List<String> texts, String from, String to) {
        return translateAll(texts, from, to, defaults);
    }

    /** Translates many texts with explicit options. */
    public List<String> translateAll(List<String> texts, String from, String to, TranslationOptions options) {
        List<String> out = new ArrayList<>(texts.size());
        for (String t : texts) out.add(translate(t, from, to, options));
        return out;
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
