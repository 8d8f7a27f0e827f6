/* Error-check helpers the program defines itself (cudaCheck in a header, CUDA_CHECK,
   checkCuda, cudaCheckLastError): user code, not CUDA API.  Their bodies call the
   runtime (cudaGetErrorString, cudaGetLastError, cudaGetErrorName). */
#include <stdio.h>
#include <stdlib.h>
#include <cuda_runtime.h>
#include "user_error_check.h"

static void checkCuda(cudaError_t result, const char *what); /* defined after main */

#define cudaCheckLastError(msg) checkCuda(cudaGetLastError(), msg)

__global__ void scale_shift(float *v, float a, float b, int n)
{
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n)
        v[i] = a * v[i] + b;
}

int main(void)
{
    const int n = 5000;
    size_t bytes = n * sizeof(float);
    float *h = (float *)malloc(bytes), *d = NULL;
    for (int i = 0; i < n; i++)
        h[i] = (float)(i % 97) * 0.5f;
    CUDA_CHECK(cudaMalloc(&d, bytes));
    checkCuda(cudaMemcpy(d, h, bytes, cudaMemcpyHostToDevice), "copy in");
    for (int round = 0; round < 3; round++) {
        scale_shift<<<(n + 127) / 128, 128>>>(d, 1.5f, (float)round, n);
        cudaCheckLastError("scale_shift launch");
    }
    cudaCheck(cudaDeviceSynchronize(), "cudaDeviceSynchronize()", __FILE__, __LINE__);
    CUDA_CHECK(cudaMemcpy(h, d, bytes, cudaMemcpyDeviceToHost));
    CUDA_CHECK(cudaFree(d));
    double sum = 0.0;
    for (int i = 0; i < n; i++)
        sum += h[i];
    printf("user_error_check n=%d h[1]=%.4f h[n-1]=%.4f sum=%.3f checks=%d\n", n, h[1], h[n - 1], sum,
           checks_passed);
    free(h);
    return 0;
}

static void checkCuda(cudaError_t result, const char *what)
{
    if (result != cudaSuccess) {
        fprintf(stderr, "%s: %s (%s)\n", what, cudaGetErrorString(result), cudaGetErrorName(result));
        exit(1);
    }
    checks_passed++;
}
