package dev.alma.backend.cpu;

/**
 * Rotary-embedding angles computed the way Hugging Face transformers computes them in float32:
 * {@code inv_freq[j] = 1 / theta^(2j / dim)} rounded to float, angle = float(position × inv_freq[j]).
 */
final class Rope {
    private Rope() {
    }

    static float[] inverseFrequencies(int headDim, double theta) {
        float[] inv = new float[headDim / 2];
        for (int j = 0; j < inv.length; j++) {
            float exponent = (float) (2 * j) / headDim;
            float pow = (float) Math.pow((float) theta, exponent);
            inv[j] = 1f / pow;
        }
        return inv;
    }

    static void angles(float[] invFreq, int position, float[] cos, float[] sin) {
        for (int j = 0; j < invFreq.length; j++) {
            float angle = (float) position * invFreq[j];
            cos[j] = (float) Math.cos(angle);
            sin[j] = (float) Math.sin(angle);
        }
    }
}
