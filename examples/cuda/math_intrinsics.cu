/* CUDA math intrinsics and overloaded min/max translated to their C forms:
   __expf, __logf, __sinf, __cosf, __powf, __fdividef, rsqrtf, fmaf, __saturatef, min, max. */
#include <stdio.h>
#include <stdlib.h>
#include <math.h>
#include <cuda_runtime.h>

__global__ void intrinsics(const float *x, float *y, int *imax, int n)
{
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) {
        float v = x[i];
        float a = __expf(-v) + __logf(1.0f + v);
        float b = __sinf(v) * __cosf(v) + __powf(1.5f, v * 0.25f);
        float c = __fdividef(a, 1.0f + b * b) + rsqrtf(1.0f + v);
        float d = fmaf(a, 0.5f, c) + __saturatef(v - 1.0f);
        y[i] = max(min(d, 8.0f), -8.0f);
        y[i] += (float)max(min(i % 13, 9), 2);
        atomicMax(imax, min(i, 4242));
    }
}

int main(void)
{
    const int n = 2048;
    float *x = (float *)malloc(n * sizeof(float)), *y = (float *)malloc(n * sizeof(float));
    for (int i = 0; i < n; i++)
        x[i] = (float)(i % 64) / 16.0f;
    float *d_x, *d_y;
    int *d_imax, imax = 0;
    cudaMalloc(&d_x, n * sizeof(float));
    cudaMalloc(&d_y, n * sizeof(float));
    cudaMalloc(&d_imax, sizeof(int));
    cudaMemcpy(d_imax, &imax, sizeof(int), cudaMemcpyHostToDevice);
    cudaMemcpy(d_x, x, n * sizeof(float), cudaMemcpyHostToDevice);
    intrinsics<<<n / 256, 256>>>(d_x, d_y, d_imax, n);
    cudaMemcpy(y, d_y, n * sizeof(float), cudaMemcpyDeviceToHost);
    cudaMemcpy(&imax, d_imax, sizeof(int), cudaMemcpyDeviceToHost);
    double sum = 0.0, wsum = 0.0;
    for (int i = 0; i < n; i++) {
        sum += y[i];
        wsum += y[i] * (i % 5);
    }
    printf("math_intrinsics n=%d sum=%.3f wsum=%.3f y1=%.5f imax=%d\n", n, sum, wsum, y[1], imax);
    cudaFree(d_x); cudaFree(d_y); cudaFree(d_imax);
    free(x); free(y);
    return 0;
}
