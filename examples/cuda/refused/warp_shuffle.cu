/* Must be REFUSED (PCX401): a warp-level reduction with __shfl_down_sync. */
#include <stdio.h>
#include <cuda_runtime.h>

__global__ void warp_sum(const float *in, float *out, int n)
{
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    float v = i < n ? in[i] : 0.0f;
    for (int offset = 16; offset > 0; offset /= 2)
        v += __shfl_down_sync(0xffffffffu, v, offset);
    if ((threadIdx.x & 31) == 0)
        atomicAdd(out, v);
}

int main(void)
{
    float *in, *out;
    cudaMalloc(&in, 1024 * sizeof(float));
    cudaMalloc(&out, sizeof(float));
    warp_sum<<<4, 256>>>(in, out, 1024);
    cudaDeviceSynchronize();
    printf("done\n");
    return 0;
}
