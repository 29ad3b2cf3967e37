/* f32_gemm_bwd.h — the GEMMs of a backward pass, on the forward's packed panels (f32_gemm.h:
 * GEMM_MR x GEMM_NR tiles, B packed in GEMM_NR-column panels), both ACCUMULATING into C:
 *   f32_gemm_acc     C[M,N] += A[M,K] · B[K,N]        (an input gradient dX = dY · W^T)
 *   f32_gemm_tn_acc  C[M,N] += A[K,M]^T · B[K,N]      (a weight gradient dW = X^T · dY: the
 *                    reduction runs over the rows of A — the pixels — in L1-sized blocks, and A is
 *                    read as stored, never transposed)
 * and f32_gemm_pack_t, which packs B given as its transpose (B^T row-major N x K: the weights
 * [K_in, C_out] of a layer give W^T's panels without a transposed copy). Rows [m0, m1) of C only. */
#ifndef SIALO_F32_GEMM_BWD_H
#define SIALO_F32_GEMM_BWD_H

#include <stddef.h>

const char *f32_gemm_bwd_kernel_name(void);
void f32_gemm_pack_t(int k, int n, const float *bt, int ldbt, float *packed);
void f32_gemm_acc(int m0, int m1, int n, int k, const float *a, size_t lda, const float *packed, float *c, size_t ldc);
void f32_gemm_tn_acc(int m0, int m1, int n, int k, const float *a, size_t lda, const float *packed, float *c, size_t ldc);

#endif
