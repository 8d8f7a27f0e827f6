/* Must be REFUSED (PCX409): Thrust beyond the translated subset (PCX410; sort and partition
   are in it), each header and each use named: unique, a counting_iterator, a reverse
   iterator (rbegin) and a std::ostream_iterator as arguments of algorithms that translate. */
#include <cstdio>
#include <iostream>
#include <iterator>
#include <thrust/device_vector.h>
#include <thrust/reduce.h>
#include <thrust/copy.h>
#include <thrust/sort.h>
#include <thrust/partition.h>
#include <thrust/unique.h>
#include <thrust/iterator/counting_iterator.h>

struct is_odd {
    __host__ __device__ bool operator()(int x) const { return x % 2 != 0; }
};

int main()
{
    const int n = 1000;
    thrust::device_vector<int> v(n);
    for (int i = 0; i < n; i++)
        v[i] = (i * 37) % 101;
    thrust::sort(v.begin(), v.end());
    thrust::partition(v.begin(), v.end(), is_odd());
    int m = (int)(thrust::unique(v.begin(), v.end()) - v.begin());
    thrust::counting_iterator<int> first(0);
    long long c = thrust::reduce(first, first + n, 0LL);
    long long r = thrust::reduce(v.rbegin(), v.rend(), 0LL);
    thrust::copy(v.begin(), v.begin() + 4, std::ostream_iterator<int>(std::cout, " "));
    std::printf("m=%d c=%lld r=%lld\n", m, c, r);
    return 0;
}
