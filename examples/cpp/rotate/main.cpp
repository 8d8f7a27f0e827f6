// Matrix rotation by 90 degrees (as in HeCBench rotate/transpose-style kernels),
// applied four times, which must give back the original matrix; plus a row-flip.
//
// usage: main [rows] [cols]
#include <chrono>
#include <cstdlib>
#include <iomanip>
#include <iostream>
#include <utility>

// out (cols x rows) = in (rows x cols) rotated clockwise.
static void rotate90(int rows, int cols, const float* __restrict in, float* __restrict out)
{
    /* pcx: expect offload */
    for (int i = 0; i < rows; i++)
        for (int j = 0; j < cols; j++)
            out[j * rows + (rows - 1 - i)] = in[i * cols + j];
}

static void flip_rows(int rows, int cols, const float* __restrict in, float* __restrict out)
{
    /* pcx: expect offload */
    for (int i = 0; i < rows; i++)
        for (int j = 0; j < cols; j++)
            out[(rows - 1 - i) * cols + j] = in[i * cols + j];
}

int main(int argc, char* argv[])
{
    int rows = argc > 1 ? std::atoi(argv[1]) : 700;
    int cols = argc > 2 ? std::atoi(argv[2]) : 900;
    float* a = new float[rows * cols];
    float* b = new float[rows * cols];
    float* orig = new float[rows * cols];
    for (int i = 0; i < rows * cols; i++)
        orig[i] = a[i] = static_cast<float>((i * 37) % 1001) * 0.5f;

    auto start = std::chrono::steady_clock::now();
    rotate90(rows, cols, a, b);
    long corner = static_cast<long>(b[0]);  // element (0,0) after one turn: old (rows-1, 0)
    for (int turn = 1; turn < 4; turn++) {
        std::swap(a, b);
        std::swap(rows, cols);
        rotate90(rows, cols, a, b);
    }
    std::swap(rows, cols);
    flip_rows(rows, cols, b, a);
    auto stop = std::chrono::steady_clock::now();

    long same = 0;
    double weighted = 0.0;
    /* pcx: expect offload */
    for (int i = 0; i < rows * cols; i++)
        same += b[i] == orig[i];
    for (int i = 0; i < cols; i++)
        weighted += static_cast<double>(a[i]) * (i % 7);
    std::cerr << "rotate time: " << std::chrono::duration<double>(stop - start).count() << " s\n";
    std::cout << "rotate " << rows << "x" << cols << "\n";
    std::cout << "unchanged after four turns = " << same << " of " << rows * cols << "\n";
    std::cout << "corner after one turn = " << corner << "\n";
    std::cout << std::scientific << std::setprecision(10);
    std::cout << "weighted first row of flipped = " << weighted << "\n";
    delete[] a;
    delete[] b;
    delete[] orig;
    return 0;
}
