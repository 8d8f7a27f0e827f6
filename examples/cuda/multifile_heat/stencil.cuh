/* Kernels and device code shared by both sources. */
#ifndef HEAT_STENCIL_CUH
#define HEAT_STENCIL_CUH
#include "common.h"
#include "cuda_check.cuh"

#define BX 16
#define BY 8

/* A __device__ helper defined in the header: every source that includes it gets it. */
static __device__ __forceinline__ float neighbours(const float *t, int x, int y)
{
    return t[y * NX + x - 1] + t[y * NX + x + 1] + t[(y - 1) * NX + x] + t[(y + 1) * NX + x];
}

/* A kernel defined in the header (static: one per including source). */
static __global__ void scale_grid(float *t, float s)
{
    int x = blockIdx.x * blockDim.x + threadIdx.x, y = blockIdx.y * blockDim.y + threadIdx.y;
    if (x < NX && y < NY)
        t[y * NX + x] *= s;
}

/* Defined in stencil.cu. */
__global__ void heat_step(const float *in, float *out);
void run_heat(float *host, int steps);
#endif
