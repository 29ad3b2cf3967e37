/* f32_dwconv.h — depthwise convolution, NHWC, vectorised across channels.
 *   y[n, oy, ox, c] = act(bias[c] + sum_{ky,kx} x[n, oy*sh - pt + ky, ox*sw - pl + kx, c] * w[ky, kx, c])
 * Taps that fall in the zero padding are skipped. Weights are used as stored ([KH,KW,C]). */
#ifndef SIALO_F32_DWCONV_H
#define SIALO_F32_DWCONV_H

const char *f32_dwconv_kernel_name(void);
/* output rows [r0, r1) of the flattened (n, oy) range */
void f32_dwconv(const float *x, int h, int w, int c, const float *wt, const float *bias,
                int kh, int kw, int sh, int sw, int pt, int pl, float *y, int oh, int ow, int act,
                int r0, int r1);

#endif
