/* Unified memory: cudaMallocManaged buffers written on the host, updated by kernels,
   read back on the host after cudaDeviceSynchronize, over several rounds. */
#include <stdio.h>
#include <cuda_runtime.h>

__global__ void scale_shift(float *v, const int *shift, float s, int n)
{
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n)
        v[i] = v[i] * s + (float)shift[i % 4];
}

int main(void)
{
    const int n = 3000;
    float *v;
    int *shift;
    cudaMallocManaged(&v, n * sizeof(float));
    cudaMallocManaged(&shift, 4 * sizeof(int), cudaMemAttachGlobal);
    for (int i = 0; i < n; i++)
        v[i] = (float)(i % 10);
    for (int k = 0; k < 4; k++)
        shift[k] = k;
    double check = 0.0;
    for (int round = 0; round < 3; round++) {
        scale_shift<<<(n + 255) / 256, 256>>>(v + 1, shift, 2.0f, n - 1); /* offset pointer */
        cudaDeviceSynchronize();
        check += v[n - 1] + v[1];
        shift[round % 4] += 1; /* host change seen by the next launch */
    }
    double sum = 0.0;
    for (int i = 0; i < n; i++)
        sum += v[i];
    printf("managed_scale n=%d sum=%.1f check=%.1f v0=%.1f\n", n, sum, check, v[0]);
    cudaFree(v);
    cudaFree(shift);
    return 0;
}
