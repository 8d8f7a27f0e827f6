/* Demo: 2D heat diffusion with a time loop, a buffer swap and a convergence reduction.
 *
 * Serial C, exactly as a scientist would write it.  `make demo` compiles it with pcx-cc,
 * which offloads the sweeps to the device and keeps both grids there across time steps.
 */
#include <stdio.h>
#include <stdlib.h>
#include <math.h>

static void init(int n, double *u)
{
    for (int i = 0; i < n; i++)
        for (int j = 0; j < n; j++)
            u[i * n + j] = (i == 0) ? 100.0 : 0.0; /* a hot top edge */
}

int main(int argc, char **argv)
{
    int n = argc > 1 ? atoi(argv[1]) : 512;
    int steps = argc > 2 ? atoi(argv[2]) : 200;
    double *u = malloc(sizeof(double) * n * n);
    double *v = malloc(sizeof(double) * n * n);
    init(n, u);
    init(n, v);

    double delta = 0.0;
    for (int t = 0; t < steps; t++) {
        for (int i = 1; i < n - 1; i++)
            for (int j = 1; j < n - 1; j++)
                v[i * n + j] = 0.25 * (u[(i - 1) * n + j] + u[(i + 1) * n + j] +
                                       u[i * n + j - 1] + u[i * n + j + 1]);
        double *tmp = u;
        u = v;
        v = tmp;
    }

    for (int i = 1; i < n - 1; i++)
        for (int j = 1; j < n - 1; j++)
            delta = fmax(delta, fabs(u[i * n + j] - v[i * n + j]));

    double sum = 0.0;
    for (int i = 0; i < n * n; i++)
        sum += u[i];

    printf("n=%d steps=%d\n", n, steps);
    printf("heat sum   %.6e\n", sum);
    printf("last delta %.6e\n", delta);
    free(u);
    free(v);
    return 0;
}
