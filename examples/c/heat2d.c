/* 2D heat equation, explicit Jacobi time steps on an n x n plate with a hot top edge.
 * The two grids swap roles (pointer swap) after every step.
 *
 * usage: heat2d [n] [steps]
 */
#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv)
{
    int n = argc > 1 ? atoi(argv[1]) : 256;
    int steps = argc > 2 ? atoi(argv[2]) : 100;
    const double alpha = 0.2;
    double *u = malloc((size_t)n * n * sizeof *u);
    double *v = malloc((size_t)n * n * sizeof *v);
    if (!u || !v) {
        fprintf(stderr, "out of memory\n");
        return 1;
    }
    for (int i = 0; i < n; i++)
        for (int j = 0; j < n; j++) {
            double t = i == 0 ? 100.0 : (j == 0 || j == n - 1 || i == n - 1) ? 10.0 : 0.0;
            u[i * n + j] = t;
            v[i * n + j] = t;
        }

    for (int t = 0; t < steps; t++) {
        /* pcx: expect offload */
        for (int i = 1; i < n - 1; i++)
            for (int j = 1; j < n - 1; j++)
                v[i * n + j] = u[i * n + j]
                    + alpha * (u[(i - 1) * n + j] + u[(i + 1) * n + j]
                               + u[i * n + j - 1] + u[i * n + j + 1] - 4.0 * u[i * n + j]);
        double *tmp = u;
        u = v;
        v = tmp;
    }

    double total = 0.0;
    /* pcx: expect offload */
    for (int i = 0; i < n * n; i++)
        total += u[i];
    printf("heat2d n=%d steps=%d\n", n, steps);
    printf("total heat = %.10e\n", total);
    printf("u[1][n/2] = %.10e  u[n/4][n/4] = %.10e\n", u[1 * n + n / 2], u[(n / 4) * n + n / 4]);
    free(u);
    free(v);
    return 0;
}
