/* Serial twin of curand_monte_carlo.cu, written from cuRAND's documented XORWOW
   generator without the translator's runtime: the seeding, the draw, the uniform, double
   and Box-Muller maps, and subsequences 2^67 draws apart.  The jumps here are GF(2)
   matrices (one step as a 160x160 bit matrix, squared 67 times), where the runtime uses
   polynomials: two independent ways to the same states. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct { unsigned int d, v[5]; int flag; float extra; } rng;
typedef struct { unsigned int col[160][5]; } bitmatrix; /* col[k]: the image of bit k */

static void step(unsigned int v[5])
{
    unsigned int t = v[0] ^ (v[0] >> 2);
    v[0] = v[1]; v[1] = v[2]; v[2] = v[3]; v[3] = v[4];
    v[4] = (v[4] ^ (v[4] << 4)) ^ (t ^ (t << 1));
}

static void apply(const bitmatrix *m, const unsigned int v[5], unsigned int out[5])
{
    unsigned int acc[5] = {0, 0, 0, 0, 0};
    for (int k = 0; k < 160; k++)
        if ((v[k / 32] >> (k % 32)) & 1u)
            for (int w = 0; w < 5; w++) acc[w] ^= m->col[k][w];
    memcpy(out, acc, sizeof acc);
}

static void power_of_two_steps(bitmatrix *m, int log2_steps)
{
    for (int k = 0; k < 160; k++) {
        unsigned int v[5] = {0, 0, 0, 0, 0};
        v[k / 32] = 1u << (k % 32);
        step(v);
        memcpy(m->col[k], v, sizeof v);
    }
    for (int i = 0; i < log2_steps; i++) {
        static bitmatrix sq;
        for (int k = 0; k < 160; k++) apply(m, m->col[k], sq.col[k]);
        *m = sq;
    }
}

static unsigned int next(rng *s)
{
    step(s->v);
    s->d += 362437u;
    return s->v[4] + s->d;
}

static float uniform(rng *s) { return next(s) * 2.3283064e-10f + 2.3283064e-10f / 2.0f; }

static double uniform_double(rng *s)
{
    unsigned int x = next(s), y = next(s);
    unsigned long long z = (unsigned long long)x ^ ((unsigned long long)y << 21);
    return z * 1.1102230246251565e-16 + 1.1102230246251565e-16 / 2.0;
}

static float normal(rng *s)
{
    if (s->flag) { s->flag = 0; return s->extra; }
    unsigned int x = next(s), y = next(s);
    float u = x * 2.3283064e-10f + 2.3283064e-10f / 2;
    float v = y * (2.3283064e-10f * 6.2831855f) + (2.3283064e-10f * 6.2831855f) / 2;
    float r = sqrtf(-2.0f * logf(u));
    s->extra = r * cosf(v);
    s->flag = 1;
    return r * sinf(v);
}

int main(void)
{
    const int n = 1000, draws = 300, rounds = 3;
    const unsigned long long seed = 20260101ull;
    static bitmatrix subsequence, one_step;
    power_of_two_steps(&subsequence, 67);
    power_of_two_steps(&one_step, 0);
    rng *st = malloc(n * sizeof(rng));
    unsigned int s0 = (unsigned int)seed ^ 0xaad26b49u, s1 = (unsigned int)(seed >> 32) ^ 0xf7dcefddu;
    unsigned int t0 = 1099087573u * s0, t1 = 2591861531u * s1;
    rng base = {6615241u + t1 + t0, {123456789u + t0, 362436069u ^ t0, 521288629u + t1, 88675123u ^ t1, 5783321u + t0}, 0, 0.0f};
    for (int i = 0; i < n; i++) { /* thread i's subsequence: i jumps of 2^67 from the seed's state */
        st[i] = base;
        apply(&subsequence, base.v, base.v);
    }
    unsigned int *hits = calloc(n, sizeof(unsigned int)), *first = malloc(n * sizeof(unsigned int));
    float *gauss = malloc(n * sizeof(float));
    double *wide = malloc(n * sizeof(double));
    for (int r = 0; r < rounds; r++) {
        for (int i = 0; i < n; i++) {
            rng *s = &st[i];
            first[i] = next(s);
            unsigned int inside = 0;
            for (int k = 0; k < draws; k++) {
                float x = uniform(s), y = uniform(s);
                if (x * x + y * y <= 1.0f) inside++;
            }
            hits[i] += inside;
            float g0 = normal(s);
            gauss[i] = g0 + normal(s);
            wide[i] = uniform_double(s);
            if (i % 7 == 0) { /* skipahead(1000 + i): that many single steps */
                for (int k = 0; k < 1000 + i; k++) apply(&one_step, s->v, s->v);
                s->d += 362437u * (unsigned int)(1000 + i);
            }
        }
        unsigned int mix = 0;
        double gsum = 0.0, wsum = 0.0;
        for (int i = 0; i < n; i++) {
            mix ^= first[i] * (unsigned int)(2 * i + 1);
            gsum += gauss[i];
            wsum += wide[i];
        }
        printf("round %d: first[0]=%u first[1]=%u first[999]=%u mix=%u gauss[0]=%.6f gsum=%.4f wsum=%.6f\n", r,
               first[0], first[1], first[999], mix, gauss[0], gsum, wsum);
    }
    unsigned long long total = 0;
    for (int i = 0; i < n; i++) total += hits[i];
    printf("hits=%llu of %d pi~%.6f\n", total, n * draws * rounds, 4.0 * (double)total / (double)(n * draws * rounds));
    free(st); free(hits); free(first); free(gauss); free(wide);
    return 0;
}
