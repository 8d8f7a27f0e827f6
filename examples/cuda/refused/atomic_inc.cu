/* Must be REFUSED (PCX405): atomicInc wraps around at a bound; OpenMP has no such atomic. */
#include <stdio.h>
#include <cuda_runtime.h>

__global__ void ring(unsigned int *head, unsigned int *slots, int n)
{
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) {
        unsigned int s = atomicInc(head, 15u);
        slots[s] = i;
    }
}

int main(void)
{
    unsigned int *head, *slots;
    cudaMalloc(&head, sizeof(unsigned int));
    cudaMalloc(&slots, 16 * sizeof(unsigned int));
    ring<<<1, 64>>>(head, slots, 64);
    cudaDeviceSynchronize();
    printf("done\n");
    return 0;
}
