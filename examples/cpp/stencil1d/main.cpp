// 1D stencil of radius 3 with fixed weights, applied repeatedly between two buffers
// allocated with new[] (padded by the radius on both sides).
//
// usage: main [n] [iterations]
#include <chrono>
#include <cstdlib>
#include <iomanip>
#include <iostream>
#include <utility>

constexpr int RADIUS = 3;

static void stencil(int n, const double* __restrict in, double* __restrict out)
{
    /* pcx: expect offload */
    for (int i = RADIUS; i < n + RADIUS; i++) {
        double v = 0.4 * in[i];
        v += 0.15 * (in[i - 1] + in[i + 1]);
        v += 0.1 * (in[i - 2] + in[i + 2]);
        v += 0.05 * (in[i - 3] + in[i + 3]);
        out[i] = v;
    }
}

int main(int argc, char* argv[])
{
    const int n = argc > 1 ? std::atoi(argv[1]) : 1000000;
    const int iters = argc > 2 ? std::atoi(argv[2]) : 20;
    double* in = new double[n + 2 * RADIUS];
    double* out = new double[n + 2 * RADIUS];
    for (int i = 0; i < n + 2 * RADIUS; i++) {
        in[i] = (i % 10 == 0) ? 10.0 : 1.0;
        out[i] = in[i];
    }
    auto start = std::chrono::steady_clock::now();
    for (int t = 0; t < iters; t++) {
        stencil(n, in, out);
        std::swap(in, out);
    }
    auto stop = std::chrono::steady_clock::now();
    double sum = 0.0, sq = 0.0;
    for (int i = 0; i < n + 2 * RADIUS; i++) {
        sum += in[i];
        sq += in[i] * in[i];
    }
    std::cerr << "stencil1d time: " << std::chrono::duration<double>(stop - start).count() << " s\n";
    std::cout << "stencil1d n=" << n << " iterations=" << iters << "\n";
    std::cout << std::scientific << std::setprecision(10);
    std::cout << "sum = " << sum << "\nsum of squares = " << sq << "\n";
    std::cout << "in[RADIUS + 5] = " << in[RADIUS + 5] << "\n";
    delete[] in;
    delete[] out;
    return 0;
}
