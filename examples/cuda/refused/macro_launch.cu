/* Kernel launches inside macro bodies, as benchmarks write them to time several kernels
   alike: the launch is not rewritten inside a macro, so each use of the macro (and of a
   macro that uses it) is refused with PCX407, never left as CUDA that cannot compile. */
#include <stdio.h>
#include <cuda_runtime.h>

__global__ void add_one(int *v, int n)
{
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) v[i] += 1;
}

__global__ void add_two(int *v, int n)
{
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) v[i] += 2;
}

#define RUN(kernel, blocks) do { \
    kernel<<<dim3(blocks), dim3(256)>>>(d, n); \
    cudaDeviceSynchronize(); \
} while (0)
#define RUN_BOTH(blocks) do { RUN(add_one, blocks); RUN(add_two, blocks); } while (0)

int main(void)
{
    const int n = 1000;
    int *d;
    cudaMalloc(&d, n * sizeof(int));
    cudaMemset(d, 0, n * sizeof(int));
    RUN(add_one, (n + 255) / 256);
    RUN_BOTH(4);
    add_two<<<4, 256>>>(d, n);
    int h[n];
    cudaMemcpy(h, d, sizeof(h), cudaMemcpyDeviceToHost);
    printf("%d %d\n", h[0], h[n - 1]);
    cudaFree(d);
    return 0;
}
