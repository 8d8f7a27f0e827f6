/* A 2D Jacobi solver that is already CPU OpenMP: every loop is a `parallel for`, the
 * sweep with collapse(2) and a max reduction for the convergence test, the heat total
 * with a sum reduction.  The grids are swapped by pointer swap inside the time loop.
 *
 * usage: stencil [n] [max iterations]      (defaults 256 and 200)
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv)
{
    int n = argc > 1 ? atoi(argv[1]) : 256;
    int iters = argc > 2 ? atoi(argv[2]) : 200;
    if (n < 4 || iters < 1) {
        fprintf(stderr, "usage: stencil [n >= 4] [iterations >= 1]\n");
        return 1;
    }
    double *u = malloc((size_t)n * n * sizeof *u);
    double *unew = malloc((size_t)n * n * sizeof *unew);
    if (!u || !unew) {
        fprintf(stderr, "out of memory\n");
        return 1;
    }

/* pcx: expect offload */
#pragma omp parallel for collapse(2) schedule(static)
    for (int i = 0; i < n; i++)
        for (int j = 0; j < n; j++) {
            double edge = (i == 0) ? 100.0 : (j == 0 || j == n - 1) ? 25.0 * (1.0 + (double)i / n) : 0.0;
            u[i * n + j] = edge;
            unew[i * n + j] = edge;
        }

    double err = 1.0;
    int it = 0;
    while (err > 1e-6 && it < iters) {
        err = 0.0;
/* pcx: expect offload */
#pragma omp parallel for collapse(2) reduction(max : err) num_threads(2)
        for (int i = 1; i < n - 1; i++)
            for (int j = 1; j < n - 1; j++) {
                double v = 0.25 * (u[(i - 1) * n + j] + u[(i + 1) * n + j] + u[i * n + j - 1] + u[i * n + j + 1]);
                unew[i * n + j] = v;
                err = fmax(err, fabs(v - u[i * n + j]));
            }
        double *t = u;
        u = unew;
        unew = t;
        it++;
    }

    double heat = 0.0, weighted = 0.0;
/* pcx: expect offload */
#pragma omp parallel for reduction(+ : heat, weighted)
    for (int i = 0; i < n; i++)
        for (int j = 0; j < n; j++) {
            heat += u[i * n + j];
            weighted += u[i * n + j] * (i + 1);
        }
    printf("stencil n=%d iterations=%d\n", n, it);
    printf("last change = %.10e\n", err);
    printf("heat = %.10e\n", heat);
    printf("weighted heat = %.10e\n", weighted);
    printf("u[8][n/2] = %.10e\n", u[8 * n + n / 2]);
    free(u);
    free(unew);
    return 0;
}
