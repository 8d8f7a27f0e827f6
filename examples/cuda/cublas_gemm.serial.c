/* Serial twin of cublas_gemm.cu: the same column-major products and vector operations as
   plain loops. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

int main(void)
{
    const int M = 37, N = 29, K = 45, BATCH = 6, T = 8, HS = 5;
    float *A = malloc(M * K * sizeof(float)), *B = malloc(K * N * sizeof(float)), *C = malloc(M * N * sizeof(float));
    for (int i = 0; i < M * K; i++) A[i] = (float)((i * 7) % 11) * 0.25f - 1.0f;
    for (int i = 0; i < K * N; i++) B[i] = (float)((i * 5) % 13) * 0.125f - 0.5f;
    for (int i = 0; i < M * N; i++) C[i] = (float)(i % 3);

    for (int j = 0; j < N; j++)
        for (int i = 0; i < M; i++) {
            float acc = 0.0f;
            for (int l = 0; l < K; l++) acc += A[i + l * M] * B[l + j * K];
            float c = acc + 0.5f * C[i + j * M];
            C[i + j * M] = c < 0.0f ? 0.0f : c;
        }
    double s1 = 0.0;
    for (int i = 0; i < M * N; i++) s1 += C[i] * (1 + i % 5);
    printf("sgemm NN + relu: C[0]=%.5f C[last]=%.5f weighted=%.4f\n", C[0], C[M * N - 1], s1);

    float *D = malloc(N * N * sizeof(float));
    for (int j = 0; j < N; j++)
        for (int i = 0; i < N; i++) {
            float acc = 0.0f;
            for (int l = 0; l < K; l++) acc += B[l + i * K] * B[l + j * K];
            D[i + j * N] = acc;
        }
    double s2 = 0.0;
    for (int i = 0; i < N * N; i++) s2 += D[i];
    printf("sgemm TN: D[1]=%.5f sum=%.4f\n", D[1], s2);

    float *q = malloc(BATCH * T * HS * sizeof(float)), *att = malloc(BATCH * T * T * sizeof(float));
    for (int i = 0; i < BATCH * T * HS; i++) q[i] = (float)((i * 3) % 17) * 0.1f - 0.8f;
    for (int p = 0; p < BATCH; p++)
        for (int j = 0; j < T; j++)
            for (int i = 0; i < T; i++) {
                float acc = 0.0f;
                for (int l = 0; l < HS; l++) acc += q[p * T * HS + l + i * HS] * q[p * T * HS + l + j * HS];
                att[p * T * T + i + j * T] = acc;
            }
    printf("strided batch: att[0]=%.5f att[T*T+3]=%.5f att[last]=%.5f\n", att[0], att[T * T + 3], att[BATCH * T * T - 1]);

    double x[37], y[45];
    for (int i = 0; i < M; i++) x[i] = 0.5 * (i % 4);
    for (int i = 0; i < K; i++) y[i] = (double)i;
    for (int i = 0; i < K; i++) {
        double acc = 0.0;
        for (int l = 0; l < M; l++) acc += (double)A[l + i * M] * x[l];
        y[i] = 2.0 * acc - y[i];
    }
    printf("dgemv T: y[0]=%.6f y[44]=%.6f\n", y[0], y[K - 1]);

    float v[100], w[100];
    for (int i = 0; i < 100; i++) { v[i] = 0.01f * i; w[i] = 1.0f - 0.02f * (i % 7); }
    for (int i = 0; i < 100; i++) w[i] += 3.0f * v[i];
    for (int i = 0; i < 50; i++) w[2 * i] *= 0.5f;
    float dot = 0.0f, nrm = 0.0f, dot2 = 0.0f;
    for (int i = 0; i < 100; i++) { dot += v[i] * w[i]; nrm += w[i] * w[i]; }
    for (int i = 0; i < 50; i++) dot2 += v[2 * i] * w[2 * i];
    printf("vectors: dot=%.4f nrm2=%.4f dot(stride 2, device result)=%.4f\n", dot, sqrtf(nrm), dot2);
    free(A); free(B); free(C); free(D); free(q); free(att);
    return 0;
}
