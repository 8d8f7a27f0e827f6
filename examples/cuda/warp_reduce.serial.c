/* Serial twin of warp_reduce.cu: warps are the 32 consecutive indices 32w..32w+31 (the
   blocks are whole warps); lanes past n hold 0. */
#include <stdio.h>

int main(void)
{
    const int n = 3000, nw = (n + 31) / 32;
    double sum = 0.0;
    long long scan_sum = 0, ballot_sum = 0, flag_sum = 0;
    unsigned int last = 0;
    for (int i = 0; i < n; i++)
        sum += (i * 7) % 13;
    for (int w = 0; w < nw; w++) {
        int x[32], s = 0, any_zero = 0, all_small = 1;
        unsigned int b = 0;
        for (int l = 0; l < 32; l++) {
            int i = w * 32 + l;
            x[l] = i < n ? (i * 37) % 11 : 0;
            if (x[l] > 5) b |= 1u << l;
            if (x[l] == 0) any_zero = 1;
            if (!(x[l] < 10)) all_small = 0;
        }
        for (int l = 0; l < 32; l++) {
            int i = w * 32 + l;
            s += x[l];
            if (i < n)
                scan_sum += (long long)(s + x[0]) * (i % 7 + 1);
        }
        ballot_sum += (long long)(b % 100003) * (w + 1);
        flag_sum += (any_zero * 2 + all_small) * (w % 5 + 1);
        last = b;
    }
    printf("warp_reduce n=%d sum=%.1f scan=%lld ballots=%lld flags=%lld last=%u\n", n, sum, scan_sum, ballot_sum,
           flag_sum, last);
    return 0;
}
