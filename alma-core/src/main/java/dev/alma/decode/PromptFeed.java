package dev.alma.decode;

import java.util.List;

/**
 * Prompts (token ids, BOS included) for {@link Generator#generate(PromptFeed, int, PromptResults, TokenListener)},
 * which takes the next one whenever a prompt of its batch finishes: a list, or a queue that callers fill while the
 * batch runs. Prompts are numbered in the order they are taken, from 0.
 */
public interface PromptFeed {
    /** The next prompt if one is ready now; null if none is (yet, or any more). Must not wait. */
    int[] poll();

    /** The next prompt, waiting until one is ready; null when no more will come. */
    int[] take() throws InterruptedException;

    /** The longest prompt to expect, in tokens, for sizing the KV cache (a longer one grows it when the batch is idle). */
    default int typicalLength() {
        return 256;
    }

    /** The prompts of a list, in order. */
    static PromptFeed of(List<int[]> prompts) {
        List<int[]> copy = List.copyOf(prompts);
        int longest = copy.stream().mapToInt(p -> p.length).max().orElse(1);
        return new PromptFeed() {
            private int next;

            @Override
            public int[] poll() {
                return next < copy.size() ? copy.get(next++) : null;
            }

            @Override
            public int[] take() {
                return poll();
            }

            @Override
            public int typicalLength() {
                return longest;
            }
        };
    }
}
