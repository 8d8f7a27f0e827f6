/* Serial twin of warp_rows (written by hand, no CUDA). */
#include <stdio.h>
#include <math.h>

#define ROWS 45
#define COLS 100

int main(void)
{
    static float in[ROWS * COLS], out[ROWS * COLS], sum[ROWS];
    static int count[ROWS];
    for (int i = 0; i < ROWS * COLS; i++)
        in[i] = (float)((i * 37) % 101) / 25.0f - 2.0f;
    for (int r = 0; r < ROWS; r++) {
        float mx = in[r * COLS];
        for (int c = 0; c < COLS; c++) mx = fmaxf(mx, in[r * COLS + c]);
        float s = 0.0f;
        for (int c = 0; c < COLS; c++) s += expf(in[r * COLS + c] - mx);
        for (int c = 0; c < COLS; c++) out[r * COLS + c] = expf(in[r * COLS + c] - mx) / s;
        sum[r] = s;
        int n = 0;
        for (int c = 0; c < COLS; c++) n += in[r * COLS + c] > 0.0f;
        count[r] = n;
    }
    double total = 0.0, weighted = 0.0;
    long positives = 0;
    for (int r = 0; r < ROWS; r++) {
        for (int c = 0; c < COLS; c++) {
            total += out[r * COLS + c];
            weighted += out[r * COLS + c] * (c % 7 + 1);
        }
        positives += count[r];
    }
    printf("softmax total %.5f weighted %.5f\n", total, weighted);
    printf("row sums: %.5f %.5f %.5f\n", sum[0], sum[ROWS / 2], sum[ROWS - 1]);
    printf("positives %ld, row 0: %d, last row: %d\n", positives, count[0], count[ROWS - 1]);
    return 0;
}
