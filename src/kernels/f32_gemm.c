/* f32_gemm.c — the GEMM micro-kernel and its driver (see f32_gemm.h). */
#include "kernels/f32_gemm.h"
#include "kernels/f32_gemm_tile.h"

_Static_assert(GEMM_NR <= GEMM_NR_MAX && GEMM_MR <= GEMM_MR_MAX, "f32_gemm.h: GEMM_NR_MAX / GEMM_MR_MAX");

#include <string.h>

const char *f32_gemm_kernel_name(void) { return "f32_gemm_" GEMM_TILE "_" SIALO_ISA; }

size_t f32_gemm_packed_size(int k, int n) { return (size_t)((n + GEMM_NR - 1) / GEMM_NR) * (size_t)k * GEMM_NR; }

void f32_gemm_pack(int k, int n, const float *b, int ldb, float *packed) {
    int panels = (n + GEMM_NR - 1) / GEMM_NR;
    for (int p = 0; p < panels; p++) {
        float *dst = packed + (size_t)p * k * GEMM_NR;
        for (int kk = 0; kk < k; kk++)
            for (int j = 0; j < GEMM_NR; j++) {
                int col = p * GEMM_NR + j;
                dst[(size_t)kk * GEMM_NR + j] = col < n ? b[(size_t)kk * ldb + col] : 0.0f;
            }
    }
}

/* One MR x NR tile: rows a[0..mr) (pointers), packed panel bp (k x NR), output rows c[r] */
static inline void micro_kernel(int mr, int k, const float *const *a, const float *bp,
                                const float *bias, float *const *c, int nr, int act) {
    vf acc[GEMM_MR][2];
    vf b0 = bias ? vload(bias) : vsplat(0.0f), b1 = bias ? vload(bias + SIALO_VW) : vsplat(0.0f);
    for (int r = 0; r < GEMM_MR; r++) { acc[r][0] = b0; acc[r][1] = b1; }
    int kk = 0;
#if SIALO_VW == 4 && !GEMM_LOADSPLAT
    /* 4-wide ISAs (SIMD128, SSE2): load 4 consecutive A values of a row at once and broadcast
       each lane (a shuffle) instead of 4 scalar loads + splats */
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
    for (int r = 0; r < mr; r++) {
        vf v0 = vact(acc[r][0], act), v1 = vact(acc[r][1], act);
        if (nr == GEMM_NR) {
            vstore(c[r], v0);
            vstore(c[r] + SIALO_VW, v1);
        } else {
            float tmp[GEMM_NR];
            vstore(tmp, v0);
            vstore(tmp + SIALO_VW, v1);
            memcpy(c[r], tmp, (size_t)nr * sizeof(float));
        }
    }
}

/* Panels are processed in blocks whose packed size stays around L2-resident, so a tile of A
   rows is reused across a block of panels and a block of panels across all rows. */
#define PANEL_BLOCK_BYTES (512 * 1024)

void f32_gemm(int m0, int m1, int n, int k, const float *a, size_t lda, const float *packed,
              const float *bias, float *c, size_t ldc, int act) {
    int panels = (n + GEMM_NR - 1) / GEMM_NR;
    size_t panel_floats = (size_t)k * GEMM_NR;
    int pb = (int)(PANEL_BLOCK_BYTES / (panel_floats * sizeof(float)));
    if (pb < 1) pb = 1;
    float biasbuf[GEMM_NR];
    for (int p0 = 0; p0 < panels; p0 += pb) {
        int p1 = p0 + pb < panels ? p0 + pb : panels;
        for (int m = m0; m < m1; m += GEMM_MR) {
            int mr = m1 - m < GEMM_MR ? m1 - m : GEMM_MR;
            const float *ar[GEMM_MR];
            float *cr[GEMM_MR];
            for (int r = 0; r < GEMM_MR; r++) {
                int rr = r < mr ? r : mr - 1; /* surplus rows recompute the last one, never stored */
                ar[r] = a + (size_t)(m + rr) * lda;
                cr[r] = c + (size_t)(m + rr) * ldc;
            }
            for (int p = p0; p < p1; p++) {
                int col = p * GEMM_NR, nr = n - col < GEMM_NR ? n - col : GEMM_NR;
                const float *bi = NULL;
                if (bias) {
                    if (nr == GEMM_NR) bi = bias + col;
                    else {
                        memset(biasbuf, 0, sizeof biasbuf);
                        memcpy(biasbuf, bias + col, (size_t)nr * sizeof(float));
                        bi = biasbuf;
                    }
                }
                float *cp[GEMM_MR];
                for (int r = 0; r < GEMM_MR; r++) cp[r] = cr[r] + col;
                micro_kernel(mr, k, ar, packed + (size_t)p * panel_floats, bi, cp, nr, act);
            }
        }
    }
}
