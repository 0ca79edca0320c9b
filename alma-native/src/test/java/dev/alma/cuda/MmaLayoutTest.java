package dev.alma.cuda;

import org.junit.jupiter.api.Test;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Checks, without a GPU, the register choreography of the tensor-core kernels against the fragment layout the PTX
 * ISA defines for {@code mma.sync.m16n8k16} (16-bit A/B, f32 C): a Java model of the instruction consumes the values
 * each lane of {@code gemv_tc.cu}, {@code gemm.cu} and {@code attention_prefill_tc.cu} puts in its registers (the
 * index expressions are transcribed from the kernels), and the products must equal plain matrix products.
 */
class MmaLayoutTest {
    /** Per lane: 8 A elements, 4 B elements (two per 32-bit register, low half first). */
    private record Lane(float[] a, float[] b) {
    }

    /** D += A·B of one m16n8k16 from the lanes' registers, following the PTX ISA fragment layout. */
    private static void mma(float[][] d, Lane[] lanes) {
        float[][] a = new float[16][16], b = new float[16][8];
        for (int l = 0; l < 32; l++) {
            int g = l >> 2, t = l & 3;
            for (int i = 0; i < 8; i++) a[g + 8 * ((i >> 1) & 1)][2 * t + (i & 1) + 8 * (i >> 2)] = lanes[l].a[i];
            for (int i = 0; i < 4; i++) b[2 * t + (i & 1) + 8 * (i >> 1)][g] = lanes[l].b[i];
        }
        for (int r = 0; r < 16; r++)
            for (int c = 0; c < 8; c++)
                for (int k = 0; k < 16; k++) d[r][c] += a[r][k] * b[k][c];
    }

    /** Element (row, col) of the C fragment lane l holds as its i-th value. */
    private static int[] cIndex(int l, int i) {
        return new int[]{(l >> 2) + 8 * (i >> 1), 2 * (l & 3) + (i & 1)};
    }

    private static float[][] random(Random rnd, int rows, int cols) {
        float[][] m = new float[rows][cols];
        for (float[] row : m) for (int j = 0; j < cols; j++) row[j] = rnd.nextInt(17) - 8;  // exact in float
        return m;
    }

    @Test
    void skinnyGemvPermutesKTheSameWayForWeightsAndTokens() {
        Random rnd = new Random(1);
        float[][] w = random(rnd, 16, 32), x = random(rnd, 8, 32);
        float[][] d = new float[16][8];
        for (int step = 0; step < 2; step++) {
            Lane[] lanes = new Lane[32];
            for (int l = 0; l < 32; l++) {
                int g = l >> 2, t = l & 3, k = 8 * t;
                // va = W[g][k..k+7], vb = W[g+8][k..k+7], vx = X[g][k..k+7]; step 0 uses .x/.y, step 1 .z/.w.
                float[] va = slice(w[g], k), vb = slice(w[g + 8], k), vx = slice(x[g], k);
                int o = 4 * step;
                lanes[l] = new Lane(new float[]{va[o], va[o + 1], vb[o], vb[o + 1], va[o + 2], va[o + 3], vb[o + 2], vb[o + 3]},
                        new float[]{vx[o], vx[o + 1], vx[o + 2], vx[o + 3]});
            }
            mma(d, lanes);
        }
        for (int r = 0; r < 16; r++)
            for (int c = 0; c < 8; c++) {
                float want = 0;
                for (int k = 0; k < 32; k++) want += w[r][k] * x[c][k];
                assertEquals(want, d[r][c], "y[" + c + "][" + r + "]");
            }
    }

    @Test
    void gemmAndAttentionScoresLoadRowMajorTilesAsTheLayoutWants() {
        Random rnd = new Random(2);
        float[][] a = random(rnd, 16, 16), w = random(rnd, 8, 16);  // C = A · Wᵀ (W rows are the n index)
        Lane[] lanes = new Lane[32];
        for (int l = 0; l < 32; l++) {
            int g = l >> 2, t = l & 3;
            // af[0..3] = A[g][2t..], A[g+8][2t..], A[g][2t+8..], A[g+8][2t+8..]; bf = W[g][2t..], W[g][2t+8..]
            lanes[l] = new Lane(new float[]{a[g][2 * t], a[g][2 * t + 1], a[g + 8][2 * t], a[g + 8][2 * t + 1],
                    a[g][2 * t + 8], a[g][2 * t + 9], a[g + 8][2 * t + 8], a[g + 8][2 * t + 9]},
                    new float[]{w[g][2 * t], w[g][2 * t + 1], w[g][2 * t + 8], w[g][2 * t + 9]});
        }
        float[][] d = new float[16][8];
        mma(d, lanes);
        for (int r = 0; r < 16; r++)
            for (int c = 0; c < 8; c++) {
                float want = 0;
                for (int k = 0; k < 16; k++) want += a[r][k] * w[c][k];
                assertEquals(want, d[r][c]);
            }
    }

    @Test
    void attentionProbabilitiesMoveFromAccumulatorsToOperandsAndMeetV() {
        Random rnd = new Random(3);
        float[][] p = random(rnd, 16, 16), v = random(rnd, 16, 8);  // P (16 rows × 16 keys) · V (16 keys × 8 dims)
        // The two S tiles j = 0, 1 (keys 0-7, 8-15) as C fragments: s[j][i] at cIndex(l, i) + 8j columns.
        float[][][] s = new float[32][2][4];
        for (int l = 0; l < 32; l++)
            for (int j = 0; j < 2; j++)
                for (int i = 0; i < 4; i++) {
                    int[] rc = cIndex(l, i);
                    s[l][j][i] = p[rc[0]][rc[1] + 8 * j];
                }
        Lane[] lanes = new Lane[32];
        for (int l = 0; l < 32; l++) {
            int g = l >> 2, t = l & 3;
            // pf[j/2][(j&1)*2] = (s[j][0], s[j][1]); pf[j/2][(j&1)*2+1] = (s[j][2], s[j][3])
            float[] af = {s[l][0][0], s[l][0][1], s[l][0][2], s[l][0][3], s[l][1][0], s[l][1][1], s[l][1][2], s[l][1][3]};
            // b[0] = (V[2t][g], V[2t+1][g]), b[1] = (V[2t+8][g], V[2t+9][g])
            lanes[l] = new Lane(af, new float[]{v[2 * t][g], v[2 * t + 1][g], v[2 * t + 8][g], v[2 * t + 9][g]});
        }
        float[][] d = new float[16][8];
        mma(d, lanes);
        for (int r = 0; r < 16; r++)
            for (int c = 0; c < 8; c++) {
                float want = 0;
                for (int k = 0; k < 16; k++) want += p[r][k] * v[k][c];
                assertEquals(want, d[r][c]);
            }
    }

    private static float[] slice(float[] row, int from) {
        return java.util.Arrays.copyOfRange(row, from, from + 8);
    }
}
