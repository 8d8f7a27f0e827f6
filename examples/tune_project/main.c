#include <stdio.h>
#include <stdlib.h>

#include "kernels.h"

int main(int argc, char **argv)
{
    int n = argc > 1 ? atoi(argv[1]) : 256;
    int reps = argc > 2 ? atoi(argv[2]) : 1;
    if (n < 3 || reps < 1) {
        fprintf(stderr, "usage: app N [REPS]  (N >= 3)\n");
        return 2;
    }
    double *a = malloc(sizeof(double) * n * n);
    double *b = malloc(sizeof(double) * n * n);
    double *c = malloc(sizeof(double) * n * n);
    double *u = malloc(sizeof(double) * n * n);
    double *tmp = malloc(sizeof(double) * n * n);
    double *acc = malloc(sizeof(double) * n * n);
    if (!a || !b || !c || !u || !tmp || !acc) {
        fprintf(stderr, "out of memory\n");
        return 1;
    }
    fill(n * n, a, 0.5);
    fill(n * n, b, -0.25);
    fill(n * n, u, 0.0);
    fill(n * n, tmp, 0.0);
    fill(n * n, acc, -0.5);

    /* Cold: a handful of weights, computed once. */
    double w[4];
    for (int i = 0; i < 4; i++)
        w[i] = 1.0 / (double)(i + 1);

    double trace = 0.0;
    for (int r = 0; r < reps; r++) {
        matmul(n, a, b, c);
        trace += jacobi(n, 10, u, tmp);
        axpy(n * n, w[r % 4], c, u);
        running_sum(n * n, acc);
    }
    printf("n = %d reps = %d\n", n, reps);
    printf("jacobi trace %.10e\n", trace);
    printf("running sum %.10e checksum %.10e\n", acc[n * n - 1], checksum(n * n, acc));
    printf("matmul checksum %.10e\n", checksum(n * n, c));
    printf("jacobi checksum %.10e\n", checksum(n * n, u));
    write_result("result.txt", n * n, u);
    free(a);
    free(b);
    free(c);
    free(u);
    free(tmp);
    free(acc);
    return 0;
}
