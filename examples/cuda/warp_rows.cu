/* One warp per matrix row, as row-wise softmax and layer-norm kernels are written: the
   warps past the last row return early (the condition is the same for the 32 threads of a
   warp, not for the block), then each warp reduces its row with __shfl_down_sync and with
   cg::reduce over a 32-thread tile.  No __syncthreads() follows the return, so the
   threads that left are skipped by the phases after it. */
#include <stdio.h>
#include <math.h>
#include <cooperative_groups.h>
#include <cooperative_groups/reduce.h>

namespace cg = cooperative_groups;

#define ROWS 45
#define COLS 100
#define WARPS_PER_BLOCK 4

__global__ void row_softmax(const float *in, float *out, float *row_sum, int rows, int cols)
{
    cg::thread_block block = cg::this_thread_block();
    cg::thread_block_tile<32> warp = cg::tiled_partition<32>(block);
    int row = blockIdx.x * warp.meta_group_size() + warp.meta_group_rank();
    if (row >= rows) return;
    float mx = in[row * cols];
    for (int c = warp.thread_rank(); c < cols; c += warp.size())
        mx = fmaxf(mx, in[row * cols + c]);
    mx = cg::reduce(warp, mx, cg::greater<float>());
    float s = 0.0f;
    for (int c = warp.thread_rank(); c < cols; c += warp.size())
        s += expf(in[row * cols + c] - mx);
    for (int offset = 16; offset > 0; offset /= 2)
        s += __shfl_down_sync(0xffffffff, s, offset);
    s = __shfl_sync(0xffffffff, s, 0);
    for (int c = warp.thread_rank(); c < cols; c += warp.size())
        out[row * cols + c] = expf(in[row * cols + c] - mx) / s;
    if (warp.thread_rank() == 0) row_sum[row] = s;
}

__global__ void row_count_positive(const float *in, int *count, int rows, int cols)
{
    int lane = threadIdx.x % 32;
    int row = (blockIdx.x * blockDim.x + threadIdx.x) / 32;
    if (row >= rows) {
        return;
    }
    int n = 0;
    for (int c = lane; c < cols; c += 32)
        n += in[row * cols + c] > 0.0f;
    for (int offset = 16; offset > 0; offset /= 2)
        n += __shfl_xor_sync(0xffffffff, n, offset);
    if (lane == 0) count[row] = n;
}

int main(void)
{
    static float h_in[ROWS * COLS], h_out[ROWS * COLS], h_sum[ROWS];
    static int h_count[ROWS];
    for (int i = 0; i < ROWS * COLS; i++)
        h_in[i] = (float)((i * 37) % 101) / 25.0f - 2.0f;
    float *d_in, *d_out, *d_sum;
    int *d_count;
    cudaMalloc(&d_in, sizeof(h_in));
    cudaMalloc(&d_out, sizeof(h_out));
    cudaMalloc(&d_sum, sizeof(h_sum));
    cudaMalloc(&d_count, sizeof(h_count));
    cudaMemcpy(d_in, h_in, sizeof(h_in), cudaMemcpyHostToDevice);
    int blocks = (ROWS + WARPS_PER_BLOCK - 1) / WARPS_PER_BLOCK;  /* 12 blocks: 3 warps of the last one leave */
    row_softmax<<<blocks, 32 * WARPS_PER_BLOCK>>>(d_in, d_out, d_sum, ROWS, COLS);
    row_count_positive<<<(ROWS * 32 + 255) / 256, 256>>>(d_in, d_count, ROWS, COLS);
    cudaMemcpy(h_out, d_out, sizeof(h_out), cudaMemcpyDeviceToHost);
    cudaMemcpy(h_sum, d_sum, sizeof(h_sum), cudaMemcpyDeviceToHost);
    cudaMemcpy(h_count, d_count, sizeof(h_count), cudaMemcpyDeviceToHost);
    double total = 0.0, weighted = 0.0;
    long positives = 0;
    for (int r = 0; r < ROWS; r++) {
        for (int c = 0; c < COLS; c++) {
            total += h_out[r * COLS + c];
            weighted += h_out[r * COLS + c] * (c % 7 + 1);
        }
        positives += h_count[r];
    }
    printf("softmax total %.5f weighted %.5f\n", total, weighted);
    printf("row sums: %.5f %.5f %.5f\n", h_sum[0], h_sum[ROWS / 2], h_sum[ROWS - 1]);
    printf("positives %ld, row 0: %d, last row: %d\n", positives, h_count[0], h_count[ROWS - 1]);
    cudaFree(d_in); cudaFree(d_out); cudaFree(d_sum); cudaFree(d_count);
    return 0;
}
