package dev.alma.train;

import java.util.Arrays;

/**
 * One trainable tensor: its Hugging Face name, shape, f32 master values and, when it is trained, its gradient
 * buffer. Values are row-major, a linear layer's weight being {@code [out_features, in_features]}.
 */
public final class Parameter {
    private final String name;
    private final int[] shape;
    private final float[] data;
    private float[] grad;
    private final boolean decay;

    /**
     * @param decay whether AdamW's weight decay applies (Hugging Face's Trainer exempts norm weights and biases)
     */
    public Parameter(String name, int[] shape, float[] data, boolean decay) {
        long n = 1;
        for (int d : shape) n *= d;
        if (n != data.length)
            throw new IllegalArgumentException(name + ": shape " + Arrays.toString(shape) + " holds " + n + " values, got " + data.length);
        this.name = name;
        this.shape = shape.clone();
        this.data = data;
        this.decay = decay;
    }

    public String name() {
        return name;
    }

    public int[] shape() {
        return shape.clone();
    }

    /** Number of values. */
    public int size() {
        return data.length;
    }

    /** The values (live, not a copy). */
    public float[] data() {
        return data;
    }

    /** The gradient (live), or null when the parameter is frozen. */
    public float[] grad() {
        return grad;
    }

    /** Whether this parameter receives gradients. */
    public boolean trainable() {
        return grad != null;
    }

    /** Whether weight decay applies. */
    public boolean decay() {
        return decay;
    }

    /** Makes the parameter trainable (allocating its gradient) or frozen. */
    void setTrainable(boolean on) {
        grad = on ? (grad == null ? new float[data.length] : grad) : null;
    }

    /** Zeroes the gradient. */
    void zeroGrad() {
        if (grad != null) Arrays.fill(grad, 0f);
    }

    long[] longShape() {
        long[] s = new long[shape.length];
        for (int i = 0; i < s.length; i++) s[i] = shape[i];
        return s;
    }
}
