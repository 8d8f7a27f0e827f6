/* LU decomposition without pivoting of a diagonally dominant matrix (Doolittle, in
 * place), then a forward/backward solve.  The elimination step k needs the results of
 * step k-1: the k loop is serial, the loops inside one step are parallel.
 *
 * usage: lu [n]
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

static void lu(int n, double a[n][n])
{
    /* pcx: expect serial PCX101 */
    for (int k = 0; k < n - 1; k++) {
        /* pcx: expect offload */
        for (int i = k + 1; i < n; i++)
            a[i][k] /= a[k][k];
        /* pcx: expect offload */
        for (int i = k + 1; i < n; i++)
            for (int j = k + 1; j < n; j++)
                a[i][j] -= a[i][k] * a[k][j];
    }
}

/* Solve L U x = b in place (b becomes x). */
static void solve(int n, double a[restrict n][n], double *restrict b)
{
    /* Forward substitution: b[i] needs every b[j] with j < i. */
    /* pcx: expect serial PCX101 */
    for (int i = 1; i < n; i++) {
        double s = b[i];
        for (int j = 0; j < i; j++)
            s -= a[i][j] * b[j];
        b[i] = s;
    }
    /* Backward substitution: b[i] needs every b[j] with j > i. */
    /* pcx: expect serial PCX101 */
    for (int i = n - 1; i >= 0; i--) {
        double s = b[i];
        for (int j = i + 1; j < n; j++)
            s -= a[i][j] * b[j];
        b[i] = s / a[i][i];
    }
}

int main(int argc, char **argv)
{
    int n = argc > 1 ? atoi(argv[1]) : 160;
    double (*a)[n] = malloc(sizeof(double[n][n]));
    double *b = malloc((size_t)n * sizeof *b);
    if (!a || !b) {
        fprintf(stderr, "out of memory\n");
        return 1;
    }
    for (int i = 0; i < n; i++) {
        double row = 0.0;
        for (int j = 0; j < n; j++) {
            a[i][j] = ((i * 13 + j * 7) % 19) / 19.0 - 0.4;
            row += fabs(a[i][j]);
        }
        a[i][i] = row + 1.0;
        b[i] = 1.0 + (i % 4);
    }
    lu(n, a);
    double logdet = 0.0, frob = 0.0;
    for (int i = 0; i < n; i++) {
        logdet += log(fabs(a[i][i]));
        for (int j = 0; j < n; j++)
            frob += a[i][j] * a[i][j];
    }
    solve(n, a, b);
    double xs = 0.0;
    for (int i = 0; i < n; i++)
        xs += fabs(b[i]);
    printf("lu n=%d\n", n);
    printf("log|det| = %.10e\n", logdet);
    printf("sum of squares of LU = %.10e\n", frob);
    printf("sum |x| = %.10e  x[0] = %.10e\n", xs, b[0]);
    free(a);
    free(b);
    return 0;
}
