/* A CPU OpenMP program with a planted mistake: the running sum (the second loop) is marked
 * `parallel for`, but each iteration reads the one before (a loop-carried dependence).
 * pcx must warn about it and leave it on the CPU with its pragma; the other loops are
 * right and move to the device.  (Run with one thread, the CPU program is the serial one;
 * with more, the planted loop races, on the CPU, as the user wrote it.)
 *
 * usage: planted [n]      (default 100000)
 */
#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv)
{
    int n = argc > 1 ? atoi(argv[1]) : 100000;
    if (n < 2) {
        fprintf(stderr, "usage: planted [n >= 2]\n");
        return 1;
    }
    double *a = malloc((size_t)n * sizeof *a), *b = malloc((size_t)n * sizeof *b);
    double *c = malloc((size_t)n * sizeof *c);
    if (!a || !b || !c) {
        fprintf(stderr, "out of memory\n");
        return 1;
    }

/* pcx: expect offload */
#pragma omp parallel for
    for (int i = 0; i < n; i++) {
        a[i] = (double)(i % 97) / 97.0;
        b[i] = 0.5 + (double)(i % 13);
    }

/* pcx: expect serial PCX125 */
#pragma omp parallel for
    for (int i = 1; i < n; i++)
        a[i] = a[i - 1] + b[i];

/* pcx: expect offload */
#pragma omp parallel for
    for (int i = 0; i < n; i++)
        c[i] = 2.0 * b[i] - a[i] / n;

    double s = 0.0;
/* pcx: expect offload */
#pragma omp parallel for reduction(+ : s)
    for (int i = 0; i < n; i++)
        s += c[i];
    printf("planted n=%d\n", n);
    printf("a[n-1] = %.10e\n", a[n - 1]);
    printf("sum c = %.10e\n", s);
    free(a);
    free(b);
    free(c);
    return 0;
}
