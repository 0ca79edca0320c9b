package dev.alma.model;

import dev.alma.tensor.DType;

import java.nio.file.Path;
import java.util.List;

/**
 * How to open a model.
 *
 * @param device  {@code cpu} (default), {@code cuda}, {@code cuda:N}
 * @param threads CPU threads (0: one per core)
 * @param loras   PEFT LoRA adapter directories applied on top of the base weights
 * @param weights the type to hold a checkpoint's f32/f16/bf16 matrices as (e.g. {@link DType#Q8_0}: half of f16's
 *                memory and, on a memory-bound CPU, faster decoding: 1.4-1.5 times bf16 at 7B here), or null to keep the stored types;
 *                matrices whose rows are not whole blocks of it, and already quantized ones, stay as stored
 *                ({@link WeightConversion})
 * @param kvCache the type of the keys and values in the KV cache: {@link DType#F32} (default; exact) or
 *                {@link DType#F16} (CPU and CUDA: half the memory and the attention's reads; the keys and values
 *                rounded to f16 as llama.cpp's default cache keeps them)
 */
public record ModelOptions(String device, int threads, List<Path> loras, DType weights, DType kvCache) {
    public ModelOptions {
        device = device == null ? "cpu" : device;
        loras = loras == null ? List.of() : List.copyOf(loras);
        if (weights != null && !dev.alma.io.Quantizer.supports(weights))
            throw new IllegalArgumentException("weights cannot be held as " + weights);
        kvCache = kvCache == null ? DType.F32 : kvCache;
        if (kvCache != DType.F32 && kvCache != DType.F16)
            throw new IllegalArgumentException("the KV cache holds f32 or f16, not " + kvCache);
    }

    /** An f32 KV cache. */
    public ModelOptions(String device, int threads, List<Path> loras, DType weights) {
        this(device, threads, loras, weights, DType.F32);
    }

    /** Weights as stored, an f32 KV cache. */
    public ModelOptions(String device, int threads, List<Path> loras) {
        this(device, threads, loras, null);
    }

    /** CPU, all cores, no adapter, weights as stored, an f32 KV cache. */
    public static ModelOptions defaults() {
        return new ModelOptions("cpu", 0, List.of(), null);
    }

    public ModelOptions withDevice(String device) {
        return new ModelOptions(device, threads, loras, weights, kvCache);
    }

    public ModelOptions withThreads(int threads) {
        return new ModelOptions(device, threads, loras, weights, kvCache);
    }

    public ModelOptions withLoras(List<Path> loras) {
        return new ModelOptions(device, threads, loras, weights, kvCache);
    }

    /** These options with the matrices held as {@code weights} (null: as stored). */
    public ModelOptions withWeights(DType weights) {
        return new ModelOptions(device, threads, loras, weights, kvCache);
    }

    /** These options with the KV cache's keys and values held as {@code type} (F32 or F16). */
    public ModelOptions withKvCache(DType type) {
        return new ModelOptions(device, threads, loras, weights, type);
    }
}
