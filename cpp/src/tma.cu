// Tensor maps for TMA loads (tma.cuh). The encoder is a driver function; the JNI library links only the static CUDA
// runtime, so it is looked up once through cudaGetDriverEntryPointByVersion.
#include "tma.cuh"

#ifndef ALMA_EMU
#include <cudaTypedefs.h>  // PFN_cuTensorMapEncodeTiled_v12000
#include <mutex>

namespace {
PFN_cuTensorMapEncodeTiled_v12000 encoder() {
    static PFN_cuTensorMapEncodeTiled_v12000 fn = nullptr;
    static std::once_flag once;
    std::call_once(once, [] {
        void *p = nullptr;
        cudaDriverEntryPointQueryResult found = cudaDriverEntryPointSymbolNotFound;
        if (cudaGetDriverEntryPointByVersion("cuTensorMapEncodeTiled", &p, 12000, cudaEnableDefault, &found) ==
                cudaSuccess &&
            found == cudaDriverEntryPointSuccess)
            fn = reinterpret_cast<PFN_cuTensorMapEncodeTiled_v12000>(p);
        (void)cudaGetLastError();
    });
    return fn;
}
}  // namespace
#endif

int alma_tensor_map_16bit(CUtensorMap *map, const void *base, int type, int rows, int cols, int box_rows) {
    ALMA_REQUIRE(map != nullptr && base != nullptr && (type == ALMA_BF16 || type == ALMA_F16));
    ALMA_REQUIRE(rows > 0 && cols > 0 && cols % 8 == 0 && ((uintptr_t)base & 15) == 0);
    ALMA_REQUIRE(box_rows >= 1 && box_rows <= 256);
#ifdef ALMA_EMU
    ALMA_CHECK(alma_emu::encode_tensor_map_2d(map, base, (uint64_t)cols, (uint64_t)rows, (uint64_t)cols * 2, 64,
                                              (unsigned)box_rows));
    return 0;
#else
    PFN_cuTensorMapEncodeTiled_v12000 encode = encoder();
    if (encode == nullptr) return (int)cudaErrorNotSupported;
    cuuint64_t dims[2] = {(cuuint64_t)cols, (cuuint64_t)rows};
    cuuint64_t strides[1] = {(cuuint64_t)cols * 2};  // bytes from one row to the next
    cuuint32_t box[2] = {64, (cuuint32_t)box_rows}, unit[2] = {1, 1};
    CUresult r = encode(map, type == ALMA_BF16 ? CU_TENSOR_MAP_DATA_TYPE_BFLOAT16 : CU_TENSOR_MAP_DATA_TYPE_FLOAT16, 2,
                        const_cast<void *>(base), dims, strides, box, unit, CU_TENSOR_MAP_INTERLEAVE_NONE,
                        CU_TENSOR_MAP_SWIZZLE_128B, CU_TENSOR_MAP_L2_PROMOTION_L2_256B,
                        CU_TENSOR_MAP_FLOAT_OOB_FILL_NONE);
    return r == CUDA_SUCCESS ? 0 : (int)cudaErrorInvalidValue;
#endif
}
