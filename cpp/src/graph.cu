// CUDA graphs: capture a stream's launches once, replay them with one launch (the decode step).
#include "common.cuh"

extern "C" {

int alma_graph_begin(void *stream) {
    ALMA_CHECK(cudaStreamBeginCapture(alma_stream(stream), cudaStreamCaptureModeThreadLocal));
    return 0;
}

int alma_graph_end(void *stream, void **exec) {
    *exec = nullptr;
    cudaGraph_t graph = nullptr;
    ALMA_CHECK(cudaStreamEndCapture(alma_stream(stream), &graph));
    cudaGraphExec_t e = nullptr;
    cudaError_t rc = cudaGraphInstantiate(&e, graph, 0);
    cudaGraphDestroy(graph);
    if (rc != cudaSuccess) {
        (void)cudaGetLastError();
        return (int)rc;
    }
    *exec = (void *)e;
    return 0;
}

int alma_graph_launch(void *exec, void *stream) {
    ALMA_CHECK(cudaGraphLaunch((cudaGraphExec_t)exec, alma_stream(stream)));
    return 0;
}

int alma_graph_destroy(void *exec) { ALMA_CHECK(cudaGraphExecDestroy((cudaGraphExec_t)exec)); return 0; }

}  // extern "C"
