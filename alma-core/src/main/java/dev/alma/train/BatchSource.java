package dev.alma.train;

/**
 * Training micro-batches addressed by a global index, so that the data a step sees is a pure function of the
 * step (what makes resuming exact).
 */
public interface BatchSource {
    /** The micro-batch at position {@code index} of the whole run. */
    Batch batch(long index);

    /** Micro-batches per epoch, or -1 for a stream without epochs. */
    long batchesPerEpoch();
}
