/* A device_vector pipeline: host_vector -> device_vector, a transform with the
   program's function object, the program's own kernel on the vector's storage
   (raw_pointer_cast), an inclusive scan into a second vector, copies back to the host
   (assignment and thrust::copy), element reads and writes from the host, and a
   device_ptr over cudaMalloc'd memory feeding a device_vector and an in-place scan. */
#include <cstdio>
#include <cuda_runtime.h>
#include <thrust/host_vector.h>
#include <thrust/device_vector.h>
#include <thrust/device_ptr.h>
#include <thrust/transform.h>
#include <thrust/sequence.h>
#include <thrust/scan.h>
#include <thrust/reduce.h>
#include <thrust/copy.h>

__global__ void clamp(float *v, int n, float lo, float hi)
{
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n)
        v[i] = fminf(fmaxf(v[i], lo), hi);
}

struct scale_shift {
    float s, t;
    scale_shift(float s_, float t_) : s(s_), t(t_) {}
    __host__ __device__ float operator()(float x) const { return s * x + t; }
};

int main()
{
    const int n = 4096;
    thrust::host_vector<float> h(n);
    for (int i = 0; i < n; i++)
        h[i] = (float)((i * 37) % 101);

    thrust::device_vector<float> d = h;
    thrust::transform(d.begin(), d.end(), d.begin(), scale_shift(0.5f, -3.0f));
    clamp<<<(n + 255) / 256, 256>>>(thrust::raw_pointer_cast(d.data()), n, 0.0f, 40.0f);
    cudaDeviceSynchronize();

    thrust::device_vector<float> prefix(n);
    thrust::inclusive_scan(d.begin(), d.end(), prefix.begin());
    thrust::host_vector<float> back = prefix;
    printf("prefix: %.1f %.1f %.1f %.1f\n", back[0], back[100], back[n / 2], back[n - 1]);
    printf("sum %.1f, d[7] %.1f\n", thrust::reduce(d.begin(), d.end()), (float)d[7]);

    int *raw;
    cudaMalloc(&raw, n * sizeof(int));
    thrust::device_ptr<int> p = thrust::device_pointer_cast(raw);
    thrust::sequence(p, p + n, 1);
    thrust::device_vector<int> counts(p, p + n);
    counts[0] = 100;
    int first = counts[0];
    thrust::exclusive_scan(counts.begin(), counts.end(), counts.begin());
    thrust::host_vector<int> hc(n);
    thrust::copy(counts.begin(), counts.end(), hc.begin());
    printf("first %d, offsets: %d %d %d %d\n", first, hc[0], hc[1], hc[2], hc[n - 1]);

    thrust::copy(hc.begin(), hc.begin() + 3, p);
    printf("raw after copy: %d %d %d %d, total %d\n", (int)p[0], (int)p[1], (int)p[2], (int)p[3],
           thrust::reduce(p, p + n));
    cudaFree(raw);
    return 0;
}
