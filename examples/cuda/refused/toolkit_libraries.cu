/* CUDA toolkit libraries the translator does not translate: half precision and
   cuComplex.  Their headers exist only where CUDA is installed, so each include is
   refused with PCX406 (the library named), never passed to a build that cannot find it
   (cuBLAS's <cublas_v2.h>, cuRAND's host API <curand.h> and the like are refused alike;
   cuRAND's device API, <curand_kernel.h>, is translated: curand_monte_carlo.cu). */
#include <stdio.h>
#include <cuda_fp16.h>
#include <cuComplex.h>

__global__ void rotate(const cuFloatComplex *in, cuFloatComplex *out, __half *re_half, int n)
{
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= n) return;
    out[i] = cuCmulf(in[i], make_cuFloatComplex(0.0f, 1.0f));
    re_half[i] = __float2half(cuCrealf(out[i]));
}

int main(void)
{
    const int n = 256;
    cuFloatComplex h[n];
    for (int i = 0; i < n; i++) h[i] = make_cuFloatComplex((float)i, 1.0f);
    cuFloatComplex *d_in, *d_out;
    __half *d_half;
    cudaMalloc(&d_in, n * sizeof(cuFloatComplex));
    cudaMalloc(&d_out, n * sizeof(cuFloatComplex));
    cudaMalloc(&d_half, n * sizeof(__half));
    cudaMemcpy(d_in, h, sizeof(h), cudaMemcpyHostToDevice);
    rotate<<<1, n>>>(d_in, d_out, d_half, n);
    cudaMemcpy(h, d_out, sizeof(h), cudaMemcpyDeviceToHost);
    printf("%f %f\n", cuCrealf(h[3]), cuCimagf(h[3]));
    cudaFree(d_in);
    cudaFree(d_out);
    cudaFree(d_half);
    return 0;
}
