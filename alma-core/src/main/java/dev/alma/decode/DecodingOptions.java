package dev.alma.decode;

import java.util.List;

/**
 * Every knob of text generation, with Hugging Face {@code generate} semantics. The defaults reproduce ALMA's
 * evaluation settings: 5-beam search, up to 256 new tokens, length penalty 1.0, no early stopping.
 *
 * @param numBeams          beams (1: greedy or sampling)
 * @param numReturn         sequences returned (at most {@code numBeams} for beam search)
 * @param maxNewTokens      most tokens generated
 * @param minNewTokens      EOS is suppressed before this many tokens
 * @param lengthPenalty     beam score = sum of log-probs / generated_length^lengthPenalty
 * @param earlyStopping     {@code "false"} (stop a prompt once its best running beam, scored at its current length,
 *                          cannot beat the worst of {@code numBeams} finished hypotheses), {@code "true"} (stop as
 *                          soon as {@code numBeams} hypotheses are finished) or {@code "never"} (stop only when no
 *                          running beam can improve, assuming the longest possible length when
 *                          {@code lengthPenalty > 0}) — Hugging Face's three modes
 * @param doSample          sample instead of taking the most likely token
 * @param temperature       sampling temperature
 * @param topK              keep the k most likely tokens when sampling (0: all; note that Hugging Face's default is 50)
 * @param topP              nucleus sampling mass (1: all)
 * @param seed              random seed for sampling
 * @param repetitionPenalty HF's CTRL-style penalty on tokens already present (1: off)
 * @param noRepeatNgramSize ban repeating n-grams of this size (0: off)
 * @param stopStrings       a sequence ends once its decoded generated text contains one of these (the token that
 *                          completes the string is kept); needs a detokenizer, see {@link Generator#withDetokenizer}
 * @param fullLengthNormalization ALMA's 2023 behaviour: normalize beam scores by the full sequence length
 *                          (prompt included, a final EOS not counted), as older transformers releases did when ALMA's
 *                          2023 results were produced, instead of by the generated length (EOS counted) of current
 *                          transformers; the search procedure is otherwise the current one
 */
public record DecodingOptions(
        int numBeams,
        int numReturn,
        int maxNewTokens,
        int minNewTokens,
        double lengthPenalty,
        String earlyStopping,
        boolean doSample,
        double temperature,
        int topK,
        double topP,
        long seed,
        double repetitionPenalty,
        int noRepeatNgramSize,
        List<String> stopStrings,
        boolean fullLengthNormalization) {

    public DecodingOptions {
        stopStrings = stopStrings == null ? List.of() : List.copyOf(stopStrings);
        if (numBeams < 1) throw new IllegalArgumentException("beams " + numBeams + " must be at least 1");
        if (numReturn < 1) throw new IllegalArgumentException("num_return_sequences " + numReturn + " must be at least 1");
        if (!doSample && numReturn > numBeams)
            throw new IllegalArgumentException("num_return_sequences " + numReturn + " exceeds beams " + numBeams);
        if (maxNewTokens < 1) throw new IllegalArgumentException("max_new_tokens " + maxNewTokens + " must be at least 1");
        if (doSample && numBeams > 1)
            throw new IllegalArgumentException("sampling with " + numBeams + " beams (beam sampling) is not supported; use one beam");
        if (minNewTokens < 0 || minNewTokens > maxNewTokens)
            throw new IllegalArgumentException("min_new_tokens " + minNewTokens + " must be within 0..max_new_tokens");
        if (!List.of("false", "true", "never").contains(earlyStopping))
            throw new IllegalArgumentException("early_stopping '" + earlyStopping + "' must be false, true or never");
        if (!(temperature > 0)) throw new IllegalArgumentException("temperature " + temperature + " must be positive");
        if (topK < 0) throw new IllegalArgumentException("top_k " + topK + " must be >= 0");
        if (!(topP > 0 && topP <= 1)) throw new IllegalArgumentException("top_p " + topP + " must be in (0, 1]");
        if (!(repetitionPenalty > 0)) throw new IllegalArgumentException("repetition_penalty must be positive");
        if (noRepeatNgramSize < 0) throw new IllegalArgumentException("no_repeat_ngram_size must be >= 0");
    }

    /** ALMA's evaluation settings: 5 beams, 256 new tokens. */
    public static DecodingOptions alma() {
        return new DecodingOptions(5, 1, 256, 0, 1.0, "false", false, 1.0, 0, 1.0, 0L, 1.0, 0, List.of(), false);
    }

    /** Greedy decoding of up to {@code maxNewTokens}. */
    public static DecodingOptions greedy(int maxNewTokens) {
        return new DecodingOptions(1, 1, maxNewTokens, 0, 1.0, "false", false, 1.0, 0, 1.0, 0L, 1.0, 0, List.of(), false);
    }

    public DecodingOptions withBeams(int beams) {
        return new DecodingOptions(beams, Math.min(numReturn, beams), maxNewTokens, minNewTokens, lengthPenalty, earlyStopping,
                doSample, temperature, topK, topP, seed, repetitionPenalty, noRepeatNgramSize, stopStrings, fullLengthNormalization);
    }

    public DecodingOptions withMaxNewTokens(int n) {
        return new DecodingOptions(numBeams, numReturn, n, Math.min(minNewTokens, n), lengthPenalty, earlyStopping,
                doSample, temperature, topK, topP, seed, repetitionPenalty, noRepeatNgramSize, stopStrings, fullLengthNormalization);
    }

    public DecodingOptions withNumReturn(int n) {
        return new DecodingOptions(numBeams, n, maxNewTokens, minNewTokens, lengthPenalty, earlyStopping,
                doSample, temperature, topK, topP, seed, repetitionPenalty, noRepeatNgramSize, stopStrings, fullLengthNormalization);
    }

    public DecodingOptions withSampling(double temperature, int topK, double topP, long seed) {
        return new DecodingOptions(1, numReturn, maxNewTokens, minNewTokens, lengthPenalty, earlyStopping,
                true, temperature, topK, topP, seed, repetitionPenalty, noRepeatNgramSize, stopStrings, fullLengthNormalization);
    }

    public DecodingOptions withStopStrings(List<String> stops) {
        return new DecodingOptions(numBeams, numReturn, maxNewTokens, minNewTokens, lengthPenalty, earlyStopping,
                doSample, temperature, topK, topP, seed, repetitionPenalty, noRepeatNgramSize, stops, fullLengthNormalization);
    }

    public DecodingOptions withMinNewTokens(int n) {
        return new DecodingOptions(numBeams, numReturn, maxNewTokens, n, lengthPenalty, earlyStopping,
                doSample, temperature, topK, topP, seed, repetitionPenalty, noRepeatNgramSize, stopStrings, fullLengthNormalization);
    }

    public DecodingOptions withLengthPenalty(double penalty) {
        return new DecodingOptions(numBeams, numReturn, maxNewTokens, minNewTokens, penalty, earlyStopping,
                doSample, temperature, topK, topP, seed, repetitionPenalty, noRepeatNgramSize, stopStrings, fullLengthNormalization);
    }

    /** {@code "false"}, {@code "true"} or {@code "never"}. */
    public DecodingOptions withEarlyStopping(String mode) {
        return new DecodingOptions(numBeams, numReturn, maxNewTokens, minNewTokens, lengthPenalty, mode,
                doSample, temperature, topK, topP, seed, repetitionPenalty, noRepeatNgramSize, stopStrings, fullLengthNormalization);
    }

    public DecodingOptions withRepetitionPenalty(double penalty) {
        return new DecodingOptions(numBeams, numReturn, maxNewTokens, minNewTokens, lengthPenalty, earlyStopping,
                doSample, temperature, topK, topP, seed, penalty, noRepeatNgramSize, stopStrings, fullLengthNormalization);
    }

    public DecodingOptions withNoRepeatNgramSize(int n) {
        return new DecodingOptions(numBeams, numReturn, maxNewTokens, minNewTokens, lengthPenalty, earlyStopping,
                doSample, temperature, topK, topP, seed, repetitionPenalty, n, stopStrings, fullLengthNormalization);
    }

    public DecodingOptions withFullLengthNormalization(boolean on) {
        return new DecodingOptions(numBeams, numReturn, maxNewTokens, minNewTokens, lengthPenalty, earlyStopping,
                doSample, temperature, topK, topP, seed, repetitionPenalty, noRepeatNgramSize, stopStrings, on);
    }
}
