/* Serial twin of cg_block_reduce.cu: the same sums and per-half-warp statistics, computed
   directly (a half-warp is 16 consecutive elements; elements past m count as 0). */
#include <stdio.h>
#include <stdlib.h>

int main(void)
{
    const int n = 100000, m = 5000, halves = (m + 255) / 256 * 16;
    float *h = (float *)malloc(n * sizeof(float));
    int *x = (int *)calloc(halves * 16, sizeof(int));
    double sum = 0.0;
    unsigned long long total = 0;
    long long max_sum = 0, min_sum = 0, flag_sum = 0;
    unsigned int last = 0;
    for (int i = 0; i < n; i++) {
        h[i] = (float)(i % 17) * 0.25f;
        sum += h[i];
    }
    for (int i = 0; i < m; i++) {
        x[i] = (i * 37 + 11) % 101;
        total += (unsigned long long)x[i];
    }
    for (int k = 0; k < halves; k++) {
        int mx = x[k * 16], mn = x[k * 16], any_zero = 0, all_pos = 1;
        unsigned int big = 0;
        for (int l = 0; l < 16; l++) {
            int v = x[k * 16 + l];
            if (v > mx) mx = v;
            if (v < mn) mn = v;
            if (v > 50) big |= 1u << l;
            if (v == 0) any_zero = 1;
            if (v <= 0) all_pos = 0;
        }
        unsigned int flags = big * 4u + (unsigned int)(any_zero * 2 + all_pos);
        max_sum += (long long)(mx * 1000 + mx) * (k % 7 + 1);
        min_sum += (long long)mn * (k % 5 + 1);
        flag_sum += (long long)(flags % 100003) * (k % 3 + 1);
        last = flags;
    }
    printf("cg_block_reduce n=%d sum=%.2f m=%d total=%llu maxes=%lld mins=%lld flags=%lld last=%u\n", n, (float)sum, m,
           total, max_sum, min_sum, flag_sum, last);
    free(h);
    free(x);
    return 0;
}
