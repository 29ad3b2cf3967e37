/* pool.c — max / average pooling over a window, and global average pooling.
 *   x: [N,H,W,C] -> y: [N,OH,OW,C]; padding cells never win a max and are not counted in a mean
 *   (TensorFlow 'SAME' semantics). GAP: y[n,0,0,c] = mean over H,W. */
#include "ops/ops.h"
#include "kernels/vec.h"

#include <float.h>
#include <string.h>

void maxpool_forward_ref(const conv_params *p, const float *x, shape4 xs, float *y, shape4 ys) {
    for (int n = 0; n < ys.n; n++)
        for (int oy = 0; oy < ys.h; oy++)
            for (int ox = 0; ox < ys.w; ox++)
                for (int c = 0; c < ys.c; c++) {
                    float m = -FLT_MAX;
                    for (int ky = 0; ky < p->kh; ky++)
                        for (int kx = 0; kx < p->kw; kx++) {
                            int iy = oy * p->sh - p->pt + ky, ix = ox * p->sw - p->pl + kx;
                            if (iy < 0 || iy >= xs.h || ix < 0 || ix >= xs.w) continue;
                            float v = x[(((size_t)n * xs.h + iy) * xs.w + ix) * xs.c + c];
                            if (v > m) m = v;
                        }
                    y[(((size_t)n * ys.h + oy) * ys.w + ox) * ys.c + c] = m;
                }
}

void avgpool_forward_ref(const conv_params *p, const float *x, shape4 xs, float *y, shape4 ys) {
    for (int n = 0; n < ys.n; n++)
        for (int oy = 0; oy < ys.h; oy++)
            for (int ox = 0; ox < ys.w; ox++)
                for (int c = 0; c < ys.c; c++) {
                    double s = 0;
                    int cnt = 0;
                    for (int ky = 0; ky < p->kh; ky++)
                        for (int kx = 0; kx < p->kw; kx++) {
                            int iy = oy * p->sh - p->pt + ky, ix = ox * p->sw - p->pl + kx;
                            if (iy < 0 || iy >= xs.h || ix < 0 || ix >= xs.w) continue;
                            s += x[(((size_t)n * xs.h + iy) * xs.w + ix) * xs.c + c];
                            cnt++;
                        }
                    y[(((size_t)n * ys.h + oy) * ys.w + ox) * ys.c + c] = cnt ? (float)(s / cnt) : 0.0f;
                }
}

/* fast forms: per output pixel, channel vectors over the valid part of the window */
static void pool_fast(int is_max, const conv_params *p, const float *x, shape4 xs, float *y, shape4 ys, int part, int nparts) {
    int rows = ys.n * ys.h;
    int r0 = (int)((long long)rows * part / nparts), r1 = (int)((long long)rows * (part + 1) / nparts);
    const int V = SIALO_VW, C = xs.c;
    for (int r = r0; r < r1; r++) {
        int n = r / ys.h, oy = r % ys.h;
        int iy0 = oy * p->sh - p->pt;
        int ky0 = iy0 < 0 ? -iy0 : 0, ky1 = xs.h - iy0 < p->kh ? xs.h - iy0 : p->kh;
        for (int ox = 0; ox < ys.w; ox++) {
            int ix0 = ox * p->sw - p->pl;
            int kx0 = ix0 < 0 ? -ix0 : 0, kx1 = xs.w - ix0 < p->kw ? xs.w - ix0 : p->kw;
            float inv = 1.0f / (float)((ky1 - ky0) * (kx1 - kx0));
            float *yp = y + (((size_t)n * ys.h + oy) * ys.w + ox) * C;
            int c = 0;
            for (; c + V <= C; c += V) {
                vf acc = vsplat(is_max ? -FLT_MAX : 0.0f);
                for (int ky = ky0; ky < ky1; ky++)
                    for (int kx = kx0; kx < kx1; kx++) {
                        vf v = vload(x + (((size_t)n * xs.h + iy0 + ky) * xs.w + ix0 + kx) * C + c);
                        acc = is_max ? vmax(acc, v) : acc + v;
                    }
                vstore(yp + c, is_max ? acc : acc * inv);
            }
            for (; c < C; c++) {
                float acc = is_max ? -FLT_MAX : 0.0f;
                for (int ky = ky0; ky < ky1; ky++)
                    for (int kx = kx0; kx < kx1; kx++) {
                        float v = x[(((size_t)n * xs.h + iy0 + ky) * xs.w + ix0 + kx) * C + c];
                        acc = is_max ? (v > acc ? v : acc) : acc + v;
                    }
                yp[c] = is_max ? acc : acc * inv;
            }
        }
    }
}

void maxpool_forward(const conv_params *p, const float *x, shape4 xs, float *y, shape4 ys, int part, int nparts) {
    pool_fast(1, p, x, xs, y, ys, part, nparts);
}
void avgpool_forward(const conv_params *p, const float *x, shape4 xs, float *y, shape4 ys, int part, int nparts) {
    pool_fast(0, p, x, xs, y, ys, part, nparts);
}

void gap_forward_ref(const float *x, shape4 xs, float *y) {
    for (int n = 0; n < xs.n; n++)
        for (int c = 0; c < xs.c; c++) {
            double s = 0;
            for (int i = 0; i < xs.h * xs.w; i++) s += x[((size_t)n * xs.h * xs.w + i) * xs.c + c];
            y[(size_t)n * xs.c + c] = (float)(s / (xs.h * xs.w));
        }
}

void gap_forward(const float *x, shape4 xs, float *y) {
    size_t hw = (size_t)xs.h * xs.w;
    float inv = 1.0f / (float)hw;
    for (int n = 0; n < xs.n; n++) {
        float *yn = y + (size_t)n * xs.c;
        memset(yn, 0, (size_t)xs.c * sizeof(float));
        for (size_t i = 0; i < hw; i++) {
            const float *xr = x + ((size_t)n * hw + i) * xs.c;
            for (int c = 0; c < xs.c; c++) yn[c] += xr[c];
        }
        for (int c = 0; c < xs.c; c++) yn[c] *= inv;
    }
}

/* ------------------------------------------------------------------ backward */
/* the gradient goes to the first maximum of each window (as TensorFlow does) */
void maxpool_backward(const conv_params *p, const float *x, shape4 xs, const float *dy, shape4 ys, float *dx) {
    for (int n = 0; n < ys.n; n++)
        for (int oy = 0; oy < ys.h; oy++)
            for (int ox = 0; ox < ys.w; ox++)
                for (int c = 0; c < ys.c; c++) {
                    float m = -FLT_MAX;
                    size_t arg = (size_t)-1;
                    for (int ky = 0; ky < p->kh; ky++)
                        for (int kx = 0; kx < p->kw; kx++) {
                            int iy = oy * p->sh - p->pt + ky, ix = ox * p->sw - p->pl + kx;
                            if (iy < 0 || iy >= xs.h || ix < 0 || ix >= xs.w) continue;
                            size_t idx = (((size_t)n * xs.h + iy) * xs.w + ix) * xs.c + c;
                            if (x[idx] > m) { m = x[idx]; arg = idx; }
                        }
                    if (arg != (size_t)-1) dx[arg] += dy[(((size_t)n * ys.h + oy) * ys.w + ox) * ys.c + c];
                }
}

void avgpool_backward(const conv_params *p, shape4 xs, const float *dy, shape4 ys, float *dx) {
    for (int n = 0; n < ys.n; n++)
        for (int oy = 0; oy < ys.h; oy++)
            for (int ox = 0; ox < ys.w; ox++) {
                int iy0 = oy * p->sh - p->pt, ix0 = ox * p->sw - p->pl;
                int ky0 = iy0 < 0 ? -iy0 : 0, ky1 = xs.h - iy0 < p->kh ? xs.h - iy0 : p->kh;
                int kx0 = ix0 < 0 ? -ix0 : 0, kx1 = xs.w - ix0 < p->kw ? xs.w - ix0 : p->kw;
                float inv = 1.0f / (float)((ky1 - ky0) * (kx1 - kx0));
                const float *d = dy + (((size_t)n * ys.h + oy) * ys.w + ox) * ys.c;
                for (int ky = ky0; ky < ky1; ky++)
                    for (int kx = kx0; kx < kx1; kx++) {
                        float *t = dx + (((size_t)n * xs.h + iy0 + ky) * xs.w + ix0 + kx) * xs.c;
                        for (int c = 0; c < xs.c; c++) t[c] += d[c] * inv;
                    }
            }
}

void gap_backward(shape4 xs, const float *dy, float *dx) {
    size_t hw = (size_t)xs.h * xs.w;
    float inv = 1.0f / (float)hw;
    for (int n = 0; n < xs.n; n++)
        for (size_t i = 0; i < hw; i++) {
            float *t = dx + ((size_t)n * hw + i) * xs.c;
            const float *d = dy + (size_t)n * xs.c;
            for (int c = 0; c < xs.c; c++) t[c] += d[c] * inv;
        }
}
