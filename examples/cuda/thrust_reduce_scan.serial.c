/* Serial twin of thrust_reduce_scan.cu (written by hand, no CUDA, no translator). */
#include <stdio.h>
#include <stdlib.h>

#define N 100000

static int v[N], incl[N], excl[N];
static double x[N], y[N];

int main(void)
{
    const int n = N;
    long long total = 0;
    for (int i = 0; i < n; i++) {
        v[i] = i;
        total += i;
    }
    printf("sum 0..n-1 = %lld\n", total);

    int plain = 0, largest = -1, smallest = 1 << 30;
    long zeros = 0, evens = 0;
    for (int i = 0; i < n; i++) {
        v[i] = (v[i] % 1009) * (v[i] % 1009) % 1009;
        plain += v[i];
        if (v[i] > largest) largest = v[i];
        if (i >= 1 && v[i] < smallest) smallest = v[i];
        zeros += v[i] == 0;
        evens += v[i] % 2 == 0;
    }
    printf("squares mod 1009: sum %d, +7 %d, max %d, min (from 1) %d\n", plain, plain + 7, largest, smallest);
    printf("zeros %ld, evens %ld\n", zeros, evens);

    int run = 0;
    for (int i = 0; i < n; i++) {
        excl[i] = run;
        run += v[i];
        incl[i] = run;
    }
    printf("inclusive: %d %d %d %d\n", incl[0], incl[1], incl[n / 2], incl[n - 1]);
    printf("exclusive: %d %d %d %d\n", excl[0], excl[1], excl[n / 2], excl[n - 1]);
    int mx = 100;
    for (int i = 0; i < n; i++) {
        int here = v[i];
        v[i] = mx;
        if (here > mx) mx = here;
    }
    printf("running max from 100 (in place): %d %d %d %d\n", v[0], v[1], v[50], v[n - 1]);

    long fives = 0;
    long long sum = 0;
    for (int i = 0; i < n; i++) {
        v[i] = i < n / 4 ? 5 : -3 + 2 * (i - n / 4);
        fives += v[i] == 5;
        sum += v[i];
    }
    printf("after fill and sequence: fives %ld, sum %lld, v[n/4] %d, v[n-1] %d\n", fives, sum, v[n / 4], v[n - 1]);

    double ysum = 0.0, ymin = 0.0, prefix = 0.0, mid = 0.0;
    for (int i = 0; i < n; i++) {
        x[i] = 0.25 * i;
        y[i] = -(2.0 * x[i] + 1.0);
        ysum += y[i];
        if (y[i] < ymin) ymin = y[i];
        prefix += x[i];
        if (i == n / 3) mid = prefix;
    }
    printf("y = -(2x + 1): sum %.2f, min %.2f; prefix of x: [n/3] %.2f, [n-1] %.2f\n", ysum, ymin, mid, prefix);
    return 0;
}
