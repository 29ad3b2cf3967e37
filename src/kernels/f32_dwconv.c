/* f32_dwconv.c — depthwise convolution micro-kernel (see f32_dwconv.h).
 * Per output pixel, channel blocks of 2 vectors accumulate in registers over the KHxKW taps. */
#include "kernels/f32_dwconv.h"
#include "kernels/vec.h"

#include <stddef.h>

#define STR2(x) #x
#define STR(x) STR2(x)
const char *f32_dwconv_kernel_name(void) { return "f32_dwconv_c" STR(SIALO_VW) "x2_" SIALO_ISA; }

void f32_dwconv(const float *x, int h, int w, int c, const float *wt, const float *bias,
                int kh, int kw, int sh, int sw, int pt, int pl, float *y, int oh, int ow, int act,
                int r0, int r1) {
    const int V = SIALO_VW;
    for (int r = r0; r < r1; r++) {
        int b = r / oh, oy = r % oh;
        const float *xb = x + (size_t)b * h * w * c;
        float *yr = y + (size_t)r * ow * c;
        int iy0 = oy * sh - pt;
        int ky0 = iy0 < 0 ? -iy0 : 0, ky1 = h - iy0 < kh ? h - iy0 : kh;
        for (int ox = 0; ox < ow; ox++) {
            int ix0 = ox * sw - pl;
            int kx0 = ix0 < 0 ? -ix0 : 0, kx1 = w - ix0 < kw ? w - ix0 : kw;
            float *yp = yr + (size_t)ox * c;
            int ch = 0;
            if (kh == 3 && kw == 3 && ky0 == 0 && ky1 == 3 && kx0 == 0 && kx1 == 3) {
                /* a 3x3 window fully inside the frame (most pixels): the 9 taps unrolled, their
                   addresses computed once per pixel */
                const float *r0 = xb + ((size_t)iy0 * w + ix0) * c, *r1 = r0 + (size_t)w * c, *r2 = r1 + (size_t)w * c;
                const size_t c2 = 2 * (size_t)c;
                for (; ch + 2 * V <= c; ch += 2 * V) {
                    const float *wk = wt + ch;
                    vf a0 = bias ? vload(bias + ch) : vsplat(0.0f), a1 = bias ? vload(bias + ch + V) : vsplat(0.0f);
#define TAP(row, dx, k)                                                                  \
    a0 = vfma(a0, vload(row + ch + (dx)), vload(wk + (size_t)(k) * c));                   \
    a1 = vfma(a1, vload(row + ch + (dx) + V), vload(wk + (size_t)(k) * c + V));
                    TAP(r0, 0, 0) TAP(r0, c, 1) TAP(r0, c2, 2)
                    TAP(r1, 0, 3) TAP(r1, c, 4) TAP(r1, c2, 5)
                    TAP(r2, 0, 6) TAP(r2, c, 7) TAP(r2, c2, 8)
#undef TAP
                    vstore(yp + ch, vact(a0, act));
                    vstore(yp + ch + V, vact(a1, act));
                }
            }
            for (; ch + 2 * V <= c; ch += 2 * V) {
                vf a0 = bias ? vload(bias + ch) : vsplat(0.0f), a1 = bias ? vload(bias + ch + V) : vsplat(0.0f);
                for (int ky = ky0; ky < ky1; ky++) {
                    const float *xr = xb + ((size_t)(iy0 + ky) * w + ix0) * c + ch;
                    const float *wr = wt + (size_t)ky * kw * c + ch;
                    for (int kx = kx0; kx < kx1; kx++) {
                        a0 = vfma(a0, vload(xr + (size_t)kx * c), vload(wr + (size_t)kx * c));
                        a1 = vfma(a1, vload(xr + (size_t)kx * c + V), vload(wr + (size_t)kx * c + V));
                    }
                }
                vstore(yp + ch, vact(a0, act));
                vstore(yp + ch + V, vact(a1, act));
            }
            for (; ch + V <= c; ch += V) {
                vf a0 = bias ? vload(bias + ch) : vsplat(0.0f);
                for (int ky = ky0; ky < ky1; ky++) {
                    const float *xr = xb + ((size_t)(iy0 + ky) * w + ix0) * c + ch;
                    const float *wr = wt + (size_t)ky * kw * c + ch;
                    for (int kx = kx0; kx < kx1; kx++) a0 = vfma(a0, vload(xr + (size_t)kx * c), vload(wr + (size_t)kx * c));
                }
                vstore(yp + ch, vact(a0, act));
            }
            for (; ch < c; ch++) {
                float a0 = bias ? bias[ch] : 0.0f;
                for (int ky = ky0; ky < ky1; ky++)
                    for (int kx = kx0; kx < kx1; kx++)
                        a0 += xb[((size_t)(iy0 + ky) * w + ix0 + kx) * c + ch] * wt[((size_t)ky * kw + kx) * c + ch];
                yp[ch] = sact(a0, act);
            }
        }
    }
}
