package dev.alma.decode;

import dev.alma.model.LlamaModel;

import java.util.Arrays;

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
        try (LlamaModel.Context ctx = model.newContext(prompt.length + maxNewTokens)) {
            int seq = ctx.cache().create();
            int[] positions = new int[prompt.length];
            for (int i = 0; i < positions.length; i++) positions[i] = i;
            int[] seqs = new int[prompt.length];
            Arrays.fill(seqs, seq);
            float[] logits = model.forward(ctx, prompt, seqs, positions, new int[]{prompt.length - 1})[0];
            int[] out = new int[maxNewTokens];
            int n = 0;
            while (n < maxNewTokens) {
                int next = Logits.argmax(logits);
                out[n++] = next;
                if (next == eosId || n == maxNewTokens) break;
                logits = model.forward(ctx, new int[]{next}, new int[]{seq}, new int[]{prompt.length + n - 1}, new int[]{0})[0];
            }
            return Arrays.copyOf(out, n);
        }
    }
}
