/* Serial twin of thrust_pipeline.cu (written by hand, no CUDA, no translator). */
#include <stdio.h>

#define N 4096

static float h[N], prefix[N];
static int raw[N], counts[N];

int main(void)
{
    const int n = N;
    for (int i = 0; i < n; i++) {
        float v = (float)((i * 37) % 101) * 0.5f - 3.0f;
        h[i] = v < 0.0f ? 0.0f : v > 40.0f ? 40.0f : v;
    }
    float run = 0.0f;
    for (int i = 0; i < n; i++) {
        run += h[i];
        prefix[i] = run;
    }
    printf("prefix: %.1f %.1f %.1f %.1f\n", prefix[0], prefix[100], prefix[n / 2], prefix[n - 1]);
    printf("sum %.1f, d[7] %.1f\n", run, h[7]);

    for (int i = 0; i < n; i++)
        raw[i] = i + 1;
    for (int i = 0; i < n; i++)
        counts[i] = raw[i];
    counts[0] = 100;
    int first = counts[0], acc = 0;
    for (int i = 0; i < n; i++) {
        int c = counts[i];
        counts[i] = acc;
        acc += c;
    }
    printf("first %d, offsets: %d %d %d %d\n", first, counts[0], counts[1], counts[2], counts[n - 1]);

    int total = 0;
    for (int i = 0; i < 3; i++)
        raw[i] = counts[i];
    for (int i = 0; i < n; i++)
        total += raw[i];
    printf("raw after copy: %d %d %d %d, total %d\n", raw[0], raw[1], raw[2], raw[3], total);
    return 0;
}
