#ifndef TUNE_PROJECT_KERNELS_H
#define TUNE_PROJECT_KERNELS_H

/* Hot: n^3 multiply-adds. */
void matmul(int n, const double *restrict a, const double *restrict b, double *restrict c);
/* Warm: iters sweeps of a 5-point stencil over an n x n grid (two kernels per sweep);
 * returns the sum of the centre value after each sweep. */
double jacobi(int n, int iters, double *restrict u, double *restrict tmp);
/* Light: one pass over n elements. */
void axpy(int n, double alpha, const double *restrict x, double *restrict y);

/* Cold helpers (util.c). */
void fill(int n, double *restrict a, double seed);
double checksum(int n, const double *restrict a);
/* A running (prefix) sum: each element depends on the previous one (not parallel). */
void running_sum(int n, double *restrict a);
void write_result(const char *path, int n, const double *a);

#endif
