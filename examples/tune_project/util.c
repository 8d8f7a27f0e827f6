#include <stdio.h>

#include "kernels.h"

void fill(int n, double *restrict a, double seed)
{
    for (int i = 0; i < n; i++)
        a[i] = (double)((i * 7 + 3) % 101) / 101.0 + seed;
}

double checksum(int n, const double *restrict a)
{
    double s = 0.0;
    for (int i = 0; i < n; i++)
        s += a[i] * (double)(i % 13 + 1);
    return s;
}

void running_sum(int n, double *restrict a)
{
    for (int i = 1; i < n; i++)
        a[i] = a[i] + a[i - 1];
}

void write_result(const char *path, int n, const double *a)
{
    FILE *f = fopen(path, "w");
    if (!f)
        return;
    for (int i = 0; i < n && i < 8; i++)
        fprintf(f, "y[%d] = %.9f\n", i, a[i]);
    fclose(f);
}
