/* STREAM-style vector kernels (scale, add, triad) repeated a few times, then checksums.
 *
 * usage: triad [n] [reps]
 */
#include <stdio.h>
#include <stdlib.h>

static void scale(int n, double s, double *restrict b, const double *restrict c)
{
    /* pcx: expect offload */
    for (int i = 0; i < n; i++)
        b[i] = s * c[i];
}

static void add(int n, double *restrict c, const double *restrict a, const double *restrict b)
{
    /* pcx: expect offload */
    for (int i = 0; i < n; i++)
        c[i] = a[i] + b[i];
}

static void triad(int n, double s, double *restrict a, const double *restrict b,
                  const double *restrict c)
{
    /* pcx: expect offload */
    for (int i = 0; i < n; i++)
        a[i] = b[i] + s * c[i];
}

int main(int argc, char **argv)
{
    int n = argc > 1 ? atoi(argv[1]) : 400000;
    int reps = argc > 2 ? atoi(argv[2]) : 4;
    double *a = malloc((size_t)n * sizeof *a);
    double *b = malloc((size_t)n * sizeof *b);
    double *c = malloc((size_t)n * sizeof *c);
    if (!a || !b || !c) {
        fprintf(stderr, "out of memory\n");
        return 1;
    }
    for (int i = 0; i < n; i++) {
        a[i] = 1.0 + (i % 7) * 0.25;
        b[i] = 2.0 - (i % 5) * 0.125;
        c[i] = 0.5 + (i % 3) * 0.1;
    }
    for (int r = 0; r < reps; r++) {
        scale(n, 0.75, b, c);
        add(n, c, a, b);
        triad(n, 0.5, a, b, c);
    }
    double sa = 0.0, sb = 0.0, sc = 0.0;
    /* pcx: expect offload */
    for (int i = 0; i < n; i++) {
        sa += a[i];
        sb += b[i];
        sc += c[i];
    }
    printf("triad n=%d reps=%d\n", n, reps);
    printf("sum a = %.10e\nsum b = %.10e\nsum c = %.10e\n", sa, sb, sc);
    printf("a[n/2] = %.10e\n", a[n / 2]);
    free(a);
    free(b);
    free(c);
    return 0;
}
