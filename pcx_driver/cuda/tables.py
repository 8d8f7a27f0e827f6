"""What the CUDA translator knows, as data: runtime calls, intrinsics, atomics, refusals.

Each table is the one home of its knowledge; the translator's rule modules only consult them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from pcx_driver.cuda.runtime_names import DRIVER_NAMES, RUNTIME_NAMES

#: Headers the prologue replaces (their #include lines are commented out).
CUDA_HEADERS = frozenset({
    "cuda_runtime.h", "cuda.h", "cuda_runtime_api.h", "device_launch_parameters.h",
    "device_functions.h", "math_constants.h",
})


@dataclass(frozen=True)
class ApiCall:
    """How a call to a CUDA runtime function is rewritten at its call site.

    The prologue defines every function here under ``rename`` (default: its own name)
    with its full arity; ``defaults`` pads calls that rely on CUDA's C++ default
    arguments; ``cast_first`` casts a ``T **`` out-argument to ``void **`` (CUDA's
    template overloads accept ``T **``, C and C++ do not).
    """

    arity: int
    defaults: tuple[str, ...] = ()  # values for the trailing parameters, last ones last
    cast_first: bool = False
    rename: str = ""


API: dict[str, ApiCall] = {
    "cudaMalloc": ApiCall(2, cast_first=True),
    "cudaMallocManaged": ApiCall(3, ("cudaMemAttachGlobal",), True, "pcx_cudaMallocManaged"),
    "cudaMallocHost": ApiCall(2, cast_first=True),
    "cudaHostAlloc": ApiCall(3, cast_first=True),
    "cudaFree": ApiCall(1),
    "cudaFreeHost": ApiCall(1),
    "cudaMemcpy": ApiCall(4),
    "cudaMemcpyAsync": ApiCall(5, ("0",)),
    "cudaMemset": ApiCall(3),
    "cudaMemsetAsync": ApiCall(4, ("0",)),
    "cudaDeviceSynchronize": ApiCall(0),
    "cudaThreadSynchronize": ApiCall(0),
    "cudaDeviceReset": ApiCall(0),
    "cudaGetLastError": ApiCall(0),
    "cudaPeekAtLastError": ApiCall(0),
    "cudaGetErrorString": ApiCall(1),
    "cudaGetErrorName": ApiCall(1),
    "cudaSetDevice": ApiCall(1),
    "cudaGetDevice": ApiCall(1),
    "cudaGetDeviceCount": ApiCall(1),
    "cudaStreamCreate": ApiCall(1),
    "cudaStreamCreateWithFlags": ApiCall(2),
    "cudaStreamDestroy": ApiCall(1),
    "cudaStreamSynchronize": ApiCall(1),
    "cudaEventCreate": ApiCall(1),
    "cudaEventCreateWithFlags": ApiCall(2),
    "cudaEventDestroy": ApiCall(1),
    "cudaEventRecord": ApiCall(2, ("0",)),
    "cudaEventSynchronize": ApiCall(1),
    "cudaEventQuery": ApiCall(1),
    "cudaEventElapsedTime": ApiCall(3),
    "cudaGetDeviceProperties": ApiCall(2),
    "cudaGetDeviceProperties_v2": ApiCall(2, rename="cudaGetDeviceProperties"),
    "cudaDeviceGetAttribute": ApiCall(3),
    "cudaMemGetInfo": ApiCall(2),
    "cudaRuntimeGetVersion": ApiCall(1),
    "cudaDriverGetVersion": ApiCall(1),
    "cudaSetDeviceFlags": ApiCall(1),
}

#: cudaDeviceGetAttribute: attribute -> (its value in driver_types.h, the cudaDeviceProp
#: field that answers it).  The prologue builds its enum and its switch from this table.
DEVICE_ATTRIBUTES: dict[str, tuple[int, str]] = {
    "cudaDevAttrMaxThreadsPerBlock": (1, "maxThreadsPerBlock"),
    "cudaDevAttrMaxBlockDimX": (2, "maxThreadsDim[0]"),
    "cudaDevAttrMaxBlockDimY": (3, "maxThreadsDim[1]"),
    "cudaDevAttrMaxBlockDimZ": (4, "maxThreadsDim[2]"),
    "cudaDevAttrMaxGridDimX": (5, "maxGridSize[0]"),
    "cudaDevAttrMaxGridDimY": (6, "maxGridSize[1]"),
    "cudaDevAttrMaxGridDimZ": (7, "maxGridSize[2]"),
    "cudaDevAttrMaxSharedMemoryPerBlock": (8, "sharedMemPerBlock"),
    "cudaDevAttrTotalConstantMemory": (9, "totalConstMem"),
    "cudaDevAttrWarpSize": (10, "warpSize"),
    "cudaDevAttrMaxPitch": (11, "memPitch"),
    "cudaDevAttrMaxRegistersPerBlock": (12, "regsPerBlock"),
    "cudaDevAttrClockRate": (13, "clockRate"),
    "cudaDevAttrMultiProcessorCount": (16, "multiProcessorCount"),
    "cudaDevAttrIntegrated": (18, "integrated"),
    "cudaDevAttrCanMapHostMemory": (19, "canMapHostMemory"),
    "cudaDevAttrConcurrentKernels": (31, "concurrentKernels"),
    "cudaDevAttrEccEnabled": (32, "ECCEnabled"),
    "cudaDevAttrPciBusId": (33, "pciBusID"),
    "cudaDevAttrPciDeviceId": (34, "pciDeviceID"),
    "cudaDevAttrMemoryClockRate": (36, "memoryClockRate"),
    "cudaDevAttrGlobalMemoryBusWidth": (37, "memoryBusWidth"),
    "cudaDevAttrL2CacheSize": (38, "l2CacheSize"),
    "cudaDevAttrMaxThreadsPerMultiProcessor": (39, "maxThreadsPerMultiProcessor"),
    "cudaDevAttrAsyncEngineCount": (40, "asyncEngineCount"),
    "cudaDevAttrUnifiedAddressing": (41, "unifiedAddressing"),
    "cudaDevAttrComputeCapabilityMajor": (75, "major"),
    "cudaDevAttrComputeCapabilityMinor": (76, "minor"),
    "cudaDevAttrMaxSharedMemoryPerMultiprocessor": (81, "sharedMemPerMultiprocessor"),
    "cudaDevAttrMaxRegistersPerMultiprocessor": (82, "regsPerMultiprocessor"),
    "cudaDevAttrManagedMemory": (83, "managedMemory"),
    "cudaDevAttrMaxSharedMemoryPerBlockOptin": (97, "sharedMemPerBlockOptin"),
    "cudaDevAttrMaxBlocksPerMultiprocessor": (106, "maxBlocksPerMultiProcessor"),
}

#: cudaMemcpyToSymbol(sym, src, count, offset=0, kind=HostToDevice) and the From form
#: become per-symbol helpers ``pcx_to_symbol_<sym>`` / ``pcx_from_symbol_<sym>``.
SYMBOL_COPIES = {"cudaMemcpyToSymbol": "to", "cudaMemcpyFromSymbol": "from",
                 "cudaMemcpyToSymbolAsync": "to", "cudaMemcpyFromSymbolAsync": "from"}

#: Types and constants the prologue defines.
KNOWN_NAMES = frozenset({
    "cudaError_t", "cudaError", "cudaDeviceProp", "cudaDeviceAttr", "cudaErrorNoDevice",
    "cudaErrorInvalidDevice", "cudaDeviceScheduleAuto", "cudaDeviceScheduleSpin",
    "cudaDeviceScheduleYield", "cudaDeviceScheduleBlockingSync", "cudaDeviceMapHost", "cudaMemcpyKind", "cudaEvent_t", "cudaStream_t", "cudaSuccess",
    "cudaErrorInvalidValue", "cudaErrorMemoryAllocation", "cudaErrorLaunchFailure",
    "cudaMemcpyHostToHost", "cudaMemcpyHostToDevice", "cudaMemcpyDeviceToHost",
    "cudaMemcpyDeviceToDevice", "cudaMemcpyDefault", "cudaMemAttachGlobal",
    "cudaMemAttachHost", "cudaHostAllocDefault", "cudaEventDefault", "cudaStreamDefault",
    "cudaStreamNonBlocking",
}) | frozenset(API) | frozenset(SYMBOL_COPIES) | frozenset(DEVICE_ATTRIBUTES)



def is_api_name(name: str) -> bool:
    """Whether the CUDA runtime or driver API defines ``name``.  A ``cudaCheck`` the
    program defines (or includes from a header pcx does not see) is not API: only the
    names the toolkit's headers define are (``runtime_names``)."""
    return name in RUNTIME_NAMES or name in DRIVER_NAMES

#: Loads and stores with a cache hint (``__ldcs(p)``, ``__stcs(p, v)``): plain memory
#: accesses here.
CACHE_LOADS = frozenset({"__ldg", "__ldcg", "__ldca", "__ldcs", "__ldlu", "__ldcv"})
CACHE_STORES = frozenset({"__stcg", "__stcs", "__stwb", "__stwt"})

#: Device intrinsics renamed to their C forms or to prologue helpers.
INTRINSICS: dict[str, str] = {
    "__expf": "expf", "__logf": "logf", "__log2f": "log2f", "__log10f": "log10f",
    "__sinf": "sinf", "__cosf": "cosf", "__tanf": "tanf", "__powf": "powf",
    "__exp10f": "pcx_exp10f", "exp10f": "pcx_exp10f",
    "__fdividef": "pcx_fdividef", "__fdiv_rn": "pcx_fdividef",
    "rsqrtf": "pcx_rsqrtf", "rsqrt": "pcx_rsqrt", "__frsqrt_rn": "pcx_rsqrtf",
    "__fsqrt_rn": "sqrtf", "__dsqrt_rn": "sqrt", "__saturatef": "pcx_saturatef",
    "__fmaf_rn": "fmaf", "__fma_rn": "fma", "__fmul_rn": "pcx_fmul", "__fadd_rn": "pcx_fadd",
    "__fsub_rn": "pcx_fsub", "__dadd_rn": "pcx_dadd", "__dmul_rn": "pcx_dmul",
    "__frcp_rn": "pcx_frcp", "__float2int_rn": "pcx_float2int_rn",
    "__float_as_int": "pcx_float_as_int", "__int_as_float": "pcx_int_as_float",
    "__sincosf": "pcx_sincosf", "sincosf": "pcx_sincosf",
    "__popc": "pcx_popc", "__popcll": "pcx_popcll", "__ffs": "pcx_ffs", "__ffsll": "pcx_ffsll",
    "__clz": "pcx_clz", "__clzll": "pcx_clzll", "__brev": "pcx_brev", "__brevll": "pcx_brevll",
    "__mul24": "pcx_mul24", "__umul24": "pcx_umul24", "__mulhi": "pcx_mulhi", "__umulhi": "pcx_umulhi",
    "__mul64hi": "pcx_mul64hi", "__umul64hi": "pcx_umul64hi", "__sad": "pcx_sad", "__usad": "pcx_usad",
    "__byte_perm": "pcx_byte_perm", "__float_as_uint": "pcx_float_as_uint", "__uint_as_float": "pcx_uint_as_float",
    "__double_as_longlong": "pcx_double_as_longlong", "__longlong_as_double": "pcx_longlong_as_double",
}
#: Double-underscore names device code may call that are the compilers' own, or that other
#: rules translate (barriers, fences, cache hints; warp functions are ``REFUSALS``' names).
_TRANSLATED_DUNDER = frozenset({
    "__syncthreads", "__syncwarp", "__threadfence", "__threadfence_block", "__threadfence_system",
}) | CACHE_LOADS | CACHE_STORES
_COMPILER_PREFIXES = ("__builtin_", "__sync_", "__atomic_", "__c11_", "__cxa_")


def unknown_intrinsic(name: str) -> bool:
    """A ``__name`` CUDA device code calls that no rule translates and no compiler defines
    (``__funnelshift_l``, ``__fadd_rd``, ``__dp4a``): refused, never passed through."""
    return (name.startswith("__") and not name.startswith(_COMPILER_PREFIXES) and name not in INTRINSICS
            and name not in _TRANSLATED_DUNDER and not name.endswith("__") and refusal_for(name) is None)


#: CUDA's overloaded min/max; renamed to the prologue's macros unless the unit defines its own.
MINMAX = {"min": "pcx_min", "max": "pcx_max"}

#: atomicOp -> how OpenMP expresses it ("+=" style operators, "=", "max", "min", "cas").
ATOMICS: dict[str, str] = {
    "atomicAdd": "+", "atomicSub": "-", "atomicAnd": "&", "atomicOr": "|", "atomicXor": "^",
    "atomicExch": "=", "atomicMax": "max", "atomicMin": "min", "atomicCAS": "cas",
}
#: Atomics that OpenMP cannot express (wrap-around increment/decrement).
ATOMICS_REFUSED = frozenset({"atomicInc", "atomicDec"})


def atomic_base(name: str) -> str:
    """``atomicAdd_block`` and ``atomicAdd_system`` behave as ``atomicAdd`` here."""
    for suffix in ("_block", "_system"):
        if name.endswith(suffix):
            return name[: -len(suffix)]
    return name


@dataclass(frozen=True)
class Refusal:
    id: str
    pattern: re.Pattern[str]
    what: str  # message template; {name} is the construct


REFUSALS: tuple[Refusal, ...] = (
    Refusal("PCX401", re.compile(r"^__shfl"), "warp shuffle {name} has no OpenMP equivalent"),
    Refusal("PCX401", re.compile(r"^__(ballot|any|all|activemask|syncwarp|match_any|match_all|reduce_\w+)(_sync)?$"),
            "warp vote/synchronisation {name} has no OpenMP equivalent"),
    Refusal("PCX402", re.compile(r"^(cooperative_groups|this_thread_block|this_grid|tiled_partition|thread_block_tile|grid_group|thread_block|coalesced_threads)$"),
            "cooperative groups ({name}) are not supported"),
    Refusal("PCX403", re.compile(r"^(texture|surface|tex[123]D\w*|tex1Dfetch|texCubemap\w*|surf[123]D\w*|cudaTextureObject_t|cudaSurfaceObject_t|cudaCreateTextureObject|cudaCreateSurfaceObject|cudaBindTexture\w*|cudaCreateChannelDesc|cudaArray\w*|cudaMallocArray)$"),
            "texture/surface {name} is not supported"),
    Refusal("PCX407", re.compile(r"^(__syncthreads_count|__syncthreads_and|__syncthreads_or|__nanosleep|clock|clock64|__prof_trigger)$"),
            "CUDA device construct {name} has no translation"),
)


def refusal_for(name: str) -> Refusal | None:
    for r in REFUSALS:
        if r.pattern.match(name):
            return r
    return None


#: Libraries of device algorithms and containers (``#include <thrust/reduce.h>``,
#: ``thrust::reduce(thrust::device, ...)``): refused (PCX409) at each header and each use,
#: except the Thrust subset below.
REFUSED_LIBRARIES: dict[str, str] = {"thrust": "Thrust", "cub": "CUB"}

#: The Thrust headers whose contents the Thrust runtime (``thrust_runtime.py``) stands in
#: for; ``#include <thrust/NAME>`` of any other is refused (PCX409).
THRUST_HEADERS = frozenset({
    "device_vector.h", "host_vector.h", "device_ptr.h", "execution_policy.h", "functional.h",
    "reduce.h", "transform.h", "count.h", "fill.h", "sequence.h", "scan.h", "copy.h", "sort.h", "partition.h",
})
#: Thrust algorithms translated to OpenMP target loops (PCX410 at each call): how many
#: arguments each form the runtime defines takes, not counting a leading
#: ``thrust::device``/``thrust::host``.
THRUST_ALGORITHMS: dict[str, frozenset[int]] = {
    "reduce": frozenset({2, 3, 4}),
    "transform": frozenset({4, 5}),  # unary, binary
    "count": frozenset({3}),
    "count_if": frozenset({3}),
    "fill": frozenset({3}),
    "sequence": frozenset({2, 3, 4}),
    "inclusive_scan": frozenset({3, 4}),
    "exclusive_scan": frozenset({3, 4, 5}),
    "copy": frozenset({3}),
    "sort": frozenset({2, 3}),
    "sort_by_key": frozenset({3, 4}),
    "partition": frozenset({3, 4}),  # in place; with a stencil
}
#: The algorithms above that run on the host: the range is copied there, ordered with the
#: standard library (a stable order, one of those Thrust may give) and copied back.
THRUST_STAGED = frozenset({"sort", "sort_by_key", "partition"})
#: The execution policies an algorithm may name first.
THRUST_POLICIES = frozenset({"thrust::device", "thrust::host"})
#: Every ``thrust::NAME`` the runtime defines with Thrust's meaning: ``thrust::`` becomes
#: ``pcx_thrust::`` on these; any other Thrust name is refused (PCX409).
THRUST_NAMES = frozenset(THRUST_ALGORITHMS) | frozenset({
    "device_vector", "host_vector", "device_ptr", "device_reference", "device", "host",
    "raw_pointer_cast", "device_pointer_cast",
    "plus", "minus", "multiplies", "divides", "modulus", "maximum", "minimum", "negate", "identity",
})
#: Members of a container an iterator argument of a translated algorithm may call.
THRUST_ITERATOR_MEMBERS = frozenset({"begin", "end", "cbegin", "cend", "data"})
#: The members of ``thrust::device_vector`` the runtime defines (a ``host_vector`` is a
#: ``std::vector`` and has all of its).
DEVICE_VECTOR_MEMBERS = THRUST_ITERATOR_MEMBERS | frozenset({"size", "empty", "front", "back", "clear", "resize"})

#: Header includes refused outright (the whole program depends on them).
REFUSED_HEADERS: dict[str, tuple[str, str]] = {
    "texture_fetch_functions.h": ("PCX403", "texture fetches (<texture_fetch_functions.h>) are not supported"),
}

#: CUDA toolkit libraries the translator does not translate, by how their headers' names
#: begin (``curand_kernel.h``, ``cublas_v2.h``, ``cusolverDn.h``).  Their headers exist only
#: where CUDA is installed: a program that includes one is refused at the include (PCX406),
#: never translated into a file that cannot compile.
TOOLKIT_LIBRARIES: dict[str, str] = {
    "curand": "cuRAND", "cublas": "cuBLAS", "cufft": "cuFFT", "cusparse": "cuSPARSE", "cusolver": "cuSOLVER",
    "cudnn": "cuDNN", "nccl": "NCCL", "nvml": "NVML", "nvrtc": "NVRTC", "nvToolsExt": "NVTX", "nvtx3": "NVTX",
    "cuda_fp16": "half precision", "cuda_bf16": "bfloat16", "cuda_fp8": "FP8", "cuComplex": "cuComplex",
    "cuda_profiler_api": "the profiler API", "cuda_pipeline": "asynchronous copies", "cuda_awbarrier": "asynchronous barriers",
}
#: cuRAND's device API for its default generator (XORWOW), which ``curand_runtime.py``
#: defines: ``#include <curand_kernel.h>`` is translated, every other cuRAND header and name
#: (the host API, the other generators, discrete distributions) refused (PCX406).
CURAND_HEADER = "curand_kernel.h"
CURAND_NAMES = frozenset({
    "curandState", "curandState_t", "curandStateXORWOW", "curandStateXORWOW_t",
    "curand_init", "curand", "curand_uniform", "curand_uniform_double", "curand_normal",
    "curand_normal_double", "curand_log_normal", "curand_log_normal_double", "skipahead",
    "skipahead_sequence",
})
#: The cuBLAS subset ``cublas_runtime.py`` defines (``#include <cublas_v2.h>``); any other
#: ``cublas*``/``CUBLAS_*`` name is refused (PCX406), as are cuBLASLt and the legacy API.
CUBLAS_HEADER = "cublas_v2.h"
CUBLAS_NAMES = frozenset({
    "cublasHandle_t", "cublasStatus_t", "cublasOperation_t", "cublasMath_t", "cublasComputeType_t",
    "cublasPointerMode_t", "cublasCreate", "cublasDestroy", "cublasSetMathMode", "cublasGetMathMode",
    "cublasSetPointerMode", "cublasGetPointerMode", "cublasSetStream", "cublasGetStream", "cublasGetStatusString",
    "CUBLAS_STATUS_SUCCESS", "CUBLAS_STATUS_NOT_INITIALIZED", "CUBLAS_STATUS_ALLOC_FAILED",
    "CUBLAS_STATUS_INVALID_VALUE", "CUBLAS_STATUS_ARCH_MISMATCH", "CUBLAS_STATUS_MAPPING_ERROR",
    "CUBLAS_STATUS_EXECUTION_FAILED", "CUBLAS_STATUS_INTERNAL_ERROR", "CUBLAS_STATUS_NOT_SUPPORTED",
    "CUBLAS_OP_N", "CUBLAS_OP_T", "CUBLAS_OP_C", "CUBLAS_DEFAULT_MATH", "CUBLAS_TENSOR_OP_MATH",
    "CUBLAS_PEDANTIC_MATH", "CUBLAS_TF32_TENSOR_OP_MATH", "CUBLAS_COMPUTE_32F", "CUBLAS_COMPUTE_32F_PEDANTIC",
    "CUBLAS_COMPUTE_32F_FAST_16F", "CUBLAS_COMPUTE_32F_FAST_16BF", "CUBLAS_COMPUTE_32F_FAST_TF32",
    "CUBLAS_COMPUTE_64F", "CUBLAS_COMPUTE_64F_PEDANTIC", "CUBLAS_POINTER_MODE_HOST", "CUBLAS_POINTER_MODE_DEVICE",
}) | frozenset(f"cublas{p}{r}" for p in "SD" for r in (
    "gemm", "gemmStridedBatched", "gemv", "axpy", "dot", "scal", "nrm2", "copy"))
#: Toolkit libraries translated in part: the header, the runtime's name, the names it
#: defines, and the prefixes of the library's other names (refused where used).
TRANSLATED_LIBRARIES: dict[str, tuple[str, frozenset[str], tuple[str, ...]]] = {
    CURAND_HEADER: ("cuRAND", CURAND_NAMES, ("curand",)),
    CUBLAS_HEADER: ("cuBLAS", CUBLAS_NAMES, ("cublas", "CUBLAS_")),
}


def untranslated_library_name(name: str) -> str:
    """The library (``cuRAND``) of a name it defines that has no translation, or ''."""
    for library, names, prefixes in TRANSLATED_LIBRARIES.values():
        if name.startswith(prefixes) and name not in names:
            return library
    return ""


#: Toolkit headers matched by their whole name (``mma.h``: warp matrix functions), and
#: libcu++ (``<cuda/std/...>``, ``<cuda/atomic>``) by its directory.
TOOLKIT_HEADERS: dict[str, str] = {"mma.h": "warp matrix functions (WMMA)", "cuda": "libcu++"}


def toolkit_library(include: str) -> str:
    """The untranslated CUDA library an ``#include`` spelling names, or ''."""
    first = include.split("/", 1)[0]
    if "/" in include and first in TOOLKIT_HEADERS:
        return TOOLKIT_HEADERS[first]
    if include in TOOLKIT_HEADERS:
        return TOOLKIT_HEADERS[include]
    return next((lib for prefix, lib in TOOLKIT_LIBRARIES.items() if first.startswith(prefix)), "")

