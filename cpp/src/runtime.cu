// Device, memory, stream and event management: thin checked wrappers over the CUDA runtime.
#include "common.cuh"
#include <string.h>

int alma_pdl = 0;  // common.cuh: programmatic dependent launches of the decode kernels

extern "C" {

const char *alma_error_string(int code) { return cudaGetErrorString((cudaError_t)code); }

int alma_device_count(int *count) {
    *count = 0;
    ALMA_CHECK(cudaGetDeviceCount(count));
    return 0;
}

int alma_device_info(int device, char *name, int len, int *capability, int *sms) {
    cudaDeviceProp p;
    ALMA_CHECK(cudaGetDeviceProperties(&p, device));
    if (len > 0) {
        strncpy(name, p.name, (size_t)len - 1);
        name[len - 1] = 0;
    }
    *capability = p.major * 10 + p.minor;
    *sms = p.multiProcessorCount;
    return 0;
}

int alma_set_device(int device) { ALMA_CHECK(cudaSetDevice(device)); return 0; }

int alma_set_pdl(int on) {
    if (on) {
        int dev = 0, major = 0;
        ALMA_CHECK(cudaGetDevice(&dev));
        ALMA_CHECK(cudaDeviceGetAttribute(&major, cudaDevAttrComputeCapabilityMajor, dev));
        if (major < 9) return (int)cudaErrorNotSupported;
    }
    alma_pdl = on != 0;
    return 0;
}

int alma_mem_info(size_t *free_bytes, size_t *total_bytes) {
    ALMA_CHECK(cudaMemGetInfo(free_bytes, total_bytes));
    return 0;
}

int alma_malloc(void **d_ptr, size_t bytes) {
    *d_ptr = nullptr;
    ALMA_CHECK(cudaMalloc(d_ptr, bytes));
    return 0;
}

int alma_free(void *d_ptr) { ALMA_CHECK(cudaFree(d_ptr)); return 0; }

int alma_memset(void *d_ptr, int value, size_t bytes, void *stream) {
    ALMA_CHECK(cudaMemsetAsync(d_ptr, value, bytes, alma_stream(stream)));
    return 0;
}

int alma_memcpy_h2d(void *d_dst, const void *h_src, size_t bytes, void *stream) {
    // Pageable host memory: the copy has completed reading h_src when cudaMemcpyAsync returns for small sizes
    // only, so wait for the stream before the caller may reuse h_src.
    ALMA_CHECK(cudaMemcpyAsync(d_dst, h_src, bytes, cudaMemcpyHostToDevice, alma_stream(stream)));
    ALMA_CHECK(cudaStreamSynchronize(alma_stream(stream)));
    return 0;
}

int alma_memcpy_d2h(void *h_dst, const void *d_src, size_t bytes, void *stream) {
    ALMA_CHECK(cudaMemcpyAsync(h_dst, d_src, bytes, cudaMemcpyDeviceToHost, alma_stream(stream)));
    ALMA_CHECK(cudaStreamSynchronize(alma_stream(stream)));
    return 0;
}

int alma_memcpy_d2d(void *d_dst, const void *d_src, size_t bytes, void *stream) {
    ALMA_CHECK(cudaMemcpyAsync(d_dst, d_src, bytes, cudaMemcpyDeviceToDevice, alma_stream(stream)));
    return 0;
}

int alma_stream_create(void **stream) {
    cudaStream_t s = nullptr;
    ALMA_CHECK(cudaStreamCreateWithFlags(&s, cudaStreamNonBlocking));
    *stream = (void *)s;
    return 0;
}

int alma_stream_destroy(void *stream) { ALMA_CHECK(cudaStreamDestroy(alma_stream(stream))); return 0; }

int alma_stream_sync(void *stream) { ALMA_CHECK(cudaStreamSynchronize(alma_stream(stream))); return 0; }

int alma_event_create(void **event) {
    cudaEvent_t e = nullptr;
    ALMA_CHECK(cudaEventCreate(&e));
    *event = (void *)e;
    return 0;
}

int alma_event_destroy(void *event) { ALMA_CHECK(cudaEventDestroy((cudaEvent_t)event)); return 0; }

int alma_event_record(void *event, void *stream) {
    ALMA_CHECK(cudaEventRecord((cudaEvent_t)event, alma_stream(stream)));
    return 0;
}

int alma_event_elapsed(void *start, void *end, float *ms) {
    ALMA_CHECK(cudaEventSynchronize((cudaEvent_t)end));
    ALMA_CHECK(cudaEventElapsedTime(ms, (cudaEvent_t)start, (cudaEvent_t)end));
    return 0;
}

int alma_event_sync(void *event) { ALMA_CHECK(cudaEventSynchronize((cudaEvent_t)event)); return 0; }

int alma_malloc_host(void **h_ptr, size_t bytes) {
    *h_ptr = nullptr;
    ALMA_CHECK(cudaMallocHost(h_ptr, bytes));
    return 0;
}

int alma_free_host(void *h_ptr) { ALMA_CHECK(cudaFreeHost(h_ptr)); return 0; }

int alma_memcpy_h2d_async(void *d_dst, const void *h_src, size_t bytes, void *stream) {
    ALMA_CHECK(cudaMemcpyAsync(d_dst, h_src, bytes, cudaMemcpyHostToDevice, alma_stream(stream)));
    return 0;
}

}  // extern "C"
