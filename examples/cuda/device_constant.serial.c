/* Serial twin of device_constant.cu. */
#include <stdio.h>
#include <stdlib.h>

#define RADIUS 3
#define WIDTH (2 * RADIUS + 1)

static int clampi(int v, int lo, int hi) { return v < lo ? lo : (v > hi ? hi : v); }

int main(void)
{
    const int n = 4099;
    const float w[WIDTH] = {1, 2, 3, 4, 3, 2, 1};
    const int hi = 500;
    float *x = malloc(n * sizeof(float)), *y = malloc(n * sizeof(float));
    for (int i = 0; i < n; i++)
        x[i] = (float)((i * 13) % 50);
    for (int i = 0; i < n; i++) {
        float s = 0.0f;
        for (int k = 0; k < WIDTH; k++)
            s += w[k] * x[clampi(i + k - RADIUS, 0, n - 1)];
        y[i] = (float)clampi((int)s, 0, hi);
    }
    double sum = 0.0;
    int clipped = 0;
    for (int i = 0; i < n; i++) {
        sum += y[i];
        clipped += y[i] == (float)hi;
    }
    printf("device_constant n=%d sum=%.1f clipped=%d y[0]=%.1f y[n-1]=%.1f w3=%.1f host_clamp=%d\n", n, sum,
           clipped, y[0], y[n - 1], w[3], clampi(-4, 0, 10));
    free(x); free(y);
    return 0;
}
