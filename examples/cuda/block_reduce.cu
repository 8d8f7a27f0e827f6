/* Block reduction in shared memory (tree with __syncthreads), block partials combined
   with atomicAdd, plus a global maximum with atomicMax. */
#include <stdio.h>
#include <stdlib.h>
#include <cuda_runtime.h>

#define BLOCK 128

__global__ void block_sum(const float *in, float *total, int *maxval, int n)
{
    __shared__ float part[BLOCK];
    unsigned int t = threadIdx.x;
    unsigned int i = blockIdx.x * blockDim.x + threadIdx.x;
    float v = (i < n) ? in[i] : 0.0f;
    part[t] = v;
    if (i < n)
        atomicMax(maxval, (int)v);
    __syncthreads();
    for (unsigned int s = blockDim.x / 2; s > 0; s >>= 1) {
        if (t < s)
            part[t] += part[t + s];
        __syncthreads();
    }
    if (t == 0)
        atomicAdd(total, part[0]);
}

int main(void)
{
    const int n = 5000;
    float *h = (float *)malloc(n * sizeof(float));
    for (int i = 0; i < n; i++)
        h[i] = (float)((i * 37) % 101);
    float *d_in, *d_total;
    int *d_max;
    cudaMalloc(&d_in, n * sizeof(float));
    cudaMalloc(&d_total, sizeof(float));
    cudaMalloc(&d_max, sizeof(int));
    cudaMemcpy(d_in, h, n * sizeof(float), cudaMemcpyHostToDevice);
    cudaMemset(d_total, 0, sizeof(float));
    cudaMemset(d_max, 0, sizeof(int));
    block_sum<<<(n + BLOCK - 1) / BLOCK, BLOCK>>>(d_in, d_total, d_max, n);
    float total = 0.0f;
    int mx = 0;
    cudaMemcpy(&total, d_total, sizeof(float), cudaMemcpyDeviceToHost);
    cudaMemcpy(&mx, d_max, sizeof(int), cudaMemcpyDeviceToHost);
    printf("block_reduce n=%d sum=%.1f max=%d\n", n, total, mx);
    cudaFree(d_in); cudaFree(d_total); cudaFree(d_max);
    free(h);
    return 0;
}
