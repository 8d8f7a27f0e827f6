/* Cooperative groups: a block sum with cg::this_thread_block, tiled_partition<32>,
   cg::reduce over each tile, the tile sums in shared memory after block.sync(), then
   tile.shfl_down in the first tile and one atomicAdd per block; and per half-warp
   statistics over tiled_partition<16>: cg::reduce with cg::greater / cg::less, a
   shfl_xor butterfly, ballot / any / all, and a shared-memory tree over the block with
   block.thread_rank(), block.size() and block.sync() in the loop. */
#include <stdio.h>
#include <stdlib.h>
#include <cuda_runtime.h>
#include <cooperative_groups.h>
#include <cooperative_groups/reduce.h>

namespace cg = cooperative_groups;

__global__ void block_sum(const float *in, float *out, int n)
{
    __shared__ float tile_sums[32];
    cg::thread_block block = cg::this_thread_block();
    cg::thread_block_tile<32> tile = cg::tiled_partition<32>(block);
    int i = (int)(block.group_index().x * block.size() + block.thread_rank());
    float v = i < n ? in[i] : 0.0f;
    float s = cg::reduce(tile, v, cg::plus<float>());
    if (tile.thread_rank() == 0)
        tile_sums[tile.meta_group_rank()] = s;
    block.sync();
    if (tile.meta_group_rank() == 0) {
        float t = tile.thread_rank() < tile.meta_group_size() ? tile_sums[tile.thread_rank()] : 0.0f;
        for (int offset = tile.size() / 2; offset > 0; offset /= 2)
            t += tile.shfl_down(t, offset);
        if (tile.thread_rank() == 0)
            atomicAdd(out, t);
    }
}

__global__ void half_stats(const int *in, int *maxes, int *mins, unsigned int *flags, unsigned long long *total, int n)
{
    __shared__ unsigned long long partial[256];
    cg::thread_block block = cg::this_thread_block();
    cg::thread_block_tile<16> half = cg::tiled_partition<16>(block);
    int r = (int)block.thread_rank();
    int i = (int)(blockIdx.x * block.size()) + r;
    int x = i < n ? in[i] : 0;
    int hmax = cg::reduce(half, x, cg::greater<int>());
    int hmin = cg::reduce(half, x, cg::less<int>());
    unsigned int big = half.ballot(x > 50);
    int any_zero = half.any(x == 0);
    int all_pos = half.all(x > 0);
    int y = x;
    for (int m = 1; m < 16; m *= 2) {
        int other = half.shfl_xor(y, m);
        y = max(y, other);
    }
    partial[r] = (unsigned long long)x;
    block.sync();
    for (int s = (int)block.size() / 2; s > 0; s /= 2) {
        if (r < s)
            partial[r] += partial[r + s];
        block.sync();
    }
    if (half.thread_rank() == 0) {
        int h = i / 16;
        maxes[h] = hmax * 1000 + y;
        mins[h] = hmin;
        flags[h] = big * 4u + (unsigned int)(any_zero * 2 + all_pos);
    }
    if (r == 0)
        atomicAdd(total, partial[0]);
}

int main(void)
{
    const int n = 100000, m = 5000, halves = (m + 255) / 256 * 16;
    float *h = (float *)malloc(n * sizeof(float)), sum = 0.0f, *d_in, *d_sum;
    int *hi = (int *)malloc(m * sizeof(int)), *hmax = (int *)malloc(halves * sizeof(int));
    int *hmin = (int *)malloc(halves * sizeof(int)), *d_i, *d_max, *d_min;
    unsigned int *hflags = (unsigned int *)malloc(halves * sizeof(unsigned int)), *d_flags;
    unsigned long long total = 0, *d_total;
    for (int i = 0; i < n; i++)
        h[i] = (float)(i % 17) * 0.25f;
    for (int i = 0; i < m; i++)
        hi[i] = (i * 37 + 11) % 101;
    cudaMalloc(&d_in, n * sizeof(float));
    cudaMalloc(&d_sum, sizeof(float));
    cudaMalloc(&d_i, m * sizeof(int));
    cudaMalloc(&d_max, halves * sizeof(int));
    cudaMalloc(&d_min, halves * sizeof(int));
    cudaMalloc(&d_flags, halves * sizeof(unsigned int));
    cudaMalloc(&d_total, sizeof(unsigned long long));
    cudaMemcpy(d_in, h, n * sizeof(float), cudaMemcpyHostToDevice);
    cudaMemcpy(d_i, hi, m * sizeof(int), cudaMemcpyHostToDevice);
    cudaMemset(d_sum, 0, sizeof(float));
    cudaMemset(d_total, 0, sizeof(unsigned long long));
    block_sum<<<(n + 127) / 128, 128>>>(d_in, d_sum, n);
    half_stats<<<(m + 255) / 256, 256>>>(d_i, d_max, d_min, d_flags, d_total, m);
    cudaMemcpy(&sum, d_sum, sizeof(float), cudaMemcpyDeviceToHost);
    cudaMemcpy(hmax, d_max, halves * sizeof(int), cudaMemcpyDeviceToHost);
    cudaMemcpy(hmin, d_min, halves * sizeof(int), cudaMemcpyDeviceToHost);
    cudaMemcpy(hflags, d_flags, halves * sizeof(unsigned int), cudaMemcpyDeviceToHost);
    cudaMemcpy(&total, d_total, sizeof(unsigned long long), cudaMemcpyDeviceToHost);
    long long max_sum = 0, min_sum = 0, flag_sum = 0;
    for (int k = 0; k < halves; k++) {
        max_sum += (long long)hmax[k] * (k % 7 + 1);
        min_sum += (long long)hmin[k] * (k % 5 + 1);
        flag_sum += (long long)(hflags[k] % 100003) * (k % 3 + 1);
    }
    printf("cg_block_reduce n=%d sum=%.2f m=%d total=%llu maxes=%lld mins=%lld flags=%lld last=%u\n", n, sum, m, total,
           max_sum, min_sum, flag_sum, hflags[halves - 1]);
    cudaFree(d_in); cudaFree(d_sum); cudaFree(d_i); cudaFree(d_max); cudaFree(d_min); cudaFree(d_flags); cudaFree(d_total);
    free(h); free(hi); free(hmax); free(hmin); free(hflags);
    return 0;
}
