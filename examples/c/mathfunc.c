/* Math-heavy loops through helper functions: tabulating a function, a midpoint-rule
 * integral, and a loop whose helper has a side effect (it counts its calls).
 *
 * usage: mathfunc [n]
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

static double bump(double x)
{
    return exp(-x * x) * cos(3.0 * x) + sqrt(1.0 + x * x) / (2.0 + sin(x));
}

static double weight(double x, double shift)
{
    double t = x - shift;
    return 1.0 / (1.0 + t * t) + pow(fabs(t), 1.5) * 0.01;
}

static long evaluations; /* how often noisy() ran: a global written by the helper */

static double noisy(double x)
{
    evaluations++;
    return bump(x) + 1e-3 * (evaluations % 7);
}

int main(int argc, char **argv)
{
    int n = argc > 1 ? atoi(argv[1]) : 400000;
    double *x = malloc((size_t)n * sizeof *x), *y = malloc((size_t)n * sizeof *y);
    if (!x || !y) {
        fprintf(stderr, "out of memory\n");
        return 1;
    }
    const double lo = -4.0, hi = 4.0, h = (hi - lo) / n;
    /* pcx: expect offload */
    for (int i = 0; i < n; i++) {
        x[i] = lo + (i + 0.5) * h;
        y[i] = bump(x[i]) * weight(x[i], 0.5);
    }

    double integral = 0.0;
    /* pcx: expect offload */
    for (int i = 0; i < n; i++)
        integral += h * bump(lo + (i + 0.5) * h) * bump(lo + (i + 0.5) * h);

    /* noisy() writes a global on every call: running these calls in parallel would race
     * and change the values. */
    double sum_noisy = 0.0;
    /* pcx: expect serial PCX105 */
    for (int i = 0; i < n; i += 97)
        sum_noisy += noisy(x[i]);

    double sy = 0.0;
    for (int i = 0; i < n; i++)
        sy += fabs(y[i]);
    printf("mathfunc n=%d\n", n);
    printf("integral of bump^2 = %.10e\n", integral);
    printf("sum |bump*weight| = %.10e\n", sy);
    printf("y[n/3] = %.10e\n", y[n / 3]);
    printf("noisy sum = %.10e after %ld evaluations\n", sum_noisy, evaluations);
    free(x);
    free(y);
    return 0;
}
