// 2D Jacobi solver for the Laplace equation on an n x n grid with fixed boundary values,
// iterated until the largest change falls below a tolerance (or an iteration cap).
// The two grids swap roles after every sweep.
//
// usage: main [n] [max_iterations]
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <iomanip>
#include <iostream>

int main(int argc, char* argv[])
{
    const int n = argc > 1 ? std::atoi(argv[1]) : 64;
    const int max_iter = argc > 2 ? std::atoi(argv[2]) : 5000;
    const double tol = 5e-4;
    double* a = new double[n * n];
    double* b = new double[n * n];
    for (int i = 0; i < n; i++)
        for (int j = 0; j < n; j++) {
            double v = 0.0;
            if (i == 0) v = 1.0;
            else if (j == 0) v = 0.5;
            a[i * n + j] = v;
            b[i * n + j] = v;
        }

    auto start = std::chrono::steady_clock::now();
    double err = 1.0;
    int iter = 0;
    while (err > tol && iter < max_iter) {
        err = 0.0;
        /* pcx: expect offload */
        for (int i = 1; i < n - 1; i++)
            for (int j = 1; j < n - 1; j++) {
                double next = 0.25 * (a[(i - 1) * n + j] + a[(i + 1) * n + j]
                                      + a[i * n + j - 1] + a[i * n + j + 1]);
                err = std::max(err, std::fabs(next - a[i * n + j]));
                b[i * n + j] = next;
            }
        std::swap(a, b);
        iter++;
    }
    auto stop = std::chrono::steady_clock::now();

    double sum = 0.0;
    /* pcx: expect offload */
    for (int i = 0; i < n * n; i++)
        sum += a[i];
    std::cerr << "jacobi time: " << std::chrono::duration<double>(stop - start).count() << " s\n";
    std::cout << "jacobi n=" << n << " iterations=" << iter << "\n";
    std::cout << std::scientific << std::setprecision(10);
    std::cout << "last change = " << err << "\n";
    std::cout << "sum = " << sum << "\n";
    std::cout << "a[n/2][n/2] = " << a[(n / 2) * n + n / 2] << "\n";
    delete[] a;
    delete[] b;
    return 0;
}
