package dev.alma;

import dev.alma.decode.DecodingOptions;

/**
 * How to translate: the decoding settings, the prompt style and how many texts share forward passes.
 * {@link #defaults()} reproduces ALMA's evaluation (5 beams, 256 new tokens, ALMA prompt).
 *
 * @param decoding      beam/sampling settings
 * @param promptStyle   ALMA's prompt or X-ALMA's chat template
 * @param stopAtNewline end generation at the first newline after some text (faster; ALMA itself generates on and
 *                      keeps the first line, which gives the same text for greedy decoding but may change beams)
 * @param maxBatch      most texts translated at once by {@link Translator#translateAll} and a
 *                      {@link TranslationQueue} (continuous batching: a text joins as soon as another finishes); the
 *                      KV cache grows with it. 1 translates each text alone.
 */
public record TranslationOptions(DecodingOptions decoding, PromptStyle promptStyle, boolean stopAtNewline, int maxBatch) {
    /** {@link #maxBatch} unless set. */
    public static final int DEFAULT_MAX_BATCH = 8;

    public TranslationOptions {
        if (decoding == null) throw new IllegalArgumentException("decoding options are required");
        if (promptStyle == null) promptStyle = PromptStyle.ALMA;
        if (maxBatch < 1) throw new IllegalArgumentException("maxBatch must be at least 1, not " + maxBatch);
    }

    /** Options with the default {@link #maxBatch}. */
    public TranslationOptions(DecodingOptions decoding, PromptStyle promptStyle, boolean stopAtNewline) {
        this(decoding, promptStyle, stopAtNewline, DEFAULT_MAX_BATCH);
    }

    /** ALMA's evaluation settings. */
    public static TranslationOptions defaults() {
        return new TranslationOptions(DecodingOptions.alma(), PromptStyle.ALMA, false);
    }

    /** Greedy decoding of up to {@code maxNewTokens}, ALMA prompt. */
    public static TranslationOptions greedy(int maxNewTokens) {
        return new TranslationOptions(DecodingOptions.greedy(maxNewTokens), PromptStyle.ALMA, false);
    }

    public TranslationOptions withDecoding(DecodingOptions d) {
        return new TranslationOptions(d, promptStyle, stopAtNewline, maxBatch);
    }

    public TranslationOptions withPromptStyle(PromptStyle style) {
        return new TranslationOptions(decoding, style, stopAtNewline, maxBatch);
    }

    public TranslationOptions withStopAtNewline(boolean stop) {
        return new TranslationOptions(decoding, promptStyle, stop, maxBatch);
    }

    public TranslationOptions withMaxBatch(int n) {
        return new TranslationOptions(decoding, promptStyle, stopAtNewline, n);
    }
}
