package dev.alma.decode;

import dev.alma.backend.KvCache;
import dev.alma.backend.RowTops;

import java.util.List;

/**
 * A decoding strategy (beam search, or greedy decoding and sampling) as {@link ContinuousBatch} drives it: each
 * prompt is an {@link Entry} that joins the running batch with its prompt's forward pass, adds its sequences' next
 * tokens to every forward pass after that, and leaves when it is finished, whatever the other entries do.
 */
abstract class Search {
    /** Sequences one prompt holds in the cache at once (beams, samples), for reserving KV positions. */
    abstract int width();

    /**
     * Whether entries are scored from each row's largest logits ({@link RowTops}) instead of whole rows; the
     * batch then asks the model for {@link #topK()} of them.
     */
    abstract boolean tops();

    /** How many of each row's largest logits {@link #tops()} needs. */
    abstract int topK();

    /**
     * Whether a prompt may be stopped and later searched again from the start (its result does not change): not
     * when a {@link TokenListener} has already been told its tokens.
     */
    abstract boolean restartable();

    /**
     * A prompt joining the batch.
     *
     * @param index the prompt's index in its feed (what listeners and results are told)
     * @param seq   the cache sequence its prompt is being written to
     * @param limit the most tokens it may generate
     */
    abstract Entry start(int index, int[] ids, int seq, int limit, KvCache cache);

    /**
     * One prompt's state. Its life: {@code score} (the logits after its prompt), then {@code advance} and, unless
     * that finished it, {@code addTo} the next forward pass and {@code score} from that pass, and so on.
     */
    abstract static class Entry {
        final int index;
        final int[] ids;
        final int limit;
        /** Set by {@link #advance} when the prompt is finished (its sequences freed). */
        boolean done;

        Entry(int index, int[] ids, int limit) {
            this.index = index;
            this.ids = ids;
            this.limit = limit;
        }

        /** Scores this prompt's sequences from rows {@code from ..} of a forward pass's logits. */
        abstract void score(float[][] logits, int from);

        /** Scores this prompt's sequences from rows {@code from ..} of a forward pass's largest logits. */
        abstract void score(RowTops tops, int from);

        /** Chooses the next tokens from the scores and moves the cache to them; may finish the prompt. */
        abstract void advance(KvCache cache);

        /** Whether the prompt is finished (its sequences are freed). */
        final boolean done() {
            return done;
        }

        /** Adds each running sequence's newest token to the next forward pass, one logits row each. */
        abstract void addTo(StepBatch batch);

        /** KV pages the next forward pass takes for this prompt's tokens ({@link KvCache#pagesToWrite}). */
        abstract int stepPages(KvCache cache);

        /** Frees every sequence of an unfinished prompt, which is then dropped (to be started again). */
        abstract void release(KvCache cache);

        /** The finished prompt's hypotheses, as {@link Generator#generate(List, TokenListener)} returns them. */
        abstract List<Hypothesis> result();
    }
}
