// Local entropy of an image (as in HeCBench entropy): for every pixel, the Shannon
// entropy of the 16-level values in its 5x5 neighbourhood; plus a global histogram.
//
// usage: main [height] [width]
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <iomanip>
#include <iostream>
#include <vector>

int main(int argc, char* argv[])
{
    const int height = argc > 1 ? std::atoi(argv[1]) : 256;
    const int width = argc > 2 ? std::atoi(argv[2]) : 384;
    std::vector<int> img(height * width);
    std::vector<double> ent(height * width);
    std::vector<int> hist(16, 0);
    /* pcx: expect offload */
    for (int p = 0; p < height * width; p++) {
        unsigned int h = static_cast<unsigned int>(p) * 2654435761u;
        img[p] = static_cast<int>(((h >> 20) + (p % width) / 24) % 16);
    }

    auto start = std::chrono::steady_clock::now();
    /* pcx: expect offload */
    for (int y = 0; y < height; y++)
        for (int x = 0; x < width; x++) {
            int count[16] = {0};
            int total = 0;
            for (int dy = -2; dy <= 2; dy++)
                for (int dx = -2; dx <= 2; dx++) {
                    int yy = y + dy, xx = x + dx;
                    if (yy >= 0 && yy < height && xx >= 0 && xx < width) {
                        count[img[yy * width + xx]]++;
                        total++;
                    }
                }
            double e = 0.0;
            for (int k = 0; k < 16; k++)
                if (count[k] > 0) {
                    double q = static_cast<double>(count[k]) / total;
                    e -= q * std::log2(q);
                }
            ent[y * width + x] = e;
        }
    // Different pixels may share a level: the increment must be atomic when parallel.
    /* pcx: expect offload */
    for (int p = 0; p < height * width; p++)
        hist[img[p]]++;
    auto stop = std::chrono::steady_clock::now();

    double sum = 0.0;
    /* pcx: expect offload */
    for (int p = 0; p < height * width; p++)
        sum += ent[p];
    long weighted = 0;
    for (int k = 0; k < 16; k++)
        weighted += static_cast<long>(k) * hist[k];
    std::cerr << "entropy time: " << std::chrono::duration<double>(stop - start).count() << " s\n";
    std::cout << "entropy " << height << "x" << width << "\n";
    std::cout << "weighted histogram = " << weighted << "  hist[7] = " << hist[7] << "\n";
    std::cout << std::scientific << std::setprecision(10);
    std::cout << "sum of entropies = " << sum << "\n";
    std::cout << "ent[h/2][w/2] = " << ent[(height / 2) * width + width / 2] << "\n";
    return 0;
}
