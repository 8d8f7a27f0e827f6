/* Matrix transpose through a padded __shared__ tile (coalesced reads and writes). */
#include <stdio.h>
#include <stdlib.h>
#include <cuda_runtime.h>

#define TILE 16

__global__ void transpose(const float *in, float *out, int rows, int cols)
{
    __shared__ float tile[TILE][TILE + 1];
    int x = blockIdx.x * TILE + threadIdx.x;
    int y = blockIdx.y * TILE + threadIdx.y;
    if (x < cols && y < rows)
        tile[threadIdx.y][threadIdx.x] = in[y * cols + x];
    __syncthreads();
    x = blockIdx.y * TILE + threadIdx.x;
    y = blockIdx.x * TILE + threadIdx.y;
    if (x < rows && y < cols)
        out[y * rows + x] = tile[threadIdx.x][threadIdx.y];
}

int main(void)
{
    const int rows = 70, cols = 45;
    size_t bytes = rows * cols * sizeof(float);
    float *a = (float *)malloc(bytes), *t = (float *)malloc(bytes);
    for (int i = 0; i < rows * cols; i++)
        a[i] = (float)i;
    float *d_a, *d_t;
    cudaMalloc(&d_a, bytes);
    cudaMalloc(&d_t, bytes);
    cudaMemcpy(d_a, a, bytes, cudaMemcpyHostToDevice);
    dim3 block(TILE, TILE);
    dim3 grid((cols + TILE - 1) / TILE, (rows + TILE - 1) / TILE);
    transpose<<<grid, block>>>(d_a, d_t, rows, cols);
    cudaMemcpy(t, d_t, bytes, cudaMemcpyDeviceToHost);
    double wsum = 0.0;
    for (int i = 0; i < rows * cols; i++)
        wsum += t[i] * (double)(i % 17);
    printf("transpose %dx%d t[1]=%.0f t[last]=%.0f wsum=%.0f\n", rows, cols, t[1], t[rows * cols - 1], wsum);
    cudaFree(d_a); cudaFree(d_t);
    free(a); free(t);
    return 0;
}
