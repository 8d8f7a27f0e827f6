/* CPU OpenMP that must stay on the CPU: a parallel region that splits work by thread
 * number and meets at a barrier, a `single`, a `critical` section, an `atomic` update, an
 * `ordered` loop, a lock, and a function called by every thread of a team.  pcx leaves
 * each of these loops as written, with a remark that names the construct; the one plain
 * `parallel for` (the last loop) moves to the device.  Every result is an integer, so
 * the output does not depend on the number of threads.
 *
 * usage: kept [n]      (default 200000)
 */
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>

/* Called from a parallel region: every thread fills its own block. */
static void fill_block(long *v, int lo, int hi)
{
    /* pcx: expect serial PCX127 */
    for (int i = lo; i < hi; i++)
        v[i] = (i * 7919L) % 1000;
}

int main(int argc, char **argv)
{
    int n = argc > 1 ? atoi(argv[1]) : 200000;
    if (n < 1) {
        fprintf(stderr, "usage: kept [n >= 1]\n");
        return 1;
    }
    long *v = malloc((size_t)n * sizeof *v), *w = malloc((size_t)n * sizeof *w);
    long part[64] = {0};
    long total = 0;
    if (!v || !w) {
        fprintf(stderr, "out of memory\n");
        return 1;
    }

    /* Work split by thread number, a barrier, then one thread adds the parts up. */
#pragma omp parallel num_threads(4)
    {
        int t = omp_get_thread_num(), nt = omp_get_num_threads();
        int lo = (int)((long)n * t / nt), hi = (int)((long)n * (t + 1) / nt);
        fill_block(v, lo, hi);
        long mine = 0;
        /* pcx: expect serial PCX127 */
        for (int i = lo; i < hi; i++)
            mine += v[i];
        part[t] = mine;
#pragma omp barrier
        /* pcx: expect serial PCX127 */
#pragma omp single
        for (int k = 0; k < nt; k++)
            total += part[k];
    }

    /* A histogram under a critical section. */
    long hist[10] = {0};
    /* pcx: expect serial PCX127 */
#pragma omp parallel for
    for (int i = 0; i < n; i++) {
#pragma omp critical
        hist[v[i] % 10]++;
    }

    /* A counter under atomic. */
    long big = 0;
    /* pcx: expect serial PCX127 */
#pragma omp parallel for
    for (int i = 0; i < n; i++)
        if (v[i] > 500) {
#pragma omp atomic
            big++;
        }

    /* A compaction in order. */
    int kept = 0;
    /* pcx: expect serial PCX127 */
#pragma omp parallel for ordered
    for (int i = 0; i < n; i++) {
#pragma omp ordered
        if (v[i] % 97 == 0)
            w[kept++] = i;
    }

    /* A lock around a shared maximum. */
    omp_lock_t lock;
    omp_init_lock(&lock);
    long vmax = 0;
    /* pcx: expect serial PCX127 */
#pragma omp parallel for
    for (int i = 0; i < n; i++) {
        omp_set_lock(&lock);
        if (v[i] > vmax)
            vmax = v[i];
        omp_unset_lock(&lock);
    }
    omp_destroy_lock(&lock);

    /* The one plain parallel loop. */
    long sq = 0;
    /* pcx: expect offload */
#pragma omp parallel for reduction(+ : sq)
    for (int i = 0; i < n; i++)
        sq += v[i] * v[i] % 1009;

    printf("kept n=%d\n", n);
    printf("total = %ld\n", total);
    printf("hist[3] = %ld hist[7] = %ld\n", hist[3], hist[7]);
    printf("big = %ld\n", big);
    printf("kept = %d last = %ld\n", kept, kept ? w[kept - 1] : -1L);
    printf("max = %ld\n", vmax);
    printf("sum of squares mod = %ld\n", sq);
    free(v);
    free(w);
    return 0;
}
