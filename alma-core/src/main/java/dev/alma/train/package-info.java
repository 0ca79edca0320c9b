/**
 * ALMA's two-stage fine-tuning on the CPU, in f32.
 *
 * <p>{@link dev.alma.train.TrainableLlama} is a LLaMA causal LM with a batched forward pass and a backward pass
 * for every op (embedding, RMSNorm, rotate-half RoPE, causal grouped-query attention, SwiGLU, projections with
 * optional LoRA, shifted cross-entropy with ignore index -100); {@link dev.alma.train.ModelFiles} reads Hugging Face
 * checkpoints and writes them back, and reads and writes PEFT adapters. {@link dev.alma.train.Stage1Data} packs
 * mixed-language monolingual documents into blocks, {@link dev.alma.train.Stage2Data} builds ALMA's translation
 * prompts from its parallel data layout. {@link dev.alma.train.Trainer} runs {@link dev.alma.train.AdamW} with an
 * {@link dev.alma.train.LrSchedule}, gradient accumulation and clipping, validation, and atomic checkpoints that a
 * killed run resumes from with bit-identical losses.
 */
package dev.alma.train;
