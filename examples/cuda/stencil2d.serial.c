/* Serial twin of stencil2d.cu. */
#include <stdio.h>
#include <stdlib.h>

#define NX 130
#define NY 97

int main(void)
{
    float *a = malloc(NX * NY * sizeof(float)), *b = malloc(NX * NY * sizeof(float));
    for (int y = 0; y < NY; y++)
        for (int x = 0; x < NX; x++)
            a[y * NX + x] = (y == 0) ? 100.0f : (x == NX - 1 ? 50.0f : 0.0f);
    for (int it = 0; it < 50; it++) {
        for (int y = 0; y < NY; y++)
            for (int x = 0; x < NX; x++) {
                int i = y * NX + x;
                if (x == 0 || y == 0 || x == NX - 1 || y == NY - 1)
                    b[i] = a[i];
                else
                    b[i] = 0.25f * (a[i - 1] + a[i + 1] + a[i - NX] + a[i + NX]);
            }
        float *t = a; a = b; b = t;
    }
    double sum = 0.0, wsum = 0.0;
    for (int i = 0; i < NX * NY; i++) {
        sum += a[i];
        wsum += a[i] * (i % 13);
    }
    printf("stencil2d %dx%d sum=%.4f wsum=%.4f center=%.6f\n", NX, NY, sum, wsum, a[(NY / 2) * NX + NX / 2]);
    free(a); free(b);
    return 0;
}
