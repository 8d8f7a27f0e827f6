/* Dense matrix multiply C = A * B (row-major, flat arrays), then a transpose and
 * checksums.
 *
 * usage: matmul [n]
 */
#include <stdio.h>
#include <stdlib.h>

static void matmul(int n, const double *restrict a, const double *restrict b, double *restrict c)
{
    /* i and j are independent; k accumulates into a private scalar. */
    /* pcx: expect offload */
    for (int i = 0; i < n; i++)
        for (int j = 0; j < n; j++) {
            double sum = 0.0;
            for (int k = 0; k < n; k++)
                sum += a[i * n + k] * b[k * n + j];
            c[i * n + j] = sum;
        }
}

static void transpose(int n, const double *restrict c, double *restrict t)
{
    /* pcx: expect offload */
    for (int i = 0; i < n; i++)
        for (int j = 0; j < n; j++)
            t[j * n + i] = c[i * n + j];
}

int main(int argc, char **argv)
{
    int n = argc > 1 ? atoi(argv[1]) : 200;
    size_t nn = (size_t)n * n;
    double *a = malloc(nn * sizeof *a), *b = malloc(nn * sizeof *b);
    double *c = malloc(nn * sizeof *c), *t = malloc(nn * sizeof *t);
    if (!a || !b || !c || !t) {
        fprintf(stderr, "out of memory\n");
        return 1;
    }
    for (int i = 0; i < n; i++)
        for (int j = 0; j < n; j++) {
            a[i * n + j] = 1.0 + ((i * 3 + j) % 11) / 16.0;
            b[i * n + j] = 0.5 + ((i + 5 * j) % 13) / 32.0;
        }
    matmul(n, a, b, c);
    transpose(n, c, t);
    double sum = 0.0, trace = 0.0;
    for (size_t k = 0; k < nn; k++)
        sum += c[k];
    for (int i = 0; i < n; i++)
        trace += t[i * n + i];
    printf("matmul n=%d\n", n);
    printf("sum(C)   = %.10e\n", sum);
    printf("trace(C) = %.10e\n", trace);
    printf("C[1][n-2] = %.10e  T[n-2][1] = %.10e\n", c[1 * n + n - 2], t[(n - 2) * n + 1]);
    free(a);
    free(b);
    free(c);
    free(t);
    return 0;
}
