/* Serial twin of atomics_compact.cu. */
#include <stdio.h>

int main(void)
{
    const int n = 10000;
    int count = 0, lo = 1 << 30, hi = -1;
    long long sum = 0, sq = 0;
    for (int i = 0; i < n; i++) {
        int v = (i * 7919) % 10007;
        if (v % 3 == 0) {
            count++;
            sum += v;
            sq += (long long)v * v % 1000;
            if (v < lo) lo = v;
            if (v > hi) hi = v;
        }
    }
    int osum = 0;
    for (int k = 0; k < 8; k++)
        osum += k;
    printf("atomics_compact count=%d sum=%lld sq=%lld min=%d max=%d owners=%d last=%d budget=%d\n", count, sum, sq,
           lo, hi, osum, 7, 100000 - 2 * 2500);
    return 0;
}
