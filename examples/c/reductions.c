/* Reductions over a pseudo-random array: sum, maximum, count, and an argmin whose
 * minimum value occurs many times (ties).
 *
 * usage: reductions [n]
 */
#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv)
{
    int n = argc > 1 ? atoi(argv[1]) : 1000000;
    if (n < 2)
        n = 2;
    double *a = malloc((size_t)n * sizeof *a);
    if (!a) {
        fprintf(stderr, "out of memory\n");
        return 1;
    }
    /* A linear congruential generator: each value depends on the previous seed. */
    unsigned int seed = 12345u;
    /* pcx: expect serial PCX112 */
    for (int i = 0; i < n; i++) {
        seed = seed * 1103515245u + 12345u;
        a[i] = (double)((seed >> 8) % 100000u) / 1000.0;
    }

    double sum = 0.0;
    /* pcx: expect offload */
    for (int i = 0; i < n; i++)
        sum += a[i];

    double mx = a[0];
    /* pcx: expect offload */
    for (int i = 1; i < n; i++)
        mx = a[i] > mx ? a[i] : mx;

    long above = 0;
    /* pcx: expect offload */
    for (int i = 0; i < n; i++)
        above += a[i] > 50.0;

    /* argmin: the minimum (0.0) occurs about n/100000 times and the serial loop reports
     * the FIRST index holding it.  best and where carry a value between iterations as a
     * pair; no OpenMP reduction operator keeps the pair together with the first-index
     * tie rule (reduction(min:best) alone loses where, and racing updates of where would
     * report an arbitrary tied index).  Offloading it would change the output. */
    double best = a[0];
    int where = 0;
    /* pcx: expect serial PCX112 */
    for (int i = 1; i < n; i++)
        if (a[i] < best) {
            best = a[i];
            where = i;
        }

    printf("reductions n=%d\n", n);
    printf("sum = %.10e\n", sum);
    printf("max = %.3f\n", mx);
    printf("above 50 = %ld\n", above);
    printf("argmin = %d (value %.3f)\n", where, best);
    free(a);
    return 0;
}
