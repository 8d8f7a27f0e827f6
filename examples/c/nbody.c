/* Direct-sum gravitational n-body in structure-of-arrays layout: forces, leapfrog
 * update, and the kinetic energy after a few steps.
 *
 * usage: nbody [n] [steps]
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

static void accelerate(int n, double dt, double eps2,
                       const double *restrict x, const double *restrict y, const double *restrict z,
                       const double *restrict m,
                       double *restrict vx, double *restrict vy, double *restrict vz)
{
    /* pcx: expect offload */
    for (int i = 0; i < n; i++) {
        double ax = 0.0, ay = 0.0, az = 0.0;
        for (int j = 0; j < n; j++) {
            double dx = x[j] - x[i], dy = y[j] - y[i], dz = z[j] - z[i];
            double r2 = dx * dx + dy * dy + dz * dz + eps2;
            double inv = 1.0 / sqrt(r2);
            double s = m[j] * inv * inv * inv;
            ax += s * dx;
            ay += s * dy;
            az += s * dz;
        }
        vx[i] += dt * ax;
        vy[i] += dt * ay;
        vz[i] += dt * az;
    }
}

static void drift(int n, double dt, double *restrict x, double *restrict y, double *restrict z,
                  const double *restrict vx, const double *restrict vy, const double *restrict vz)
{
    /* pcx: expect offload */
    for (int i = 0; i < n; i++) {
        x[i] += dt * vx[i];
        y[i] += dt * vy[i];
        z[i] += dt * vz[i];
    }
}

int main(int argc, char **argv)
{
    int n = argc > 1 ? atoi(argv[1]) : 1024;
    int steps = argc > 2 ? atoi(argv[2]) : 4;
    double *x = malloc((size_t)n * sizeof *x), *y = malloc((size_t)n * sizeof *y);
    double *z = malloc((size_t)n * sizeof *z), *m = malloc((size_t)n * sizeof *m);
    double *vx = calloc((size_t)n, sizeof *vx), *vy = calloc((size_t)n, sizeof *vy);
    double *vz = calloc((size_t)n, sizeof *vz);
    if (!x || !y || !z || !m || !vx || !vy || !vz) {
        fprintf(stderr, "out of memory\n");
        return 1;
    }
    for (int i = 0; i < n; i++) {
        double t = 0.1 * i;
        x[i] = cos(t) * (1.0 + 0.001 * i);
        y[i] = sin(t) * (1.0 + 0.001 * i);
        z[i] = 0.01 * (i % 17);
        m[i] = 1.0 / n;
    }
    for (int s = 0; s < steps; s++) {
        accelerate(n, 0.001, 0.01, x, y, z, m, vx, vy, vz);
        drift(n, 0.001, x, y, z, vx, vy, vz);
    }
    double kinetic = 0.0;
    /* pcx: expect offload */
    for (int i = 0; i < n; i++)
        kinetic += 0.5 * m[i] * (vx[i] * vx[i] + vy[i] * vy[i] + vz[i] * vz[i]);
    printf("nbody n=%d steps=%d\n", n, steps);
    printf("kinetic energy = %.10e\n", kinetic);
    printf("x[0] = %.10e  y[n-1] = %.10e\n", x[0], y[n - 1]);
    free(x); free(y); free(z); free(m);
    free(vx); free(vy); free(vz);
    return 0;
}
