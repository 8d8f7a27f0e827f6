/* 3D 7-point diffusion stencil on an nx x ny x nz box, time-stepped with two buffers.
 *
 * usage: stencil3d [n] [steps]
 */
#include <stdio.h>
#include <stdlib.h>

static void diffuse(int nx, int ny, int nz, double c0, double c1,
                    const double *restrict in, double *restrict out)
{
    /* pcx: expect offload */
    for (int i = 1; i < nx - 1; i++)
        for (int j = 1; j < ny - 1; j++)
            for (int k = 1; k < nz - 1; k++) {
                int c = (i * ny + j) * nz + k;
                out[c] = c0 * in[c]
                    + c1 * (in[c - ny * nz] + in[c + ny * nz] + in[c - nz] + in[c + nz]
                            + in[c - 1] + in[c + 1]);
            }
}

int main(int argc, char **argv)
{
    int n = argc > 1 ? atoi(argv[1]) : 64;
    int steps = argc > 2 ? atoi(argv[2]) : 20;
    int nx = n, ny = n, nz = n + 8;
    size_t cells = (size_t)nx * ny * nz;
    double *a = malloc(cells * sizeof *a), *b = malloc(cells * sizeof *b);
    if (!a || !b) {
        fprintf(stderr, "out of memory\n");
        return 1;
    }
    for (int i = 0; i < nx; i++)
        for (int j = 0; j < ny; j++)
            for (int k = 0; k < nz; k++) {
                size_t c = ((size_t)i * ny + j) * nz + k;
                a[c] = b[c] = 1.0 + ((i * 7 + j * 3 + k) % 17) / 17.0;
            }
    for (int t = 0; t < steps; t++) {
        diffuse(nx, ny, nz, 0.4, 0.1, a, b);
        double *tmp = a;
        a = b;
        b = tmp;
    }
    double sum = 0.0, sq = 0.0;
    for (size_t c = 0; c < cells; c++) {
        sum += a[c];
        sq += a[c] * a[c];
    }
    printf("stencil3d %dx%dx%d steps=%d\n", nx, ny, nz, steps);
    printf("sum = %.10e\nsum of squares = %.10e\n", sum, sq);
    printf("center = %.10e\n", a[((size_t)(nx / 2) * ny + ny / 2) * nz + nz / 2]);
    free(a);
    free(b);
    return 0;
}
