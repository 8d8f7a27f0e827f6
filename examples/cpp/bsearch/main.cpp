// Binary search of many keys in a sorted table (lower bound), as in HeCBench bsearch.
//
// usage: main [table_size] [keys]
#include <chrono>
#include <cstdlib>
#include <iomanip>
#include <iostream>
#include <vector>

static void lower_bounds(const std::vector<long>& table, const std::vector<long>& keys,
                         std::vector<int>& pos)
{
    const int n = static_cast<int>(table.size());
    const int nkeys = static_cast<int>(keys.size());
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
}

int main(int argc, char* argv[])
{
    const int n = argc > 1 ? std::atoi(argv[1]) : 1 << 18;
    const int nkeys = argc > 2 ? std::atoi(argv[2]) : 1 << 16;
    std::vector<long> table(n), keys(nkeys);
    std::vector<int> pos(nkeys);
    /* pcx: expect offload */
    for (int i = 0; i < n; i++)
        table[i] = 3L * i + (i % 3);
    /* pcx: expect offload */
    for (int k = 0; k < nkeys; k++)
        keys[k] = (k * 2654435761L) % (3L * n + 5);

    auto start = std::chrono::steady_clock::now();
    for (int rep = 0; rep < 4; rep++)
        lower_bounds(table, keys, pos);
    auto stop = std::chrono::steady_clock::now();

    long hits = 0, possum = 0;
    for (int k = 0; k < nkeys; k++) {
        possum += pos[k];
        hits += pos[k] < n && table[pos[k]] == keys[k];
    }
    std::cerr << "bsearch time: " << std::chrono::duration<double>(stop - start).count() << " s\n";
    std::cout << "bsearch n=" << n << " keys=" << nkeys << "\n";
    std::cout << "exact hits = " << hits << "\nsum of positions = " << possum << "\n";
    std::cout << "pos[12345 % keys] = " << pos[12345 % nkeys] << "\n";
    return 0;
}
