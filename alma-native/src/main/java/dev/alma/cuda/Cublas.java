package dev.alma.cuda;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * cuBLAS's {@code cublasGemmEx} as a baseline for the GEMM kernel (benchmarks and GPU tests only; the backend never
 * uses it). The system's {@code libcublas.so} is called through Java's foreign-function API, so nothing is linked at
 * build time and a machine without cuBLAS simply reports it as unavailable. The bytedeco CUDA presets were not used:
 * their Java classes need the JNI glue ({@code libjnicublas.so}) of the platform jar, which does not fit the 64 MiB
 * that travels to the GPU machine.
 *
 * <p>Where the library is looked for, first match wins: the system property {@value #PATH_PROPERTY} or the
 * environment variable {@code ALMA_CUBLAS} (a file, or a directory holding {@code libcublas.so*}); the directories
 * of {@code java.library.path}, {@code LD_LIBRARY_PATH}, {@code $CUDA_HOME/lib64}, {@code /usr/local/cuda/lib64},
 * {@code /usr/local/cuda/targets/x86_64-linux/lib} and {@code /usr/lib/x86_64-linux-gnu}; finally the dynamic
 * linker's own search for {@code libcublas.so.13} and {@code libcublas.so.12}.
 */
final class Cublas implements AutoCloseable {
    /** System property naming libcublas.so (or its directory). */
    static final String PATH_PROPERTY = "alma.cublas";

    /** cudaDataType / cublasComputeType_t / cublasOperation_t / cublasGemmAlgo_t values of the cuBLAS headers. */
    static final int R_32F = 0, R_16F = 2, R_16BF = 14, COMPUTE_32F = 68, OP_N = 0, OP_T = 1, GEMM_DEFAULT = -1;

    private static final String[] NAMES = {"libcublas.so.13", "libcublas.so.12", "libcublas.so"};

    private final Arena arena = Arena.ofShared();
    private final MethodHandle gemmEx;
    private final MethodHandle destroy;
    private final MemorySegment handle;
    private final MemorySegment alpha;
    private final MemorySegment beta;
    private final String library;
    private final int version;
    private boolean closed;

    private Cublas(Path file, long stream) {
        Linker linker = Linker.nativeLinker();
        Path lt = file.resolveSibling(file.getFileName().toString().replace("libcublas", "libcublasLt"));
        try {
            // libcublas needs libcublasLt of the same directory: load it first so that its soname is known.
            if (Files.exists(lt)) SymbolLookup.libraryLookup(lt, arena);
            SymbolLookup lib = file.isAbsolute() ? SymbolLookup.libraryLookup(file, arena)
                    : SymbolLookup.libraryLookup(file.toString(), arena);
            MethodHandle create = linker.downcallHandle(find(lib, "cublasCreate_v2"),
                    FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.ADDRESS));
            MethodHandle setStream = linker.downcallHandle(find(lib, "cublasSetStream_v2"),
                    FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.ADDRESS));
            MethodHandle getVersion = linker.downcallHandle(find(lib, "cublasGetVersion_v2"),
                    FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.ADDRESS));
            this.destroy = linker.downcallHandle(find(lib, "cublasDestroy_v2"),
                    FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.ADDRESS));
            ValueLayout i = ValueLayout.JAVA_INT, p = ValueLayout.ADDRESS;
            this.gemmEx = linker.downcallHandle(find(lib, "cublasGemmEx"),
                    FunctionDescriptor.of(i, p, i, i, i, i, i, p, p, i, i, p, i, i, p, p, i, i, i, i));
            MemorySegment h = arena.allocate(ValueLayout.ADDRESS);
            check((int) create.invokeExact(h), "cublasCreate");
            this.handle = h.get(ValueLayout.ADDRESS, 0);
            check((int) setStream.invokeExact(handle, MemorySegment.ofAddress(stream)), "cublasSetStream");
            MemorySegment v = arena.allocate(ValueLayout.JAVA_INT);
            check((int) getVersion.invokeExact(handle, v), "cublasGetVersion");
            this.version = v.get(ValueLayout.JAVA_INT, 0);
            this.alpha = arena.allocateFrom(ValueLayout.JAVA_FLOAT, 1f);
            this.beta = arena.allocateFrom(ValueLayout.JAVA_FLOAT, 0f);
            this.library = file.toString();
        } catch (CudaException | IllegalArgumentException e) {
            arena.close();
            throw e;
        } catch (Throwable t) {
            arena.close();
            throw new CudaException("cuBLAS from " + file + ": " + t);
        }
    }

    /** Opens cuBLAS on {@code stream} (a cudaStream_t); throws {@link CudaException} saying what was tried. */
    static Cublas open(long stream) {
        List<String> tried = new ArrayList<>();
        for (Path p : candidates()) {
            try {
                return new Cublas(p, stream);
            } catch (CudaException | IllegalArgumentException e) {
                tried.add(p + " (" + e.getMessage() + ")");
            }
        }
        throw new CudaException("cuBLAS could not be loaded; tried " + String.join("; ", tried)
                + ". Point -D" + PATH_PROPERTY + " or ALMA_CUBLAS at libcublas.so");
    }

    /** The files (absolute) and bare library names tried, in order. */
    static List<Path> candidates() {
        Set<Path> out = new LinkedHashSet<>();
        for (String configured : new String[]{System.getProperty(PATH_PROPERTY), System.getenv("ALMA_CUBLAS")}) {
            if (configured == null || configured.isBlank()) continue;
            Path p = Path.of(configured);
            if (Files.isDirectory(p)) addFrom(p, out);
            else out.add(p.toAbsolutePath());
        }
        List<String> dirs = new ArrayList<>();
        for (String var : new String[]{System.getProperty("java.library.path"), System.getenv("LD_LIBRARY_PATH")})
            if (var != null) dirs.addAll(List.of(var.split(java.io.File.pathSeparator)));
        String cudaHome = System.getenv("CUDA_HOME");
        if (cudaHome != null) dirs.add(cudaHome + "/lib64");
        dirs.addAll(List.of("/usr/local/cuda/lib64", "/usr/local/cuda/targets/x86_64-linux/lib",
                "/usr/lib/x86_64-linux-gnu"));
        for (String d : dirs) if (!d.isBlank()) addFrom(Path.of(d), out);
        for (String name : NAMES) if (!name.endsWith(".so")) out.add(Path.of(name));
        return List.copyOf(out);
    }

    private static void addFrom(Path dir, Set<Path> out) {
        for (String name : NAMES) {
            Path f = dir.resolve(name);
            if (Files.exists(f)) out.add(f.toAbsolutePath());
        }
    }

    private static MemorySegment find(SymbolLookup lib, String symbol) {
        return lib.find(symbol).orElseThrow(() -> new CudaException("symbol " + symbol + " is missing"));
    }

    private static void check(int status, String call) {
        if (status != 0) throw new CudaException(call + " returned cuBLAS status " + status);
    }

    /** The library file (or name) loaded. */
    String library() {
        return library;
    }

    /** cuBLAS's version number, e.g. 130000 for 13.0.0. */
    int version() {
        return version;
    }

    /**
     * {@code C[m, n] = A[m, k] · W[n, k]ᵀ} with row-major {@code A} and {@code W} of {@code inType}
     * ({@link #R_16BF} or {@link #R_16F}), {@code C} of {@code outType} (float32 like {@code alma_gemm}, or the input
     * type), float32 accumulation: alma_gemm's contract, in cuBLAS's column-major terms
     * {@code Cᵀ = op_T(W) · Aᵀ}. Asynchronous on the handle's stream.
     */
    void gemm(long a, long w, long c, int m, int n, int k, int inType, int outType) {
        int status;
        try {
            status = (int) gemmEx.invokeExact(handle, OP_T, OP_N, n, m, k, alpha, MemorySegment.ofAddress(w), inType,
                    k, MemorySegment.ofAddress(a), inType, k, beta, MemorySegment.ofAddress(c), outType, n,
                    COMPUTE_32F, GEMM_DEFAULT);
        } catch (Throwable t) {
            throw new CudaException("cublasGemmEx: " + t);
        }
        check(status, "cublasGemmEx(" + m + "x" + n + "x" + k + ")");
    }

    @Override
    public void close() {
        if (closed) return;
        closed = true;
        try {
            int ignored = (int) destroy.invokeExact(handle);
        } catch (Throwable t) {
            throw new CudaException("cublasDestroy: " + t);
        } finally {
            arena.close();
        }
    }
}
