/* Kernel launches inside macro bodies, as benchmarks write them to time several kernels
   alike: a do/while macro whose kernel is a macro parameter and whose extents are
   dim3(...) around an int, a macro using it, an object-like macro holding a launch with
   2D dim3(a, b) extents and dynamic shared memory, and a macro for an expression-like
   launch with no trailing semicolon.  Each launch is rewritten inside the macro body. */
#include <stdio.h>
#include <cuda_runtime.h>

#define N 1000
#define W 40
#define H 25

__global__ void add_one(int *v, int n)
{
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) v[i] += 1;
}

__global__ void add_two(int *v, int n)
{
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) v[i] += 2;
}

__global__ void row_shift(int *v, int w, int h)
{
    extern __shared__ int row[];
    int x = blockIdx.x * blockDim.x + threadIdx.x;
    int y = blockIdx.y;
    row[threadIdx.x] = (x < w) ? v[y * w + x] : 0;
    __syncthreads();
    if (x < w) v[y * w + x] = row[threadIdx.x] * 3 + (threadIdx.x > 0 ? row[threadIdx.x - 1] : 0);
}

#define RUN(kernel, blocks) do { \
    kernel<<<dim3(blocks), dim3(256)>>>(d, n); \
    cudaDeviceSynchronize(); \
} while (0)
#define RUN_BOTH(blocks) do { RUN(add_one, blocks); RUN(add_two, blocks); } while (0)
#define SHIFT_ROWS row_shift<<<dim3((W + 63) / 64, H), dim3(64, 1), 64 * sizeof(int)>>>(g, W, H);
#define ADD_TWO_ON(ptr, count) add_two<<<((count) + 127) / 128, 128>>>(ptr, count)

int main(void)
{
    const int n = N;
    int *d, *g;
    cudaMalloc(&d, n * sizeof(int));
    cudaMalloc(&g, W * H * sizeof(int));
    cudaMemset(d, 0, n * sizeof(int));
    int h[N], grid[W * H];
    for (int i = 0; i < W * H; i++) grid[i] = i % 7;
    cudaMemcpy(g, grid, sizeof(grid), cudaMemcpyHostToDevice);

    RUN(add_one, (n + 255) / 256);
    RUN_BOTH(4);
    ADD_TWO_ON(d, n / 2);
    SHIFT_ROWS
    cudaDeviceSynchronize();

    cudaMemcpy(h, d, sizeof(h), cudaMemcpyDeviceToHost);
    cudaMemcpy(grid, g, sizeof(grid), cudaMemcpyDeviceToHost);
    long sum = 0, gsum = 0;
    for (int i = 0; i < N; i++) sum += h[i];
    for (int i = 0; i < W * H; i++) gsum += (long)grid[i] * (i % 11 + 1);
    printf("v[0]=%d v[%d]=%d sum=%ld\n", h[0], N - 1, h[N - 1], sum);
    printf("grid[0]=%d grid[41]=%d grid[%d]=%d weighted=%ld\n", grid[0], grid[41], W * H - 1, grid[W * H - 1], gsum);
    cudaFree(d);
    cudaFree(g);
    return 0;
}
