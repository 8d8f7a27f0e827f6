/* Serial twin of warp_helpers.cu: per row, the mean, the count of values above 6, and
   for each group of 32 threads (a warp: thread t reads columns t, t+128, ...) the range. */
#include <stdio.h>
#include <stdlib.h>

#define ROWS 37
#define COLS 1000
#define THREADS 128

int main(void)
{
    const int warps = THREADS / 32;
    float *h = malloc(ROWS * COLS * sizeof(float));
    float mean[ROWS], range[ROWS * THREADS / 32];
    int count[ROWS];
    for (int i = 0; i < ROWS * COLS; i++)
        h[i] = (float)((i * 7 + i / 13) % 11);
    for (int r = 0; r < ROWS; r++) {
        const float *row = h + r * COLS;
        float s = 0.0f;
        int big = 0;
        for (int j = 0; j < COLS; j++) {
            s += row[j];
            big += row[j] > 6.0f;
        }
        mean[r] = s / COLS;
        count[r] = big;
        for (int w = 0; w < warps; w++) {
            float lo = 1e30f, hi = -1e30f;
            for (int j = 0; j < COLS; j++)
                if ((j % THREADS) / 32 == w) {
                    lo = row[j] < lo ? row[j] : lo;
                    hi = row[j] > hi ? row[j] : hi;
                }
            range[r * warps + w] = hi - lo;
        }
    }
    double msum = 0, rsum = 0;
    long csum = 0;
    for (int r = 0; r < ROWS; r++) {
        msum += mean[r] * (r + 1);
        csum += count[r];
        for (int w = 0; w < warps; w++)
            rsum += range[r * warps + w] * (w + 1);
    }
    printf("warp_helpers mean[0]=%.4f mean[last]=%.4f weighted=%.4f big=%ld ranges=%.1f\n", mean[0], mean[ROWS - 1],
           msum, csum, rsum);
    free(h);
    return 0;
}
