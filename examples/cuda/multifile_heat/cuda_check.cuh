/* The program's own error check: a CUDA header (it includes the runtime) with no kernel. */
#pragma once
#include <stdio.h>
#include <stdlib.h>
#include <cuda_runtime.h>

static inline void cudaCheck(cudaError_t status, const char *what, int line)
{
    if (status != cudaSuccess) {
        fprintf(stderr, "line %d: %s: %s\n", line, what, cudaGetErrorString(status));
        exit(1);
    }
}
#define CUDA_CHECK(call) cudaCheck((call), #call, __LINE__)
