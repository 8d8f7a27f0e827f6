"""cuRAND's device API for its default generator, XORWOW, as C that heads a translation.

Contract: ``curand_runtime()`` is C text (valid C99 and C++) placed after the CUDA
prologue (it needs ``PCX_API`` and ``math.h``) in a unit that includes
``<curand_kernel.h>``; it defines, with cuRAND's names and meaning, exactly
``tables.CURAND_NAMES``: the state types (``curandState``, ``curandStateXORWOW_t``...),
``curand_init``, ``curand``, ``curand_uniform(_double)``, ``curand_normal(_double)``,
``curand_log_normal(_double)``, ``skipahead`` and ``skipahead_sequence``, all of them
``declare target`` so kernels and host code call them alike.

The numbers are cuRAND's: the generator is Marsaglia's xorwow (a 160-bit xorshift plus a
Weyl sequence) seeded the way cuRAND's documentation and headers define, subsequence ``s``
starts ``s * 2^67`` draws ahead and ``offset`` draws further, and the distributions map
the 32-bit draws as cuRAND does (``curand_uniform`` is in (0, 1]; Box-Muller for the
normals, the second value kept in the state).  The floating-point ones may differ from a
GPU's in the last bits where CUDA uses its fast ``__logf``/``__sinf`` intrinsics.

Skipping ahead: the xorshift part is linear over GF(2), so ``J`` steps are ``q(M)`` for
``q = x^J mod P``, ``P`` the characteristic polynomial of one step ``M`` (Cayley-Hamilton).
This module finds ``P`` (Berlekamp-Massey on the generator's output bits: xorwow's period
is 2^160 - 1, so that minimal polynomial is ``P``, degree 160) and tabulates ``x^(2^k)``
and ``x^(2^(67 + k)) mod P`` for k < 64; a jump applies one table entry per set bit of the
count, each 160 generator steps whose states are summed where ``q`` has a term.  No matrix
tables (cuRAND's are 100 KB and more), and nothing to copy to the device before a kernel
seeds its states.
"""

from __future__ import annotations

from functools import lru_cache

WORDS = 5  # the xorshift state: 5 x 32 bits
DEGREE = 32 * WORDS
SUBSEQUENCE_LOG2 = 67  # a subsequence is 2^67 draws long
_MASK = 0xFFFFFFFF


def xorshift_step(v: list[int]) -> list[int]:
    """One step of xorwow's linear part (the Weyl counter ``d`` is separate)."""
    t = v[0] ^ (v[0] >> 2)
    return [v[1], v[2], v[3], v[4], ((v[4] ^ (v[4] << 4)) ^ (t ^ (t << 1))) & _MASK]


def _berlekamp_massey(bits: list[int]) -> int:
    """The connection polynomial of a GF(2) sequence, as an int (bit i: coefficient of
    x^i), reversed into the characteristic polynomial by the caller."""
    c, b = 1, 1
    length, m = 0, 1
    for n, bit in enumerate(bits):
        d = bit
        for i in range(1, length + 1):
            d ^= ((c >> i) & 1) & bits[n - i]
        if d == 0:
            m += 1
        elif 2 * length <= n:
            t = c
            c ^= b << m
            length, b, m = n + 1 - length, t, 1
        else:
            c ^= b << m
            m += 1
    return c if length == DEGREE else 0


@lru_cache(maxsize=1)
def characteristic_polynomial() -> int:
    """``P``, the characteristic polynomial of one xorshift step (degree 160)."""
    v = [123456789, 362436069, 521288629, 88675123, 5783321]
    bits = []
    for _ in range(2 * DEGREE + 8):
        bits.append(v[4] & 1)
        v = xorshift_step(v)
    conn = _berlekamp_massey(bits)
    if not conn:
        raise AssertionError("xorwow's output bits are not of linear complexity 160")
    # connection polynomial C(x) = 1 + c1 x + ... + cL x^L  ->  P(x) = x^L C(1/x)
    return sum(1 << (DEGREE - i) for i in range(DEGREE + 1) if (conn >> i) & 1)


def _mulmod(a: int, b: int, p: int) -> int:
    out = 0
    while b:
        if b & 1:
            out ^= a
        b >>= 1
        a <<= 1
        if (a >> DEGREE) & 1:
            a ^= p
    return out


def power_of_x(exponent_log2: int) -> int:
    """``x^(2^exponent_log2) mod P``."""
    p = characteristic_polynomial()
    q = 2  # x
    for _ in range(exponent_log2):
        q = _mulmod(q, q, p)
    return q


def jump_polynomial(steps: int) -> int:
    """``x^steps mod P`` (for tests and tables)."""
    p = characteristic_polynomial()
    q, base = 1, 2
    while steps:
        if steps & 1:
            q = _mulmod(q, base, p)
        base = _mulmod(base, base, p)
        steps >>= 1
    return q


def apply_jump(q: int, v: list[int]) -> list[int]:
    """``q(M) v``: the state ``J`` steps on when ``q = x^J mod P`` (what the C does)."""
    acc = [0] * WORDS
    for i in range(DEGREE):
        if (q >> i) & 1:
            acc = [a ^ w for a, w in zip(acc, v)]
        v = xorshift_step(v)
    return acc


def _words(q: int) -> str:
    return "{" + ", ".join(f"0x{(q >> (32 * w)) & _MASK:08x}u" for w in range(WORDS)) + "}"


@lru_cache(maxsize=1)
def _tables() -> str:
    offsets = [power_of_x(k) for k in range(64)]
    sequences = [power_of_x(SUBSEQUENCE_LOG2 + k) for k in range(64)]
    rows = lambda qs: ",\n".join("  " + _words(q) for q in qs)  # noqa: E731
    return (f"static const unsigned int pcx_curand_offset_jumps[64][5] = {{\n{rows(offsets)}\n}};\n"
            f"static const unsigned int pcx_curand_sequence_jumps[64][5] = {{\n{rows(sequences)}\n}};\n")


_RUNTIME = r"""#line 1 "pcx-curand-runtime.h"
/* ---- pcx: cuRAND's XORWOW device API (generated by pcx translate) ---- */
#ifndef PCX_CURAND_RUNTIME
#define PCX_CURAND_RUNTIME
typedef struct curandStateXORWOW {
  unsigned int d, v[5];
  int boxmuller_flag, boxmuller_flag_double;
  float boxmuller_extra;
  double boxmuller_extra_double;
} curandStateXORWOW_t;
typedef curandStateXORWOW_t curandState_t;
typedef curandStateXORWOW_t curandState;
#pragma omp declare target
/* x^(2^k) and x^(2^(67+k)) modulo the xorshift's characteristic polynomial. */
@TABLES@
PCX_API void pcx_curand_step(unsigned int v[5])
{
  unsigned int t = v[0] ^ (v[0] >> 2);
  v[0] = v[1]; v[1] = v[2]; v[2] = v[3]; v[3] = v[4];
  v[4] = (v[4] ^ (v[4] << 4)) ^ (t ^ (t << 1));
}
/* v <- q(M) v: sum the states of the next 160 steps where q has a term. */
PCX_API void pcx_curand_jump(unsigned int v[5], const unsigned int q[5])
{
  unsigned int w[5], acc[5] = {0, 0, 0, 0, 0};
  int i, k;
  for (k = 0; k < 5; k++) w[k] = v[k];
  for (i = 0; i < 160; i++) {
    if ((q[i >> 5] >> (i & 31)) & 1u)
      for (k = 0; k < 5; k++) acc[k] ^= w[k];
    pcx_curand_step(w);
  }
  for (k = 0; k < 5; k++) v[k] = acc[k];
}
PCX_API void skipahead(unsigned long long n, curandStateXORWOW_t *state)
{
  int k;
  state->d += 362437u * (unsigned int)n;
  for (k = 0; n; k++, n >>= 1)
    if (n & 1ull) pcx_curand_jump(state->v, pcx_curand_offset_jumps[k]);
}
PCX_API void skipahead_sequence(unsigned long long n, curandStateXORWOW_t *state)
{
  int k;
  for (k = 0; n; k++, n >>= 1)
    if (n & 1ull) pcx_curand_jump(state->v, pcx_curand_sequence_jumps[k]);
}
PCX_API void curand_init(unsigned long long seed, unsigned long long subsequence, unsigned long long offset,
                         curandStateXORWOW_t *state)
{
  unsigned int s0 = (unsigned int)seed ^ 0xaad26b49u, s1 = (unsigned int)(seed >> 32) ^ 0xf7dcefddu;
  unsigned int t0 = 1099087573u * s0, t1 = 2591861531u * s1;
  state->d = 6615241u + t1 + t0;
  state->v[0] = 123456789u + t0;
  state->v[1] = 362436069u ^ t0;
  state->v[2] = 521288629u + t1;
  state->v[3] = 88675123u ^ t1;
  state->v[4] = 5783321u + t0;
  skipahead(offset, state);
  skipahead_sequence(subsequence, state);
  state->boxmuller_flag = 0;
  state->boxmuller_flag_double = 0;
  state->boxmuller_extra = 0.0f;
  state->boxmuller_extra_double = 0.0;
}
PCX_API unsigned int curand(curandStateXORWOW_t *state)
{
  pcx_curand_step(state->v);
  state->d += 362437u;
  return state->v[4] + state->d;
}
#define PCX_CURAND_2POW32_INV 2.3283064e-10f
#define PCX_CURAND_2POW53_INV_DOUBLE 1.1102230246251565e-16
PCX_API float curand_uniform(curandStateXORWOW_t *state)
{
  return curand(state) * PCX_CURAND_2POW32_INV + (PCX_CURAND_2POW32_INV / 2.0f);
}
PCX_API double pcx_curand_double_of(unsigned int x, unsigned int y)
{
  unsigned long long z = (unsigned long long)x ^ ((unsigned long long)y << (53 - 32));
  return z * PCX_CURAND_2POW53_INV_DOUBLE + (PCX_CURAND_2POW53_INV_DOUBLE / 2.0);
}
PCX_API double curand_uniform_double(curandStateXORWOW_t *state)
{
  unsigned int x = curand(state);
  unsigned int y = curand(state);
  return pcx_curand_double_of(x, y);
}
/* Box-Muller: two normals from two (four) draws, the second kept in the state for the
   next call of the same distribution (a flag per kind, as cuRAND keeps). */
#define PCX_CURAND_EXTRA_NORMAL 1
#define PCX_CURAND_EXTRA_LOG_NORMAL 2
PCX_API void pcx_curand_box_muller(curandStateXORWOW_t *state, float *first, float *second)
{
  unsigned int x = curand(state);
  unsigned int y = curand(state);
  float u = x * PCX_CURAND_2POW32_INV + (PCX_CURAND_2POW32_INV / 2);
  float v = y * (PCX_CURAND_2POW32_INV * 6.2831855f) + ((PCX_CURAND_2POW32_INV * 6.2831855f) / 2);
  float s = sqrtf(-2.0f * logf(u));
  *first = s * sinf(v);
  *second = s * cosf(v);
}
PCX_API void pcx_curand_box_muller_double(curandStateXORWOW_t *state, double *first, double *second)
{
  unsigned int x0 = curand(state);
  unsigned int x1 = curand(state);
  unsigned int y0 = curand(state);
  unsigned int y1 = curand(state);
  double u = pcx_curand_double_of(x0, x1);
  unsigned long long zy = (unsigned long long)y0 ^ ((unsigned long long)y1 << (53 - 32));
  double v = zy * (PCX_CURAND_2POW53_INV_DOUBLE * 2.0) + PCX_CURAND_2POW53_INV_DOUBLE; /* in units of pi */
  double s = sqrt(-2.0 * log(u));
  *first = s * sin(v * 3.1415926535897932);
  *second = s * cos(v * 3.1415926535897932);
}
PCX_API float curand_normal(curandStateXORWOW_t *state)
{
  float first, second;
  if (state->boxmuller_flag == PCX_CURAND_EXTRA_NORMAL) {
    state->boxmuller_flag = 0;
    return state->boxmuller_extra;
  }
  pcx_curand_box_muller(state, &first, &second);
  state->boxmuller_extra = second;
  state->boxmuller_flag = PCX_CURAND_EXTRA_NORMAL;
  return first;
}
PCX_API double curand_normal_double(curandStateXORWOW_t *state)
{
  double first, second;
  if (state->boxmuller_flag_double == PCX_CURAND_EXTRA_NORMAL) {
    state->boxmuller_flag_double = 0;
    return state->boxmuller_extra_double;
  }
  pcx_curand_box_muller_double(state, &first, &second);
  state->boxmuller_extra_double = second;
  state->boxmuller_flag_double = PCX_CURAND_EXTRA_NORMAL;
  return first;
}
PCX_API float curand_log_normal(curandStateXORWOW_t *state, float mean, float stddev)
{
  float first, second;
  if (state->boxmuller_flag == PCX_CURAND_EXTRA_LOG_NORMAL) {
    state->boxmuller_flag = 0;
    return state->boxmuller_extra;
  }
  pcx_curand_box_muller(state, &first, &second);
  state->boxmuller_extra = expf(mean + stddev * second);
  state->boxmuller_flag = PCX_CURAND_EXTRA_LOG_NORMAL;
  return expf(mean + stddev * first);
}
PCX_API double curand_log_normal_double(curandStateXORWOW_t *state, double mean, double stddev)
{
  double first, second;
  if (state->boxmuller_flag_double == PCX_CURAND_EXTRA_LOG_NORMAL) {
    state->boxmuller_flag_double = 0;
    return state->boxmuller_extra_double;
  }
  pcx_curand_box_muller_double(state, &first, &second);
  state->boxmuller_extra_double = exp(mean + stddev * second);
  state->boxmuller_flag_double = PCX_CURAND_EXTRA_LOG_NORMAL;
  return exp(mean + stddev * first);
}
#pragma omp end declare target
#endif /* PCX_CURAND_RUNTIME */
"""


def curand_runtime() -> str:
    """The runtime text (ends with a newline)."""
    return _RUNTIME.replace("@TABLES@", _tables().rstrip("\n"))
