/* Must be REFUSED (PCX404): a kernel that launches a kernel (dynamic parallelism).
   Valid CUDA: nvcc -rdc=true compiles it. */
#include <stdio.h>
#include <cuda_runtime.h>

__global__ void child(float *v, int n)
{
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n)
        v[i] += 1.0f;
}

__global__ void parent(float *v, int n)
{
    if (threadIdx.x == 0 && blockIdx.x == 0)
        child<<<(n + 63) / 64, 64>>>(v, n);
}

int main(void)
{
    float *v;
    cudaMalloc(&v, 256 * sizeof(float));
    parent<<<1, 32>>>(v, 256);
    cudaDeviceSynchronize();
    printf("done\n");
    return 0;
}
