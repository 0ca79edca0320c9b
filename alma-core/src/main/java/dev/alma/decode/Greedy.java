package dev.alma.decode;

import dev.alma.model.LlamaModel;

/** Greedy decoding: the most likely token at every step (ties go to the lowest id, as {@code argmax} does). */
public final class Greedy {
    private Greedy() {
    }

    /**
     * Continues {@code prompt} by up to {@code maxNewTokens} tokens, stopping after {@code eosId}
     * (which is included, as Hugging Face's {@code generate} includes it).
     *
     * @return the generated tokens (the prompt is not repeated)
     */
    public static int[] generate(LlamaModel model, int[] prompt, int maxNewTokens, int eosId) {
        return new Generator(model, DecodingOptions.greedy(maxNewTokens)).withEosId(eosId).generate(prompt).getFirst().tokens();
    }
}
