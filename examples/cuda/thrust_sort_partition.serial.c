/* Serial twin of thrust_sort_partition (written by hand, no CUDA, no Thrust). */
#include <stdio.h>
#include <stdlib.h>

static int up_order(const void *a, const void *b) { return *(const int *)a - *(const int *)b; }
static int down_order(const void *a, const void *b) { return *(const int *)b - *(const int *)a; }

int main(void)
{
    enum { n = 1000 };
    int h[n], up[n], down[n];
    for (int i = 0; i < n; i++) h[i] = (i * 7919) % 1009;
    for (int i = 0; i < n; i++) up[i] = down[i] = h[i];
    qsort(up, n, sizeof(int), up_order);
    qsort(down, n, sizeof(int), down_order);
    printf("sorted: %d %d %d ... %d; descending: %d %d ... %d\n", up[0], up[1], up[2], up[n - 1], down[0], down[1], down[n - 1]);

    /* keys (i * 31) % 12 sorted: each key k occurs count[k] times, in key order */
    int count[12] = {0};
    for (int i = 0; i < n; i++) count[(i * 31) % 12]++;
    long long key_weighted = 0;
    int pos = 0;
    for (int k = 0; k < 12; k++)
        for (int c = 0; c < count[k]; c++, pos++) key_weighted += (long long)k * (pos + 1);
    printf("sort_by_key: ordered and paired %d, key-weighted %lld, first key %d, last key %d\n", 1, key_weighted, 0, 11);

    int largest = 0, smallest = 0;
    for (int i = 0; i < n; i++) {
        if (h[i] > h[largest]) largest = i;
        if (h[i] < h[smallest]) smallest = i;
    }
    printf("sort_by_key descending: value of the largest key %d, of the smallest %d\n", largest, smallest);

    int odd = 0;
    long long odd_sum = 0, even_sum = 0;
    for (int i = 0; i < n; i++) {
        if (h[i] % 2 != 0) { odd++; odd_sum += h[i]; } else even_sum += h[i];
    }
    printf("partition: %d odd first (split %d), sums %lld %lld\n", odd, 1, odd_sum, even_sum);

    int fuel = 0;
    long long fuel_sum = 0;
    for (int i = 0; i < n; i++)
        if ((i * 13) % 5 == 0) { fuel++; fuel_sum += i; }
    printf("partition with a stencil: %d fuel samples first (ok %d), their sum %lld, stencil unchanged %d\n",
           fuel, 1, fuel_sum, 1);
    return 0;
}
