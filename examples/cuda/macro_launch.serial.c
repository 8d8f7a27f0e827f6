/* Serial twin of macro_launch (written by hand, no CUDA). */
#include <stdio.h>

#define N 1000
#define W 40
#define H 25

int main(void)
{
    static int v[N], grid[W * H], row[W];
    for (int i = 0; i < W * H; i++) grid[i] = i % 7;
    for (int i = 0; i < N; i++) v[i] = 0;
    for (int i = 0; i < N; i++) v[i] += 1 + 1 + 2;  /* RUN(add_one), RUN_BOTH */
    for (int i = 0; i < N / 2; i++) v[i] += 2;      /* ADD_TWO_ON(d, N / 2) */
    for (int y = 0; y < H; y++) {                   /* SHIFT_ROWS: one 64-wide block a row */
        for (int x = 0; x < W; x++) row[x] = grid[y * W + x];
        for (int x = 0; x < W; x++) grid[y * W + x] = row[x] * 3 + (x > 0 ? row[x - 1] : 0);
    }
    long sum = 0, gsum = 0;
    for (int i = 0; i < N; i++) sum += v[i];
    for (int i = 0; i < W * H; i++) gsum += (long)grid[i] * (i % 11 + 1);
    printf("v[0]=%d v[%d]=%d sum=%ld\n", v[0], N - 1, v[N - 1], sum);
    printf("grid[0]=%d grid[41]=%d grid[%d]=%d weighted=%ld\n", grid[0], grid[41], W * H - 1, grid[W * H - 1], gsum);
    return 0;
}
