// Reductions over std::vector: a sum, a sum of squares, a minimum and a count, on data
// that is appended element by element.
//
// usage: main [n]
#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <iomanip>
#include <iostream>
#include <vector>

int main(int argc, char* argv[])
{
    const int n = argc > 1 ? std::atoi(argv[1]) : 2000000;
    std::vector<double> data;
    std::vector<int> flags(n);
    // push_back may reallocate the vector's storage: not a loop to run in parallel.
    /* pcx: expect serial PCX135 */
    for (int i = 0; i < n; i++)
        data.push_back(1.0 + ((i * 7919) % 1000) / 250.0);

    auto start = std::chrono::steady_clock::now();
    /* pcx: expect offload */
    for (int i = 0; i < n; i++)
        flags[i] = data[i] > 2.5 ? 1 : 0;

    double sum = 0.0, sq = 0.0;
    /* pcx: expect offload */
    for (int i = 0; i < n; i++) {
        sum += data[i];
        sq += data[i] * data[i];
    }
    double lo = data[0];
    /* pcx: expect offload */
    for (int i = 1; i < n; i++)
        lo = std::min(lo, data[i]);
    long count = 0;
    /* pcx: expect offload */
    for (int i = 0; i < n; i++)
        count += flags[i];
    auto stop = std::chrono::steady_clock::now();

    std::cerr << "vecreduce time: " << std::chrono::duration<double>(stop - start).count() << " s\n";
    std::cout << "vecreduce n=" << n << "\n";
    std::cout << "count above 2.5 = " << count << "\n";
    std::cout << std::scientific << std::setprecision(10);
    std::cout << "sum = " << sum << "\nsum of squares = " << sq << "\nmin = " << lo << "\n";
    return 0;
}
