/* A __device__ helper function, a __host__ __device__ function used on both sides, and
   __constant__ filter coefficients set with cudaMemcpyToSymbol (1D convolution). */
#include <stdio.h>
#include <stdlib.h>
#include <cuda_runtime.h>

#define RADIUS 3
#define WIDTH (2 * RADIUS + 1)

__constant__ float weights[WIDTH];
__constant__ int clamp_hi;

__host__ __device__ int clampi(int v, int lo, int hi)
{
    return v < lo ? lo : (v > hi ? hi : v);
}

__device__ float tap(const float *x, int i, int n, int k)
{
    return weights[k] * x[clampi(i + k - RADIUS, 0, n - 1)];
}

__global__ void convolve(const float *x, float *y, int n)
{
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) {
        float s = 0.0f;
        for (int k = 0; k < WIDTH; k++)
            s += tap(x, i, n, k);
        y[i] = (float)clampi((int)s, 0, clamp_hi);
    }
}

int main(void)
{
    const int n = 4099;
    float w[WIDTH] = {1, 2, 3, 4, 3, 2, 1};
    int hi = 500;
    float *x = (float *)malloc(n * sizeof(float)), *y = (float *)malloc(n * sizeof(float));
    for (int i = 0; i < n; i++)
        x[i] = (float)((i * 13) % 50);
    cudaMemcpyToSymbol(weights, w, sizeof(w));
    cudaMemcpyToSymbol(clamp_hi, &hi, sizeof(int), 0, cudaMemcpyHostToDevice);
    float *d_x, *d_y;
    cudaMalloc(&d_x, n * sizeof(float));
    cudaMalloc(&d_y, n * sizeof(float));
    cudaMemcpy(d_x, x, n * sizeof(float), cudaMemcpyHostToDevice);
    convolve<<<(n + 127) / 128, 128>>>(d_x, d_y, n);
    cudaMemcpy(y, d_y, n * sizeof(float), cudaMemcpyDeviceToHost);
    float back[WIDTH];
    cudaMemcpyFromSymbol(back, weights, sizeof(back));
    double sum = 0.0;
    int clipped = 0;
    for (int i = 0; i < n; i++) {
        sum += y[i];
        clipped += y[i] == (float)hi;
    }
    printf("device_constant n=%d sum=%.1f clipped=%d y[0]=%.1f y[n-1]=%.1f w3=%.1f host_clamp=%d\n", n, sum,
           clipped, y[0], y[n - 1], back[3], clampi(-4, 0, 10));
    cudaFree(d_x); cudaFree(d_y);
    free(x); free(y);
    return 0;
}
