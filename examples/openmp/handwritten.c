/* Hand-written OpenMP target loops without a single map clause: a 1D heat equation with a
 * source term, time-stepped, then probed on the host.  On a GPU each kernel would get
 * zero-length maps of the heap pointers and fault or read garbage; pcx keeps each
 * kernel's text and adds the data plan: one `target data` region across the time loop,
 * maps by liveness, the field brought home once for the host's probe.
 *
 * usage: handwritten [n] [steps]      (defaults 200000 and 200)
 */
#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv)
{
    int n = argc > 1 ? atoi(argv[1]) : 200000;
    int steps = argc > 2 ? atoi(argv[2]) : 200;
    if (n < 3 || steps < 1) {
        fprintf(stderr, "usage: handwritten [n >= 3] [steps >= 1]\n");
        return 1;
    }
    double *u = malloc((size_t)n * sizeof *u), *unew = malloc((size_t)n * sizeof *unew);
    double *src = malloc((size_t)n * sizeof *src);
    if (!u || !unew || !src) {
        fprintf(stderr, "out of memory\n");
        return 1;
    }

    /* pcx: expect offload */
#pragma omp target teams distribute parallel for
    for (int i = 0; i < n; i++) {
        u[i] = 0.0;
        unew[i] = 0.0;
        src[i] = (i % 1000 == 0) ? 1.0 : 0.0;
    }

    double probe = 0.0;
    for (int t = 0; t < steps; t++) {
        /* pcx: expect offload */
#pragma omp target teams distribute parallel for
        for (int i = 1; i < n - 1; i++)
            unew[i] = u[i] + 0.25 * (u[i - 1] - 2.0 * u[i] + u[i + 1]) + 0.01 * src[i];
        /* pcx: expect offload */
#pragma omp target teams distribute parallel for
        for (int i = 1; i < n - 1; i++)
            u[i] = unew[i];
    }
    for (int i = n / 2 - 2; i < n / 2 + 2; i++)
        probe += u[i];

    double total = 0.0;
    /* pcx: expect offload */
#pragma omp target teams distribute parallel for reduction(+ : total)
    for (int i = 0; i < n; i++)
        total += u[i];
    printf("handwritten n=%d steps=%d\n", n, steps);
    printf("probe sum = %.10e\n", probe);
    printf("total heat = %.10e\n", total);
    printf("u[1000] = %.10e\n", u[1000]);
    free(u);
    free(unew);
    free(src);
    return 0;
}
