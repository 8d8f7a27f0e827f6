/* Must be REFUSED (PCX409): thrust::reduce_by_key has no translation, while the
   sort_by_key, the reduce and the containers around it would translate (PCX410). */
#include <cstdio>
#include <thrust/device_vector.h>
#include <thrust/sequence.h>
#include <thrust/sort.h>
#include <thrust/reduce.h>

int main()
{
    const int n = 1000;
    thrust::device_vector<int> keys(n), values(n), out_keys(n), out_values(n);
    for (int i = 0; i < n; i++)
        keys[i] = (i * 37) % 101;
    thrust::sequence(values.begin(), values.end());
    thrust::sort_by_key(keys.begin(), keys.end(), values.begin());
    thrust::reduce_by_key(keys.begin(), keys.end(), values.begin(), out_keys.begin(), out_values.begin());
    long long s = thrust::reduce(out_values.begin(), out_values.end(), 0LL);
    std::printf("first=%d sum=%lld\n", (int)out_values[0], s);
    return 0;
}
