/* Sparse matrix-vector products in CSR format: a banded matrix with a few scattered
 * entries per row, iterated (y = A x, then x = y normalised).
 *
 * usage: spmv [n] [iterations]
 */
#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv)
{
    int n = argc > 1 ? atoi(argv[1]) : 200000;
    int iters = argc > 2 ? atoi(argv[2]) : 10;
    const int per_row = 7;
    int *rowptr = malloc((size_t)(n + 1) * sizeof *rowptr);
    int *col = malloc((size_t)n * per_row * sizeof *col);
    double *val = malloc((size_t)n * per_row * sizeof *val);
    double *x = malloc((size_t)n * sizeof *x), *y = malloc((size_t)n * sizeof *y);
    if (!rowptr || !col || !val || !x || !y) {
        fprintf(stderr, "out of memory\n");
        return 1;
    }

    /* Row lengths: the five band entries that fall inside the matrix, plus one
     * scattered entry.  Each row start is the previous row's end (a prefix sum). */
    rowptr[0] = 0;
    /* pcx: expect serial PCX101 */
    for (int i = 0; i < n; i++)
        rowptr[i + 1] = rowptr[i] + 2 + (i >= 1) + (i >= 2) + (i + 1 < n) + (i + 2 < n);
    for (int i = 0; i < n; i++) {
        int k = rowptr[i];
        for (int d = -2; d <= 2; d++)
            if (i + d >= 0 && i + d < n) {
                col[k] = i + d;
                val[k] = d == 0 ? 4.0 : 1.0 / (2 + abs(d));
                k++;
            }
        col[k] = (int)(((long)i * 7919 + 13) % n);
        val[k] = 0.25;
    }
    int nnz = rowptr[n];

    for (int i = 0; i < n; i++)
        x[i] = 1.0 + (i % 10) * 0.1;

    double scale = 0.0;
    for (int it = 0; it < iters; it++) {
        /* pcx: expect offload */
        for (int i = 0; i < n; i++) {
            double s = 0.0;
            for (int k = rowptr[i]; k < rowptr[i + 1]; k++)
                s += val[k] * x[col[k]];
            y[i] = s;
        }
        double total = 0.0;
        /* pcx: expect offload */
        for (int i = 0; i < n; i++)
            total += y[i];
        scale = total / n;
        /* pcx: expect offload */
        for (int i = 0; i < n; i++)
            x[i] = y[i] / scale;
    }

    double sx = 0.0;
    for (int i = 0; i < n; i++)
        sx += x[i] * x[i];
    printf("spmv n=%d nnz=%d iterations=%d\n", n, nnz, iters);
    printf("last scale = %.10e\n", scale);
    printf("sum x^2 = %.10e\n", sx);
    printf("x[7] = %.10e\n", x[7]);
    free(rowptr);
    free(col);
    free(val);
    free(x);
    free(y);
    return 0;
}
