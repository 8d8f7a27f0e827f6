/* The program's own error checks in the four shapes CUDA code usually gives them, all
   defined in this file: a do/while cudaCheck macro, a checkCuda function taking the file
   and line, CHECK_CUDA over it, and gpuErrchk over gpuAssert.  None of them is CUDA
   API; their bodies use the API (cudaError_t, cudaSuccess, cudaGetErrorString,
   cudaGetErrorName), which translates like any other use. */
#include <stdio.h>
#include <stdlib.h>
#include <cuda_runtime.h>

static int checks = 0; /* every check that passed */

#define cudaCheck(x)                                                                   \
    do {                                                                               \
        cudaError_t e_ = (x);                                                          \
        if (e_ != cudaSuccess) {                                                       \
            fprintf(stderr, "%s:%d: %s\n", __FILE__, __LINE__, cudaGetErrorString(e_)); \
            exit(EXIT_FAILURE);                                                        \
        }                                                                              \
        checks++;                                                                      \
    } while (0)

inline void checkCuda(cudaError_t e, const char *file, int line)
{
    if (e != cudaSuccess) {
        fprintf(stderr, "%s:%d: CUDA error %s: %s\n", file, line, cudaGetErrorName(e), cudaGetErrorString(e));
        exit(EXIT_FAILURE);
    }
    checks++;
}

#define CHECK_CUDA(call) checkCuda((call), __FILE__, __LINE__)

static void gpuAssert(cudaError_t code, const char *file, int line, int abort_on_error)
{
    if (code != cudaSuccess) {
        fprintf(stderr, "gpuAssert: %s %s %d\n", cudaGetErrorString(code), file, line);
        if (abort_on_error)
            exit((int)code);
        return;
    }
    checks++;
}

#define gpuErrchk(ans) { gpuAssert((ans), __FILE__, __LINE__, 1); }

__global__ void fill(float *x, int n)
{
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n)
        x[i] = (float)(i % 13) * 0.25f;
}

__global__ void axpy(float a, const float *x, float *y, int n)
{
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n)
        y[i] = a * x[i] + y[i];
}

__global__ void count_above(const float *y, float threshold, int *count, int n)
{
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n && y[i] > threshold)
        atomicAdd(count, 1);
}

/* A helper of the program that checks its own calls. */
static float *device_copy(const float *h, int n)
{
    float *d = NULL;
    CHECK_CUDA(cudaMalloc((void **)&d, n * sizeof(float)));
    CHECK_CUDA(cudaMemcpy(d, h, n * sizeof(float), cudaMemcpyHostToDevice));
    return d;
}

int main(void)
{
    const int n = 3001, threads = 128, blocks = (n + threads - 1) / threads;
    float *h = (float *)malloc(n * sizeof(float)), *x = NULL, *y;
    int *count, above = 0;
    for (int i = 0; i < n; i++)
        h[i] = (float)(i % 7) - 3.0f;

    cudaCheck(cudaMalloc(&x, n * sizeof(float)));
    y = device_copy(h, n);
    gpuErrchk(cudaMalloc(&count, sizeof(int)));
    gpuErrchk(cudaMemset(count, 0, sizeof(int)));

    fill<<<blocks, threads>>>(x, n);
    cudaCheck(cudaGetLastError());
    for (int k = 1; k <= 4; k++) {
        axpy<<<blocks, threads>>>(0.5f * k, x, y, n);
        gpuErrchk(cudaPeekAtLastError());
    }
    CHECK_CUDA(cudaDeviceSynchronize());
    count_above<<<blocks, threads>>>(y, 2.0f, count, n);
    checkCuda(cudaGetLastError(), __FILE__, __LINE__);

    cudaCheck(cudaMemcpy(h, y, n * sizeof(float), cudaMemcpyDeviceToHost));
    gpuErrchk(cudaMemcpy(&above, count, sizeof(int), cudaMemcpyDeviceToHost));
    double sum = 0.0;
    for (int i = 0; i < n; i++)
        sum += h[i];
    printf("user_check n=%d y[0]=%.3f y[12]=%.3f y[n-1]=%.3f sum=%.3f above=%d checks=%d\n", n, h[0], h[12],
           h[n - 1], sum, above, checks);
    cudaCheck(cudaFree(x));
    CHECK_CUDA(cudaFree(y));
    gpuErrchk(cudaFree(count));
    free(h);
    return 0;
}
