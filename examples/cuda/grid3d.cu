/* 3D indexing over a dim3 grid of dim3 blocks (blockIdx.z, threadIdx.z), cudaMemset of
   the output, and a device-to-device copy; timed with events. */
#include <stdio.h>
#include <stdlib.h>
#include <cuda_runtime.h>

__global__ void fill3d(int *v, int nx, int ny, int nz)
{
    int x = blockIdx.x * blockDim.x + threadIdx.x;
    int y = blockIdx.y * blockDim.y + threadIdx.y;
    int z = blockIdx.z * blockDim.z + threadIdx.z;
    if (x < nx && y < ny && z < nz)
        v[(z * ny + y) * nx + x] = x + 10 * y + 100 * z + (x ^ y ^ z);
}

__global__ void laplace3d(const int *v, int *out, int nx, int ny, int nz)
{
    int x = blockIdx.x * blockDim.x + threadIdx.x;
    int y = blockIdx.y * blockDim.y + threadIdx.y;
    int z = blockIdx.z * blockDim.z + threadIdx.z;
    if (x > 0 && y > 0 && z > 0 && x < nx - 1 && y < ny - 1 && z < nz - 1) {
        int i = (z * ny + y) * nx + x;
        out[i] = 6 * v[i] - v[i - 1] - v[i + 1] - v[i - nx] - v[i + nx] - v[i - nx * ny] - v[i + nx * ny];
    }
}

int main(void)
{
    const int nx = 19, ny = 13, nz = 11, n = nx * ny * nz;
    int *d_v, *d_out, *d_copy;
    cudaMalloc(&d_v, n * sizeof(int));
    cudaMalloc(&d_out, n * sizeof(int));
    cudaMalloc(&d_copy, n * sizeof(int));
    cudaMemset(d_out, 0, n * sizeof(int));
    cudaEvent_t t0, t1;
    cudaEventCreate(&t0);
    cudaEventCreate(&t1);
    dim3 block(8, 4, 2);
    dim3 grid((nx + 7) / 8, (ny + 3) / 4, (nz + 1) / 2);
    cudaEventRecord(t0, 0);
    fill3d<<<grid, block>>>(d_v, nx, ny, nz);
    laplace3d<<<grid, block>>>(d_v, d_out, nx, ny, nz);
    cudaEventRecord(t1, 0);
    cudaEventSynchronize(t1);
    float ms;
    cudaEventElapsedTime(&ms, t0, t1);
    fprintf(stderr, "grid3d: %.3f ms\n", ms);
    cudaMemcpy(d_copy, d_out, n * sizeof(int), cudaMemcpyDeviceToDevice);
    int *h = (int *)malloc(n * sizeof(int));
    cudaMemcpy(h, d_copy, n * sizeof(int), cudaMemcpyDeviceToHost);
    long long sum = 0, wsum = 0;
    int zeros = 0;
    for (int i = 0; i < n; i++) {
        sum += h[i];
        wsum += (long long)h[i] * (i % 11);
        zeros += h[i] == 0;
    }
    printf("grid3d %dx%dx%d sum=%lld wsum=%lld zeros=%d\n", nx, ny, nz, sum, wsum, zeros);
    cudaFree(d_v); cudaFree(d_out); cudaFree(d_copy);
    cudaEventDestroy(t0); cudaEventDestroy(t1);
    free(h);
    return 0;
}
