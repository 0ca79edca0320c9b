package dev.alma.cuda;

import dev.alma.backend.Activations;
import dev.alma.backend.Backend;
import dev.alma.backend.KvCache;
import dev.alma.backend.Weight;
import dev.alma.backend.cpu.CpuBackend;
import dev.alma.io.Quantizer;
import dev.alma.model.LlamaConfig;
import dev.alma.tensor.DType;
import dev.alma.tensor.Tensor;
import org.junit.jupiter.api.Test;

import javax.management.ObjectName;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.management.ManagementFactory;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import static dev.alma.cuda.TestData.*;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Every {@link Backend} operation the CUDA kernels implement, on random shapes that are not multiples of the kernels'
 * tiles (GEMV: 8-element chunks and 4-row blocks; GEMM: 128×128×32 tiles; attention: 4-query blocks, 32-key tiles,
 * head dims not multiples of 32, split key ranges), checked against the float64 {@link Reference}: float32 paths to
 * 1e-5 and paths that round activations to 16 bits to 1e-2, relative to the reference's largest magnitude.
 * A subclass names the backend under test and, optionally, a twin backend whose results it must also match.
 */
abstract class BackendContract {
    static final double F32_TOL = 1e-5, HALF_TOL = 1e-2;

    /** The backend under test (opened once per test class). */
    abstract Backend backend();

    /** A backend the results must match as well (the CPU twin of a device backend), or null. */
    Backend twin() {
        return null;
    }

    /** Tolerance of a matrix product of n rows with weights of type (against float64). */
    abstract double matmulTolerance(DType type, int n);

    /** Tolerance of an attention call over a fresh prompt of n > 1 tokens ({@code prompt}) or any other call. */
    double attentionTolerance(int headDim, int qCols, boolean prompt) {
        return F32_TOL;
    }

    private void check(String what, float[][] got, double[][] ref, double tol) {
        double err = relError(got, ref);
        assertTrue(err <= tol, () -> what + ": relative error " + err + " > " + tol + " on " + backend().name() + " ("
                + worstElements(got, ref) + ")");
    }

    /** Where a result differs most from the reference, and how many elements are off by more than 1% of its scale. */
    private static String worstElements(float[][] got, double[][] ref) {
        double scale = 0;
        for (double[] row : ref) for (double v : row) scale = Math.max(scale, Math.abs(v));
        int wi = 0, wj = 0, off = 0;
        double worst = -1;
        for (int i = 0; i < ref.length; i++)
            for (int j = 0; j < ref[i].length; j++) {
                double d = Math.abs(got[i][j] - ref[i][j]);
                if (d > 0.01 * scale) off++;
                if (d > worst) {
                    worst = d;
                    wi = i;
                    wj = j;
                }
            }
        return "worst at row " + wi + ", column " + wj + ": " + got[wi][wj] + " for " + ref[wi][wj] + "; " + off
                + " elements off by more than 1%";
    }

    private void checkTwin(String what, float[][] got, float[][] twin, double tol) {
        double err = relError(got, twin);
        assertTrue(err <= tol, what + ": " + backend().name() + " differs from its CPU twin by " + err + " > " + tol);
    }

    @Test
    void matmulMatchesFloat64OnOddShapes() {
        Random rnd = new Random(1);
        int[][] shapes = {{1, 8}, {7, 24}, {33, 100}, {130, 264}, {5, 3}};
        int[] ns = {1, 3, 8, 9, 37, 130};
        for (DType type : new DType[]{DType.F32, DType.F16, DType.BF16})
            for (int[] s : shapes)
                for (int n : ns) {
                    int rows = s[0], cols = s[1];
                    float[] w = round(random(rnd, rows * cols, 1f), type);
                    float[][] x = randomRows(rnd, n, cols, 1f);
                    String what = "matmul " + type + " " + rows + "x" + cols + " n=" + n;
                    MatmulRun run = runMatmul(backend(), type, rows, cols, w, x);
                    double[][] ref = Reference.matmul(x, w, rows, cols);
                    double tol = matmulTolerance(type, n);
                    if (relError(run.got, ref) > tol)  // say what was wrong where (see matmulDiagnosis)
                        check(what + " [" + matmulDiagnosis(run, w, x, ref) + "]", run.got, ref, tol);
                    if (twin() != null)
                        checkTwin(what, run.got, runMatmul(twin(), type, rows, cols, w, x).got, tol);
                }
    }

    /**
     * What a failed product had wrong: the output columns off, whether it reads right in one copy (row-by-row reads
     * of 24-60 bytes once lost bytes 8-15 to a JIT-compiled JDK copy loop: see {@code dev.alma.tensor.Segments}),
     * whether the host tensor, the device activations or (through {@link #deviceDiagnosis}) the device's copies of
     * the operands differ from what was meant, and whether the same product run again is right.
     */
    private String matmulDiagnosis(MatmulRun run, float[] w, float[][] x, double[][] ref) {
        Backend b = backend();
        Tensor t = run.t;
        float[][] got = run.got;
        int n = x.length, rows = t.rows(), cols = t.cols();
        StringBuilder d = new StringBuilder("columns off:");
        for (int j = 0; j < rows; j++) {
            double worst = 0, scale = 0;
            for (int i = 0; i < n; i++) {
                worst = Math.max(worst, Math.abs(got[i][j] - ref[i][j]));
                scale = Math.max(scale, Math.abs(ref[i][j]));
            }
            if (worst > 0.01 * scale) d.append(' ').append(j).append(got[0][j] == 0 ? "(zero)" : "");
        }
        float[][] whole = new float[n][rows];
        b.read(run.out, whole);
        d.append("; output read in one copy: relative error ").append(relError(whole, ref));
        d.append("; ").append(smallCopies());
        float[] stored = t.toFloatArray();
        int hostOff = 0;
        for (int i = 0; i < w.length; i++) if (Float.compare(stored[i], w[i]) != 0) hostOff++;
        d.append("; host tensor elements differing from the weights: ").append(hostOff);
        float[][] loaded = read(b, run.xa, n);
        int xOff = 0;
        for (int i = 0; i < n; i++) for (int k = 0; k < cols; k++) if (Float.compare(loaded[i][k], x[i][k]) != 0) xOff++;
        d.append("; device activations differing: ").append(xOff);
        d.append(deviceDiagnosis(t, run.wt, run.xa, x, ref));
        Activations again = b.allocate(n, rows);
        b.matmul(run.xa, run.wt, n, again);
        d.append("; run again: relative error ").append(relError(read(b, again, n), ref));
        return d.toString();
    }

    /** Copies of 4..60 bytes from native memory into a float array, as a download does: the sizes that came out wrong. */
    private static String smallCopies() {
        StringBuilder wrong = new StringBuilder();
        try (Arena arena = Arena.ofConfined()) {
            for (int count = 1; count < 16; count++) {
                MemorySegment src = arena.allocate(count * 4L, 16);
                for (int j = 0; j < count; j++) src.setAtIndex(ValueLayout.JAVA_FLOAT, j, j + 1);
                float[] dst = new float[count];
                MemorySegment.ofArray(dst).asSlice(0, count * 4L).copyFrom(src);
                for (int j = 0; j < count; j++)
                    if (dst[j] != j + 1) {
                        wrong.append(' ').append(count * 4).append("B@").append(j * 4);
                        break;
                    }
            }
        }
        return "small native-to-array copies wrong:" + (wrong.isEmpty() ? " none" : wrong + compiledCopies());
    }

    /** The JIT-compiled forms of the JDK's segment copy methods now installed (jcmd's Compiler.codelist). */
    private static String compiledCopies() {
        try {
            ObjectName cmd = new ObjectName("com.sun.management:type=DiagnosticCommand");
            String list = (String) ManagementFactory.getPlatformMBeanServer().invoke(cmd,
                    "compilerCodelist", new Object[]{null}, new String[]{String[].class.getName()});
            StringBuilder b = new StringBuilder(" (compiled:");
            for (String line : list.split("\n"))
                if (line.contains("SegmentBulkOperations.copy") || line.contains("copyFrom")
                        || line.contains("DeviceBuffer.download"))
                    b.append(" [").append(line.replaceAll(" \\[0x.*", "").strip()).append(']');
            return b.append(')').toString();
        } catch (Exception | LinkageError e) {
            return " (compiled code unknown: " + e + ")";
        }
    }

    /** More of {@link #matmulDiagnosis} that only a device backend can say (its copies of the operands). */
    String deviceDiagnosis(Tensor t, Weight wt, Activations xa, float[][] x, double[][] ref) {
        return "";
    }

    /** A product's operands on the backend and its result. */
    private record MatmulRun(Tensor t, Weight wt, Activations xa, Activations out, float[][] got) {
    }

    private static MatmulRun runMatmul(Backend b, DType type, int rows, int cols, float[] w, float[][] x) {
        Tensor t = tensor("w", type, rows, cols, w);
        Weight wt = b.weight(t);
        Activations xa = load(b, x, x.length + 2, cols);
        Activations out = b.allocate(x.length + 2, rows);
        b.matmul(xa, wt, x.length, out);
        return new MatmulRun(t, wt, xa, out, read(b, out, x.length));
    }

    /**
     * GGUF block types (the CUDA backend keeps Q8_0 as int8 and decodes the others to bf16 at upload): 1- and 5-token
     * products against float64 products of the values the CPU's decoders give, within bf16 rounding of the weights.
     */
    @Test
    void blockQuantizedWeightsMatchFloat64OfTheirDecodedValues() {
        Random rnd = new Random(8);
        int rows = 37, cols = 512;
        for (DType type : new DType[]{DType.Q8_0, DType.Q4_0, DType.Q4_K, DType.Q5_K, DType.Q6_K}) {
            float[] values = random(rnd, rows * cols, 1f);
            ByteBuffer buf = ByteBuffer.allocate((int) type.byteSize((long) rows * cols)).order(ByteOrder.LITTLE_ENDIAN);
            Quantizer.encode(type, values, 0, rows * cols, buf);
            Tensor t = new Tensor("w", type, new long[]{rows, cols}, MemorySegment.ofArray(buf.array()));
            float[] decoded = new float[rows * cols];
            CpuBackend.decodeRows(t, 0, rows, decoded);
            Backend b = backend();
            Weight wt = b.weight(t);
            for (int n : new int[]{1, 5}) {
                float[][] x = randomRows(rnd, n, cols, 1f);
                Activations xa = load(b, x, n, cols), out = b.allocate(n, rows);
                b.matmul(xa, wt, n, out);
                check(type + " " + rows + "x" + cols + " n=" + n, read(b, out, n), Reference.matmul(x, decoded, rows, cols),
                        1e-2);
            }
        }
    }

    @Test
    void rmsNormMatchesFloat64() {
        Random rnd = new Random(2);
        for (int cols : new int[]{1, 31, 257, 4096}) {
            int n = 5;
            float[][] x = randomRows(rnd, n, cols, 3f);
            float[] gamma = random(rnd, cols, 2f);
            for (Backend b : backends()) {
                Activations xa = load(b, x, n, cols);
                Activations out = b.allocate(n, cols);
                b.rmsNorm(xa, b.weight(tensor("g", DType.F32, 0, cols, gamma)), 1e-5f, n, out);
                check("rmsNorm " + cols + " on " + b.name(), read(b, out, n), Reference.rmsNorm(x, gamma, 1e-5f), F32_TOL);
            }
        }
    }

    /**
     * The normalisation that opens each block, with the products that follow (one, or Q/K/V; gate/up SwiGLU), equals
     * RMSNorm then the products in float64, and writes the normalised rows — whether or not the backend folds it in.
     */
    @Test
    void normalisedProductsMatchFloat64AndWriteTheNormalisedRows() {
        Random rnd = new Random(5);
        for (DType type : new DType[]{DType.F32, DType.F16, DType.BF16})
            for (int cols : new int[]{136, 100, 8})
                for (int n : new int[]{1, 3, 9}) {
                    String what = type + " " + cols + " columns n=" + n;
                    float[][] x = randomRows(rnd, n, cols, 3f);
                    float[] gamma = random(rnd, cols, 2f);
                    double[][] hRef = Reference.rmsNorm(x, gamma, 1e-5f);
                    int[] rows = {37, 13, 13};
                    float[][] w = new float[3][];
                    for (int j = 0; j < 3; j++) w[j] = round(random(rnd, rows[j] * cols, 1f), type);
                    Backend b = backend();
                    Weight g = b.weight(tensor("g", DType.F32, 0, cols, gamma));
                    Weight[] ws = weights(b, type, rows, cols, w);
                    Activations[] outs = outputs(b, n + 1, rows);
                    Activations xa = load(b, x, n + 1, cols), h = b.allocate(n + 1, cols);
                    b.rmsNormMatmul(xa, g, 1e-5f, n, h, ws, outs);
                    check("normalised rows (Q/K/V) " + what, read(b, h, n), hRef, F32_TOL);
                    for (int j = 0; j < 3; j++)
                        check("normalised product " + j + " of 3 " + what, read(b, outs[j], n),
                                Reference.matmul(hRef, w[j], rows[j], cols), matmulTolerance(type, n));
                    Activations h1 = b.allocate(n, cols);
                    b.rmsNormMatmul(xa, g, 1e-5f, n, h1, new Weight[]{ws[0]}, new Activations[]{outs[0]});
                    check("normalised rows (one product) " + what, read(b, h1, n), hRef, F32_TOL);
                    check("normalised product " + what, read(b, outs[0], n), Reference.matmul(hRef, w[0], rows[0], cols),
                            matmulTolerance(type, n));
                    // the feed-forward block: gate = silu(h·Wg) * (h·Wu) with Wg = w[1], Wu = w[2]
                    Activations gate = b.allocate(n, rows[1]), up = b.allocate(n, rows[1]), h2 = b.allocate(n, cols);
                    b.rmsNormGateUpSwiglu(xa, g, 1e-5f, n, h2, ws[1], ws[2], gate, up);
                    double[][] gr = Reference.matmul(hRef, w[1], rows[1], cols), ur = Reference.matmul(hRef, w[2], rows[2], cols);
                    for (int i = 0; i < n; i++)
                        for (int j = 0; j < rows[1]; j++) gr[i][j] = gr[i][j] / (1 + Math.exp(-gr[i][j])) * ur[i][j];
                    check("normalised rows (gate/up) " + what, read(b, h2, n), hRef, F32_TOL);
                    check("normalised gate/up SwiGLU " + what, read(b, gate, n), gr, 2 * matmulTolerance(type, n));
                }
    }

    /** The attention block's opening (norm, Q/K/V, RoPE of q and k) against float64, in both RoPE layouts. */
    @Test
    void normalisedQkvWithRopeMatchFloat64() {
        Random rnd = new Random(6);
        int heads = 4, kvHeads = 2, cols = 136;
        for (DType type : new DType[]{DType.F32, DType.BF16})
            for (int hd : new int[]{8, 12, 16, 32})
                for (int n : new int[]{1, 3, 8})
                    for (boolean interleaved : new boolean[]{false, true}) {
                        String what = type + " head dim " + hd + " n=" + n + " interleaved=" + interleaved;
                        float[][] x = randomRows(rnd, n, cols, 3f);
                        float[] gamma = random(rnd, cols, 2f);
                        int[] positions = new int[n];
                        for (int i = 0; i < n; i++) positions[i] = rnd.nextInt(3000);
                        int[] rows = {heads * hd, kvHeads * hd, kvHeads * hd};
                        float[][] w = new float[3][];
                        for (int j = 0; j < 3; j++) w[j] = round(random(rnd, rows[j] * cols, 1f), type);
                        double[][] hRef = Reference.rmsNorm(x, gamma, 1e-5f);
                        double[][][] want = new double[3][][];
                        for (int j = 0; j < 3; j++) want[j] = Reference.matmul(hRef, w[j], rows[j], cols);
                        want[0] = Reference.rope(floats(want[0]), heads, hd, positions, 10000.0, interleaved);
                        want[1] = Reference.rope(floats(want[1]), kvHeads, hd, positions, 10000.0, interleaved);
                        Backend b = backend();
                        Weight g = b.weight(tensor("g", DType.F32, 0, cols, gamma));
                        Weight[] ws = weights(b, type, rows, cols, w);
                        Activations[] outs = outputs(b, n, rows);
                        Activations h = b.allocate(n, cols);
                        b.rmsNormQkvRope(load(b, x, n, cols), g, 1e-5f, n, h, ws, outs, heads, kvHeads, hd, positions,
                                10000.0, interleaved);
                        check("normalised rows " + what, read(b, h, n), hRef, F32_TOL);
                        for (int j = 0; j < 3; j++)
                            check((j == 0 ? "rotated q " : j == 1 ? "rotated k " : "v ") + what, read(b, outs[j], n),
                                    want[j], matmulTolerance(type, n));
                    }
    }

    /** Weights w0, w1, ... of {@code type} with {@code rows[j]} rows each. */
    private static Weight[] weights(Backend b, DType type, int[] rows, int cols, float[][] w) {
        Weight[] ws = new Weight[rows.length];
        for (int j = 0; j < rows.length; j++) ws[j] = b.weight(tensor("w" + j, type, rows[j], cols, w[j]));
        return ws;
    }

    /** One output of {@code n} rows per weight, {@code cols[j]} columns each. */
    private static Activations[] outputs(Backend b, int n, int[] cols) {
        Activations[] outs = new Activations[cols.length];
        for (int j = 0; j < cols.length; j++) outs[j] = b.allocate(n, cols[j]);
        return outs;
    }

    private static float[][] floats(double[][] x) {
        float[][] f = new float[x.length][];
        for (int i = 0; i < x.length; i++) {
            f[i] = new float[x[i].length];
            for (int j = 0; j < f[i].length; j++) f[i][j] = (float) x[i][j];
        }
        return f;
    }

    @Test
    void matmulAddAddsTheProductToItsOutputOnOddShapes() {
        Random rnd = new Random(4);
        int[][] shapes = {{37, 72}, {100, 136}, {5, 8}, {9, 20}};
        for (DType type : new DType[]{DType.F32, DType.F16, DType.BF16})
            for (int[] s : shapes)
                for (int n : new int[]{1, 5, 8, 11}) {
                    int rows = s[0], cols = s[1];
                    float[] w = round(random(rnd, rows * cols, 1f), type);
                    float[][] x = randomRows(rnd, n, cols, 1f), r = randomRows(rnd, n, rows, 1f);
                    double[][] ref = Reference.matmul(x, w, rows, cols);
                    for (int i = 0; i < n; i++) for (int j = 0; j < rows; j++) ref[i][j] += r[i][j];
                    Backend b = backend();
                    Weight wt = b.weight(tensor("w", type, rows, cols, w));
                    Activations xa = load(b, x, n + 1, cols), out = load(b, r, n + 1, rows);
                    b.matmulAdd(xa, wt, n, b.allocate(n + 1, rows), out);
                    check("matmulAdd " + type + " " + rows + "x" + cols + " n=" + n, read(b, out, n), ref,
                            matmulTolerance(type, n));
                }
    }

    @Test
    void readingSeveralRowsAtOnceEqualsReadingEach() {
        Random rnd = new Random(6);
        float[][] x = randomRows(rnd, 5, 37, 1f);
        for (Backend b : backends()) {
            Activations xa = load(b, x, 7, 37);
            float[][] all = new float[4][37];
            b.read(xa, all);
            for (int j = 0; j < 4; j++) {
                float[] one = new float[37];
                b.read(xa, j, one, 0);
                org.junit.jupiter.api.Assertions.assertArrayEquals(one, all[j], b.name() + " row " + j);
                org.junit.jupiter.api.Assertions.assertArrayEquals(x[j], all[j], b.name() + " row " + j);
            }
        }
    }

    @Test
    void ropeOfQueriesAndKeysTogetherIsRopeOfEach() {
        Random rnd = new Random(5);
        int heads = 6, kvHeads = 2, headDim = 40;
        int[] positions = {3, 4, 900, 2};
        float[][] q = randomRows(rnd, positions.length, heads * headDim + 4, 1f);
        float[][] k = randomRows(rnd, positions.length, kvHeads * headDim, 1f);
        for (boolean interleaved : new boolean[]{false, true})
            for (Backend b : backends()) {
                Activations qa = load(b, q, positions.length, q[0].length), ka = load(b, k, positions.length, k[0].length);
                b.ropeQk(qa, heads, ka, kvHeads, headDim, positions, 10000.0, interleaved);
                Activations q1 = load(b, q, positions.length, q[0].length), k1 = load(b, k, positions.length, k[0].length);
                b.rope(q1, heads, headDim, positions, 10000.0, interleaved);
                b.rope(k1, kvHeads, headDim, positions, 10000.0, interleaved);
                String what = "ropeQk interleaved=" + interleaved + " on " + b.name();
                float[][] gq = read(b, qa, positions.length), gk = read(b, ka, positions.length);
                float[][] wq = read(b, q1, positions.length), wk = read(b, k1, positions.length);
                for (int i = 0; i < positions.length; i++) {
                    org.junit.jupiter.api.Assertions.assertArrayEquals(wq[i], gq[i], what + " q row " + i);
                    org.junit.jupiter.api.Assertions.assertArrayEquals(wk[i], gk[i], what + " k row " + i);
                }
            }
    }

    @Test
    void ropeMatchesFloat64InBothLayouts() {
        Random rnd = new Random(3);
        int heads = 3, headDim = 80;
        int[] positions = {0, 1, 17, 511, 4095, 7000};
        float[][] x = randomRows(rnd, positions.length, heads * headDim + 8, 1f);
        for (boolean interleaved : new boolean[]{false, true})
            for (Backend b : backends()) {
                Activations xa = load(b, x, positions.length, x[0].length);
                b.rope(xa, heads, headDim, positions, 10000.0, interleaved);
                check("rope interleaved=" + interleaved + " on " + b.name(), read(b, xa, positions.length),
                        Reference.rope(x, heads, headDim, positions, 10000.0, interleaved), F32_TOL);
            }
    }

    @Test
    void embedGathersRowsOfEveryType() {
        Random rnd = new Random(4);
        int vocab = 50, cols = 36;
        int[] tokens = {3, 0, 49, 3, 17};
        for (DType type : new DType[]{DType.F32, DType.F16, DType.BF16}) {
            float[] table = round(random(rnd, vocab * cols, 1f), type);
            double[][] ref = new double[tokens.length][cols];
            for (int i = 0; i < tokens.length; i++)
                for (int j = 0; j < cols; j++) ref[i][j] = table[tokens[i] * cols + j];
            for (Backend b : backends()) {
                Activations out = b.allocate(tokens.length, cols);
                b.embed(b.weight(tensor("emb", type, vocab, cols, table)), tokens, out);
                check("embed " + type + " on " + b.name(), read(b, out, tokens.length), ref, 0);
            }
        }
    }

    @Test
    void swigluAddScaledAndCopyRowsMatchFloat64() {
        Random rnd = new Random(5);
        int n = 7, cols = 1001;
        float[][] g = randomRows(rnd, n, cols, 6f), u = randomRows(rnd, n, cols, 2f);
        for (Backend b : backends()) {
            Activations ga = load(b, g, n, cols), ua = load(b, u, n, cols);
            b.swiglu(ga, ua, n);
            check("swiglu on " + b.name(), read(b, ga, n), Reference.swiglu(g, u), F32_TOL);
            Activations xa = load(b, g, n, cols);
            b.addScaled(xa, ua, -0.75f, n - 2);
            double[][] ref = new double[n][cols];
            for (int i = 0; i < n; i++)
                for (int j = 0; j < cols; j++) ref[i][j] = g[i][j] + (i < n - 2 ? -0.75 * u[i][j] : 0);
            check("addScaled on " + b.name(), read(b, xa, n), ref, F32_TOL);
            Activations dst = b.allocate(3, cols);
            b.copyRows(ua, new int[]{6, 0, 6}, dst);
            float[][] got = read(b, dst, 3);
            assertEquals(u[6][1000], got[0][1000]);
            assertEquals(u[0][0], got[1][0]);
            assertEquals(u[6][3], got[2][3]);
        }
    }

    /** Attention shapes: heads, kv heads, head dim, prompt length. */
    static final int[][] ATTENTION_CASES = {{4, 2, 64, 37}, {8, 1, 80, 300}, {2, 2, 128, 5}, {6, 3, 40, 1},
            {8, 2, 128, 150}};

    @Test
    void attentionOverPromptsForksAndDecodeStepsMatchesFloat64() {
        for (int[] c : ATTENTION_CASES) {
            List<float[][]> got = attentionScenario(backend(), c, 11);
            List<double[][]> ref = attentionReference(c, 11);
            List<float[][]> tw = twin() == null ? null : attentionScenario(twin(), c, 11);
            for (int s = 0; s < ref.size(); s++) {
                boolean prompt = s < 2 && c[3] > 1;  // step 0 (both layers) is the fresh prompt
                double tol = attentionTolerance(c[2], c[0] * c[2], prompt);
                String what = "attention " + java.util.Arrays.toString(c) + " call " + s;
                check(what, got.get(s), ref.get(s), tol);
                if (tw != null) checkTwin(what, got.get(s), tw.get(s), tol);
            }
        }
    }

    /**
     * The same scenario over an f16 cache: after the prompt every call matches float64 of the keys and values rounded
     * to f16 (to the float32 tolerance: each position is read as the cache holds it, the newest one too), and differs
     * from the f32 cache's result; a fresh prompt's own attention may read its unrounded rows, within f16 rounding.
     */
    @Test
    void attentionOverAnF16CacheMatchesFloat64OfTheRoundedKeysAndValues() {
        for (int[] c : ATTENTION_CASES) {
            List<float[][]> got = attentionScenario(backend(), c, 13, DType.F16);
            List<float[][]> f32 = attentionScenario(backend(), c, 13, DType.F32);
            List<double[][]> ref = attentionReference(c, 13, true);
            List<float[][]> tw = twin() == null ? null : attentionScenario(twin(), c, 13, DType.F16);
            double rounding = 0;
            for (int s = 0; s < ref.size(); s++) {
                boolean prompt = s < 2 && c[3] > 1;
                double tol = prompt ? Math.max(F16_KV_TOL, attentionTolerance(c[2], c[0] * c[2], true))
                        : attentionTolerance(c[2], c[0] * c[2], false);
                String what = "attention over an f16 cache " + java.util.Arrays.toString(c) + " call " + s;
                check(what, got.get(s), ref.get(s), tol);
                if (tw != null) checkTwin(what, got.get(s), tw.get(s), prompt ? tol : 2 * tol);
                if (!prompt) rounding = Math.max(rounding, relError(got.get(s), f32.get(s)));
            }
            assertTrue(rounding > 0, "the f16 cache gave the f32 cache's results: " + java.util.Arrays.toString(c));
        }
    }

    /** Relative difference f16 keys and values may make in an attention output. */
    static final double F16_KV_TOL = 3e-3;

    /** The calls of the scenario: (seq index, positions) per step; seq 1 is forked from seq 0 after the prompt. */
    private record Step(int[] seqs, int[] positions) {
    }

    private static List<Step> steps(int prompt) {
        List<Step> steps = new ArrayList<>();
        int[] p = new int[prompt];
        for (int i = 0; i < prompt; i++) p[i] = i;
        steps.add(new Step(new int[prompt], p));                                   // prompt of seq 0
        steps.add(new Step(new int[]{0, 1}, new int[]{prompt, prompt}));           // both beams decode
        steps.add(new Step(new int[]{1, 0}, new int[]{prompt + 1, prompt + 1}));   // again, other order
        int[] seqs = new int[5], pos = new int[5];
        for (int i = 0; i < 5; i++) pos[i] = prompt + 2 + i;
        steps.add(new Step(seqs, pos));                                             // continued prompt on seq 0
        return steps;
    }

    private static LlamaConfig config(int[] c) {
        return new LlamaConfig(32, c[0] * c[2], 64, 2, c[0], c[1], c[2], 1e-5f, 10000, 4096, false, 1, 2, "float32", false);
    }

    private static List<float[][]> attentionScenario(Backend b, int[] c, long seed) {
        return attentionScenario(b, c, seed, DType.F32);
    }

    private static List<float[][]> attentionScenario(Backend b, int[] c, long seed, DType cacheType) {
        int heads = c[0], kvHeads = c[1], hd = c[2], prompt = c[3];
        LlamaConfig cfg = config(c);
        Random rnd = new Random(seed);
        List<float[][]> outputs = new ArrayList<>();
        try (KvCache cache = b.kvCache(cfg, prompt + 128, cacheType)) {
            int[] handle = {cache.create(), -1};
            boolean forked = false;
            for (Step st : steps(prompt)) {
                if (!forked && st.seqs().length > 0 && max(st.seqs()) == 1) {
                    handle[1] = cache.fork(handle[0]);
                    forked = true;
                }
                int n = st.seqs().length;
                int[] seqs = new int[n];
                for (int i = 0; i < n; i++) seqs[i] = handle[st.seqs()[i]];
                for (int layer = 0; layer < 2; layer++) {
                    float[][] q = randomRows(rnd, n, heads * hd, 1f);
                    float[][] k = randomRows(rnd, n, kvHeads * hd, 1f);
                    float[][] v = randomRows(rnd, n, kvHeads * hd, 1f);
                    Activations qa = load(b, q, n, q[0].length), ka = load(b, k, n, k[0].length),
                            va = load(b, v, n, v[0].length), out = b.allocate(n, heads * hd);
                    b.attention(qa, ka, va, cache, layer, seqs, st.positions(), n, out);
                    outputs.add(read(b, out, n));
                }
            }
        }
        return outputs;
    }

    private static List<double[][]> attentionReference(int[] c, long seed) {
        return attentionReference(c, seed, false);
    }

    /** {@code roundKv}: the keys and values as an f16 cache holds them. */
    private static List<double[][]> attentionReference(int[] c, long seed, boolean roundKv) {
        int heads = c[0], kvHeads = c[1], hd = c[2], prompt = c[3];
        Random rnd = new Random(seed);
        // history[layer][seq] = rows of keys / values by position
        List<List<List<float[]>>> keys = new ArrayList<>(), vals = new ArrayList<>();
        for (int l = 0; l < 2; l++) {
            keys.add(new ArrayList<>(List.of(new ArrayList<>(), new ArrayList<>())));
            vals.add(new ArrayList<>(List.of(new ArrayList<>(), new ArrayList<>())));
        }
        List<double[][]> outputs = new ArrayList<>();
        boolean forked = false;
        for (Step st : steps(prompt)) {
            if (!forked && max(st.seqs()) == 1) {
                for (int l = 0; l < 2; l++) {
                    keys.get(l).set(1, new ArrayList<>(keys.get(l).get(0)));
                    vals.get(l).set(1, new ArrayList<>(vals.get(l).get(0)));
                }
                forked = true;
            }
            int n = st.seqs().length;
            for (int layer = 0; layer < 2; layer++) {
                float[][] q = randomRows(rnd, n, heads * hd, 1f);
                float[][] k = randomRows(rnd, n, kvHeads * hd, 1f);
                float[][] v = randomRows(rnd, n, kvHeads * hd, 1f);
                if (roundKv)
                    for (int i = 0; i < n; i++) {
                        k[i] = round(k[i], DType.F16);
                        v[i] = round(v[i], DType.F16);
                    }
                for (int i = 0; i < n; i++) {
                    List<float[]> ks = keys.get(layer).get(st.seqs()[i]), vs = vals.get(layer).get(st.seqs()[i]);
                    int p = st.positions()[i];
                    if (p == ks.size()) {
                        ks.add(k[i]);
                        vs.add(v[i]);
                    } else {
                        ks.set(p, k[i]);
                        vs.set(p, v[i]);
                    }
                }
                double[][] o = new double[n][];
                for (int i = 0; i < n; i++) {
                    List<float[]> ks = keys.get(layer).get(st.seqs()[i]), vs = vals.get(layer).get(st.seqs()[i]);
                    o[i] = Reference.attention(q[i], ks.toArray(float[][]::new), vs.toArray(float[][]::new),
                            st.positions()[i], heads, kvHeads, hd);
                }
                outputs.add(o);
            }
        }
        return outputs;
    }

    private static int max(int[] a) {
        int m = Integer.MIN_VALUE;
        for (int v : a) m = Math.max(m, v);
        return m;
    }

    private List<Backend> backends() {
        return twin() == null ? List.of(backend()) : List.of(backend(), twin());
    }
}
