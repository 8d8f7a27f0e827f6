/* Must be REFUSED (PCX409): thrust::sort_by_key (and its header) has no translation,
   while the reduce and the containers around it would translate (PCX410). */
#include <cstdio>
#include <thrust/device_vector.h>
#include <thrust/sequence.h>
#include <thrust/sort.h>
#include <thrust/reduce.h>

int main()
{
    const int n = 1000;
    thrust::device_vector<int> keys(n), values(n);
    for (int i = 0; i < n; i++)
        keys[i] = (i * 37) % 101;
    thrust::sequence(values.begin(), values.end());
    thrust::sort_by_key(keys.begin(), keys.end(), values.begin());
    int first = values[0];
    long long s = thrust::reduce(values.begin(), values.end(), 0LL);
    std::printf("first=%d sum=%lld\n", first, s);
    return 0;
}
