/* A plain C header shared with C++ code: its extern "C" block opens and closes under
   #ifdef __cplusplus, which no syntax tree of the file alone can hold (no CUDA here). */
#ifndef CHECKSUM_H
#define CHECKSUM_H
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#ifdef __cplusplus
extern "C" {
#endif

static inline uint64_t fnv1a64(const void *data, size_t nbytes)
{
    const unsigned char *p = (const unsigned char *)data;
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < nbytes; ++i) {
        h ^= (uint64_t)p[i];
        h *= 1099511628211ull;
    }
    return h;
}

static inline void print_checksum(const char *name, const void *data, size_t nbytes)
{
    printf("%s fnv1a64=%016llx bytes=%zu\n", name, (unsigned long long)fnv1a64(data, nbytes), nbytes);
}

#ifdef __cplusplus
}
#endif
#endif
