/* Serial twin of block_reduce.cu (integer-valued floats: the sum is exact). */
#include <stdio.h>

int main(void)
{
    const int n = 5000;
    double sum = 0.0;
    int mx = 0;
    for (int i = 0; i < n; i++) {
        int v = (i * 37) % 101;
        sum += v;
        if (v > mx) mx = v;
    }
    printf("block_reduce n=%d sum=%.1f max=%d\n", n, sum, mx);
    return 0;
}
