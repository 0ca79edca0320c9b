/**
 * Tokenizers of LLaMA-family models, exact to their reference implementations.
 *
 * <p>{@link dev.alma.tokenizer.Tokenizer#load} opens a SentencePiece {@code tokenizer.model} (encoded as the
 * SentencePiece library does: normalizer whitespace rules, highest-score-first BPE merges, byte fallback), a Hugging
 * Face {@code tokenizer.json} (interpreted by its declared normalizers, pre-tokenizer, BPE merges by rank and
 * decoders, as the {@code tokenizers} library does), or a model directory holding either.
 * {@link dev.alma.tokenizer.SentencePieceTokenizer#fromVocabulary} builds the SentencePiece tokenizer from arrays,
 * such as a GGUF file's {@code tokenizer.ggml.*} metadata. Decoding drops special tokens, reassembles byte pieces
 * into UTF-8 and removes the dummy-prefix space; {@link dev.alma.tokenizer.StreamingDecoder} does the same one id at
 * a time. Text that spells {@code <s>} or {@code </s>} is always ordinary text. Tokenizers are immutable and
 * thread-safe; encoding reuses per-thread buffers.
 */
package dev.alma.tokenizer;
