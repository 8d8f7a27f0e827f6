/* cuBLAS from a CUDA program (<cublas_v2.h>): a handle with a math mode and a stream, the
   program's own cublasCheck, column-major SGEMM in both transposes, a strided batch of
   small SGEMMs (attention's shape), DGEMV, SAXPY, SSCAL, DCOPY, SDOT with the result on
   the host and on the device (CUBLAS_POINTER_MODE_DEVICE), SNRM2, and the program's own
   kernel on the result. */
#include <stdio.h>
#include <stdlib.h>
#include <cuda_runtime.h>
#include <cublas_v2.h>

#define cublasCheck(call)                                                            \
    do {                                                                             \
        cublasStatus_t s_ = (call);                                                  \
        if (s_ != CUBLAS_STATUS_SUCCESS) {                                           \
            printf("cuBLAS error %d at line %d\n", (int)s_, __LINE__);               \
            exit(1);                                                                 \
        }                                                                            \
    } while (0)

__global__ void relu(float *x, int n)
{
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n && x[i] < 0.0f)
        x[i] = 0.0f;
}

static float *device_copy(const float *h, int n)
{
    float *d;
    cudaMalloc((void **)&d, n * sizeof(float));
    cudaMemcpy(d, h, n * sizeof(float), cudaMemcpyHostToDevice);
    return d;
}

int main(void)
{
    const int M = 37, N = 29, K = 45, BATCH = 6, T = 8, HS = 5;
    float *A = (float *)malloc(M * K * sizeof(float)), *B = (float *)malloc(K * N * sizeof(float));
    float *C = (float *)malloc(M * N * sizeof(float));
    for (int i = 0; i < M * K; i++) A[i] = (float)((i * 7) % 11) * 0.25f - 1.0f;
    for (int i = 0; i < K * N; i++) B[i] = (float)((i * 5) % 13) * 0.125f - 0.5f;
    for (int i = 0; i < M * N; i++) C[i] = (float)(i % 3);

    cublasHandle_t handle;
    cudaStream_t stream;
    cublasCheck(cublasCreate(&handle));
    cudaStreamCreate(&stream);
    cublasCheck(cublasSetStream(handle, stream));
    cublasCheck(cublasSetMathMode(handle, CUBLAS_TF32_TENSOR_OP_MATH));

    float *dA = device_copy(A, M * K), *dB = device_copy(B, K * N), *dC = device_copy(C, M * N);
    const float one = 1.0f, half = 0.5f, zero = 0.0f;
    /* C = A(MxK) B(KxN) + 0.5 C */
    cublasCheck(cublasSgemm(handle, CUBLAS_OP_N, CUBLAS_OP_N, M, N, K, &one, dA, M, dB, K, &half, dC, M));
    relu<<<(M * N + 63) / 64, 64>>>(dC, M * N);
    cudaMemcpy(C, dC, M * N * sizeof(float), cudaMemcpyDeviceToHost);
    double s1 = 0.0;
    for (int i = 0; i < M * N; i++) s1 += C[i] * (1 + i % 5);
    printf("sgemm NN + relu: C[0]=%.5f C[last]=%.5f weighted=%.4f\n", C[0], C[M * N - 1], s1);

    /* D(NxN) = B^T B: B as a KxN column-major matrix */
    float *dD;
    cudaMalloc((void **)&dD, N * N * sizeof(float));
    cublasCheck(cublasSgemm(handle, CUBLAS_OP_T, CUBLAS_OP_N, N, N, K, &one, dB, K, dB, K, &zero, dD, N));
    float *D = (float *)malloc(N * N * sizeof(float));
    cudaMemcpy(D, dD, N * N * sizeof(float), cudaMemcpyDeviceToHost);
    double s2 = 0.0;
    for (int i = 0; i < N * N; i++) s2 += D[i];
    printf("sgemm TN: D[1]=%.5f sum=%.4f\n", D[1], s2);

    /* att = q^T k per batch: T x T from HS x T blocks (llm.c's attention) */
    float *q = (float *)malloc(BATCH * T * HS * sizeof(float));
    for (int i = 0; i < BATCH * T * HS; i++) q[i] = (float)((i * 3) % 17) * 0.1f - 0.8f;
    float *dq = device_copy(q, BATCH * T * HS), *datt;
    cudaMalloc((void **)&datt, BATCH * T * T * sizeof(float));
    cublasCheck(cublasSgemmStridedBatched(handle, CUBLAS_OP_T, CUBLAS_OP_N, T, T, HS, &one, dq, HS, T * HS, dq, HS,
                                          T * HS, &zero, datt, T, T * T, BATCH));
    float *att = (float *)malloc(BATCH * T * T * sizeof(float));
    cudaMemcpy(att, datt, BATCH * T * T * sizeof(float), cudaMemcpyDeviceToHost);
    printf("strided batch: att[0]=%.5f att[T*T+3]=%.5f att[last]=%.5f\n", att[0], att[T * T + 3], att[BATCH * T * T - 1]);

    /* y = 2 A^T x - y in double, then vector routines */
    double *Ad = (double *)malloc(M * K * sizeof(double)), x[37], y[45];
    for (int i = 0; i < M * K; i++) Ad[i] = A[i];
    for (int i = 0; i < M; i++) x[i] = 0.5 * (i % 4);
    for (int i = 0; i < K; i++) y[i] = (double)i;
    double *dAd, *dx, *dy, *dy2;
    cudaMalloc((void **)&dAd, M * K * sizeof(double));
    cudaMalloc((void **)&dx, M * sizeof(double));
    cudaMalloc((void **)&dy, K * sizeof(double));
    cudaMalloc((void **)&dy2, K * sizeof(double));
    cudaMemcpy(dAd, Ad, M * K * sizeof(double), cudaMemcpyHostToDevice);
    cudaMemcpy(dx, x, sizeof x, cudaMemcpyHostToDevice);
    cudaMemcpy(dy, y, sizeof y, cudaMemcpyHostToDevice);
    const double two = 2.0, minus_one = -1.0;
    cublasCheck(cublasDgemv(handle, CUBLAS_OP_T, M, K, &two, dAd, M, dx, 1, &minus_one, dy, 1));
    cublasCheck(cublasDcopy(handle, K, dy, 1, dy2, 1));
    cudaMemcpy(y, dy2, sizeof y, cudaMemcpyDeviceToHost);
    printf("dgemv T: y[0]=%.6f y[44]=%.6f\n", y[0], y[K - 1]);

    float v[100], w[100], dot_host = 0.0f, nrm = 0.0f, dot_dev = 0.0f;
    for (int i = 0; i < 100; i++) { v[i] = 0.01f * i; w[i] = 1.0f - 0.02f * (i % 7); }
    float *dv = device_copy(v, 100), *dw = device_copy(w, 100), *dres;
    cudaMalloc((void **)&dres, sizeof(float));
    const float three = 3.0f;
    cublasCheck(cublasSaxpy(handle, 100, &three, dv, 1, dw, 1));
    cublasCheck(cublasSscal(handle, 50, &half, dw, 2));
    cublasCheck(cublasSdot(handle, 100, dv, 1, dw, 1, &dot_host));
    cublasCheck(cublasSnrm2(handle, 100, dw, 1, &nrm));
    cublasCheck(cublasSetPointerMode(handle, CUBLAS_POINTER_MODE_DEVICE));
    cublasCheck(cublasSdot(handle, 50, dv, 2, dw, 2, dres));
    cublasCheck(cublasSetPointerMode(handle, CUBLAS_POINTER_MODE_HOST));
    cudaMemcpy(&dot_dev, dres, sizeof(float), cudaMemcpyDeviceToHost);
    printf("vectors: dot=%.4f nrm2=%.4f dot(stride 2, device result)=%.4f\n", dot_host, nrm, dot_dev);

    cublasCheck(cublasDestroy(handle));
    cudaFree(dA); cudaFree(dB); cudaFree(dC); cudaFree(dD); cudaFree(dq); cudaFree(datt);
    cudaFree(dAd); cudaFree(dx); cudaFree(dy); cudaFree(dy2); cudaFree(dv); cudaFree(dw); cudaFree(dres);
    free(A); free(B); free(C); free(D); free(q); free(att); free(Ad);
    return 0;
}
