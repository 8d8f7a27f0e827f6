/* Serial twin of template_constant.cu: the same table and sums, one function per type. */
#include <stdio.h>
#include <stdlib.h>

#define MAX_TAPS 8

#define DEFINE_RUN(T)                                                                     \
    static void run_##T(const char *name, int n, int taps)                                \
    {                                                                                     \
        T table[MAX_TAPS];                                                                \
        T *h = malloc(n * sizeof(T)), *o = malloc(n * sizeof(T));                         \
        for (int j = 0; j < MAX_TAPS; j++)                                                \
            table[j] = (T)(j + 1);                                                        \
        for (int i = 0; i < n; i++)                                                       \
            h[i] = (T)(i % 7);                                                            \
        for (int i = 0; i < n; i++) {                                                     \
            T s = 0;                                                                      \
            for (int j = 0; j < taps; j++)                                                \
                s += h[(i + j) % n] * table[j];                                           \
            o[i] = s;                                                                     \
        }                                                                                 \
        double sum = 0;                                                                   \
        for (int i = 0; i < n; i++)                                                       \
            sum += (double)o[i] * (i % 5 + 1);                                            \
        printf("%s n=%d taps=%d sum=%.1f o[n-1]=%.1f back[taps-1]=%.1f\n", name, n, taps, \
               sum, (double)o[n - 1], (double)table[taps - 1]);                           \
        free(h);                                                                          \
        free(o);                                                                          \
    }

DEFINE_RUN(double)
DEFINE_RUN(float)
DEFINE_RUN(int)

int main(void)
{
    run_double("double", 1000, 5);
    run_float("float", 777, 8);
    run_int("int", 500, 3);
    return 0;
}
