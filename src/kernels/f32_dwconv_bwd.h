/* f32_dwconv_bwd.h — the depthwise convolution's gradients, NHWC, vectorised across channels
 * (the forward: f32_dwconv.h; weights [KH,KW,C]). Both ACCUMULATE (+=).
 *   input gradient  dx[n, iy, ix, c] += sum over the taps (ky, kx) whose output pixel
 *                   oy = (iy + pt - ky) / sh, ox = (ix + pl - kx) / sw exists (divides, in range)
 *                   of dz[n, oy, ox, c] * w[ky, kx, c]
 *                   — a gather per input pixel (no scattered writes: rows split between threads freely)
 *   weight gradient dw[ky, kx, c] += sum_{n, oy, ox} x[n, oy*sh - pt + ky, ox*sw - pl + kx, c] * dz[n, oy, ox, c]
 *                   db[c] += sum dz[n, oy, ox, c] (db may be NULL)
 *                   — per output row and tap, 4-vector channel blocks accumulate in registers over the
 *                   row's pixels and are added to dw once per row. */
#ifndef SIALO_F32_DWCONV_BWD_H
#define SIALO_F32_DWCONV_BWD_H

const char *f32_dwconv_bwd_kernel_name(void);
#define F32_DWCONV_BWD_MAX_TAPS 64 /* kh * kw at most */
/* input rows [r0, r1) of the flattened (n, iy) range */
void f32_dwconv_dx(const float *dz, int oh, int ow, int c, const float *wt, int kh, int kw, int sh, int sw, int pt, int pl,
                   float *dx, int h, int w, int r0, int r1);
/* output rows [r0, r1) of the flattened (n, oy) range */
void f32_dwconv_dw(const float *x, int h, int w, int c, const float *dz, int oh, int ow, int kh, int kw, int sh, int sw,
                   int pt, int pl, float *dw, float *db, int r0, int r1);

#endif
