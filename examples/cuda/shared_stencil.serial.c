/* Serial twin of shared_stencil.cu: the same five-point stencil (same float operation
   order), the boundary copied, and the change summed in double. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

int main(void)
{
    const int nx = 1400, ny = 1000, steps = 40, n = nx * ny;
    float *a = (float *)malloc(n * sizeof(float)), *b = (float *)malloc(n * sizeof(float));
    for (int y = 0; y < ny; y++)
        for (int x = 0; x < nx; x++)
            a[y * nx + x] = (float)(((x * 13 + y * 7) % 29) - 14) * 0.25f;
    double total = 0.0;
    for (int s = 0; s < steps; s++) {
        for (int y = 0; y < ny; y++)
            for (int x = 0; x < nx; x++) {
                int i = y * nx + x;
                if (x == 0 || y == 0 || x == nx - 1 || y == ny - 1)
                    b[i] = a[i];
                else
                    b[i] = 0.2f * (a[i] + a[i - nx] + a[i + nx] + a[i - 1] + a[i + 1]);
            }
        total = 0.0;
        for (int i = 0; i < n; i++)
            total += fabs((double)a[i] - (double)b[i]);
        if (s % 20 == 0)
            printf("step %d change %.6e\n", s, total);
        float *t = a; a = b; b = t;
    }
    double sum = 0.0;
    for (int i = 0; i < n; i++)
        sum += a[i] * (double)((i % 3) + 1);
    printf("shared_stencil %dx%d steps=%d last change %.6e wsum=%.6e h[1234]=%.6f\n", nx, ny, steps, total, sum, a[1234]);
    free(a); free(b);
    return 0;
}
