/**
 * Text generation with Hugging Face {@code generate} semantics.
 *
 * <p>{@link dev.alma.decode.Generator} is the entry point: built from a {@link dev.alma.model.LlamaModel} and
 * {@link dev.alma.decode.DecodingOptions}, it decodes one prompt or a batch (one forward pass per step for the
 * whole batch, each prompt in its own KV-cache sequences) and returns {@link dev.alma.decode.Hypothesis} lists.
 * Beam search reproduces transformers' {@code _beam_search} (candidates, finished hypotheses, length penalty,
 * the three early-stopping modes, {@code sequences_scores}); greedy decoding and sampling (temperature, top-k,
 * top-p, seeded) stream tokens to a {@link dev.alma.decode.TokenListener} that can stop a sequence. Repetition
 * penalty, no-repeat n-grams, minimum new tokens and stop strings apply to every mode.
 *
 * <p>Continuous batching: with a limit on the prompts running at once, or prompts from a
 * {@link dev.alma.decode.PromptFeed} (a queue filled while the batch runs), a prompt joins the running batch as soon
 * as another finishes, its whole prompt in the same forward pass as the others' next tokens, and its result goes to
 * {@link dev.alma.decode.PromptResults} as soon as it is finished. The KV cache fits the memory the backend has; a
 * prompt joins when its pages are free, and the last to join are stopped and run again later when the running ones
 * need pages. Each prompt is searched on its own (package-private {@code Search} entries driven by
 * {@code ContinuousBatch}).
 */
package dev.alma.decode;
