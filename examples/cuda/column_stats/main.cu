/* Column and row statistics of a matrix, written as public CUDA benchmarks write them:
   a plain C header whose extern "C" block opens and closes under #ifdef __cplusplus, a
   kernel template with default template arguments (a type and a number), launches
   spelled <<<dim3(grid), dim3(block)>>> around dim3 variables and ints, and a per-row
   tile reduction whose cooperative-groups alias is local to the kernel and whose
   functors are built with braces (cg::plus<float>{}). */
#include <stdio.h>
#include <stdlib.h>
#include <cooperative_groups.h>
#include <cooperative_groups/reduce.h>
#include "checksum.h"

#define ROWS 300
#define COLS 200

template <typename T, typename Acc = double, int ROWS_PER_THREAD = 4>
__global__ void column_sums(const T *m, Acc *sums, int rows, int cols)
{
    int c = blockIdx.x * blockDim.x + threadIdx.x;
    int r0 = blockIdx.y * ROWS_PER_THREAD;
    if (c >= cols) return;
    Acc s = 0;
    for (int r = r0; r < r0 + ROWS_PER_THREAD && r < rows; r++)
        s += (Acc)m[r * cols + c];
    atomicAdd(&sums[c], s);
}

__global__ void row_max_sum(const float *m, float *rmax, float *rsum, int cols)
{
    namespace cg = cooperative_groups;
    cg::thread_block block = cg::this_thread_block();
    cg::thread_block_tile<32> tile = cg::tiled_partition<32>(block);
    int row = blockIdx.x;
    float mx = -1e30f, s = 0.0f;
    for (int c = tile.thread_rank(); c < cols; c += tile.size()) {
        float v = m[row * cols + c];
        mx = v > mx ? v : mx;
        s += v;
    }
    mx = cg::reduce(tile, mx, cg::greater<float>{});
    s = cg::reduce(tile, s, cg::plus<float>{});
    if (tile.thread_rank() == 0) {
        rmax[row] = mx;
        rsum[row] = s;
    }
}

int main(void)
{
    float *h = (float *)malloc(ROWS * COLS * sizeof(float));
    for (int i = 0; i < ROWS * COLS; i++)
        h[i] = (float)((i * 7) % 13 - 6) + (float)(i % 5) * 0.25f;
    float *d_m, *d_max, *d_sum;
    double *d_sums4, *d_sums8;
    cudaMalloc(&d_m, ROWS * COLS * sizeof(float));
    cudaMemcpy(d_m, h, ROWS * COLS * sizeof(float), cudaMemcpyHostToDevice);
    cudaMalloc(&d_sums4, COLS * sizeof(double));
    cudaMalloc(&d_sums8, COLS * sizeof(double));
    cudaMemset(d_sums4, 0, COLS * sizeof(double));
    cudaMemset(d_sums8, 0, COLS * sizeof(double));
    cudaMalloc(&d_max, ROWS * sizeof(float));
    cudaMalloc(&d_sum, ROWS * sizeof(float));

    dim3 block(64);
    dim3 grid((COLS + 63) / 64, (ROWS + 3) / 4);
    column_sums<float><<<dim3(grid), dim3(block)>>>(d_m, d_sums4, ROWS, COLS);
    dim3 grid8((COLS + 63) / 64, (ROWS + 7) / 8);
    column_sums<float, double, 8><<<dim3(grid8), dim3(block)>>>(d_m, d_sums8, ROWS, COLS);
    int nrows = ROWS;
    row_max_sum<<<dim3(nrows), dim3(32)>>>(d_m, d_max, d_sum, COLS);

    double sums4[COLS], sums8[COLS];
    float rmax[ROWS], rsum[ROWS];
    cudaMemcpy(sums4, d_sums4, sizeof(sums4), cudaMemcpyDeviceToHost);
    cudaMemcpy(sums8, d_sums8, sizeof(sums8), cudaMemcpyDeviceToHost);
    cudaMemcpy(rmax, d_max, sizeof(rmax), cudaMemcpyDeviceToHost);
    cudaMemcpy(rsum, d_sum, sizeof(rsum), cudaMemcpyDeviceToHost);

    /* Every value is a multiple of 0.25 well inside float's exact range: sums in any
       order are exact, so the checksums of the bytes are too. */
    print_checksum("column sums (4 rows a thread)", sums4, sizeof(sums4));
    print_checksum("column sums (8 rows a thread)", sums8, sizeof(sums8));
    print_checksum("row maxima", rmax, sizeof(rmax));
    print_checksum("row sums", rsum, sizeof(rsum));
    printf("sums4[0]=%.2f sums8[199]=%.2f rmax[7]=%.2f rsum[299]=%.2f\n", sums4[0], sums8[COLS - 1], rmax[7], rsum[ROWS - 1]);
    cudaFree(d_m); cudaFree(d_sums4); cudaFree(d_sums8); cudaFree(d_max); cudaFree(d_sum);
    free(h);
    return 0;
}
