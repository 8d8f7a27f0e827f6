"""A cuBLAS subset as OpenMP target loops, C that heads a translation.

Contract: ``CUBLAS_RUNTIME`` is C text (valid C99 and C++) placed after the CUDA prologue
(it needs ``PCX_API``, ``pcx_cuda_dev``, ``cudaStream_t``) in a unit that includes
``<cublas_v2.h>``; it defines, with cuBLAS's names and meaning, exactly
``tables.CUBLAS_NAMES``: the handle, status, operation, math-mode, compute-type and
pointer-mode types and constants, ``cublasCreate``/``Destroy``, the mode and stream
setters and getters, and for single and double precision ``gemm``,
``gemmStridedBatched``, ``gemv``, ``axpy``, ``dot``, ``scal``, ``nrm2`` and ``copy``.

Data plan: the matrices and vectors are device pointers (``cudaMalloc`` is
``omp_target_alloc``), so each routine is one ``target teams distribute parallel for``
with them ``is_device_ptr``; column-major storage and leading dimensions as cuBLAS's.
Scalars (``alpha``, ``beta``, a ``dot`` result) live on the host or, under
``CUBLAS_POINTER_MODE_DEVICE``, on the device (copied with ``omp_target_memcpy``).  As in
cuBLAS, ``C`` is not read where ``beta`` is zero.  Sums run in their own order (cuBLAS
gives no order either): results agree to rounding, not to the bit.  Math modes and
compute types are accepted and change nothing (no tensor cores here: TF32 is plain FP32).
Streams are dropped, as everywhere in the translation (every call is synchronous).
"""

from __future__ import annotations

_GEMM = r"""
PCX_API cublasStatus_t pcx_cublas_@T@gemm(cublasHandle_t h, cublasOperation_t transa, cublasOperation_t transb,
    int m, int n, int k, const @TYPE@ *alpha, const @TYPE@ *A, int lda, long long strideA, const @TYPE@ *B,
    int ldb, long long strideB, const @TYPE@ *beta, @TYPE@ *C, int ldc, long long strideC, int batch)
{
  @TYPE@ a, b;
  int at = transa != CUBLAS_OP_N, bt = transb != CUBLAS_OP_N;
  if (!h) return CUBLAS_STATUS_NOT_INITIALIZED;
  if (m < 0 || n < 0 || k < 0 || batch < 0 || ldc < (m > 1 ? m : 1)
      || lda < ((at ? k : m) > 1 ? (at ? k : m) : 1) || ldb < ((bt ? n : k) > 1 ? (bt ? n : k) : 1))
    return CUBLAS_STATUS_INVALID_VALUE;
  if (m == 0 || n == 0 || batch == 0) return CUBLAS_STATUS_SUCCESS;
  pcx_cublas_scalar(h, &a, alpha, sizeof a);
  pcx_cublas_scalar(h, &b, beta, sizeof b);
#pragma omp target teams distribute parallel for collapse(3) is_device_ptr(A, B, C) firstprivate(a, b, at, bt)
  for (int p = 0; p < batch; p++)
    for (int j = 0; j < n; j++)
      for (int i = 0; i < m; i++) {
        const @TYPE@ *Ap = A + p * strideA, *Bp = B + p * strideB;
        @TYPE@ *c = C + p * strideC + i + (long long)j * ldc;
        @TYPE@ acc = 0;
        for (int l = 0; l < k; l++)
          acc += (at ? Ap[l + (long long)i * lda] : Ap[i + (long long)l * lda])
                 * (bt ? Bp[j + (long long)l * ldb] : Bp[l + (long long)j * ldb]);
        *c = b == (@TYPE@)0 ? a * acc : a * acc + b * *c;
      }
  return CUBLAS_STATUS_SUCCESS;
}
PCX_API cublasStatus_t cublas@T@gemm(cublasHandle_t h, cublasOperation_t transa, cublasOperation_t transb,
    int m, int n, int k, const @TYPE@ *alpha, const @TYPE@ *A, int lda, const @TYPE@ *B, int ldb,
    const @TYPE@ *beta, @TYPE@ *C, int ldc)
{
  return pcx_cublas_@T@gemm(h, transa, transb, m, n, k, alpha, A, lda, 0, B, ldb, 0, beta, C, ldc, 0, 1);
}
PCX_API cublasStatus_t cublas@T@gemmStridedBatched(cublasHandle_t h, cublasOperation_t transa,
    cublasOperation_t transb, int m, int n, int k, const @TYPE@ *alpha, const @TYPE@ *A, int lda, long long strideA,
    const @TYPE@ *B, int ldb, long long strideB, const @TYPE@ *beta, @TYPE@ *C, int ldc, long long strideC,
    int batchCount)
{
  return pcx_cublas_@T@gemm(h, transa, transb, m, n, k, alpha, A, lda, strideA, B, ldb, strideB, beta, C, ldc,
                            strideC, batchCount);
}
PCX_API cublasStatus_t cublas@T@gemv(cublasHandle_t h, cublasOperation_t trans, int m, int n, const @TYPE@ *alpha,
    const @TYPE@ *A, int lda, const @TYPE@ *x, int incx, const @TYPE@ *beta, @TYPE@ *y, int incy)
{
  @TYPE@ a, b;
  int t = trans != CUBLAS_OP_N, ny = t ? n : m, nx = t ? m : n;
  if (!h) return CUBLAS_STATUS_NOT_INITIALIZED;
  if (m < 0 || n < 0 || lda < (m > 1 ? m : 1) || incx == 0 || incy == 0) return CUBLAS_STATUS_INVALID_VALUE;
  if (m == 0 || n == 0) return CUBLAS_STATUS_SUCCESS;
  pcx_cublas_scalar(h, &a, alpha, sizeof a);
  pcx_cublas_scalar(h, &b, beta, sizeof b);
#pragma omp target teams distribute parallel for is_device_ptr(A, x, y) firstprivate(a, b, t, nx, ny)
  for (int i = 0; i < ny; i++) {
    @TYPE@ acc = 0;
    for (int l = 0; l < nx; l++)
      acc += (t ? A[l + (long long)i * lda] : A[i + (long long)l * lda])
             * x[(incx > 0 ? l : l - (nx - 1)) * (long long)incx];
    @TYPE@ *yi = &y[(incy > 0 ? i : i - (ny - 1)) * (long long)incy];
    *yi = b == (@TYPE@)0 ? a * acc : a * acc + b * *yi;
  }
  return CUBLAS_STATUS_SUCCESS;
}
PCX_API cublasStatus_t cublas@T@axpy(cublasHandle_t h, int n, const @TYPE@ *alpha, const @TYPE@ *x, int incx,
    @TYPE@ *y, int incy)
{
  @TYPE@ a;
  if (!h) return CUBLAS_STATUS_NOT_INITIALIZED;
  if (n <= 0) return CUBLAS_STATUS_SUCCESS;
  pcx_cublas_scalar(h, &a, alpha, sizeof a);
#pragma omp target teams distribute parallel for is_device_ptr(x, y) firstprivate(a)
  for (int i = 0; i < n; i++)
    y[(incy >= 0 ? i : i - (n - 1)) * (long long)incy] += a * x[(incx >= 0 ? i : i - (n - 1)) * (long long)incx];
  return CUBLAS_STATUS_SUCCESS;
}
PCX_API cublasStatus_t cublas@T@scal(cublasHandle_t h, int n, const @TYPE@ *alpha, @TYPE@ *x, int incx)
{
  @TYPE@ a;
  if (!h) return CUBLAS_STATUS_NOT_INITIALIZED;
  if (n <= 0 || incx <= 0) return CUBLAS_STATUS_SUCCESS;
  pcx_cublas_scalar(h, &a, alpha, sizeof a);
#pragma omp target teams distribute parallel for is_device_ptr(x) firstprivate(a)
  for (int i = 0; i < n; i++)
    x[i * (long long)incx] *= a;
  return CUBLAS_STATUS_SUCCESS;
}
PCX_API cublasStatus_t cublas@T@copy(cublasHandle_t h, int n, const @TYPE@ *x, int incx, @TYPE@ *y, int incy)
{
  if (!h) return CUBLAS_STATUS_NOT_INITIALIZED;
  if (n <= 0) return CUBLAS_STATUS_SUCCESS;
#pragma omp target teams distribute parallel for is_device_ptr(x, y)
  for (int i = 0; i < n; i++)
    y[(incy >= 0 ? i : i - (n - 1)) * (long long)incy] = x[(incx >= 0 ? i : i - (n - 1)) * (long long)incx];
  return CUBLAS_STATUS_SUCCESS;
}
PCX_API cublasStatus_t cublas@T@dot(cublasHandle_t h, int n, const @TYPE@ *x, int incx, const @TYPE@ *y, int incy,
    @TYPE@ *result)
{
  @TYPE@ sum = 0;
  if (!h) return CUBLAS_STATUS_NOT_INITIALIZED;
  if (n > 0) {
#pragma omp target teams distribute parallel for reduction(+: sum) is_device_ptr(x, y)
    for (int i = 0; i < n; i++)
      sum += x[(incx >= 0 ? i : i - (n - 1)) * (long long)incx] * y[(incy >= 0 ? i : i - (n - 1)) * (long long)incy];
  }
  pcx_cublas_result(h, result, &sum, sizeof sum);
  return CUBLAS_STATUS_SUCCESS;
}
PCX_API cublasStatus_t cublas@T@nrm2(cublasHandle_t h, int n, const @TYPE@ *x, int incx, @TYPE@ *result)
{
  @TYPE@ sum = 0;
  if (!h) return CUBLAS_STATUS_NOT_INITIALIZED;
  if (n > 0 && incx > 0) {
#pragma omp target teams distribute parallel for reduction(+: sum) is_device_ptr(x)
    for (int i = 0; i < n; i++)
      sum += x[i * (long long)incx] * x[i * (long long)incx];
  }
  sum = @SQRT@(sum);
  pcx_cublas_result(h, result, &sum, sizeof sum);
  return CUBLAS_STATUS_SUCCESS;
}
"""

_HEAD = r"""#line 1 "pcx-cublas-runtime.h"
/* ---- pcx: a cuBLAS subset as OpenMP target loops (generated by pcx translate) ---- */
#ifndef PCX_CUBLAS_RUNTIME
#define PCX_CUBLAS_RUNTIME
typedef enum {
  CUBLAS_STATUS_SUCCESS = 0, CUBLAS_STATUS_NOT_INITIALIZED = 1, CUBLAS_STATUS_ALLOC_FAILED = 3,
  CUBLAS_STATUS_INVALID_VALUE = 7, CUBLAS_STATUS_ARCH_MISMATCH = 8, CUBLAS_STATUS_MAPPING_ERROR = 11,
  CUBLAS_STATUS_EXECUTION_FAILED = 13, CUBLAS_STATUS_INTERNAL_ERROR = 14, CUBLAS_STATUS_NOT_SUPPORTED = 15
} cublasStatus_t;
typedef enum { CUBLAS_OP_N = 0, CUBLAS_OP_T = 1, CUBLAS_OP_C = 2 } cublasOperation_t;
typedef enum {
  CUBLAS_DEFAULT_MATH = 0, CUBLAS_TENSOR_OP_MATH = 1, CUBLAS_PEDANTIC_MATH = 2, CUBLAS_TF32_TENSOR_OP_MATH = 3
} cublasMath_t;
typedef enum {
  CUBLAS_COMPUTE_32F = 68, CUBLAS_COMPUTE_32F_PEDANTIC = 69, CUBLAS_COMPUTE_32F_FAST_16F = 74,
  CUBLAS_COMPUTE_32F_FAST_16BF = 75, CUBLAS_COMPUTE_32F_FAST_TF32 = 77, CUBLAS_COMPUTE_64F = 70,
  CUBLAS_COMPUTE_64F_PEDANTIC = 71
} cublasComputeType_t;
typedef enum { CUBLAS_POINTER_MODE_HOST = 0, CUBLAS_POINTER_MODE_DEVICE = 1 } cublasPointerMode_t;
typedef struct pcx_cublas_context {
  cublasMath_t math;
  cublasPointerMode_t pointer_mode;
  cudaStream_t stream;
} *cublasHandle_t;

PCX_API cublasStatus_t cublasCreate(cublasHandle_t *h)
{
  *h = (cublasHandle_t)calloc(1, sizeof **h);
  return *h ? CUBLAS_STATUS_SUCCESS : CUBLAS_STATUS_ALLOC_FAILED;
}
PCX_API cublasStatus_t cublasDestroy(cublasHandle_t h) { free(h); return CUBLAS_STATUS_SUCCESS; }
PCX_API cublasStatus_t cublasSetMathMode(cublasHandle_t h, cublasMath_t m)
{ if (!h) return CUBLAS_STATUS_NOT_INITIALIZED; h->math = m; return CUBLAS_STATUS_SUCCESS; }
PCX_API cublasStatus_t cublasGetMathMode(cublasHandle_t h, cublasMath_t *m)
{ if (!h) return CUBLAS_STATUS_NOT_INITIALIZED; *m = h->math; return CUBLAS_STATUS_SUCCESS; }
PCX_API cublasStatus_t cublasSetPointerMode(cublasHandle_t h, cublasPointerMode_t m)
{ if (!h) return CUBLAS_STATUS_NOT_INITIALIZED; h->pointer_mode = m; return CUBLAS_STATUS_SUCCESS; }
PCX_API cublasStatus_t cublasGetPointerMode(cublasHandle_t h, cublasPointerMode_t *m)
{ if (!h) return CUBLAS_STATUS_NOT_INITIALIZED; *m = h->pointer_mode; return CUBLAS_STATUS_SUCCESS; }
PCX_API cublasStatus_t cublasSetStream(cublasHandle_t h, cudaStream_t s)
{ if (!h) return CUBLAS_STATUS_NOT_INITIALIZED; h->stream = s; return CUBLAS_STATUS_SUCCESS; }
PCX_API cublasStatus_t cublasGetStream(cublasHandle_t h, cudaStream_t *s)
{ if (!h) return CUBLAS_STATUS_NOT_INITIALIZED; *s = h->stream; return CUBLAS_STATUS_SUCCESS; }
PCX_API const char *cublasGetStatusString(cublasStatus_t s)
{
  switch (s) {
  case CUBLAS_STATUS_SUCCESS: return "CUBLAS_STATUS_SUCCESS";
  case CUBLAS_STATUS_NOT_INITIALIZED: return "CUBLAS_STATUS_NOT_INITIALIZED";
  case CUBLAS_STATUS_ALLOC_FAILED: return "CUBLAS_STATUS_ALLOC_FAILED";
  case CUBLAS_STATUS_INVALID_VALUE: return "CUBLAS_STATUS_INVALID_VALUE";
  default: return "CUBLAS_STATUS_INTERNAL_ERROR";
  }
}
/* A scalar argument into host memory, from where the pointer mode says it lives. */
PCX_API void pcx_cublas_scalar(cublasHandle_t h, void *host, const void *arg, size_t size)
{
  if (h->pointer_mode == CUBLAS_POINTER_MODE_DEVICE)
    omp_target_memcpy(host, (void *)arg, size, 0, 0, pcx_cuda_host(), pcx_cuda_dev());
  else
    memcpy(host, arg, size);
}
/* A scalar result (dot, nrm2) to where the pointer mode says the caller's pointer lives. */
PCX_API void pcx_cublas_result(cublasHandle_t h, void *result, const void *host, size_t size)
{
  if (h->pointer_mode == CUBLAS_POINTER_MODE_DEVICE)
    omp_target_memcpy(result, (void *)host, size, 0, 0, pcx_cuda_dev(), pcx_cuda_host());
  else
    memcpy(result, host, size);
}
"""


def _routines(letter: str, ctype: str, sqrt: str) -> str:
    return _GEMM.replace("@T@", letter).replace("@TYPE@", ctype).replace("@SQRT@", sqrt)


CUBLAS_RUNTIME = (_HEAD + _routines("S", "float", "sqrtf") + _routines("D", "double", "sqrt")
                  + "#endif /* PCX_CUBLAS_RUNTIME */\n")
