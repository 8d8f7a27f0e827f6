/* Serial twin of user_error_check.cu: computes the expected output independently. */
#include <stdio.h>
#include <stdlib.h>

int main(void)
{
    const int n = 5000;
    float *h = malloc(n * sizeof(float));
    for (int i = 0; i < n; i++)
        h[i] = (float)(i % 97) * 0.5f;
    for (int round = 0; round < 3; round++)
        for (int i = 0; i < n; i++)
            h[i] = 1.5f * h[i] + (float)round;
    double sum = 0.0;
    for (int i = 0; i < n; i++)
        sum += h[i];
    /* checks: malloc, copy in, 3 launches, synchronize, copy out, free */
    printf("user_error_check n=%d h[1]=%.4f h[n-1]=%.4f sum=%.3f checks=%d\n", n, h[1], h[n - 1], sum, 8);
    free(h);
    return 0;
}
