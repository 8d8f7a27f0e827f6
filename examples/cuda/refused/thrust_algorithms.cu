/* Must be REFUSED (PCX409): Thrust containers and algorithms (reduce, transform,
   inclusive_scan, sort) are not translated; each header and each use is named. */
#include <cstdio>
#include <thrust/device_vector.h>
#include <thrust/reduce.h>
#include <thrust/scan.h>
#include <thrust/sort.h>
#include <thrust/transform.h>
#include <thrust/functional.h>

int main()
{
    const int n = 1000;
    thrust::device_vector<int> v(n);
    for (int i = 0; i < n; i++)
        v[i] = (i * 37) % 101;
    thrust::transform(v.begin(), v.end(), v.begin(), thrust::negate<int>());
    thrust::inclusive_scan(v.begin(), v.end(), v.begin());
    thrust::sort(v.begin(), v.end());
    long long s = thrust::reduce(v.begin(), v.end(), 0LL);
    std::printf("sum=%lld\n", s);
    return 0;
}
