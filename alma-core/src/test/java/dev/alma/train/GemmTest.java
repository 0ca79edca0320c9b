package dev.alma.train;

import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The trainer's three products against float64, on shapes that are not whole tiles: rows that are not multiples of
 * the tiles' 5, token counts that leave a group partly filled, widths with columns past the last whole vector, widths
 * below one vector, and the LoRA rank 16.
 */
class GemmTest {
    private static final int[][] SHAPES = {
            // n, in, out
            {1, 7, 3}, {37, 45, 23}, {70, 16, 12}, {16, 130, 41}, {5, 200, 16}, {130, 64, 9}, {3, 1100, 6},
            {7, 40, 1100}}; // the last: dyw over two panels of w's rows

    private static float[] random(Random rnd, int n) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) v[i] = (float) (2 * rnd.nextDouble() - 1);
        return v;
    }

    @Test
    void productsMatchFloat64AndAccumulateWhereTheySayTheyDo() {
        Random rnd = new Random(7);
        for (int[] s : SHAPES) {
            int n = s[0], in = s[1], out = s[2];
            String shape = n + "x" + in + "x" + out;
            float[] x = random(rnd, n * in), w = random(rnd, out * in), dy = random(rnd, n * out);

            float[] y = new float[n * out];
            Arrays.fill(y, Float.NaN); // overwritten
            Gemm.xwt(x, n, in, w, out, y);
            for (int r = 0; r < n; r++)
                for (int c = 0; c < out; c++) {
                    double ref = 0;
                    for (int k = 0; k < in; k++) ref += (double) x[r * in + k] * w[c * in + k];
                    assertEquals(ref, y[r * out + c], 1e-5 * Math.max(1, in / 8.0), "xwt " + shape + " at " + r + "," + c);
                }

            float[] dx = random(rnd, n * in), dx0 = dx.clone();
            Gemm.dyw(dy, n, out, w, in, dx);
            for (int r = 0; r < n; r++)
                for (int i = 0; i < in; i++) {
                    double ref = dx0[r * in + i];
                    for (int c = 0; c < out; c++) ref += (double) dy[r * out + c] * w[c * in + i];
                    assertEquals(ref, dx[r * in + i], 1e-5 * Math.max(1, out / 8.0), "dyw " + shape + " at " + r + "," + i);
                }

            float[] dw = random(rnd, out * in), dw0 = dw.clone();
            Gemm.dytx(dy, n, out, x, in, dw);
            for (int c = 0; c < out; c++)
                for (int i = 0; i < in; i++) {
                    double ref = dw0[c * in + i];
                    for (int r = 0; r < n; r++) ref += (double) dy[r * out + c] * x[r * in + i];
                    assertEquals(ref, dw[c * in + i], 1e-5 * Math.max(1, n / 8.0), "dytx " + shape + " at " + c + "," + i);
                }
        }
    }

    @Test
    void aProductIsTheSameBitsInEveryRun() {
        // every element is one chain of multiply-adds whatever thread computes it
        Random rnd = new Random(8);
        int n = 70, in = 300, out = 33;
        float[] x = random(rnd, n * in), w = random(rnd, out * in), dy = random(rnd, n * out);
        float[] first = null;
        for (int run = 0; run < 3; run++) {
            float[] y = new float[n * out], dx = new float[n * in], dw = new float[out * in];
            Gemm.xwt(x, n, in, w, out, y);
            Gemm.dyw(dy, n, out, w, in, dx);
            Gemm.dytx(dy, n, out, x, in, dw);
            float[] all = new float[y.length + dx.length + dw.length];
            System.arraycopy(y, 0, all, 0, y.length);
            System.arraycopy(dx, 0, all, y.length, dx.length);
            System.arraycopy(dw, 0, all, y.length + dx.length, dw.length);
            if (first == null) first = all;
            else assertArrayEquals(first, all, "run " + run);
        }
    }
}
