/* 2D five-point Jacobi stencil: dim3 grid and block, 2D index arithmetic, boundary guard,
   ping-pong buffers kept on the device across 50 launches. */
#include <stdio.h>
#include <stdlib.h>
#include <cuda_runtime.h>

#define NX 130
#define NY 97

__global__ void jacobi2d(const float *in, float *out, int nx, int ny)
{
    int x = blockIdx.x * blockDim.x + threadIdx.x;
    int y = blockIdx.y * blockDim.y + threadIdx.y;
    if (x >= nx || y >= ny)
        return;
    int i = y * nx + x;
    if (x == 0 || y == 0 || x == nx - 1 || y == ny - 1) {
        out[i] = in[i]; /* fixed boundary */
        return;
    }
    out[i] = 0.25f * (in[i - 1] + in[i + 1] + in[i - nx] + in[i + nx]);
}

int main(void)
{
    size_t bytes = NX * NY * sizeof(float);
    float *h = (float *)malloc(bytes);
    for (int y = 0; y < NY; y++)
        for (int x = 0; x < NX; x++)
            h[y * NX + x] = (y == 0) ? 100.0f : (x == NX - 1 ? 50.0f : 0.0f);
    float *d_a, *d_b;
    cudaMalloc(&d_a, bytes);
    cudaMalloc(&d_b, bytes);
    cudaMemcpy(d_a, h, bytes, cudaMemcpyHostToDevice);
    dim3 block(16, 8);
    dim3 grid((NX + block.x - 1) / block.x, (NY + block.y - 1) / block.y);
    for (int it = 0; it < 50; it++) {
        jacobi2d<<<grid, block>>>(d_a, d_b, NX, NY);
        float *t = d_a; d_a = d_b; d_b = t;
    }
    cudaMemcpy(h, d_a, bytes, cudaMemcpyDeviceToHost);
    double sum = 0.0, wsum = 0.0;
    for (int i = 0; i < NX * NY; i++) {
        sum += h[i];
        wsum += h[i] * (i % 13);
    }
    printf("stencil2d %dx%d sum=%.4f wsum=%.4f center=%.6f\n", NX, NY, sum, wsum, h[(NY / 2) * NX + NX / 2]);
    cudaFree(d_a);
    cudaFree(d_b);
    free(h);
    return 0;
}
