/* The solver: a kernel whose prototype is in stencil.cuh, a __constant__ table, and the
   host loop that owns the device buffers. */
#include "stencil.cuh"

__constant__ float weights[2]; /* centre, neighbours */

__global__ void heat_step(const float *in, float *out)
{
    int x = blockIdx.x * blockDim.x + threadIdx.x, y = blockIdx.y * blockDim.y + threadIdx.y;
    if (x >= NX || y >= NY)
        return;
    if (x == 0 || y == 0 || x == NX - 1 || y == NY - 1)
        out[y * NX + x] = in[y * NX + x];
    else
        out[y * NX + x] = weights[0] * in[y * NX + x] + weights[1] * neighbours(in, x, y);
}

void run_heat(float *host, int steps)
{
    const float w[2] = {0.6f, 0.1f};
    float *a, *b;
    size_t bytes = NX * NY * sizeof(float);
    CUDA_CHECK(cudaMemcpyToSymbol(weights, w, sizeof w));
    CUDA_CHECK(cudaMalloc(&a, bytes));
    CUDA_CHECK(cudaMalloc(&b, bytes));
    CUDA_CHECK(cudaMemcpy(a, host, bytes, cudaMemcpyHostToDevice));
    dim3 block(BX, BY);
    dim3 grid((NX + BX - 1) / BX, (NY + BY - 1) / BY);
    for (int s = 0; s < steps; s++) {
        heat_step<<<grid, block>>>(a, b);
        float *t = a;
        a = b;
        b = t;
    }
    scale_grid<<<grid, block>>>(a, 0.5f);
    CUDA_CHECK(cudaGetLastError());
    CUDA_CHECK(cudaMemcpy(host, a, bytes, cudaMemcpyDeviceToHost));
    CUDA_CHECK(cudaFree(a));
    CUDA_CHECK(cudaFree(b));
}
