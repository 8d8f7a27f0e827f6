/* Must be REFUSED (PCX403): a texture object read with tex1Dfetch. */
#include <stdio.h>
#include <cuda_runtime.h>

__global__ void gather(cudaTextureObject_t tex, float *out, int n)
{
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n)
        out[i] = tex1Dfetch<float>(tex, i) * 2.0f;
}

int main(void)
{
    float *out;
    cudaMalloc(&out, 64 * sizeof(float));
    cudaTextureObject_t tex = 0;
    gather<<<1, 64>>>(tex, out, 64);
    cudaDeviceSynchronize();
    printf("done\n");
    return 0;
}
