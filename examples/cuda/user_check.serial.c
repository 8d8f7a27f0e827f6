/* Serial twin of user_check.cu: computes the expected output independently. */
#include <stdio.h>
#include <stdlib.h>

int main(void)
{
    const int n = 3001;
    float *x = malloc(n * sizeof(float)), *y = malloc(n * sizeof(float));
    for (int i = 0; i < n; i++) {
        y[i] = (float)(i % 7) - 3.0f;
        x[i] = (float)(i % 13) * 0.25f;
    }
    for (int k = 1; k <= 4; k++)
        for (int i = 0; i < n; i++)
            y[i] = 0.5f * k * x[i] + y[i];
    int above = 0;
    for (int i = 0; i < n; i++)
        above += y[i] > 2.0f;
    double sum = 0.0;
    for (int i = 0; i < n; i++)
        sum += y[i];
    /* checks before the print: 3 mallocs, copy in, memset, 6 launches, synchronize, 2 copies out */
    printf("user_check n=%d y[0]=%.3f y[12]=%.3f y[n-1]=%.3f sum=%.3f above=%d checks=%d\n", n, y[0], y[12],
           y[n - 1], sum, above, 14);
    free(x);
    free(y);
    return 0;
}
