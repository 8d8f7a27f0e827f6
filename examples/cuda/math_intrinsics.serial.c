/* Serial twin of math_intrinsics.cu, with the exact libm functions (the CUDA fast
   intrinsics are approximations: compare with a tolerance of 1e-4 relative). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

static float minf_(float a, float b) { return a < b ? a : b; }
static float maxf_(float a, float b) { return a > b ? a : b; }
static int mini(int a, int b) { return a < b ? a : b; }
static int maxi(int a, int b) { return a > b ? a : b; }

int main(void)
{
    const int n = 2048;
    float *x = malloc(n * sizeof(float)), *y = malloc(n * sizeof(float));
    int imax = 0;
    for (int i = 0; i < n; i++)
        x[i] = (float)(i % 64) / 16.0f;
    for (int i = 0; i < n; i++) {
        float v = x[i];
        float a = expf(-v) + logf(1.0f + v);
        float b = sinf(v) * cosf(v) + powf(1.5f, v * 0.25f);
        float c = a / (1.0f + b * b) + 1.0f / sqrtf(1.0f + v);
        float s = v - 1.0f;
        float d = fmaf(a, 0.5f, c) + (s < 0.0f ? 0.0f : (s > 1.0f ? 1.0f : s));
        y[i] = maxf_(minf_(d, 8.0f), -8.0f);
        y[i] += (float)maxi(mini(i % 13, 9), 2);
        imax = maxi(imax, mini(i, 4242));
    }
    double sum = 0.0, wsum = 0.0;
    for (int i = 0; i < n; i++) {
        sum += y[i];
        wsum += y[i] * (i % 5);
    }
    printf("math_intrinsics n=%d sum=%.3f wsum=%.3f y1=%.5f imax=%d\n", n, sum, wsum, y[1], imax);
    free(x); free(y);
    return 0;
}
