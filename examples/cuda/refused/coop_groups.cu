/* Must be REFUSED (PCX402): cooperative groups. */
#include <stdio.h>
#include <cooperative_groups.h>
namespace cg = cooperative_groups;

__global__ void scale(float *v, int n)
{
    cg::thread_block block = cg::this_thread_block();
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n)
        v[i] *= 2.0f;
    block.sync();
}

int main(void)
{
    float *v;
    cudaMalloc(&v, 256 * sizeof(float));
    scale<<<1, 256>>>(v, 256);
    cudaDeviceSynchronize();
    printf("done\n");
    return 0;
}
