/* Searching: many binary searches in a sorted table (independent per key), a linear
 * search that stops at the first hit, and a report loop that prints as it goes.
 *
 * usage: search [n] [keys]
 */
#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv)
{
    int n = argc > 1 ? atoi(argv[1]) : 500000;
    int nkeys = argc > 2 ? atoi(argv[2]) : 200000;
    int *table = malloc((size_t)n * sizeof *table);
    int *keys = malloc((size_t)nkeys * sizeof *keys);
    int *pos = malloc((size_t)nkeys * sizeof *pos);
    if (!table || !keys || !pos) {
        fprintf(stderr, "out of memory\n");
        return 1;
    }
    /* A strictly increasing table: each entry is the previous one plus a gap. */
    table[0] = 3;
    /* pcx: expect serial PCX101 */
    for (int i = 1; i < n; i++)
        table[i] = table[i - 1] + 1 + (int)((i * 2654435761u) >> 30);
    int top = table[n - 1];
    /* pcx: expect offload */
    for (int k = 0; k < nkeys; k++)
        keys[k] = (int)(((long)k * 104729) % (top + 7));

    /* Lower bound of each key: the while loop is private to one key. */
    /* pcx: expect offload */
    for (int k = 0; k < nkeys; k++) {
        int lo = 0, hi = n;
        while (lo < hi) {
            int mid = lo + (hi - lo) / 2;
            if (table[mid] < keys[k])
                lo = mid + 1;
            else
                hi = mid;
        }
        pos[k] = lo;
    }

    /* First key that is found exactly: the loop stops at the first hit. */
    int first = -1;
    /* pcx: expect serial PCX108 */
    for (int k = 0; k < nkeys; k++)
        if (pos[k] < n && table[pos[k]] == keys[k]) {
            first = k;
            break;
        }

    long found = 0, possum = 0;
    for (int k = 0; k < nkeys; k++) {
        found += pos[k] < n && table[pos[k]] == keys[k];
        possum += pos[k];
    }
    printf("search n=%d keys=%d\n", n, nkeys);
    printf("found = %ld  first = %d\n", found, first);
    printf("sum of positions = %ld\n", possum);
    /* pcx: expect serial PCX106 */
    for (int k = 0; k < 5; k++)
        printf("key %d -> %d\n", keys[k], pos[k]);
    free(table);
    free(keys);
    free(pos);
    return 0;
}
