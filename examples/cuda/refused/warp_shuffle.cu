/* Must be REFUSED (PCX401): a warp shuffle in a __device__ helper called where it may not run
   (a ?: branch): pcx inlines helpers only where the call surely runs, once (cuda/inline.py). */
#include <stdio.h>
#include <cuda_runtime.h>

__device__ float warp_sum(float v)
{
    for (int offset = 16; offset > 0; offset /= 2)
        v +=
             __shfl_down_sync(0xffffffffu, v, offset);
    return v;
}

__global__ void sums(const float *in, float *out, int n)
{
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    float v = i < n ? warp_sum(in[i]) : 0.0f;
    if ((threadIdx.x & 31) == 0)
        atomicAdd(out, v);
}

int main(void)
{
    float *in, *out;
    cudaMalloc(&in, 1024 * sizeof(float));
    cudaMalloc(&out, sizeof(float));
    sums<<<4, 256>>>(in, out, 1024);
    cudaDeviceSynchronize();
    printf("done\n");
    return 0;
}
