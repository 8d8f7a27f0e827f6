/* A batched contraction with a scratch row: for every (r, q), row = A[r][q][:] x W, then
 * A[r][q][:] = row (the shape of PolyBench's doitgen and of multiresolution transforms).
 *
 * Every iteration of (r, q) writes the shared row before reading it, so the loops over r
 * and q carry a dependence through it, unless each iteration has its own copy: pcx
 * privatises the row (PCX140) and the whole nest is one kernel, where the loops inside
 * would be one launch per (r, q).  The last iteration copies its row back, which is what
 * the serial program leaves there.  The row's extent is its declaration's, NP; a longer
 * row (np > NP) runs as written.
 *
 * usage: contract [nr] [nq] [np]
 */
#include <stdio.h>
#include <stdlib.h>

#define NP 96

static void contract(int nr, int nq, int np, double A[nr][nq][np], double W[np][np], double row[NP])
{
    /* pcx: expect offload */
    for (int r = 0; r < nr; r++)
        for (int q = 0; q < nq; q++) {
            for (int p = 0; p < np; p++) {
                row[p] = 0.0;
                for (int s = 0; s < np; s++)
                    row[p] += A[r][q][s] * W[s][p];
            }
            for (int p = 0; p < np; p++)
                A[r][q][p] = row[p];
        }
}

int main(int argc, char **argv)
{
    int nr = argc > 1 ? atoi(argv[1]) : 40;
    int nq = argc > 2 ? atoi(argv[2]) : 50;
    int np = argc > 3 ? atoi(argv[3]) : NP;
    if (nr < 1 || nq < 1 || np < 1)
        return 1;
    double (*A)[nq][np] = malloc(sizeof(double) * nr * nq * np);
    double (*W)[np] = malloc(sizeof(double) * np * np);
    double *row = calloc(np > NP ? np : NP, sizeof(double));
    unsigned seed = 2026u;  /* a generator's state: these loops stay on the host */
    /* pcx: expect serial PCX112 */
    for (int r = 0; r < nr; r++)
        for (int q = 0; q < nq; q++)
            for (int p = 0; p < np; p++) {
                seed = seed * 1103515245u + 12345u;
                A[r][q][p] = (double)(seed >> 16 & 1023) / 1024.0;
            }
    for (int s = 0; s < np; s++)
        for (int p = 0; p < np; p++) {
            seed = seed * 1103515245u + 12345u;
            W[s][p] = (double)(seed >> 16 & 255) / 2048.0;
        }

    contract(nr, nq, np, A, W, row);

    double hash = 0.0, last = 0.0;  /* a running hash, order-dependent: on the host */
    /* pcx: expect serial PCX112 */
    for (int r = 0; r < nr; r++)
        for (int q = 0; q < nq; q++)
            for (int p = 0; p < np; p++)
                hash = hash * 0.999 + A[r][q][p];
    for (int p = 0; p < np; p++)
        last = last * 0.5 + row[p];
    printf("contract %dx%dx%d: hash %.10e, last row %.10e\n", nr, nq, np, hash, last);
    free(A);
    free(W);
    free(row);
    return 0;
}
