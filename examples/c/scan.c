/* Running values: an integer prefix sum, an exponential moving average, and the
 * (parallel) differences that undo the prefix sum.
 *
 * usage: scan [n]
 */
#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv)
{
    int n = argc > 1 ? atoi(argv[1]) : 1000000;
    if (n < 2)
        n = 2;
    long *v = malloc((size_t)n * sizeof *v);
    long *p = malloc((size_t)n * sizeof *p);
    long *d = malloc((size_t)n * sizeof *d);
    double *ema = malloc((size_t)n * sizeof *ema);
    if (!v || !p || !d || !ema) {
        fprintf(stderr, "out of memory\n");
        return 1;
    }
    /* pcx: expect offload */
    for (int i = 0; i < n; i++)
        v[i] = (long)((i * 37L + 11) % 1000) - 300;

    /* p[i] needs p[i-1]: a loop-carried dependence through the array. */
    p[0] = v[0];
    /* pcx: expect serial PCX101 */
    for (int i = 1; i < n; i++)
        p[i] = p[i - 1] + v[i];

    /* The average carries a scalar from one iteration to the next. */
    double avg = 0.0;
    /* pcx: expect serial PCX112 */
    for (int i = 0; i < n; i++) {
        avg = 0.99 * avg + 0.01 * (double)v[i];
        ema[i] = avg;
    }

    d[0] = p[0];
    /* pcx: expect offload */
    for (int i = 1; i < n; i++)
        d[i] = p[i] - p[i - 1];

    long mismatches = 0, last = p[n - 1];
    /* pcx: expect offload */
    for (int i = 0; i < n; i++)
        mismatches += d[i] != v[i];
    printf("scan n=%d\n", n);
    printf("prefix total = %ld  p[n/2] = %ld\n", last, p[n / 2]);
    printf("ema[n-1] = %.10e  ema[1000] = %.10e\n", ema[n - 1], ema[1000 < n ? 1000 : n - 1]);
    printf("mismatches = %ld\n", mismatches);
    free(v);
    free(p);
    free(d);
    free(ema);
    return 0;
}
