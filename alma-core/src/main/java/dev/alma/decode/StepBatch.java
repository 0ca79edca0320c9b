package dev.alma.decode;

import dev.alma.backend.RowTops;
import dev.alma.model.LlamaModel;

import java.util.Arrays;

/**
 * The inputs of one forward pass, built up entry by entry: token ids, their cache sequences and positions, and the
 * tokens whose logits are wanted (rows in the order they were asked for). Prompts that join the batch and the next
 * tokens of running sequences share a pass.
 */
final class StepBatch {
    private int[] tokens = new int[16], seqs = new int[16], positions = new int[16], rows = new int[16];
    private int size, wanted;

    /** Adds one token; {@code logits}: its logits are wanted (the next row). */
    void add(int token, int seq, int position, boolean logits) {
        if (size == tokens.length) {
            tokens = Arrays.copyOf(tokens, 2 * size);
            seqs = Arrays.copyOf(seqs, 2 * size);
            positions = Arrays.copyOf(positions, 2 * size);
        }
        if (logits) {
            if (wanted == rows.length) rows = Arrays.copyOf(rows, 2 * wanted);
            rows[wanted++] = size;
        }
        tokens[size] = token;
        seqs[size] = seq;
        positions[size++] = position;
    }

    /** Adds a prompt to a new sequence from position 0, wanting the logits after its last token. */
    void addPrompt(int[] ids, int seq) {
        for (int i = 0; i < ids.length; i++) add(ids[i], seq, i, i == ids.length - 1);
    }

    /** Rows of logits asked for so far (the next row's index). */
    int rows() {
        return wanted;
    }

    boolean isEmpty() {
        return size == 0;
    }

    float[][] logits(LlamaModel model, LlamaModel.Context ctx) {
        return model.forward(ctx, Arrays.copyOf(tokens, size), Arrays.copyOf(seqs, size),
                Arrays.copyOf(positions, size), Arrays.copyOf(rows, wanted));
    }

    /** The wanted rows' {@code k} largest logits and log-sum-exps ({@link LlamaModel#forwardTops}). */
    RowTops tops(LlamaModel model, LlamaModel.Context ctx, int k) {
        return model.forwardTops(ctx, Arrays.copyOf(tokens, size), Arrays.copyOf(seqs, size),
                Arrays.copyOf(positions, size), Arrays.copyOf(rows, wanted), k);
    }
}
