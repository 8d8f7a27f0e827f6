/* Histogram: a global-memory version with atomicAdd, and a privatised version with a
   __shared__ histogram per block merged with atomicAdd. */
#include <stdio.h>
#include <stdlib.h>
#include <cuda_runtime.h>

#define BINS 64

__global__ void hist_global(const unsigned char *data, int n, unsigned int *bins)
{
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n)
        atomicAdd(&bins[data[i] % BINS], 1u);
}

__global__ void hist_shared(const unsigned char *data, int n, unsigned int *bins)
{
    __shared__ unsigned int local[BINS];
    for (int b = threadIdx.x; b < BINS; b += blockDim.x)
        local[b] = 0;
    __syncthreads();
    for (int i = blockIdx.x * blockDim.x + threadIdx.x; i < n; i += blockDim.x * gridDim.x)
        atomicAdd(&local[data[i] % BINS], 1u);
    __syncthreads();
    for (int b = threadIdx.x; b < BINS; b += blockDim.x)
        atomicAdd(&bins[b], local[b]);
}

int main(void)
{
    const int n = 200000;
    unsigned char *h = (unsigned char *)malloc(n);
    unsigned int seed = 12345u;
    for (int i = 0; i < n; i++) {
        seed = seed * 1103515245u + 12345u;
        h[i] = (unsigned char)(seed >> 16);
    }
    unsigned char *d_data;
    unsigned int *d_bins;
    unsigned int bins1[BINS], bins2[BINS];
    cudaMalloc(&d_data, n);
    cudaMalloc(&d_bins, BINS * sizeof(unsigned int));
    cudaMemcpy(d_data, h, n, cudaMemcpyHostToDevice);

    cudaMemset(d_bins, 0, BINS * sizeof(unsigned int));
    hist_global<<<(n + 255) / 256, 256>>>(d_data, n, d_bins);
    cudaMemcpy(bins1, d_bins, sizeof bins1, cudaMemcpyDeviceToHost);

    cudaMemset(d_bins, 0, BINS * sizeof(unsigned int));
    hist_shared<<<16, 64>>>(d_data, n, d_bins);
    cudaMemcpy(bins2, d_bins, sizeof bins2, cudaMemcpyDeviceToHost);

    unsigned long long total = 0, weighted = 0;
    int same = 1;
    for (int b = 0; b < BINS; b++) {
        total += bins1[b];
        weighted += (unsigned long long)bins1[b] * (b + 1);
        same &= bins1[b] == bins2[b];
    }
    printf("histogram n=%d total=%llu weighted=%llu bin0=%u bin63=%u same=%d\n", n, total, weighted,
           bins1[0], bins1[BINS - 1], same);
    cudaFree(d_data); cudaFree(d_bins);
    free(h);
    return 0;
}
