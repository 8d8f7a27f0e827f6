// Particles in a box as an array of structures (std::vector<Particle>): a force from a
// central spring, velocity damping, reflecting walls; then energy and momentum checks.
//
// usage: main [n] [steps]
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <iomanip>
#include <iostream>
#include <vector>

struct Particle {
    double x, y;
    double vx, vy;
    double mass;
    int hits;
};

static void advance(int n, Particle* p, double dt, double k, double damping)
{
    /* pcx: expect offload */
    for (int i = 0; i < n; i++) {
        double ax = -k * p[i].x / p[i].mass;
        double ay = -k * p[i].y / p[i].mass;
        p[i].vx = (p[i].vx + ax * dt) * damping;
        p[i].vy = (p[i].vy + ay * dt) * damping;
        p[i].x += p[i].vx * dt;
        p[i].y += p[i].vy * dt;
        if (std::fabs(p[i].x) > 1.0) {
            p[i].vx = -p[i].vx;
            p[i].x = p[i].x > 0 ? 2.0 - p[i].x : -2.0 - p[i].x;
            p[i].hits++;
        }
    }
}

int main(int argc, char* argv[])
{
    const int n = argc > 1 ? std::atoi(argv[1]) : 200000;
    const int steps = argc > 2 ? std::atoi(argv[2]) : 40;
    std::vector<Particle> ps(n);
    /* pcx: expect offload */
    for (int i = 0; i < n; i++) {
        ps[i].x = ((i % 200) - 100) * 0.0099;
        ps[i].y = ((i % 77) - 38) * 0.02;
        ps[i].vx = ((i % 13) - 6) * 0.9;
        ps[i].vy = ((i % 5) - 2) * 0.1;
        ps[i].mass = 1.0 + (i % 4) * 0.5;
        ps[i].hits = 0;
    }
    auto start = std::chrono::steady_clock::now();
    for (int s = 0; s < steps; s++)
        advance(n, ps.data(), 0.01, 2.0, 0.999);
    auto stop = std::chrono::steady_clock::now();

    double energy = 0.0;
    long hits = 0;
    /* pcx: expect offload */
    for (int i = 0; i < n; i++) {
        energy += 0.5 * ps[i].mass * (ps[i].vx * ps[i].vx + ps[i].vy * ps[i].vy);
        hits += ps[i].hits;
    }
    std::cerr << "particles time: " << std::chrono::duration<double>(stop - start).count() << " s\n";
    std::cout << "particles n=" << n << " steps=" << steps << "\n";
    std::cout << "wall hits = " << hits << "\n";
    std::cout << std::scientific << std::setprecision(10);
    std::cout << "kinetic energy = " << energy << "\n";
    std::cout << "p[999] = (" << ps[999 % n].x << ", " << ps[999 % n].y << ")\n";
    return 0;
}
