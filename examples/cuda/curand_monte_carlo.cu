/* Monte Carlo with cuRAND's device API (XORWOW, the default curandState): one state per
   thread seeded with curand_init(seed, thread, 0, ...), states kept in device memory
   across launches, a copy in a local for the draws (the usual pattern), curand,
   curand_uniform, curand_normal and curand_uniform_double, and skipahead. */
#include <stdio.h>
#include <stdlib.h>
#include <curand_kernel.h>

__global__ void setup_states(curandState *states, unsigned long long seed, int n)
{
    int id = blockIdx.x * blockDim.x + threadIdx.x;
    if (id < n)
        curand_init(seed, id, 0, &states[id]);
}

__global__ void estimate_pi(curandState *states, int n, int draws, unsigned int *hits, unsigned int *first,
                            float *gauss, double *wide)
{
    int id = blockIdx.x * blockDim.x + threadIdx.x;
    if (id >= n)
        return;
    curandState local = states[id];
    first[id] = curand(&local);
    unsigned int inside = 0;
    for (int k = 0; k < draws; k++) {
        float x = curand_uniform(&local);
        float y = curand_uniform(&local);
        if (x * x + y * y <= 1.0f)
            inside++;
    }
    hits[id] += inside;
    gauss[id] = curand_normal(&local) + curand_normal(&local);
    wide[id] = curand_uniform_double(&local);
    if (id % 7 == 0)
        skipahead(1000ull + id, &local);
    states[id] = local;
}

int main(void)
{
    const int n = 1000, draws = 300, rounds = 3;
    curandState *d_states;
    unsigned int *d_hits, *d_first;
    float *d_gauss;
    double *d_wide;
    cudaMalloc((void **)&d_states, n * sizeof(curandState));
    cudaMalloc((void **)&d_hits, n * sizeof(unsigned int));
    cudaMalloc((void **)&d_first, n * sizeof(unsigned int));
    cudaMalloc((void **)&d_gauss, n * sizeof(float));
    cudaMalloc((void **)&d_wide, n * sizeof(double));
    cudaMemset(d_hits, 0, n * sizeof(unsigned int));

    setup_states<<<(n + 127) / 128, 128>>>(d_states, 20260101ull, n);
    unsigned int *hits = (unsigned int *)malloc(n * sizeof(unsigned int));
    unsigned int *first = (unsigned int *)malloc(n * sizeof(unsigned int));
    float *gauss = (float *)malloc(n * sizeof(float));
    double *wide = (double *)malloc(n * sizeof(double));
    for (int r = 0; r < rounds; r++) {
        estimate_pi<<<(n + 127) / 128, 128>>>(d_states, n, draws, d_hits, d_first, d_gauss, d_wide);
        cudaMemcpy(first, d_first, n * sizeof(unsigned int), cudaMemcpyDeviceToHost);
        cudaMemcpy(gauss, d_gauss, n * sizeof(float), cudaMemcpyDeviceToHost);
        cudaMemcpy(wide, d_wide, n * sizeof(double), cudaMemcpyDeviceToHost);
        unsigned int mix = 0;
        double gsum = 0.0, wsum = 0.0;
        for (int i = 0; i < n; i++) {
            mix ^= first[i] * (unsigned int)(2 * i + 1);
            gsum += gauss[i];
            wsum += wide[i];
        }
        printf("round %d: first[0]=%u first[1]=%u first[999]=%u mix=%u gauss[0]=%.6f gsum=%.4f wsum=%.6f\n", r,
               first[0], first[1], first[999], mix, gauss[0], gsum, wsum);
    }
    cudaMemcpy(hits, d_hits, n * sizeof(unsigned int), cudaMemcpyDeviceToHost);
    unsigned long long total = 0;
    for (int i = 0; i < n; i++)
        total += hits[i];
    printf("hits=%llu of %d pi~%.6f\n", total, n * draws * rounds, 4.0 * (double)total / (double)(n * draws * rounds));
    cudaFree(d_states); cudaFree(d_hits); cudaFree(d_first); cudaFree(d_gauss); cudaFree(d_wide);
    free(hits); free(first); free(gauss); free(wide);
    return 0;
}
