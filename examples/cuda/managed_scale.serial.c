/* Serial twin of managed_scale.cu. */
#include <stdio.h>
#include <stdlib.h>

int main(void)
{
    const int n = 3000;
    float *v = malloc(n * sizeof(float));
    int shift[4];
    for (int i = 0; i < n; i++)
        v[i] = (float)(i % 10);
    for (int k = 0; k < 4; k++)
        shift[k] = k;
    double check = 0.0;
    for (int round = 0; round < 3; round++) {
        for (int i = 0; i < n - 1; i++)
            v[1 + i] = v[1 + i] * 2.0f + (float)shift[i % 4];
        check += v[n - 1] + v[1];
        shift[round % 4] += 1;
    }
    double sum = 0.0;
    for (int i = 0; i < n; i++)
        sum += v[i];
    printf("managed_scale n=%d sum=%.1f check=%.1f v0=%.1f\n", n, sum, check, v[0]);
    free(v);
    return 0;
}
