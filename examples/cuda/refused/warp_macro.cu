/* Warp-level reduction hidden behind the program's own macros: refused (PCX401) at each
   use, never pasted untranslated into code that cannot compile. */
#include <stdio.h>
#include <cuda_runtime.h>

#define FULL_MASK 0xffffffffu
#define SHUFFLE_DOWN(v, d) __shfl_down_sync(FULL_MASK, v, d)
#define WARP_REDUCE(v) for (int d_ = 16; d_ > 0; d_ /= 2) (v) += SHUFFLE_DOWN(v, d_)
#define LANE_ID (threadIdx.x % warpSize)

__global__ void warp_sums(const float *in, float *out, int n)
{
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    float v = i < n ? in[i] : 0.0f;
    WARP_REDUCE(v);
    if (LANE_ID == 0)
        atomicAdd(out, v);
}

int main(void)
{
    const int n = 1000;
    float h[1000], *d_in, *d_out, sum = 0.0f;
    for (int i = 0; i < n; i++)
        h[i] = 1.0f;
    cudaMalloc(&d_in, sizeof h);
    cudaMalloc(&d_out, sizeof sum);
    cudaMemcpy(d_in, h, sizeof h, cudaMemcpyHostToDevice);
    cudaMemset(d_out, 0, sizeof sum);
    warp_sums<<<(n + 255) / 256, 256>>>(d_in, d_out, n);
    cudaMemcpy(&sum, d_out, sizeof sum, cudaMemcpyDeviceToHost);
    printf("sum=%.1f\n", sum);
    return 0;
}
