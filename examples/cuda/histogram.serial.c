/* Serial twin of histogram.cu. */
#include <stdio.h>
#include <stdlib.h>

#define BINS 64

int main(void)
{
    const int n = 200000;
    unsigned int bins[BINS] = {0};
    unsigned int seed = 12345u;
    for (int i = 0; i < n; i++) {
        seed = seed * 1103515245u + 12345u;
        unsigned char v = (unsigned char)(seed >> 16);
        bins[v % BINS]++;
    }
    unsigned long long total = 0, weighted = 0;
    for (int b = 0; b < BINS; b++) {
        total += bins[b];
        weighted += (unsigned long long)bins[b] * (b + 1);
    }
    printf("histogram n=%d total=%llu weighted=%llu bin0=%u bin63=%u same=%d\n", n, total, weighted,
           bins[0], bins[BINS - 1], 1);
    return 0;
}
