/* Dynamic shared memory (extern __shared__, size from the launch's third argument) and a
   stream with async copies: <<<grid, block, shmem, stream>>>. Each block computes a
   moving-window sum of its segment out of the staged shared buffer. */
#include <stdio.h>
#include <stdlib.h>
#include <cuda_runtime.h>

__global__ void window_sum(const int *in, int *out, int n, int w)
{
    extern __shared__ int stage[];
    int base = blockIdx.x * blockDim.x;
    /* stage blockDim.x + w - 1 values (the block's segment plus a halo) */
    for (int k = threadIdx.x; k < blockDim.x + w - 1; k += blockDim.x)
        stage[k] = (base + k < n) ? in[base + k] : 0;
    __syncthreads();
    int i = base + threadIdx.x;
    if (i < n) {
        int s = 0;
        for (int k = 0; k < w; k++)
            s += stage[threadIdx.x + k];
        out[i] = s;
    }
}

int main(void)
{
    const int n = 3001, w = 5, block = 96;
    int *h = (int *)malloc(n * sizeof(int)), *r = (int *)malloc(n * sizeof(int));
    for (int i = 0; i < n; i++)
        h[i] = (i * 31) % 97 - 40;
    int *d_in, *d_out;
    cudaStream_t stream;
    cudaStreamCreate(&stream);
    cudaMalloc(&d_in, n * sizeof(int));
    cudaMalloc(&d_out, n * sizeof(int));
    cudaMemcpyAsync(d_in, h, n * sizeof(int), cudaMemcpyHostToDevice, stream);
    size_t shmem = (block + w - 1) * sizeof(int);
    window_sum<<<(n + block - 1) / block, block, shmem, stream>>>(d_in, d_out, n, w);
    cudaMemcpyAsync(r, d_out, n * sizeof(int), cudaMemcpyDeviceToHost, stream);
    cudaStreamSynchronize(stream);
    long long sum = 0, wsum = 0;
    for (int i = 0; i < n; i++) {
        sum += r[i];
        wsum += (long long)r[i] * (i % 9);
    }
    printf("dynamic_shared n=%d w=%d sum=%lld wsum=%lld r0=%d rlast=%d\n", n, w, sum, wsum, r[0], r[n - 1]);
    cudaStreamDestroy(stream);
    cudaFree(d_in); cudaFree(d_out);
    free(h); free(r);
    return 0;
}
