/* f32_gemm.h — packed single-precision GEMM: C[M,N] = act(A[M,K] · B[K,N] + bias[N]).
 *
 * B (the weights) is packed once at load into panels of GEMM_NR columns:
 *   packed[panel][k][0..NR)  with zero-filled columns past N.
 * The micro-kernel computes a GEMM_MR x GEMM_NR tile with all accumulators in registers; its
 * name says the tile and the ISA, e.g. f32_gemm_6x16_avx2, f32_gemm_8x32_avx512, f32_gemm_4x8_simd128.
 */
#ifndef SIALO_F32_GEMM_H
#define SIALO_F32_GEMM_H

#include <stddef.h>
#include "kernels/vec.h"

#if SIALO_VW == 16
#define GEMM_MR 8
#define GEMM_NR 32
#define GEMM_TILE "8x32"
#elif SIALO_VW == 8
#define GEMM_MR 6
#define GEMM_NR 16
#define GEMM_TILE "6x16"
#else /* 4-wide (SIMD128, SSE2): 4x8 measured fastest in V8 (vs 6x8, 8x8) */
#ifndef GEMM_MR
#define GEMM_MR 4
#endif
#define GEMM_NR 8
#define GEMM_STR2(x) #x
#define GEMM_STR(x) GEMM_STR2(x)
#define GEMM_TILE GEMM_STR(GEMM_MR) "x8"
#endif
/* How a 4-wide kernel broadcasts A: 0 = load 4 values of a row, then shuffle each lane out (fewer
 * loads: fastest with separate multiply and add, SIMD128 in V8); 1 = broadcast each value from
 * memory (v128.load32_splat, a load-port broadcast: fastest with fused multiply-add, relaxed SIMD;
 * XNNPACK makes the same two choices). Measured in V8 on Zen 4, whole networks (bench/profile.mjs). */
#ifndef GEMM_LOADSPLAT
#if defined(__wasm_relaxed_simd__)
#define GEMM_LOADSPLAT 1
#else
#define GEMM_LOADSPLAT 0
#endif
#endif
_Static_assert(GEMM_NR == 2 * SIALO_VW, "a tile is two vectors wide");

/* Name of the micro-kernel this build uses, e.g. "f32_gemm_6x16_avx2". */
const char *f32_gemm_kernel_name(void);

/* floats needed for the packed form of a K x N matrix */
size_t f32_gemm_packed_size(int k, int n);
/* pack B (row-major K x N, row stride ldb) */
void f32_gemm_pack(int k, int n, const float *b, int ldb, float *packed);

/* C = act(A · B + bias); A row-major M x K with row stride lda; C row stride ldc.
   bias: N floats or NULL. Rows [m0, m1) only (for splitting across threads). */
void f32_gemm(int m0, int m1, int n, int k, const float *a, size_t lda, const float *packed,
              const float *bias, float *c, size_t ldc, int act);

#endif
