/* Serial twin of jacobi_solver.cu. */
#include <stdio.h>
#include <stdlib.h>

int main(void)
{
    const int n = 17;
    const double h = 1.0 / (n - 1), h2 = h * h;
    double *f = malloc(n * sizeof(double)), *u = malloc(n * sizeof(double)), *un = malloc(n * sizeof(double));
    for (int i = 0; i < n; i++) {
        f[i] = 1.0 + (i % 3);
        u[i] = 0.0;
    }
    int it = 0;
    for (int check = 0; check < 20; check++) {
        for (int k = 0; k < 100; k++, it++) {
            for (int i = 0; i < n; i++)
                un[i] = (i == 0 || i == n - 1) ? 0.0 : 0.5 * (u[i - 1] + u[i + 1] + h2 * f[i]);
            double *t = u; u = un; un = t;
        }
        double res = 0.0;
        for (int i = 1; i < n - 1; i++) {
            double d = (2.0 * u[i] - u[i - 1] - u[i + 1]) / h2 - f[i];
            res += d * d;
        }
        printf("iteration %d residual2 %.6e\n", it, res);
        if (res < 1e-3)
            break;
    }
    double sum = 0.0;
    for (int i = 0; i < n; i++)
        sum += u[i];
    printf("jacobi_solver n=%d iterations=%d u_mid=%.9f u_sum=%.9f\n", n, it, u[n / 2], sum);
    free(f); free(u); free(un);
    return 0;
}
