/* An aliasing trap.  smooth_into() is called once with distinct arrays and once with
 * dst = src + 1, so that each iteration reads the value the previous one wrote: the
 * serial loop then computes a recurrence.  Nothing in smooth_into() tells a compiler
 * that dst and src do not overlap, so offloading it unconditionally would be wrong for
 * the second call.  pcx-cc versions the loop (remark PCX128): the device version runs
 * when the address ranges of dst[0:n] and src[0:n] are disjoint (the first call), the
 * loop as written otherwise (the second).  blend() has restrict pointers: no check.
 *
 * usage: alias [n]
 */
#include <stdio.h>
#include <stdlib.h>

static void smooth_into(int n, double *dst, const double *src)
{
    /* pcx: expect offload */
    for (int i = 0; i < n; i++)
        dst[i] = 0.5 * src[i] + 1.0;
}

static void blend(int n, double w, double *restrict out, const double *restrict p,
                  const double *restrict q)
{
    /* pcx: expect offload */
    for (int i = 0; i < n; i++)
        out[i] = w * p[i] + (1.0 - w) * q[i];
}

int main(int argc, char **argv)
{
    int n = argc > 1 ? atoi(argv[1]) : 200000;
    double *a = malloc((size_t)(n + 1) * sizeof *a);
    double *b = malloc((size_t)n * sizeof *b);
    double *c = malloc((size_t)n * sizeof *c);
    if (!a || !b || !c) {
        fprintf(stderr, "out of memory\n");
        return 1;
    }
    for (int i = 0; i <= n; i++)
        a[i] = (i % 9) * 0.5;
    smooth_into(n, b, a);       /* distinct: b[i] = 0.5 a[i] + 1 */
    smooth_into(n, a + 1, a);   /* overlapping: a[i+1] = 0.5 a[i] + 1, a recurrence */
    blend(n, 0.25, c, a, b);
    double sa = 0.0, sc = 0.0;
    for (int i = 0; i < n; i++) {
        sa += a[i];
        sc += c[i];
    }
    printf("alias n=%d\n", n);
    printf("a[1] = %.10e  a[5] = %.10e  a[n] = %.10e\n", a[1], a[5], a[n]);
    printf("sum a = %.10e\nsum c = %.10e\n", sa, sc);
    free(a);
    free(b);
    free(c);
    return 0;
}
