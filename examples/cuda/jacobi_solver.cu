/* A multi-kernel iterative solver: Jacobi for the 1D Poisson problem -u'' = f with the
   iterate kept on the device; every 100 iterations a residual kernel (shared-memory
   block reduction) and one copy of a scalar decide convergence. */
#include <stdio.h>
#include <stdlib.h>
#include <cuda_runtime.h>

#define BLOCK 64

__global__ void jacobi_step(const double *u, double *unew, const double *f, double h2, int n)
{
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i == 0 || i == n - 1) {
        unew[i] = 0.0;
    } else if (i < n - 1) {
        unew[i] = 0.5 * (u[i - 1] + u[i + 1] + h2 * f[i]);
    }
}

__global__ void residual(const double *u, const double *f, double h2, int n, double *partials)
{
    __shared__ double r[BLOCK];
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    double v = 0.0;
    if (i > 0 && i < n - 1) {
        double d = (2.0 * u[i] - u[i - 1] - u[i + 1]) / h2 - f[i];
        v = d * d;
    }
    r[threadIdx.x] = v;
    __syncthreads();
    for (int s = BLOCK / 2; s > 0; s /= 2) {
        if (threadIdx.x < s)
            r[threadIdx.x] += r[threadIdx.x + s];
        __syncthreads();
    }
    if (threadIdx.x == 0)
        partials[blockIdx.x] = r[0];
}

int main(void)
{
    const int n = 17;
    const double h = 1.0 / (n - 1), h2 = h * h;
    const int blocks = (n + BLOCK - 1) / BLOCK;
    double *f = (double *)malloc(n * sizeof(double)), *u = (double *)malloc(n * sizeof(double));
    double *partials = (double *)malloc(blocks * sizeof(double));
    for (int i = 0; i < n; i++) {
        f[i] = 1.0 + (i % 3);
        u[i] = 0.0;
    }
    double *d_u, *d_unew, *d_f, *d_part;
    cudaMalloc(&d_u, n * sizeof(double));
    cudaMalloc(&d_unew, n * sizeof(double));
    cudaMalloc(&d_f, n * sizeof(double));
    cudaMalloc(&d_part, blocks * sizeof(double));
    cudaMemcpy(d_u, u, n * sizeof(double), cudaMemcpyHostToDevice);
    cudaMemcpy(d_f, f, n * sizeof(double), cudaMemcpyHostToDevice);
    int it = 0;
    double res = 0.0;
    for (int check = 0; check < 20; check++) {
        for (int k = 0; k < 100; k++, it++) {
            jacobi_step<<<blocks, BLOCK>>>(d_u, d_unew, d_f, h2, n);
            double *t = d_u; d_u = d_unew; d_unew = t;
        }
        residual<<<blocks, BLOCK>>>(d_u, d_f, h2, n, d_part);
        cudaMemcpy(partials, d_part, blocks * sizeof(double), cudaMemcpyDeviceToHost);
        res = 0.0;
        for (int b = 0; b < blocks; b++)
            res += partials[b];
        printf("iteration %d residual2 %.6e\n", it, res);
        if (res < 1e-3)
            break;
    }
    cudaMemcpy(u, d_u, n * sizeof(double), cudaMemcpyDeviceToHost);
    double sum = 0.0;
    for (int i = 0; i < n; i++)
        sum += u[i];
    printf("jacobi_solver n=%d iterations=%d u_mid=%.9f u_sum=%.9f\n", n, it, u[n / 2], sum);
    cudaFree(d_u); cudaFree(d_unew); cudaFree(d_f); cudaFree(d_part);
    free(f); free(u); free(partials);
    return 0;
}
