/* Tiled matrix multiply with __shared__ tiles and __syncthreads (C = A * B, N x N). */
#include <stdio.h>
#include <stdlib.h>
#include <cuda_runtime.h>

#define TILE 8
#define N 44 /* not a multiple of TILE: partial tiles are zero-padded */

__global__ void matmul_tiled(const float *A, const float *B, float *C, int n)
{
    __shared__ float As[TILE][TILE];
    __shared__ float Bs[TILE][TILE];
    int tx = threadIdx.x, ty = threadIdx.y;
    int row = blockIdx.y * TILE + ty;
    int col = blockIdx.x * TILE + tx;
    float acc = 0.0f;
    for (int t = 0; t < (n + TILE - 1) / TILE; t++) {
        As[ty][tx] = (row < n && t * TILE + tx < n) ? A[row * n + t * TILE + tx] : 0.0f;
        Bs[ty][tx] = (col < n && t * TILE + ty < n) ? B[(t * TILE + ty) * n + col] : 0.0f;
        __syncthreads();
        for (int k = 0; k < TILE; k++)
            acc += As[ty][k] * Bs[k][tx];
        __syncthreads();
    }
    if (row < n && col < n)
        C[row * n + col] = acc;
}

int main(void)
{
    size_t bytes = N * N * sizeof(float);
    float *A = (float *)malloc(bytes), *B = (float *)malloc(bytes), *C = (float *)malloc(bytes);
    for (int i = 0; i < N * N; i++) {
        A[i] = (float)((i * 7) % 11) - 5.0f;
        B[i] = (float)((i * 3) % 13) - 6.0f;
    }
    float *dA, *dB, *dC;
    cudaMalloc(&dA, bytes);
    cudaMalloc(&dB, bytes);
    cudaMalloc(&dC, bytes);
    cudaMemcpy(dA, A, bytes, cudaMemcpyHostToDevice);
    cudaMemcpy(dB, B, bytes, cudaMemcpyHostToDevice);
    dim3 threads(TILE, TILE);
    dim3 blocks((N + TILE - 1) / TILE, (N + TILE - 1) / TILE);
    matmul_tiled<<<blocks, threads>>>(dA, dB, dC, N);
    cudaMemcpy(C, dC, bytes, cudaMemcpyDeviceToHost);
    double trace = 0.0, sum = 0.0;
    for (int i = 0; i < N; i++)
        trace += C[i * N + i];
    for (int i = 0; i < N * N; i++)
        sum += C[i] * ((i % 5) - 2);
    printf("matmul_tiled N=%d trace=%.1f wsum=%.1f C[0]=%.1f C[last]=%.1f\n", N, trace, sum, C[0], C[N * N - 1]);
    cudaFree(dA); cudaFree(dB); cudaFree(dC);
    free(A); free(B); free(C);
    return 0;
}
