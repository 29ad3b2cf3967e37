/* f32_dwconv_bwd.c — depthwise convolution gradients (see f32_dwconv_bwd.h). */
#include "kernels/f32_dwconv_bwd.h"
#include "kernels/vec.h"

#include <stddef.h>

#define STR2(x) #x
#define STR(x) STR2(x)
const char *f32_dwconv_bwd_kernel_name(void) { return "f32_dwconv_bwd_c" STR(SIALO_VW) "x4_" SIALO_ISA; }

#define MAX_TAPS F32_DWCONV_BWD_MAX_TAPS

void f32_dwconv_dx(const float *dz, int oh, int ow, int c, const float *wt, int kh, int kw, int sh, int sw, int pt, int pl,
                   float *dx, int h, int w, int r0, int r1) {
    const int V = SIALO_VW;
    for (int r = r0; r < r1; r++) {
        int b = r / h, iy = r % h;
        const float *zb = dz + (size_t)b * oh * ow * c;
        float *xr = dx + (size_t)r * w * c;
        /* the kernel rows that reach this input row, and their output rows */
        int kys[MAX_TAPS], oys[MAX_TAPS], nky = 0;
        for (int ky = 0; ky < kh && nky < MAX_TAPS; ky++) {
            int t = iy + pt - ky;
            if (t < 0 || t % sh) continue;
            if (t / sh >= oh) continue;
            kys[nky] = ky; oys[nky] = t / sh; nky++;
        }
        for (int ix = 0; ix < w; ix++) {
            /* this pixel's taps: (dz offset, weight offset) */
            const float *zp[MAX_TAPS], *wp[MAX_TAPS];
            int nt = 0;
            for (int a = 0; a < nky; a++)
                for (int kx = 0; kx < kw && nt < MAX_TAPS; kx++) {
                    int t = ix + pl - kx;
                    if (t < 0 || t % sw || t / sw >= ow) continue;
                    zp[nt] = zb + ((size_t)oys[a] * ow + t / sw) * c;
                    wp[nt] = wt + ((size_t)kys[a] * kw + kx) * c;
                    nt++;
                }
            if (!nt) continue;
            float *xp = xr + (size_t)ix * c;
            int ch = 0;
            for (; ch + 4 * V <= c; ch += 4 * V) {
                vf a0 = vload(xp + ch), a1 = vload(xp + ch + V), a2 = vload(xp + ch + 2 * V), a3 = vload(xp + ch + 3 * V);
                for (int k = 0; k < nt; k++) {
                    const float *z = zp[k] + ch, *q = wp[k] + ch;
                    a0 = vfma(a0, vload(z), vload(q));
                    a1 = vfma(a1, vload(z + V), vload(q + V));
                    a2 = vfma(a2, vload(z + 2 * V), vload(q + 2 * V));
                    a3 = vfma(a3, vload(z + 3 * V), vload(q + 3 * V));
                }
                vstore(xp + ch, a0); vstore(xp + ch + V, a1); vstore(xp + ch + 2 * V, a2); vstore(xp + ch + 3 * V, a3);
            }
            for (; ch + V <= c; ch += V) {
                vf a0 = vload(xp + ch);
                for (int k = 0; k < nt; k++) a0 = vfma(a0, vload(zp[k] + ch), vload(wp[k] + ch));
                vstore(xp + ch, a0);
            }
            for (; ch < c; ch++) {
                float a0 = xp[ch];
                for (int k = 0; k < nt; k++) a0 += zp[k][ch] * wp[k][ch];
                xp[ch] = a0;
            }
        }
    }
}

void f32_dwconv_dw(const float *x, int h, int w, int c, const float *dz, int oh, int ow, int kh, int kw, int sh, int sw,
                   int pt, int pl, float *dw, float *db, int r0, int r1) {
    const int V = SIALO_VW;
    for (int r = r0; r < r1; r++) {
        int b = r / oh, oy = r % oh;
        const float *xb = x + (size_t)b * h * w * c, *zr = dz + (size_t)r * ow * c;
        if (db) {
            int ch = 0;
            for (; ch + 4 * V <= c; ch += 4 * V) {
                vf a0 = vload(db + ch), a1 = vload(db + ch + V), a2 = vload(db + ch + 2 * V), a3 = vload(db + ch + 3 * V);
                for (int ox = 0; ox < ow; ox++) {
                    const float *z = zr + (size_t)ox * c + ch;
                    a0 += vload(z); a1 += vload(z + V); a2 += vload(z + 2 * V); a3 += vload(z + 3 * V);
                }
                vstore(db + ch, a0); vstore(db + ch + V, a1); vstore(db + ch + 2 * V, a2); vstore(db + ch + 3 * V, a3);
            }
            for (; ch + V <= c; ch += V) {
                vf a0 = vload(db + ch);
                for (int ox = 0; ox < ow; ox++) a0 += vload(zr + (size_t)ox * c + ch);
                vstore(db + ch, a0);
            }
            for (; ch < c; ch++) {
                float a0 = db[ch];
                for (int ox = 0; ox < ow; ox++) a0 += zr[(size_t)ox * c + ch];
                db[ch] = a0;
            }
        }
        for (int ky = 0; dw && ky < kh; ky++) {
            int iy = oy * sh - pt + ky;
            if (iy < 0 || iy >= h) continue;
            const float *xrow = xb + (size_t)iy * w * c;
            for (int kx = 0; kx < kw; kx++) {
                /* output pixels whose tap kx lands inside the row: 0 <= ox*sw - pl + kx < w */
                int lo = pl - kx > 0 ? (pl - kx + sw - 1) / sw : 0;
                int hi = (w - 1 + pl - kx) >= 0 ? (w - 1 + pl - kx) / sw + 1 : 0;
                if (hi > ow) hi = ow;
                if (lo >= hi) continue;
                float *d = dw + ((size_t)ky * kw + kx) * c;
                const float *xs0 = xrow + ((ptrdiff_t)lo * sw - pl + kx) * c, *zs0 = zr + (size_t)lo * c;
                const size_t xstep = (size_t)sw * c;
                int ch = 0;
                for (; ch + 4 * V <= c; ch += 4 * V) {
                    vf a0 = vload(d + ch), a1 = vload(d + ch + V), a2 = vload(d + ch + 2 * V), a3 = vload(d + ch + 3 * V);
                    const float *xp = xs0 + ch, *zp = zs0 + ch;
                    for (int ox = lo; ox < hi; ox++, xp += xstep, zp += c) {
                        a0 = vfma(a0, vload(xp), vload(zp));
                        a1 = vfma(a1, vload(xp + V), vload(zp + V));
                        a2 = vfma(a2, vload(xp + 2 * V), vload(zp + 2 * V));
                        a3 = vfma(a3, vload(xp + 3 * V), vload(zp + 3 * V));
                    }
                    vstore(d + ch, a0); vstore(d + ch + V, a1); vstore(d + ch + 2 * V, a2); vstore(d + ch + 3 * V, a3);
                }
                for (; ch + V <= c; ch += V) {
                    vf a0 = vload(d + ch);
                    const float *xp = xs0 + ch, *zp = zs0 + ch;
                    for (int ox = lo; ox < hi; ox++, xp += xstep, zp += c) a0 = vfma(a0, vload(xp), vload(zp));
                    vstore(d + ch, a0);
                }
                for (; ch < c; ch++) {
                    float a0 = d[ch];
                    const float *xp = xs0 + ch, *zp = zs0 + ch;
                    for (int ox = lo; ox < hi; ox++, xp += xstep, zp += c) a0 += *xp * *zp;
                    d[ch] = a0;
                }
            }
        }
    }
}
