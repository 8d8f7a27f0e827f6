/* Serial twin of device_query.cu: computes the expected output independently. */
#include <stdio.h>
#include <stdlib.h>

int main(void)
{
    printf("device_query: devices>=1 yes, name yes, warp 32/32, attributes agree yes, "
           "block limit ok yes, memory ok yes, bad ordinal: invalid device ordinal\n");
    const int n = 300007;
    float *y = malloc(n * sizeof(float));
    unsigned int odd = 0;
    for (int i = 0; i < n; i++) {
        float v = (float)(i % 1001) * 0.25f;
        y[i] = (0.5f * v - 2.0f) * v + 3.0f;
        if ((int)y[i] % 2)
            odd++;
    }
    double sum = 0.0;
    for (int i = 0; i < n; i++)
        sum += y[i];
    printf("device_query n=%d sum=%.4f odd=%u\n", n, sum, odd);
    free(y);
    return 0;
}
