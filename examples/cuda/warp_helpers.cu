// Warp and block reductions written as __device__ helpers, as libraries write them: a
// template warp sum (its type deduced from the argument), a block sum that calls it twice
// around __syncthreads() and returns the block's total, and a min/max helper that updates
// its arguments through references with `auto` shuffles.  pcx inlines each into the
// kernel before splitting it at its barriers (issue 19: HeCBench's wedford and rmsnorm).
#include <stdio.h>
#include <stdlib.h>
#include <cuda_runtime.h>

#define ROWS 37
#define COLS 1000
#define THREADS 128

template <typename T>
__device__ T warp_sum(T v)
{
#pragma unroll
    for (int offset = 16; offset > 0; offset >>= 1)
        v += __shfl_down_sync(0xffffffff, v, offset);  // lane 0 ends with the warp's sum
    return v;
}

template <typename T>
__device__ T block_sum(T v, T *scratch)
{
    int lane = threadIdx.x % 32, warp = threadIdx.x / 32;
    v = warp_sum(v);
    if (lane == 0)
        scratch[warp] = v;
    __syncthreads();
    if (warp == 0) {
        v = lane < blockDim.x / 32 ? scratch[lane] : (T)0;
        v = warp_sum(v);
        if (lane == 0)
            scratch[0] = v;
    }
    __syncthreads();
    return scratch[0];
}

__device__ void warp_min_max(float &lo, float &hi)
{
    for (int mask = 16; mask > 0; mask >>= 1) {
        auto other_lo = __shfl_xor_sync(0xffffffff, lo, mask);
        auto other_hi = __shfl_xor_sync(0xffffffff, hi, mask);
        lo = fminf(lo, other_lo);
        hi = fmaxf(hi, other_hi);
    }
}

__global__ void row_stats(const float *m, float *mean, float *range, int *count)
{
    __shared__ float partial[THREADS / 32];
    __shared__ int counts[THREADS / 32];
    const float *row = m + blockIdx.x * COLS;
    float s = 0.0f, lo = 1e30f, hi = -1e30f;
    int big = 0;
    for (int j = threadIdx.x; j < COLS; j += blockDim.x) {
        s += row[j];
        lo = fminf(lo, row[j]);
        hi = fmaxf(hi, row[j]);
        big += row[j] > 6.0f;
    }
    float avg = block_sum(s, partial) / COLS;
    int n = block_sum<int>(big, counts);
    warp_min_max(lo, hi);
    if (threadIdx.x == 0) {
        mean[blockIdx.x] = avg;
        count[blockIdx.x] = n;
    }
    if (threadIdx.x % 32 == 0)
        range[blockIdx.x * (THREADS / 32) + threadIdx.x / 32] = hi - lo;
}

int main(void)
{
    const int warps = THREADS / 32;
    float *h = (float *)malloc(ROWS * COLS * sizeof(float));
    float mean[ROWS], range[ROWS * warps];
    int count[ROWS];
    for (int i = 0; i < ROWS * COLS; i++)
        h[i] = (float)((i * 7 + i / 13) % 11);
    float *dm, *dmean, *drange;
    int *dcount;
    cudaMalloc((void **)&dm, ROWS * COLS * sizeof(float));
    cudaMalloc((void **)&dmean, sizeof mean);
    cudaMalloc((void **)&drange, sizeof range);
    cudaMalloc((void **)&dcount, sizeof count);
    cudaMemcpy(dm, h, ROWS * COLS * sizeof(float), cudaMemcpyHostToDevice);
    row_stats<<<ROWS, THREADS>>>(dm, dmean, drange, dcount);
    cudaMemcpy(mean, dmean, sizeof mean, cudaMemcpyDeviceToHost);
    cudaMemcpy(range, drange, sizeof range, cudaMemcpyDeviceToHost);
    cudaMemcpy(count, dcount, sizeof count, cudaMemcpyDeviceToHost);
    double msum = 0, rsum = 0;
    long csum = 0;
    for (int r = 0; r < ROWS; r++) {
        msum += mean[r] * (r + 1);
        csum += count[r];
        for (int w = 0; w < warps; w++)
            rsum += range[r * warps + w] * (w + 1);
    }
    printf("warp_helpers mean[0]=%.4f mean[last]=%.4f weighted=%.4f big=%ld ranges=%.1f\n", mean[0], mean[ROWS - 1],
           msum, csum, rsum);
    cudaFree(dm);
    cudaFree(dmean);
    cudaFree(drange);
    cudaFree(dcount);
    free(h);
    return 0;
}
