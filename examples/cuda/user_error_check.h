/* The program's own error-check helper, named like the CUDA API but not part of it. */
#ifndef USER_ERROR_CHECK_H
#define USER_ERROR_CHECK_H
#include <stdio.h>
#include <stdlib.h>

static int checks_passed = 0;

static inline void cudaCheck(cudaError_t status, const char *call, const char *file, int line)
{
    if (status != cudaSuccess) {
        fprintf(stderr, "%s:%d: %s failed: %s\n", file, line, call, cudaGetErrorString(status));
        exit(1);
    }
    checks_passed++;
}

#define CUDA_CHECK(call) cudaCheck((call), #call, __FILE__, __LINE__)
#endif
