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
 */
package dev.alma.decode;
