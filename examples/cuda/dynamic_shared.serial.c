/* Serial twin of dynamic_shared.cu. */
#include <stdio.h>
#include <stdlib.h>

int main(void)
{
    const int n = 3001, w = 5;
    int *h = malloc(n * sizeof(int)), *r = malloc(n * sizeof(int));
    for (int i = 0; i < n; i++)
        h[i] = (i * 31) % 97 - 40;
    for (int i = 0; i < n; i++) {
        int s = 0;
        for (int k = 0; k < w; k++)
            s += (i + k < n) ? h[i + k] : 0;
        r[i] = s;
    }
    long long sum = 0, wsum = 0;
    for (int i = 0; i < n; i++) {
        sum += r[i];
        wsum += (long long)r[i] * (i % 9);
    }
    printf("dynamic_shared n=%d w=%d sum=%lld wsum=%lld r0=%d rlast=%d\n", n, w, sum, wsum, r[0], r[n - 1]);
    free(h); free(r);
    return 0;
}
