package dev.alma.cuda;

import dev.alma.tensor.DType;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;

import static dev.alma.cuda.TestData.*;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The cuBLAS baseline: where the library is looked for, a clear error where it is absent, and (with a GPU and
 * cuBLAS) the tensor-core GEMM against cublasGemmEx on shapes that are not multiples of the tiles.
 */
class CublasTest {

    @Test
    void configuredDirectoryComesFirst() throws Exception {
        Path dir = Files.createTempDirectory("cublas");
        Path lib = Files.createFile(dir.resolve("libcublas.so.13"));
        String before = System.getProperty(Cublas.PATH_PROPERTY);
        System.setProperty(Cublas.PATH_PROPERTY, dir.toString());
        try {
            assertEquals(lib.toAbsolutePath(), Cublas.candidates().getFirst());
            assertTrue(Cublas.candidates().contains(Path.of("libcublas.so.13")), "the linker's own search is last");
        } finally {
            if (before == null) System.clearProperty(Cublas.PATH_PROPERTY);
            else System.setProperty(Cublas.PATH_PROPERTY, before);
        }
    }

    @Test
    void aMissingConfiguredLibraryIsReportedNotCrashed() throws Exception {
        Path bogus = Files.createTempDirectory("cublas").resolve("libcublas.so.13");  // configured but absent
        String before = System.getProperty(Cublas.PATH_PROPERTY);
        System.setProperty(Cublas.PATH_PROPERTY, bogus.toString());
        try {
            // Where a real cuBLAS is found after the bogus file (the GPU machine) opening succeeds; elsewhere the
            // error names every file tried, the bogus one first.
            Cublas blas = null;
            try {
                blas = Cublas.open(0);
            } catch (CudaException e) {
                assertTrue(e.getMessage().contains(bogus.toString()), e.getMessage());
            }
            if (blas != null) blas.close();
        } finally {
            if (before == null) System.clearProperty(Cublas.PATH_PROPERTY);
            else System.setProperty(Cublas.PATH_PROPERTY, before);
        }
    }

    @Test
    void tensorCoreGemmMatchesCublas() {
        GpuAssumptions.assumeDevice();
        try (CudaBackend gpu = new CudaBackend(0)) {
            Cublas blas;
            try {
                blas = Cublas.open(gpu.stream());
            } catch (CudaException e) {
                Assumptions.abort("cuBLAS is not available: " + e.getMessage());
                return;
            }
            try (blas) {
                Random rnd = new Random(7);
                for (int[] s : new int[][]{{130, 200, 72}, {257, 129, 520}, {4096, 96, 128}}) {
                    int m = s[0], n = s[1], k = s[2];
                    for (DType type : new DType[]{DType.BF16, DType.F16}) {
                        int t = type == DType.BF16 ? CudaWeight.BF16 : CudaWeight.F16;
                        CudaWeight a = (CudaWeight) gpu.weight(tensor("a", type, m, k, random(rnd, m * k, 1f)));
                        CudaWeight w = (CudaWeight) gpu.weight(tensor("w", type, n, k, random(rnd, n * k, 1f)));
                        CudaActivations ours = (CudaActivations) gpu.allocate(m, n), ref = (CudaActivations) gpu.allocate(m, n);
                        CudaRuntime.check(AlmaCuda.alma_gemm(a.data.ptr, t, w.data.ptr, t, ours.data.ptr, m, n, k,
                                gpu.stream()), "alma_gemm");
                        blas.gemm(a.data.ptr, w.data.ptr, ref.data.ptr, m, n, k,
                                type == DType.BF16 ? Cublas.R_16BF : Cublas.R_16F, Cublas.R_32F);
                        double err = relError(read(gpu, ours, m), read(gpu, ref, m));
                        assertTrue(err <= 1e-5, type + " " + m + "x" + n + "x" + k + ": relative error " + err);
                    }
                }
            }
        }
    }
}
