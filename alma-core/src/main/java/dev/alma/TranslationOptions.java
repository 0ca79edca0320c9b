package dev.alma;

import dev.alma.decode.DecodingOptions;

/**
 * How to translate: the decoding settings and the prompt style. {@link #defaults()} reproduces ALMA's evaluation
 * (5 beams, 256 new tokens, ALMA prompt).
 *
 * @param decoding     beam/sampling settings
 * @param promptStyle  ALMA's prompt or X-ALMA's chat template
 * @param stopAtNewline end generation at the first newline after some text (faster; ALMA itself generates on and
 *                     keeps the first line, which gives the same text for greedy decoding but may change beams)
 */
public record TranslationOptions(DecodingOptions decoding, PromptStyle promptStyle, boolean stopAtNewline) {
    public TranslationOptions {
        if (decoding == null) throw new IllegalArgumentException("decoding options are required");
        if (promptStyle == null) promptStyle = PromptStyle.ALMA;
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
        return new TranslationOptions(d, promptStyle, stopAtNewline);
    }

    public TranslationOptions withPromptStyle(PromptStyle style) {
        return new TranslationOptions(decoding, style, stopAtNewline);
    }

    public TranslationOptions withStopAtNewline(boolean stop) {
        return new TranslationOptions(decoding, promptStyle, stop);
    }
}
