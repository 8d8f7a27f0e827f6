/* Histogram of pseudo-random samples: bin indices, counts (h[idx[i]]++), and the
 * cumulative distribution.
 *
 * usage: histogram [n] [bins]
 */
#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv)
{
    int n = argc > 1 ? atoi(argv[1]) : 1000000;
    int bins = argc > 2 ? atoi(argv[2]) : 256;
    double *x = malloc((size_t)n * sizeof *x);
    int *idx = malloc((size_t)n * sizeof *idx);
    int *h = calloc((size_t)bins, sizeof *h);
    long *cdf = malloc((size_t)bins * sizeof *cdf);
    if (!x || !idx || !h || !cdf) {
        fprintf(stderr, "out of memory\n");
        return 1;
    }
    /* Samples from a hash of i (not a recurrence): a triangular distribution on [0,1). */
    /* pcx: expect offload */
    for (int i = 0; i < n; i++) {
        unsigned int u = (unsigned int)i * 2654435761u;
        unsigned int w = ((unsigned int)i ^ 0x5bd1e995u) * 2246822519u;
        x[i] = 0.5 * ((u >> 8) / 16777216.0 + (w >> 8) / 16777216.0);
    }
    /* pcx: expect offload */
    for (int i = 0; i < n; i++)
        idx[i] = (int)(x[i] * bins);
    /* Different i may hit the same bin: the increment must be atomic when parallel. */
    /* pcx: expect offload */
    for (int i = 0; i < n; i++)
        h[idx[i]]++;
    /* Each entry needs the previous one. */
    cdf[0] = h[0];
    /* pcx: expect serial PCX101 */
    for (int b = 1; b < bins; b++)
        cdf[b] = cdf[b - 1] + h[b];

    long weighted = 0;
    int mode = 0;
    for (int b = 0; b < bins; b++) {
        weighted += (long)b * h[b];
        if (h[b] > h[mode])
            mode = b;
    }
    printf("histogram n=%d bins=%d\n", n, bins);
    printf("total = %ld\n", cdf[bins - 1]);
    printf("median bin = ");
    int med = 0;
    while (cdf[med] < n / 2)
        med++;
    printf("%d\n", med);
    printf("mode bin = %d (%d samples)\n", mode, h[mode]);
    printf("weighted = %ld\n", weighted);
    free(x);
    free(idx);
    free(h);
    free(cdf);
    return 0;
}
