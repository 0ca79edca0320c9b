package dev.alma.decode;

import java.util.List;

/** Receives each prompt's hypotheses as soon as the prompt is finished (on the generating thread). */
@FunctionalInterface
public interface PromptResults {
    /**
     * @param prompt     the prompt's index in its feed
     * @param hypotheses what {@link Generator#generate(List, TokenListener)} gives for it
     */
    void accept(int prompt, List<Hypothesis> hypotheses);
}
