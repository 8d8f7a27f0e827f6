/* Must be REFUSED (PCX402): the cooperative groups that are no block or warp scheme.
   A grid group and grid.sync() (a barrier across all blocks of a cooperative launch),
   and coalesced_threads() (the threads active at that point). */
#include <stdio.h>
#include <cooperative_groups.h>
namespace cg = cooperative_groups;

__global__ void two_pass(float *v, float *total, int n)
{
    cg::grid_group grid = cg::this_grid();
    int i = (int)grid.thread_rank();
    if (i < n)
        v[i] *= 2.0f;
    grid.sync();
    if (i < n && v[i] > 4.0f) {
        cg::coalesced_group active = cg::coalesced_threads();
        if (active.thread_rank() == 0)
            atomicAdd(total, (float)active.size());
    }
}

int main(void)
{
    float *v, *total;
    int n = 256;
    cudaMalloc(&v, n * sizeof(float));
    cudaMalloc(&total, sizeof(float));
    void *args[] = {&v, &total, &n};
    cudaLaunchCooperativeKernel((void *)two_pass, 1, 256, args, 0, 0);
    cudaDeviceSynchronize();
    printf("done\n");
    return 0;
}
