/* f32_gemm_bwd.c — accumulating GEMMs for the backward pass (see f32_gemm_bwd.h). The micro-kernel
 * is the forward's tile (GEMM_MR x GEMM_NR, all accumulators in registers), started from C instead
 * of the bias; the TN form broadcasts A's values from one row of A (MR consecutive floats). */
#include "kernels/f32_gemm_bwd.h"
#include "kernels/f32_gemm.h"
#include "kernels/f32_gemm_tile.h"

#include <string.h>

const char *f32_gemm_bwd_kernel_name(void) { return "f32_gemm_acc_" GEMM_TILE "_" SIALO_ISA; }

void f32_gemm_pack_t(int k, int n, const float *bt, int ldbt, float *packed) {
    int panels = (n + GEMM_NR - 1) / GEMM_NR;
    for (int p = 0; p < panels; p++) {
        float *dst = packed + (size_t)p * k * GEMM_NR;
        for (int j = 0; j < GEMM_NR; j++) {
            int col = p * GEMM_NR + j;
            if (col < n) {
                const float *src = bt + (size_t)col * ldbt;
                for (int kk = 0; kk < k; kk++) dst[(size_t)kk * GEMM_NR + j] = src[kk];
            } else {
                for (int kk = 0; kk < k; kk++) dst[(size_t)kk * GEMM_NR + j] = 0.0f;
            }
        }
    }
}

/* load the C tile (mr rows, nr columns; missing rows / columns as zeros) */
static inline void load_c(vf acc[GEMM_MR][2], float *const *c, int mr, int nr) {
    for (int r = 0; r < GEMM_MR; r++) {
        if (r < mr && nr == GEMM_NR) {
            acc[r][0] = vload(c[r]);
            acc[r][1] = vload(c[r] + SIALO_VW);
        } else {
            float tmp[GEMM_NR] = {0};
            if (r < mr) memcpy(tmp, c[r], (size_t)nr * sizeof(float));
            acc[r][0] = vload(tmp);
            acc[r][1] = vload(tmp + SIALO_VW);
        }
    }
}
static inline void store_c(vf acc[GEMM_MR][2], float *const *c, int mr, int nr) {
    for (int r = 0; r < mr; r++) {
        if (nr == GEMM_NR) {
            vstore(c[r], acc[r][0]);
            vstore(c[r] + SIALO_VW, acc[r][1]);
        } else {
            float tmp[GEMM_NR];
            vstore(tmp, acc[r][0]);
            vstore(tmp + SIALO_VW, acc[r][1]);
            memcpy(c[r], tmp, (size_t)nr * sizeof(float));
        }
    }
}

/* C tile += A rows a[0..MR) (pointers, k deep) x panel bp */
static inline void tile_nn(int mr, int k, const float *const *a, const float *bp, float *const *c, int nr) {
    vf acc[GEMM_MR][2];
    load_c(acc, c, mr, nr);
    int kk = 0;
#if SIALO_VW == 4 && !GEMM_LOADSPLAT
    for (; kk + 4 <= k; kk += 4) {
        vf av[GEMM_MR];
        for (int r = 0; r < GEMM_MR; r++) av[r] = vload(a[r] + kk);
#pragma GCC unroll 4
        for (int j = 0; j < 4; j++) {
            vf w0 = vload(bp), w1 = vload(bp + SIALO_VW);
            bp += GEMM_NR;
#pragma GCC unroll 8
            for (int r = 0; r < GEMM_MR; r++) {
                vf x = vsplat(av[r][j]);
                acc[r][0] = vfma(acc[r][0], x, w0);
                acc[r][1] = vfma(acc[r][1], x, w1);
            }
        }
    }
#endif
    for (; kk < k; kk++) {
        vf w0 = vload(bp), w1 = vload(bp + SIALO_VW);
        bp += GEMM_NR;
#pragma GCC unroll 8
        for (int r = 0; r < GEMM_MR; r++) {
            vf x = vsplat(a[r][kk]);
            acc[r][0] = vfma(acc[r][0], x, w0);
            acc[r][1] = vfma(acc[r][1], x, w1);
        }
    }
    store_c(acc, c, mr, nr);
}

/* C tile (rows m.., MR of them) += sum over kk of A[kk][m + r] x panel row kk; a points at A[0][m].
   full: all MR columns of A exist (one vector load per row of A on 4-wide ISAs) */
static inline void tile_tn(int mr, int k, const float *a, size_t lda, const float *bp, float *const *c, int nr) {
    vf acc[GEMM_MR][2];
    load_c(acc, c, mr, nr);
    if (mr == GEMM_MR) {
        for (int kk = 0; kk < k; kk++, a += lda) {
            vf w0 = vload(bp), w1 = vload(bp + SIALO_VW);
            bp += GEMM_NR;
#if SIALO_VW == 4 && GEMM_MR == 4 && !GEMM_LOADSPLAT
            vf av = vload(a);
#pragma GCC unroll 8
            for (int r = 0; r < GEMM_MR; r++) {
                vf x = vsplat(av[r]);
                acc[r][0] = vfma(acc[r][0], x, w0);
                acc[r][1] = vfma(acc[r][1], x, w1);
            }
#else
#pragma GCC unroll 8
            for (int r = 0; r < GEMM_MR; r++) {
                vf x = vsplat(a[r]);
                acc[r][0] = vfma(acc[r][0], x, w0);
                acc[r][1] = vfma(acc[r][1], x, w1);
            }
#endif
        }
    } else {
        for (int kk = 0; kk < k; kk++, a += lda) {
            vf w0 = vload(bp), w1 = vload(bp + SIALO_VW);
            bp += GEMM_NR;
            for (int r = 0; r < mr; r++) {
                vf x = vsplat(a[r]);
                acc[r][0] = vfma(acc[r][0], x, w0);
                acc[r][1] = vfma(acc[r][1], x, w1);
            }
        }
    }
    store_c(acc, c, mr, nr);
}

#define PANEL_BLOCK_BYTES (512 * 1024)

void f32_gemm_acc(int m0, int m1, int n, int k, const float *a, size_t lda, const float *packed, float *c, size_t ldc) {
    int panels = (n + GEMM_NR - 1) / GEMM_NR;
    size_t panel_floats = (size_t)k * GEMM_NR;
    int pb = (int)(PANEL_BLOCK_BYTES / (panel_floats * sizeof(float)));
    if (pb < 1) pb = 1;
    for (int p0 = 0; p0 < panels; p0 += pb) {
        int p1 = p0 + pb < panels ? p0 + pb : panels;
        for (int m = m0; m < m1; m += GEMM_MR) {
            int mr = m1 - m < GEMM_MR ? m1 - m : GEMM_MR;
            const float *ar[GEMM_MR];
            float *cr[GEMM_MR];
            for (int r = 0; r < GEMM_MR; r++) {
                int rr = r < mr ? r : mr - 1; /* surplus rows read the last one, never stored */
                ar[r] = a + (size_t)(m + rr) * lda;
                cr[r] = c + (size_t)(m + rr) * ldc;
            }
            for (int p = p0; p < p1; p++) {
                int col = p * GEMM_NR, nr = n - col < GEMM_NR ? n - col : GEMM_NR;
                float *cp[GEMM_MR];
                for (int r = 0; r < GEMM_MR; r++) cp[r] = cr[r] + col;
                tile_nn(mr, k, ar, packed + (size_t)p * panel_floats, cp, nr);
            }
        }
    }
}

/* the reduction (rows of A and of the packed panels) in blocks whose panel slice stays in L1 */
#define TN_KC 256

void f32_gemm_tn_acc(int m0, int m1, int n, int k, const float *a, size_t lda, const float *packed, float *c, size_t ldc) {
    int panels = (n + GEMM_NR - 1) / GEMM_NR;
    size_t panel_floats = (size_t)k * GEMM_NR;
    for (int k0 = 0; k0 < k; k0 += TN_KC) {
        int kc = k - k0 < TN_KC ? k - k0 : TN_KC;
        const float *ak = a + (size_t)k0 * lda;
        for (int p = 0; p < panels; p++) {
            int col = p * GEMM_NR, nr = n - col < GEMM_NR ? n - col : GEMM_NR;
            const float *bp = packed + (size_t)p * panel_floats + (size_t)k0 * GEMM_NR;
            for (int m = m0; m < m1; m += GEMM_MR) {
                int mr = m1 - m < GEMM_MR ? m1 - m : GEMM_MR;
                float *cp[GEMM_MR];
                for (int r = 0; r < GEMM_MR; r++) cp[r] = c + (size_t)(m + (r < mr ? r : mr - 1)) * ldc + col;
                tile_tn(mr, kc, ak + m, lda, bp, cp, nr);
            }
        }
    }
}
