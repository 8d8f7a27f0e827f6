/* Needleman-Wunsch global alignment score of two pseudo-random DNA sequences.
 *
 * S[i][j] depends on S[i-1][j-1], S[i-1][j] and S[i][j-1]: rows and columns both carry
 * dependences.  Cells on one anti-diagonal d = i + j depend only on diagonals d-1 and
 * d-2, so the sweep over diagonals is serial and the loop along one diagonal is
 * parallel.
 *
 * usage: nw [n] [m]
 */
#include <stdio.h>
#include <stdlib.h>

static void align(int n, int m, int S[restrict n + 1][m + 1], const char *restrict a,
                  const char *restrict b, int gap)
{
    for (int i = 0; i <= n; i++)
        S[i][0] = -gap * i;
    for (int j = 0; j <= m; j++)
        S[0][j] = -gap * j;
    /* pcx: expect serial PCX101 */
    for (int d = 2; d <= n + m; d++) {
        int lo = d - m > 1 ? d - m : 1;
        int hi = d - 1 < n ? d - 1 : n;
        /* pcx: expect offload */
        for (int i = lo; i <= hi; i++) {
            int j = d - i;
            int match = S[i - 1][j - 1] + (a[i - 1] == b[j - 1] ? 2 : -1);
            int del = S[i - 1][j] - gap;
            int ins = S[i][j - 1] - gap;
            int best = match > del ? match : del;
            S[i][j] = best > ins ? best : ins;
        }
    }
}

int main(int argc, char **argv)
{
    int n = argc > 1 ? atoi(argv[1]) : 300;
    int m = argc > 2 ? atoi(argv[2]) : 280;
    char *a = malloc((size_t)n), *b = malloc((size_t)m);
    int (*S)[m + 1] = malloc(sizeof(int[n + 1][m + 1]));
    if (!a || !b || !S) {
        fprintf(stderr, "out of memory\n");
        return 1;
    }
    unsigned int seed = 7u;
    for (int i = 0; i < n; i++) {
        seed = seed * 1664525u + 1013904223u;
        a[i] = "ACGT"[(seed >> 16) & 3];
    }
    for (int j = 0; j < m; j++) {
        seed = seed * 1664525u + 1013904223u;
        b[j] = "ACGT"[(seed >> 16) & 3];
    }
    align(n, m, S, a, b, 1);
    long check = 0;
    for (int i = 0; i <= n; i++)
        for (int j = 0; j <= m; j++)
            check += (long)S[i][j] * ((i + 2 * j) % 5);
    printf("nw n=%d m=%d\n", n, m);
    printf("score = %d\n", S[n][m]);
    printf("checksum = %ld\n", check);
    free(a);
    free(b);
    free(S);
    return 0;
}
