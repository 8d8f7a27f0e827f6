/* Serial twin of saxpy_gridstride.cu. */
#include <stdio.h>
#include <stdlib.h>

int main(void)
{
    const int n = 1 << 20;
    float *x = malloc(n * sizeof(float)), *y = malloc(n * sizeof(float));
    for (int i = 0; i < n; i++) {
        x[i] = (float)(i % 100) * 0.5f;
        y[i] = (float)(i % 9);
    }
    for (int rep = 0; rep < 3; rep++)
        for (int i = 0; i < n; i++)
            y[i] = 2.0f * x[i] + y[i];
    double sum = 0.0;
    for (int i = 0; i < n; i++)
        sum += y[i];
    printf("saxpy n=%d y[1]=%.2f y[n-1]=%.2f sum=%.2f elapsed_ok=%d\n", n, y[1], y[n - 1], sum, 1);
    free(x); free(y);
    return 0;
}
