/* A program split across two sources and three headers: heat diffusion on a grid. */
#include <stdio.h>
#include <stdlib.h>
#include "stencil.cuh"
#include "util/stats.h"

int main(void)
{
    float *t = (float *)malloc(NX * NY * sizeof(float));
    for (int y = 0; y < NY; y++)
        for (int x = 0; x < NX; x++)
            t[y * NX + x] = initial_temperature(x, y);
    run_heat(t, STEPS);

    /* The header's kernel, launched from this source too. */
    float *d;
    CUDA_CHECK(cudaMalloc(&d, NX * NY * sizeof(float)));
    CUDA_CHECK(cudaMemcpy(d, t, NX * NY * sizeof(float), cudaMemcpyHostToDevice));
    scale_grid<<<dim3((NX + BX - 1) / BX, (NY + BY - 1) / BY), dim3(BX, BY)>>>(d, 3.0f);
    CUDA_CHECK(cudaMemcpy(t, d, NX * NY * sizeof(float), cudaMemcpyDeviceToHost));
    CUDA_CHECK(cudaFree(d));
    printf("multifile_heat %dx%d steps=%d sum=%.3f centre=%.4f\n", NX, NY, STEPS, weighted_sum(t, NX * NY),
           t[(NY / 2) * NX + NX / 2]);
    free(t);
    return 0;
}
