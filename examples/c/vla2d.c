/* Kernels over 2D variable-length arrays (C99 VLA parameters): a 5-point blur between
 * two grids, an in-place scaling, and a row-sum table.
 *
 * usage: vla2d [n] [m] [passes]
 */
#include <stdio.h>
#include <stdlib.h>

static void blur(int n, int m, double in[restrict n][m], double out[restrict n][m])
{
    /* pcx: expect offload */
    for (int i = 1; i < n - 1; i++)
        for (int j = 1; j < m - 1; j++)
            out[i][j] = 0.2 * (in[i][j] + in[i - 1][j] + in[i + 1][j] + in[i][j - 1] + in[i][j + 1]);
}

static void scale(int n, int m, double a[n][m], double s)
{
    /* pcx: expect offload */
    for (int i = 0; i < n; i++)
        for (int j = 0; j < m; j++)
            a[i][j] *= s;
}

static void row_sums(int n, int m, double a[restrict n][m], double *restrict sums)
{
    /* pcx: expect offload */
    for (int i = 0; i < n; i++) {
        double s = 0.0;
        for (int j = 0; j < m; j++)
            s += a[i][j];
        sums[i] = s;
    }
}

int main(int argc, char **argv)
{
    int n = argc > 1 ? atoi(argv[1]) : 300;
    int m = argc > 2 ? atoi(argv[2]) : 500;
    int passes = argc > 3 ? atoi(argv[3]) : 10;
    double (*a)[m] = malloc(sizeof(double[n][m]));
    double (*b)[m] = malloc(sizeof(double[n][m]));
    double *sums = malloc((size_t)n * sizeof *sums);
    if (!a || !b || !sums) {
        fprintf(stderr, "out of memory\n");
        return 1;
    }
    for (int i = 0; i < n; i++)
        for (int j = 0; j < m; j++)
            a[i][j] = b[i][j] = ((i * 31 + j * 17) % 23) / 23.0;
    for (int p = 0; p < passes; p++) {
        blur(n, m, a, b);
        blur(n, m, b, a);
        scale(n, m, a, 1.01);
    }
    row_sums(n, m, a, sums);
    double total = 0.0;
    for (int i = 0; i < n; i++)
        total += sums[i];
    printf("vla2d n=%d m=%d passes=%d\n", n, m, passes);
    printf("total = %.10e\n", total);
    printf("sums[0] = %.10e  sums[n/2] = %.10e\n", sums[0], sums[n / 2]);
    printf("a[n/2][m/3] = %.10e\n", a[n / 2][m / 3]);
    free(a);
    free(b);
    free(sums);
    return 0;
}
