/* Serial twin of the multifile_heat program: computes the expected output independently. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NX 66
#define NY 50
#define STEPS 40

int main(void)
{
    static float a[NY][NX], b[NY][NX];
    for (int y = 0; y < NY; y++)
        for (int x = 0; x < NX; x++)
            a[y][x] = (x > NX / 3 && x < NX / 2 && y > NY / 4 && y < NY / 2) ? 100.0f : (float)((x + 2 * y) % 7);
    for (int s = 0; s < STEPS; s++) {
        for (int y = 0; y < NY; y++)
            for (int x = 0; x < NX; x++) {
                if (x == 0 || y == 0 || x == NX - 1 || y == NY - 1)
                    b[y][x] = a[y][x];
                else
                    b[y][x] = 0.6f * a[y][x] + 0.1f * (a[y][x - 1] + a[y][x + 1] + a[y - 1][x] + a[y + 1][x]);
            }
        memcpy(a, b, sizeof a);
    }
    double sum = 0.0;
    for (int i = 0; i < NX * NY; i++) {
        float v = a[i / NX][i % NX] * 0.5f * 3.0f;
        a[i / NX][i % NX] = v;
        sum += v * (double)(i % 11 + 1);
    }
    printf("multifile_heat %dx%d steps=%d sum=%.3f centre=%.4f\n", NX, NY, STEPS, sum, a[NY / 2][NX / 2]);
    return 0;
}
