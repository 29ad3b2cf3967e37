/* f32_gemm.h — packed single-precision GEMM: C[M,N] = act(A[M,K] · B[K,N] + bias[N]).
 *
 * B (the weights) is packed once at load into panels of GEMM_NR columns (the kernel's panel width):
 *   packed[panel][k][0..NR)  with zero-filled columns past N.
 * The micro-kernel computes a GEMM_MR x GEMM_NR tile with all accumulators in registers; its
 * name says the tile and the ISA, e.g. f32_gemm_6x16_avx2, f32_gemm_8x32_avx512, f32_gemm_4x8_simd128.
 */
#ifndef SIALO_F32_GEMM_H
#define SIALO_F32_GEMM_H

#include <stddef.h>

/* The widest panel (GEMM_NR) and tile height (GEMM_MR) of any ISA's kernel: callers that pad
 * buffers for a tile use these (the tile itself is the kernel's own business: f32_gemm.c, picked
 * at run time natively, kernels/dispatch.c). Packed weights follow the kernels in use: pack and
 * multiply with the same process's f32_gemm_pack and f32_gemm. */
#define GEMM_NR_MAX 32
#define GEMM_MR_MAX 8

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
