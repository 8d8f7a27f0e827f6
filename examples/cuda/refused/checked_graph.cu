/* The program's own checks are user code, but what they check may still be a runtime
   API without a translation (CUDA graphs): refused (PCX406) where it is called and where
   a checking macro pastes it, while the helpers themselves are not reported. */
#include <stdio.h>
#include <stdlib.h>
#include <cuda_runtime.h>

#define cudaCheck(x) do { cudaError_t e_ = (x); if (e_ != cudaSuccess) { fprintf(stderr, "%s\n", cudaGetErrorString(e_)); exit(1); } } while (0)
#define REPLAY(exec, s) cudaCheck(cudaGraphLaunch(exec, s))

__global__ void bump(int *v, int n)
{
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n)
        v[i] += 1;
}

int main(void)
{
    const int n = 256;
    int *d, h[256];
    cudaStream_t s;
    cudaGraph_t graph;
    cudaGraphExec_t exec;
    cudaCheck(cudaMalloc(&d, n * sizeof(int)));
    cudaCheck(cudaMemset(d, 0, n * sizeof(int)));
    cudaCheck(cudaStreamCreate(&s));
    cudaCheck(cudaStreamBeginCapture(s, cudaStreamCaptureModeGlobal));
    bump<<<1, n, 0, s>>>(d, n);
    cudaCheck(cudaStreamEndCapture(s, &graph));
    cudaCheck(cudaGraphInstantiate(&exec, graph, 0));
    for (int k = 0; k < 3; k++)
        REPLAY(exec, s);
    cudaCheck(cudaStreamSynchronize(s));
    cudaCheck(cudaMemcpy(h, d, sizeof h, cudaMemcpyDeviceToHost));
    printf("h[0]=%d h[n-1]=%d\n", h[0], h[n - 1]);
    return 0;
}
