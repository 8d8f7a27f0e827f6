/* Particles as an array of structures: gravity, drag, reflecting walls, and the
 * kinetic energy and centre of mass after some steps.
 *
 * usage: particles [n] [steps]
 */
#include <stdio.h>
#include <stdlib.h>

struct particle {
    double x, y, z;
    double vx, vy, vz;
    double mass;
    int bounces;
};

static void step(int n, struct particle *p, double dt, double drag)
{
    /* pcx: expect offload */
    for (int i = 0; i < n; i++) {
        p[i].vz -= 9.81 * dt;
        p[i].vx -= drag * p[i].vx * dt / p[i].mass;
        p[i].vy -= drag * p[i].vy * dt / p[i].mass;
        p[i].x += p[i].vx * dt;
        p[i].y += p[i].vy * dt;
        p[i].z += p[i].vz * dt;
        if (p[i].z < 0.0) {
            p[i].z = -p[i].z;
            p[i].vz = -0.9 * p[i].vz;
            p[i].bounces++;
        }
        if (p[i].x < 0.0 || p[i].x > 10.0) {
            p[i].vx = -p[i].vx;
            p[i].x = p[i].x < 0.0 ? -p[i].x : 20.0 - p[i].x;
        }
    }
}

int main(int argc, char **argv)
{
    int n = argc > 1 ? atoi(argv[1]) : 100000;
    int steps = argc > 2 ? atoi(argv[2]) : 50;
    struct particle *p = malloc((size_t)n * sizeof *p);
    if (!p) {
        fprintf(stderr, "out of memory\n");
        return 1;
    }
    for (int i = 0; i < n; i++) {
        p[i].x = 0.5 + (i % 97) * 0.09;
        p[i].y = (i % 31) * 0.1;
        p[i].z = 1.0 + (i % 13) * 0.5;
        p[i].vx = ((i % 7) - 3) * 0.8;
        p[i].vy = ((i % 5) - 2) * 0.3;
        p[i].vz = ((i % 11) - 5) * 0.2;
        p[i].mass = 1.0 + (i % 3);
        p[i].bounces = 0;
    }
    for (int s = 0; s < steps; s++)
        step(n, p, 0.01, 0.05);

    double energy = 0.0, mz = 0.0, mass = 0.0;
    long bounces = 0;
    /* pcx: expect offload */
    for (int i = 0; i < n; i++) {
        energy += 0.5 * p[i].mass * (p[i].vx * p[i].vx + p[i].vy * p[i].vy + p[i].vz * p[i].vz);
        mz += p[i].mass * p[i].z;
        mass += p[i].mass;
        bounces += p[i].bounces;
    }
    printf("particles n=%d steps=%d\n", n, steps);
    printf("kinetic energy = %.10e\n", energy);
    printf("centre of mass z = %.10e\n", mz / mass);
    printf("bounces = %ld\n", bounces);
    printf("p[42] = (%.10e, %.10e, %.10e)\n", p[42].x, p[42].y, p[42].z);
    free(p);
    return 0;
}
