/* Thrust orderings (PCX410, staged through the host): sort (ascending, and with a
   function object), sort_by_key over device_vectors and over cudaMalloc'd memory under
   thrust::device (as XSBench sorts its samples by material), partition in place and with
   a stencil.  Thrust's sort and partition are not stable, so for ties and partitions only
   order-free facts are printed. */
#include <stdio.h>
#include <thrust/device_vector.h>
#include <thrust/host_vector.h>
#include <thrust/sequence.h>
#include <thrust/sort.h>
#include <thrust/partition.h>
#include <thrust/reduce.h>
#include <thrust/count.h>

struct descending {
    __host__ __device__ bool operator()(int a, int b) const { return a > b; }
};
struct is_fuel {
    __host__ __device__ bool operator()(int material) const { return material == 0; }
};
struct is_odd {
    __host__ __device__ bool operator()(int x) const { return x % 2 != 0; }
};

int main(void)
{
    const int n = 1000;
    thrust::host_vector<int> h(n);
    for (int i = 0; i < n; i++) h[i] = (i * 7919) % 1009;  /* distinct values */
    thrust::device_vector<int> d = h;
    thrust::sort(d.begin(), d.end());
    thrust::host_vector<int> up = d;
    thrust::sort(thrust::device, d.begin(), d.end(), descending());
    thrust::host_vector<int> down = d;
    printf("sorted: %d %d %d ... %d; descending: %d %d ... %d\n", up[0], up[1], up[2], up[n - 1], down[0], down[1], down[n - 1]);

    /* keys with ties, values their positions: each key's values must stay a set */
    int *keys, *vals;
    cudaMalloc(&keys, n * sizeof(int));
    cudaMalloc(&vals, n * sizeof(int));
    int hk[1000], hv[1000];
    for (int i = 0; i < n; i++) { hk[i] = (i * 31) % 12; hv[i] = i; }
    cudaMemcpy(keys, hk, sizeof(hk), cudaMemcpyHostToDevice);
    cudaMemcpy(vals, hv, sizeof(hv), cudaMemcpyHostToDevice);
    thrust::sort_by_key(thrust::device, keys, keys + n, vals);
    cudaMemcpy(hk, keys, sizeof(hk), cudaMemcpyDeviceToHost);
    cudaMemcpy(hv, vals, sizeof(hv), cudaMemcpyDeviceToHost);
    int ordered = 1;
    long long key_weighted = 0;
    for (int i = 0; i < n; i++) {
        if (i > 0 && hk[i - 1] > hk[i]) ordered = 0;
        if ((hv[i] * 31) % 12 != hk[i]) ordered = 0;  /* each value travelled with its key */
        key_weighted += (long long)hk[i] * (i + 1);
    }
    printf("sort_by_key: ordered and paired %d, key-weighted %lld, first key %d, last key %d\n", ordered, key_weighted, hk[0], hk[n - 1]);

    thrust::device_vector<int> k2(h.begin(), h.end()), v2(n);
    thrust::sequence(v2.begin(), v2.end());
    thrust::sort_by_key(k2.begin(), k2.end(), v2.begin(), descending());
    thrust::host_vector<int> hv2 = v2;
    printf("sort_by_key descending: value of the largest key %d, of the smallest %d\n", hv2[0], hv2[n - 1]);

    /* partition in place: the odd values first */
    thrust::device_vector<int> p = h;
    thrust::device_vector<int>::iterator mid = thrust::partition(p.begin(), p.end(), is_odd());
    int odd = (int)(mid - p.begin());
    thrust::host_vector<int> hp = p;
    int split_ok = 1;
    long long odd_sum = 0, even_sum = 0;
    for (int i = 0; i < n; i++) {
        if ((i < odd) != (hp[i] % 2 != 0)) split_ok = 0;
        if (i < odd) odd_sum += hp[i]; else even_sum += hp[i];
    }
    printf("partition: %d odd first (split %d), sums %lld %lld\n", odd, split_ok, odd_sum, even_sum);

    /* partition with a stencil: samples whose material is fuel (0) first */
    int *mat, *sample;
    cudaMalloc(&mat, n * sizeof(int));
    cudaMalloc(&sample, n * sizeof(int));
    int hm[1000], hs[1000];
    for (int i = 0; i < n; i++) { hm[i] = (i * 13) % 5; hs[i] = i; }
    cudaMemcpy(mat, hm, sizeof(hm), cudaMemcpyHostToDevice);
    cudaMemcpy(sample, hs, sizeof(hs), cudaMemcpyHostToDevice);
    int fuel = (int)thrust::count(thrust::device, mat, mat + n, 0);
    int *cut = thrust::partition(thrust::device, sample, sample + n, mat, is_fuel());
    cudaMemcpy(hs, sample, sizeof(hs), cudaMemcpyDeviceToHost);
    cudaMemcpy(hm, mat, sizeof(hm), cudaMemcpyDeviceToHost);
    int stencil_ok = (int)(cut - sample) == fuel;
    long long fuel_sum = 0;
    for (int i = 0; i < fuel; i++) {
        fuel_sum += hs[i];
        if ((hs[i] * 13) % 5 != 0) stencil_ok = 0;
    }
    printf("partition with a stencil: %d fuel samples first (ok %d), their sum %lld, stencil unchanged %d\n",
           fuel, stencil_ok, fuel_sum, hm[1] == 13 % 5);
    cudaFree(keys); cudaFree(vals); cudaFree(mat); cudaFree(sample);
    return 0;
}
