// A __constant__ variable template: one coefficient table per element type, filled with
// cudaMemcpyToSymbol(coef<T>, ...) and read by a template kernel (issue 19: HeCBench's
// convolution1D declares its mask this way).
#include <stdio.h>
#include <stdlib.h>
#include <cuda_runtime.h>

#define MAX_TAPS 8

template <typename T>
__constant__ T coef[MAX_TAPS];

template <typename T>
__global__ void weigh(const T *in, T *out, int n, int taps)
{
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) {
        T s = 0;
        for (int j = 0; j < taps; j++)
            s += in[(i + j) % n] * coef<T>[j];
        out[i] = s;
    }
}

template <typename T>
void run(const char *name, int n, int taps)
{
    T table[MAX_TAPS];
    T *h = (T *)malloc(n * sizeof(T)), *o = (T *)malloc(n * sizeof(T));
    for (int j = 0; j < MAX_TAPS; j++)
        table[j] = (T)(j + 1);
    for (int i = 0; i < n; i++)
        h[i] = (T)(i % 7);
    T *din, *dout;
    cudaMalloc((void **)&din, n * sizeof(T));
    cudaMalloc((void **)&dout, n * sizeof(T));
    cudaMemcpy(din, h, n * sizeof(T), cudaMemcpyHostToDevice);
    cudaMemcpyToSymbol(coef<T>, table, taps * sizeof(T));
    weigh<T><<<(n + 63) / 64, 64>>>(din, dout, n, taps);
    cudaMemcpy(o, dout, n * sizeof(T), cudaMemcpyDeviceToHost);
    T back[MAX_TAPS];
    cudaMemcpyFromSymbol(back, coef<T>, taps * sizeof(T));
    double sum = 0;
    for (int i = 0; i < n; i++)
        sum += (double)o[i] * (i % 5 + 1);
    printf("%s n=%d taps=%d sum=%.1f o[n-1]=%.1f back[taps-1]=%.1f\n", name, n, taps, sum,
           (double)o[n - 1], (double)back[taps - 1]);
    cudaFree(din);
    cudaFree(dout);
    free(h);
    free(o);
}

int main(void)
{
    run<double>("double", 1000, 5);
    run<float>("float", 777, 8);
    run<int>("int", 500, 3);
    return 0;
}
