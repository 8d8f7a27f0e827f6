/* Every way CUDA declares a launch geometry: dim3 constructors with names, products,
   expressions and calls, several in one declaration, a copy, = dim3(...), brace forms,
   default + field writes, an integer, a file-scope dim3 and dim3(...) inside the launch
   itself. */
#include <stdio.h>
#include <stdlib.h>
#include <cuda_runtime.h>

#define W 45
#define H 38
#define TX 8
#define TY 4

static int div_up(int a, int b) { return (a + b - 1) / b; }

dim3 vol_block(TX, TY, 2);       /* file scope, read as a prototype by a C parser */
dim3 vol_threads(TX * TY);       /* file scope, a product of macros */

__global__ void init(float *img)
{
    int x = blockIdx.x * blockDim.x + threadIdx.x, y = blockIdx.y * blockDim.y + threadIdx.y;
    if (x < W && y < H)
        img[y * W + x] = (float)((x * 7 + y * 3) % 23);
}

__global__ void scale(float *img, float s, int n)
{
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n)
        img[i] = img[i] * s + 1.0f;
}

__global__ void blur_rows(const float *in, float *out)
{
    int x = blockIdx.x * blockDim.x + threadIdx.x, y = blockIdx.y * blockDim.y + threadIdx.y;
    if (x >= W || y >= H)
        return;
    float l = x > 0 ? in[y * W + x - 1] : in[y * W + x];
    float r = x < W - 1 ? in[y * W + x + 1] : in[y * W + x];
    out[y * W + x] = 0.25f * l + 0.5f * in[y * W + x] + 0.25f * r;
}

__global__ void add_column_index(float *img)
{
    int x = blockIdx.x * blockDim.x + threadIdx.x, y = blockIdx.y * blockDim.y + threadIdx.y;
    if (x < W && y < H)
        img[y * W + x] += (float)x;
}

__global__ void volume(const float *img, float *vol, int depth)
{
    int x = blockIdx.x * blockDim.x + threadIdx.x;
    int y = blockIdx.y * blockDim.y + threadIdx.y;
    int z = blockIdx.z * blockDim.z + threadIdx.z;
    if (x < W && y < H && z < depth)
        vol[(z * H + y) * W + x] = img[y * W + x] * (float)(z + 1);
}

int main(void)
{
    const int n = W * H, depth = 3;
    float *img, *tmp, *vol, *h = (float *)malloc(n * depth * sizeof(float));
    cudaMalloc(&img, n * sizeof(float));
    cudaMalloc(&tmp, n * sizeof(float));
    cudaMalloc(&vol, n * depth * sizeof(float));

    dim3 blk(TX, TY);                                  /* names: a prototype to a C parser */
    dim3 grd((W + TX - 1) / TX, (H + TY - 1) / TY);    /* expressions */
    init<<<grd, blk>>>(img);

    dim3 nb = dim3(div_up(n, TX * TY), 1);             /* = dim3(...) of a call */
    scale<<<nb, vol_threads>>>(img, 0.5f, n);

    dim3 b3{16, 2};                                    /* brace initialisation */
    dim3 g3 = {(W + 15) / 16, (H + 1) / 2, 1};         /* = {...} */
    blur_rows<<<g3, b3>>>(img, tmp);

    dim3 b4;                                           /* default (1, 1, 1), then fields */
    b4.x = 32;
    b4.y = 2;
    dim3 g4 = 1;                                       /* an integer */
    g4.x = (W + 31) / 32;
    g4.y = (H + 1) / 2;
    add_column_index<<<g4, b4>>>(tmp);

    dim3 vgrid(div_up(W, TX), div_up(H, TY), (depth + 1) / 2), vblock(vol_block); /* two, 3D, a copy */
    volume<<<vgrid, vblock>>>(tmp, vol, depth);
    scale<<<dim3((n + 255) / 256, 1), 256>>>(tmp, 2.0f, n);  /* dim3(...) in the launch */

    cudaMemcpy(h, vol, n * depth * sizeof(float), cudaMemcpyDeviceToHost);
    double sv = 0.0;
    for (int i = 0; i < n * depth; i++)
        sv += h[i] * (double)(i % 5 + 1);
    cudaMemcpy(h, tmp, n * sizeof(float), cudaMemcpyDeviceToHost);
    double st = 0.0;
    for (int i = 0; i < n; i++)
        st += h[i];
    printf("dim3_forms vol=%.3f img=%.3f corner=%.3f\n", sv, st, h[n - 1]);
    cudaFree(img); cudaFree(tmp); cudaFree(vol);
    free(h);
    return 0;
}
