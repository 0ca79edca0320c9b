package dev.alma.decode;

import dev.alma.model.LlamaModel;
import dev.alma.model.ModelOptions;
import dev.alma.model.RandomCheckpoint;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.function.IntUnaryOperator;

/**
 * A tiny random model (vocabulary 64, EOS id 2) whose EOS row of {@code lm_head} is scaled up, so that EOS
 * competes with the other tokens and searches end after different numbers of steps; and random prompts for it.
 */
final class EosModel {
    static final int VOCAB = 64, EOS = 2;

    private EosModel() {
    }

    /** Writes the model to {@code dir} and opens it on one CPU thread. */
    static LlamaModel open(Path dir, float eosScale) {
        new RandomCheckpoint(VOCAB, 32, 4, 2, 2, 64).write(dir, 11, (name, v) -> {
            if (name.equals("lm_head.weight")) for (int c = 0; c < 32; c++) v[EOS * 32 + c] *= eosScale;
        });
        return LlamaModel.open(dir, ModelOptions.defaults().withThreads(1));
    }

    /** {@code n} prompts: BOS, then random ids that are not BOS or EOS; prompt {@code i} has {@code length(i)} ids. */
    static List<int[]> prompts(int n, long seed, IntUnaryOperator length) {
        SplittableRandom r = new SplittableRandom(seed);
        List<int[]> prompts = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            int[] p = new int[length.applyAsInt(i)];
            p[0] = 1;
            for (int j = 1; j < p.length; j++) p[j] = r.nextInt(3, VOCAB);
            prompts.add(p);
        }
        return prompts;
    }
}
