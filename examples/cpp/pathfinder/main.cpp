// Rodinia pathfinder: the cheapest path from the top row to each cell of the bottom row
// of a grid of weights, moving down one row per step (straight or diagonally).  Row i
// needs the finished row i-1: the loop over rows is serial, the loop along a row is
// parallel.
//
// usage: main [rows] [cols]
#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <iomanip>
#include <iostream>

int main(int argc, char* argv[])
{
    const int rows = argc > 1 ? std::atoi(argv[1]) : 100;
    const int cols = argc > 2 ? std::atoi(argv[2]) : 5000;
    // Each row of cost has a ghost column on either side holding a cost no path takes,
    // so the inner loop needs no boundary tests: row i lives at cost[i * width + 1 ...].
    const int width = cols + 2;
    const int ghost = 1 << 28;
    int* wall = new int[rows * cols];
    int* cost = new int[rows * width];
    unsigned int seed = 9u;
    for (int i = 0; i < rows * cols; i++) {
        seed = seed * 1103515245u + 12345u;
        wall[i] = static_cast<int>((seed >> 16) % 10);
    }
    for (int i = 0; i < rows; i++) {
        cost[i * width] = ghost;
        cost[i * width + width - 1] = ghost;
    }
    for (int j = 1; j <= cols; j++)
        cost[j] = wall[j - 1];

    auto start = std::chrono::steady_clock::now();
    /* pcx: expect serial PCX101 */
    for (int i = 1; i < rows; i++) {
        /* pcx: expect offload */
        for (int j = 1; j <= cols; j++) {
            int best = std::min(cost[(i - 1) * width + j - 1], cost[(i - 1) * width + j]);
            best = std::min(best, cost[(i - 1) * width + j + 1]);
            cost[i * width + j] = wall[i * cols + j - 1] + best;
        }
    }
    auto stop = std::chrono::steady_clock::now();

    int cheapest = cost[(rows - 1) * width + 1];
    /* pcx: expect offload */
    for (int j = 2; j <= cols; j++)
        cheapest = std::min(cheapest, cost[(rows - 1) * width + j]);
    long total = 0;
    for (int j = 1; j <= cols; j++)
        total += cost[(rows - 1) * width + j];
    std::cerr << "pathfinder time: " << std::chrono::duration<double>(stop - start).count() << " s\n";
    std::cout << "pathfinder rows=" << rows << " cols=" << cols << "\n";
    std::cout << "cheapest path = " << cheapest << "\n";
    std::cout << "sum of bottom row = " << total << "\n";
    delete[] wall;
    delete[] cost;
    return 0;
}
