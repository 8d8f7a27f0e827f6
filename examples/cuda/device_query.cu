/* Device queries: count, set, properties and attributes; the grid is sized from the
   number of multiprocessors and the block from maxThreadsPerBlock (a grid-stride
   kernel, so the answer does not depend on them).  The device's name and figures go
   to stderr: they differ from machine to machine. */
#include <stdio.h>
#include <stdlib.h>
#include <cuda_runtime.h>

__global__ void poly(const float *x, float *y, unsigned int *odd, int n)
{
    for (int i = blockIdx.x * blockDim.x + threadIdx.x; i < n; i += gridDim.x * blockDim.x) {
        float v = x[i];
        y[i] = (0.5f * v - 2.0f) * v + 3.0f;
        if ((int)y[i] % 2)
            atomicAdd(odd, 1u);
    }
}

int main(void)
{
    int count = 0, dev = -1, sms = 0, warp = 0, major = 0;
    cudaError err = cudaGetDeviceCount(&count);        /* the legacy enum name */
    if (err != cudaSuccess || count < 1) {
        printf("no CUDA device\n");
        return 1;
    }
    if (cudaSetDevice(0) != cudaSuccess || cudaGetDevice(&dev) != cudaSuccess)
        return 1;
    cudaDeviceProp prop;
    if (cudaGetDeviceProperties(&prop, dev) != cudaSuccess)
        return 1;
    cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, dev);
    cudaDeviceGetAttribute(&warp, cudaDevAttrWarpSize, dev);
    cudaDeviceGetAttribute(&major, cudaDevAttrComputeCapabilityMajor, dev);
    size_t free_mem = 0, total_mem = 0;
    cudaMemGetInfo(&free_mem, &total_mem);
    fprintf(stderr, "device %d of %d: %s, %d multiprocessors, %zu MiB, compute %d.%d\n", dev, count, prop.name,
            prop.multiProcessorCount, prop.totalGlobalMem >> 20, prop.major, prop.minor);
    enum cudaError bad = cudaSetDevice(count);          /* one past the last device */
    printf("device_query: devices>=1 %s, name %s, warp %d/%d, attributes agree %s, "
           "block limit ok %s, memory ok %s, bad ordinal: %s\n",
           count >= 1 ? "yes" : "no", prop.name[0] ? "yes" : "no", prop.warpSize, warp,
           sms == prop.multiProcessorCount && major == prop.major ? "yes" : "no",
           prop.maxThreadsPerBlock >= 256 && prop.maxThreadsDim[0] >= 256 ? "yes" : "no",
           total_mem == prop.totalGlobalMem && free_mem <= total_mem && total_mem > 0 ? "yes" : "no",
           cudaGetErrorString(bad));

    const int n = 300007;
    float *x = (float *)malloc(n * sizeof(float)), *y = (float *)malloc(n * sizeof(float));
    for (int i = 0; i < n; i++)
        x[i] = (float)(i % 1001) * 0.25f;
    float *dx, *dy;
    unsigned int *dodd, odd = 0;
    cudaMalloc(&dx, n * sizeof(float));
    cudaMalloc(&dy, n * sizeof(float));
    cudaMalloc(&dodd, sizeof odd);
    cudaMemset(dodd, 0, sizeof odd);
    cudaMemcpy(dx, x, n * sizeof(float), cudaMemcpyHostToDevice);
    int threads = prop.maxThreadsPerBlock < 256 ? prop.maxThreadsPerBlock : 256;
    int blocks = 4 * prop.multiProcessorCount;          /* a few blocks per multiprocessor */
    poly<<<blocks, threads>>>(dx, dy, dodd, n);
    cudaMemcpy(y, dy, n * sizeof(float), cudaMemcpyDeviceToHost);
    cudaMemcpy(&odd, dodd, sizeof odd, cudaMemcpyDeviceToHost);
    double sum = 0.0;
    for (int i = 0; i < n; i++)
        sum += y[i];
    printf("device_query n=%d sum=%.4f odd=%u\n", n, sum, odd);
    cudaFree(dx); cudaFree(dy); cudaFree(dodd);
    free(x); free(y);
    return 0;
}
