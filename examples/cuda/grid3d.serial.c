/* Serial twin of grid3d.cu. */
#include <stdio.h>
#include <stdlib.h>

int main(void)
{
    const int nx = 19, ny = 13, nz = 11, n = nx * ny * nz;
    int *v = malloc(n * sizeof(int)), *out = calloc(n, sizeof(int));
    for (int z = 0; z < nz; z++)
        for (int y = 0; y < ny; y++)
            for (int x = 0; x < nx; x++)
                v[(z * ny + y) * nx + x] = x + 10 * y + 100 * z + (x ^ y ^ z);
    for (int z = 1; z < nz - 1; z++)
        for (int y = 1; y < ny - 1; y++)
            for (int x = 1; x < nx - 1; x++) {
                int i = (z * ny + y) * nx + x;
                out[i] = 6 * v[i] - v[i - 1] - v[i + 1] - v[i - nx] - v[i + nx] - v[i - nx * ny] - v[i + nx * ny];
            }
    long long sum = 0, wsum = 0;
    int zeros = 0;
    for (int i = 0; i < n; i++) {
        sum += out[i];
        wsum += (long long)out[i] * (i % 11);
        zeros += out[i] == 0;
    }
    printf("grid3d %dx%dx%d sum=%lld wsum=%lld zeros=%d\n", nx, ny, nz, sum, wsum, zeros);
    free(v); free(out);
    return 0;
}
