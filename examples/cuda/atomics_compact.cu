/* The atomic family: stream compaction with the value atomicAdd returns (capture),
   atomicMin/atomicMax (OpenMP 5.1 atomic compare), atomicExch, atomicCAS and atomicSub.
   The compacted order is nondeterministic, so only order-free checksums are printed. */
#include <stdio.h>
#include <stdlib.h>
#include <cuda_runtime.h>

__global__ void compact(const int *in, int n, int *out, int *count, int *lo, int *hi)
{
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n && in[i] % 3 == 0) {
        int slot = atomicAdd(count, 1);
        out[slot] = in[i];
        atomicMin(lo, in[i]);
        atomicMax(hi, in[i]);
    }
}

__global__ void flags(int *owner, int *last, int *budget, int n)
{
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) {
        int prev;
        prev = atomicCAS(&owner[i % 8], -1, i % 8); /* only the first claim of a slot wins */
        if (prev != -1 && prev != i % 8)
            atomicExch(last, -999); /* never happens: every claim writes the same value */
        atomicSub(budget, 2);
    }
}

int main(void)
{
    const int n = 10000;
    int *h = (int *)malloc(n * sizeof(int));
    for (int i = 0; i < n; i++)
        h[i] = (i * 7919) % 10007;
    int *d_in, *d_out, *d_count, *d_lo, *d_hi;
    cudaMalloc(&d_in, n * sizeof(int));
    cudaMalloc(&d_out, n * sizeof(int));
    cudaMalloc(&d_count, sizeof(int));
    cudaMalloc(&d_lo, sizeof(int));
    cudaMalloc(&d_hi, sizeof(int));
    int zero = 0, big = 1 << 30, neg = -1;
    cudaMemcpy(d_in, h, n * sizeof(int), cudaMemcpyHostToDevice);
    cudaMemcpy(d_count, &zero, sizeof(int), cudaMemcpyHostToDevice);
    cudaMemcpy(d_lo, &big, sizeof(int), cudaMemcpyHostToDevice);
    cudaMemcpy(d_hi, &neg, sizeof(int), cudaMemcpyHostToDevice);
    compact<<<(n + 127) / 128, 128>>>(d_in, n, d_out, d_count, d_lo, d_hi);
    int count, lo, hi;
    cudaMemcpy(&count, d_count, sizeof(int), cudaMemcpyDeviceToHost);
    cudaMemcpy(&lo, d_lo, sizeof(int), cudaMemcpyDeviceToHost);
    cudaMemcpy(&hi, d_hi, sizeof(int), cudaMemcpyDeviceToHost);
    int *out = (int *)malloc(n * sizeof(int));
    cudaMemcpy(out, d_out, count * sizeof(int), cudaMemcpyDeviceToHost);
    long long sum = 0, sq = 0;
    for (int k = 0; k < count; k++) {
        sum += out[k];
        sq += (long long)out[k] * out[k] % 1000;
    }

    int owner[8], last = 7, budget = 100000;
    int *d_owner, *d_last, *d_budget;
    for (int k = 0; k < 8; k++)
        owner[k] = -1;
    cudaMalloc(&d_owner, sizeof owner);
    cudaMalloc(&d_last, sizeof(int));
    cudaMalloc(&d_budget, sizeof(int));
    cudaMemcpy(d_owner, owner, sizeof owner, cudaMemcpyHostToDevice);
    cudaMemcpy(d_last, &last, sizeof(int), cudaMemcpyHostToDevice);
    cudaMemcpy(d_budget, &budget, sizeof(int), cudaMemcpyHostToDevice);
    flags<<<40, 64>>>(d_owner, d_last, d_budget, 2500);
    cudaMemcpy(owner, d_owner, sizeof owner, cudaMemcpyDeviceToHost);
    cudaMemcpy(&last, d_last, sizeof(int), cudaMemcpyDeviceToHost);
    cudaMemcpy(&budget, d_budget, sizeof(int), cudaMemcpyDeviceToHost);
    int osum = 0;
    for (int k = 0; k < 8; k++)
        osum += owner[k];
    printf("atomics_compact count=%d sum=%lld sq=%lld min=%d max=%d owners=%d last=%d budget=%d\n", count, sum, sq,
           lo, hi, osum, last, budget);
    cudaFree(d_in); cudaFree(d_out); cudaFree(d_count); cudaFree(d_lo); cudaFree(d_hi);
    cudaFree(d_owner); cudaFree(d_last); cudaFree(d_budget);
    free(h); free(out);
    return 0;
}
