/* Power iteration for the dominant eigenvalue of a dense symmetric matrix:
 * dense matrix-vector products, a norm (reduction) and a scaling per iteration.
 *
 * usage: power [n] [iterations]
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

static void matvec(int n, const double *restrict a, const double *restrict x, double *restrict y)
{
    /* pcx: expect offload */
    for (int i = 0; i < n; i++) {
        double s = 0.0;
        for (int j = 0; j < n; j++)
            s += a[i * n + j] * x[j];
        y[i] = s;
    }
}

static double dot(int n, const double *x, const double *y)
{
    double s = 0.0;
    /* pcx: expect offload */
    for (int i = 0; i < n; i++)
        s += x[i] * y[i];
    return s;
}

static void scale_into(int n, double f, const double *restrict y, double *restrict x)
{
    /* pcx: expect offload */
    for (int i = 0; i < n; i++)
        x[i] = f * y[i];
}

int main(int argc, char **argv)
{
    int n = argc > 1 ? atoi(argv[1]) : 400;
    int iters = argc > 2 ? atoi(argv[2]) : 30;
    double *a = malloc((size_t)n * n * sizeof *a);
    double *x = malloc((size_t)n * sizeof *x), *y = malloc((size_t)n * sizeof *y);
    if (!a || !x || !y) {
        fprintf(stderr, "out of memory\n");
        return 1;
    }
    for (int i = 0; i < n; i++) {
        for (int j = 0; j < n; j++)
            a[i * n + j] = 1.0 / (1.0 + abs(i - j)) + (i == j ? 2.0 : 0.0);
        x[i] = 1.0;
    }
    double lambda = 0.0;
    for (int it = 0; it < iters; it++) {
        matvec(n, a, x, y);
        lambda = dot(n, x, y) / dot(n, x, x);
        scale_into(n, 1.0 / sqrt(dot(n, y, y)), y, x);
    }
    printf("power n=%d iterations=%d\n", n, iters);
    printf("lambda = %.10e\n", lambda);
    printf("x[0] = %.10e  x[n/2] = %.10e\n", x[0], x[n / 2]);
    free(a);
    free(x);
    free(y);
    return 0;
}
