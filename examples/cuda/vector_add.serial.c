/* Serial twin of vector_add.cu: computes the expected output independently. */
#include <stdio.h>
#include <stdlib.h>

int main(void)
{
    const int n = 100003;
    float *a = malloc(n * sizeof(float)), *b = malloc(n * sizeof(float)), *c = malloc(n * sizeof(float));
    for (int i = 0; i < n; i++) {
        a[i] = (float)(i % 1000);
        b[i] = (float)(2 * (i % 77));
    }
    for (int i = 0; i < n; i++)
        c[i] = a[i] + b[i];
    double sum = 0.0;
    for (int i = 0; i < n; i++)
        sum += c[i] * (double)(i % 7 + 1);
    printf("vector_add n=%d c[0]=%.1f c[n-1]=%.1f weighted_sum=%.1f\n", n, c[0], c[n - 1], sum);
    free(a); free(b); free(c);
    return 0;
}
