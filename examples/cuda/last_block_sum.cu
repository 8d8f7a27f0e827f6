/* A one-pass sum where the last block to finish adds up the blocks' partial sums, the
   pattern of CUDA's threadFenceReduction sample: a block-shared flag, set by thread 0
   after an atomic ticket, decides after a barrier whether the block runs a second,
   barrier-holding reduction.  Every thread reads the flag after the barrier that follows
   its write, so the whole block takes the same branch. */
#include <stdio.h>
#include <stdlib.h>

#define N 100000
#define THREADS 128

__global__ void sum_last_block(const float *in, int n, unsigned int *ticket, volatile float *partial,
                               float *total, int *last_block)
{
    __shared__ bool am_last;
    __shared__ float block_sum;
    __shared__ float lane_sums[THREADS];
    unsigned int tid = threadIdx.x;
    unsigned int i = blockIdx.x * blockDim.x + tid;

    if (tid == 0) block_sum = 0.0f;
    __syncthreads();
    if (i < n) atomicAdd(&block_sum, in[i]);
    __syncthreads();
    if (tid == 0) {
        partial[blockIdx.x] = block_sum;
        __threadfence();
        unsigned int t = atomicAdd(ticket, 1u);
        am_last = (t == gridDim.x - 1);
    }
    __syncthreads();
    if (am_last) {
        float s = 0.0f;
        for (unsigned int b = tid; b < gridDim.x; b += blockDim.x)
            s += partial[b];
        lane_sums[tid] = s;
        __syncthreads();
        for (unsigned int stride = blockDim.x / 2; stride > 0; stride /= 2) {
            if (tid < stride) lane_sums[tid] += lane_sums[tid + stride];
            __syncthreads();
        }
        if (tid == 0) {
            *total = lane_sums[0];
            *last_block = 1;
            *ticket = 0;  /* ready for the next launch */
        }
    }
}

int main(void)
{
    float *h = (float *)malloc(N * sizeof(float));
    for (int i = 0; i < N; i++) h[i] = (float)(i % 17) - 8.0f + (float)(i % 3) * 0.5f;
    float *d_in, *d_partial, *d_total;
    unsigned int *d_ticket;
    int *d_last;
    int blocks = (N + THREADS - 1) / THREADS;
    cudaMalloc(&d_in, N * sizeof(float));
    cudaMalloc(&d_partial, blocks * sizeof(float));
    cudaMalloc(&d_total, sizeof(float));
    cudaMalloc(&d_ticket, sizeof(unsigned int));
    cudaMalloc(&d_last, sizeof(int));
    cudaMemcpy(d_in, h, N * sizeof(float), cudaMemcpyHostToDevice);
    cudaMemset(d_ticket, 0, sizeof(unsigned int));
    for (int rep = 0; rep < 3; rep++) {
        cudaMemset(d_last, 0, sizeof(int));
        sum_last_block<<<blocks, THREADS>>>(d_in, N - rep * 1000, d_ticket, d_partial, d_total, d_last);
        float total;
        int last;
        unsigned int ticket;
        cudaMemcpy(&total, d_total, sizeof(float), cudaMemcpyDeviceToHost);
        cudaMemcpy(&last, d_last, sizeof(int), cudaMemcpyDeviceToHost);
        cudaMemcpy(&ticket, d_ticket, sizeof(unsigned int), cudaMemcpyDeviceToHost);
        printf("n=%d total=%.1f last block ran: %d ticket reset: %u\n", N - rep * 1000, total, last, ticket);
    }
    cudaFree(d_in); cudaFree(d_partial); cudaFree(d_total); cudaFree(d_ticket); cudaFree(d_last);
    free(h);
    return 0;
}
