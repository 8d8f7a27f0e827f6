/* Thrust algorithms over device data: reduce (plain, with an init value, with
   thrust::plus/maximum/minimum), count and count_if, fill, sequence (with an init
   value and a step), unary and binary transform with Thrust's and the program's
   function objects, inclusive and exclusive scans (one in place, one with an operator),
   on device_vector iterators and on cudaMalloc'd pointers under thrust::device. */
#include <cstdio>
#include <cuda_runtime.h>
#include <thrust/device_vector.h>
#include <thrust/execution_policy.h>
#include <thrust/functional.h>
#include <thrust/reduce.h>
#include <thrust/count.h>
#include <thrust/fill.h>
#include <thrust/sequence.h>
#include <thrust/transform.h>
#include <thrust/scan.h>

struct square_mod {
    int m;
    square_mod(int m_) : m(m_) {}
    __host__ __device__ int operator()(int x) const { return (x % m) * (x % m) % m; }
};

struct is_even {
    __host__ __device__ bool operator()(int x) const { return x % 2 == 0; }
};

struct axpy {
    double a;
    axpy(double a_) : a(a_) {}
    __host__ __device__ double operator()(const double &x, const double &y) const { return a * x + y; }
};

int main()
{
    const int n = 100000;

    thrust::device_vector<int> v(n);
    thrust::sequence(v.begin(), v.end());
    long long total = thrust::reduce(v.begin(), v.end(), 0LL);
    printf("sum 0..n-1 = %lld\n", total);

    thrust::transform(v.begin(), v.end(), v.begin(), square_mod(1009));
    int plain = thrust::reduce(v.begin(), v.end());
    int with_init = thrust::reduce(v.begin(), v.end(), 7, thrust::plus<int>());
    int largest = thrust::reduce(v.begin(), v.end(), -1, thrust::maximum<int>());
    int smallest = thrust::reduce(v.begin() + 1, v.end(), 1 << 30, thrust::minimum<int>());
    printf("squares mod 1009: sum %d, +7 %d, max %d, min (from 1) %d\n", plain, with_init, largest, smallest);
    long zeros = (long)thrust::count(v.begin(), v.end(), 0);
    long evens = (long)thrust::count_if(v.begin(), v.end(), is_even());
    printf("zeros %ld, evens %ld\n", zeros, evens);

    thrust::device_vector<int> incl(n), excl(n);
    thrust::inclusive_scan(v.begin(), v.end(), incl.begin());
    thrust::exclusive_scan(v.begin(), v.end(), excl.begin());
    printf("inclusive: %d %d %d %d\n", (int)incl[0], (int)incl[1], (int)incl[n / 2], (int)incl[n - 1]);
    printf("exclusive: %d %d %d %d\n", (int)excl[0], (int)excl[1], (int)excl[n / 2], (int)excl[n - 1]);
    thrust::exclusive_scan(v.begin(), v.end(), v.begin(), 100, thrust::maximum<int>());
    printf("running max from 100 (in place): %d %d %d %d\n", (int)v[0], (int)v[1], (int)v[50], (int)v[n - 1]);

    thrust::fill(v.begin(), v.begin() + n / 4, 5);
    thrust::sequence(v.begin() + n / 4, v.end(), -3, 2);
    printf("after fill and sequence: fives %ld, sum %lld, v[n/4] %d, v[n-1] %d\n",
           (long)thrust::count(v.begin(), v.end(), 5), thrust::reduce(v.begin(), v.end(), 0LL),
           (int)v[n / 4], (int)v[n - 1]);

    double *x, *y;
    cudaMalloc(&x, n * sizeof(double));
    cudaMalloc(&y, n * sizeof(double));
    thrust::sequence(thrust::device, x, x + n, 0.0, 0.25);
    thrust::fill(thrust::device, y, y + n, 1.0);
    thrust::transform(thrust::device, x, x + n, y, y, axpy(2.0));
    thrust::transform(thrust::device, y, y + n, y, thrust::negate<double>());
    double ysum = thrust::reduce(thrust::device, y, y + n, 0.0, thrust::plus<double>());
    double ymin = thrust::reduce(thrust::device, y, y + n, 0.0, thrust::minimum<double>());
    thrust::inclusive_scan(thrust::device, x, x + n, x);
    double last, mid;
    cudaMemcpy(&last, x + n - 1, sizeof(double), cudaMemcpyDeviceToHost);
    cudaMemcpy(&mid, x + n / 3, sizeof(double), cudaMemcpyDeviceToHost);
    printf("y = -(2x + 1): sum %.2f, min %.2f; prefix of x: [n/3] %.2f, [n-1] %.2f\n", ysum, ymin, mid, last);
    cudaFree(x);
    cudaFree(y);
    return 0;
}
