/* Serial twin of matmul_tiled.cu (all values are small integers: sums are exact). */
#include <stdio.h>
#include <stdlib.h>

#define N 44

int main(void)
{
    float *A = malloc(N * N * sizeof(float)), *B = malloc(N * N * sizeof(float)), *C = malloc(N * N * sizeof(float));
    for (int i = 0; i < N * N; i++) {
        A[i] = (float)((i * 7) % 11) - 5.0f;
        B[i] = (float)((i * 3) % 13) - 6.0f;
    }
    for (int r = 0; r < N; r++)
        for (int c = 0; c < N; c++) {
            float acc = 0.0f;
            for (int k = 0; k < N; k++)
                acc += A[r * N + k] * B[k * N + c];
            C[r * N + c] = acc;
        }
    double trace = 0.0, sum = 0.0;
    for (int i = 0; i < N; i++)
        trace += C[i * N + i];
    for (int i = 0; i < N * N; i++)
        sum += C[i] * ((i % 5) - 2);
    printf("matmul_tiled N=%d trace=%.1f wsum=%.1f C[0]=%.1f C[last]=%.1f\n", N, trace, sum, C[0], C[N * N - 1]);
    free(A); free(B); free(C);
    return 0;
}
