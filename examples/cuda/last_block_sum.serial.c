/* Serial twin of last_block_sum (written by hand, no CUDA). */
#include <stdio.h>

#define N 100000

int main(void)
{
    static float h[N];
    for (int i = 0; i < N; i++) h[i] = (float)(i % 17) - 8.0f + (float)(i % 3) * 0.5f;
    for (int rep = 0; rep < 3; rep++) {
        int n = N - rep * 1000;
        double total = 0.0;  /* every value is a multiple of 0.5: any order sums exactly */
        for (int i = 0; i < n; i++) total += h[i];
        printf("n=%d total=%.1f last block ran: %d ticket reset: %u\n", n, (float)total, 1, 0u);
    }
    return 0;
}
