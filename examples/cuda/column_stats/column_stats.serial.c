/* Serial twin of column_stats (written by hand, no CUDA). */
#include <stdio.h>
#include <stdlib.h>
#include "checksum.h"

#define ROWS 300
#define COLS 200

int main(void)
{
    float *h = (float *)malloc(ROWS * COLS * sizeof(float));
    for (int i = 0; i < ROWS * COLS; i++)
        h[i] = (float)((i * 7) % 13 - 6) + (float)(i % 5) * 0.25f;
    double sums[COLS];
    float rmax[ROWS], rsum[ROWS];
    for (int c = 0; c < COLS; c++) {
        sums[c] = 0.0;
        for (int r = 0; r < ROWS; r++)
            sums[c] += (double)h[r * COLS + c];
    }
    for (int r = 0; r < ROWS; r++) {
        float mx = -1e30f, s = 0.0f;
        for (int c = 0; c < COLS; c++) {
            float v = h[r * COLS + c];
            mx = v > mx ? v : mx;
            s += v;
        }
        rmax[r] = mx;
        rsum[r] = s;
    }
    print_checksum("column sums (4 rows a thread)", sums, sizeof(sums));
    print_checksum("column sums (8 rows a thread)", sums, sizeof(sums));
    print_checksum("row maxima", rmax, sizeof(rmax));
    print_checksum("row sums", rsum, sizeof(rsum));
    printf("sums4[0]=%.2f sums8[199]=%.2f rmax[7]=%.2f rsum[299]=%.2f\n", sums[0], sums[COLS - 1], rmax[7], rsum[ROWS - 1]);
    free(h);
    return 0;
}
