/* Warp functions: a two-level block sum (__shfl_down_sync in every warp, the warp sums in
   shared memory, then __shfl_xor_sync in warp 0 only), and per-warp votes
   (__ballot_sync, __any_sync, __all_sync), a broadcast (__shfl_sync) and an inclusive
   scan with __shfl_up_sync.  A warp is 32 consecutive threads of the block. */
#include <stdio.h>
#include <stdlib.h>
#include <cuda_runtime.h>

#define FULL 0xffffffffu

__global__ void block_sum_warp(const float *in, float *out, int n)
{
    __shared__ float warp_sums[32];
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    int lane = threadIdx.x % warpSize, warp = threadIdx.x / warpSize;
    float v = i < n ? in[i] : 0.0f;
    for (int offset = warpSize / 2; offset > 0; offset /= 2)
        v += __shfl_down_sync(FULL, v, offset);
    if (lane == 0)
        warp_sums[warp] = v;
    __syncthreads();
    if (warp == 0) {
        v = lane < blockDim.x / warpSize ? warp_sums[lane] : 0.0f;
        for (int offset = warpSize / 2; offset > 0; offset /= 2)
            v += __shfl_xor_sync(FULL, v, offset);
        if (lane == 0)
            atomicAdd(out, v);
    }
}

__global__ void warp_votes(const int *in, unsigned int *ballots, int *flags, int *scan, int n)
{
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    int lane = threadIdx.x & 31;
    int x = i < n ? in[i] : 0;
    unsigned int b = __ballot_sync(FULL, x > 5);
    int any_zero = __any_sync(FULL, x == 0);
    int all_small = __all_sync(FULL, x < 10);
    int first = __shfl_sync(FULL, x, 0);
    int s = x;
    for (int d = 1; d < 32; d *= 2) {
        int y = __shfl_up_sync(FULL, s, d);
        if (lane >= d)
            s += y;
    }
    if (i < n)
        scan[i] = s + first;
    if (lane == 0) {
        ballots[i / 32] = b;
        flags[i / 32] = any_zero * 2 + all_small;
    }
}

int main(void)
{
    const int n = 3000, nw = (n + 31) / 32;
    float *h = (float *)malloc(n * sizeof(float)), sum = 0.0f, *d_in, *d_sum;
    int *hi = (int *)malloc(n * sizeof(int)), *hs = (int *)malloc(n * sizeof(int)), hf[128];
    unsigned int hb[128], *d_b;
    int *d_i, *d_f, *d_s;
    for (int i = 0; i < n; i++) {
        h[i] = (float)((i * 7) % 13);
        hi[i] = (i * 37) % 11;
    }
    cudaMalloc(&d_in, n * sizeof(float));
    cudaMalloc(&d_sum, sizeof(float));
    cudaMalloc(&d_i, n * sizeof(int));
    cudaMalloc(&d_s, n * sizeof(int));
    cudaMalloc(&d_b, 128 * sizeof(unsigned int));
    cudaMalloc(&d_f, 128 * sizeof(int));
    cudaMemcpy(d_in, h, n * sizeof(float), cudaMemcpyHostToDevice);
    cudaMemcpy(d_i, hi, n * sizeof(int), cudaMemcpyHostToDevice);
    cudaMemset(d_sum, 0, sizeof(float));
    block_sum_warp<<<(n + 255) / 256, 256>>>(d_in, d_sum, n);
    warp_votes<<<(n + 63) / 64, 64>>>(d_i, d_b, d_f, d_s, n);
    cudaMemcpy(&sum, d_sum, sizeof(float), cudaMemcpyDeviceToHost);
    cudaMemcpy(hs, d_s, n * sizeof(int), cudaMemcpyDeviceToHost);
    cudaMemcpy(hb, d_b, 128 * sizeof(unsigned int), cudaMemcpyDeviceToHost);
    cudaMemcpy(hf, d_f, 128 * sizeof(int), cudaMemcpyDeviceToHost);
    long long scan_sum = 0, ballot_sum = 0, flag_sum = 0;
    for (int i = 0; i < n; i++)
        scan_sum += (long long)hs[i] * (i % 7 + 1);
    for (int w = 0; w < nw; w++) {
        ballot_sum += (long long)(hb[w] % 100003) * (w + 1);
        flag_sum += hf[w] * (w % 5 + 1);
    }
    printf("warp_reduce n=%d sum=%.1f scan=%lld ballots=%lld flags=%lld last=%u\n", n, sum, scan_sum, ballot_sum,
           flag_sum, hb[nw - 1]);
    cudaFree(d_in); cudaFree(d_sum); cudaFree(d_i); cudaFree(d_s); cudaFree(d_b); cudaFree(d_f);
    free(h); free(hi); free(hs);
    return 0;
}
