/* conv.c — 2-D convolution, NHWC: reference, weight packing, and the fast path.
 *   x: [N,H,W,Cin]  w: [KH,KW,Cin/G,Cout]  b: [Cout]  y: [N,OH,OW,Cout]
 *   y[n,oy,ox,g*Cg_out+o] = act(b + sum_{ky,kx,i} x[n, oy*sh-pt+ky, ox*sw-pl+kx, g*Cg_in+i] * w[ky,kx,i,g*Cg_out+o])
 * Fast path: depthwise -> f32_dwconv; 1x1/stride 1/no pad -> GEMM straight on the input;
 * otherwise im2col of a block of output pixels into scratch, then GEMM against packed weights. */
#include "ops/ops.h"
#include "kernels/f32_dwconv.h"
#include "kernels/f32_dwconv_bwd.h"
#include "kernels/f32_gemm.h"
#include "kernels/f32_gemm_bwd.h"
#include "kernels/vec.h"

#include <stdlib.h>
#include <string.h>

void conv_forward_ref(const conv_params *p, const float *x, shape4 xs, const float *w, const float *b,
                      float *y, shape4 ys) {
    int cg_in = p->cin / p->groups, cg_out = p->cout / p->groups;
    for (int n = 0; n < ys.n; n++)
        for (int oy = 0; oy < ys.h; oy++)
            for (int ox = 0; ox < ys.w; ox++)
                for (int oc = 0; oc < p->cout; oc++) {
                    int g = oc / cg_out;
                    double acc = b ? b[oc] : 0.0;
                    for (int ky = 0; ky < p->kh; ky++) {
                        int iy = oy * p->sh - p->pt + ky;
                        if (iy < 0 || iy >= xs.h) continue;
                        for (int kx = 0; kx < p->kw; kx++) {
                            int ix = ox * p->sw - p->pl + kx;
                            if (ix < 0 || ix >= xs.w) continue;
                            for (int i = 0; i < cg_in; i++)
                                acc += (double)x[(((size_t)n * xs.h + iy) * xs.w + ix) * xs.c + g * cg_in + i] *
                                       w[(((size_t)ky * p->kw + kx) * cg_in + i) * p->cout + oc];
                        }
                    }
                    float v = (float)acc;
                    y[(((size_t)n * ys.h + oy) * ys.w + ox) * ys.c + oc] = sact(v, p->act);
                }
}

int conv_pack(const conv_params *p, const float *w, const float *b, conv_packed *out) {
    memset(out, 0, sizeof *out);
    int cg_in = p->cin / p->groups, cg_out = p->cout / p->groups;
    out->bias = calloc((size_t)p->cout + GEMM_NR_MAX, sizeof(float));
    if (!out->bias) return -1;
    if (b) memcpy(out->bias, b, (size_t)p->cout * sizeof(float));
    if (p->groups == p->cin && p->cout == p->cin && p->groups > 1) {
        out->kind = CONV_DEPTHWISE;
        size_t n = (size_t)p->kh * p->kw * p->cin;
        out->packed = malloc(n * sizeof(float));
        if (!out->packed) return -1;
        memcpy(out->packed, w, n * sizeof(float)); /* [KH,KW,1,C] is already [KH*KW][C] */
        return 0;
    }
    out->kind = (p->kh == 1 && p->kw == 1 && p->sh == 1 && p->sw == 1 && p->groups == 1 &&
                 !p->pt && !p->pb && !p->pl && !p->pr) ? CONV_GEMM_DIRECT : CONV_GEMM_IM2COL;
    out->k = p->kh * p->kw * cg_in;
    out->group_stride = f32_gemm_packed_size(out->k, cg_out);
    out->packed = malloc(out->group_stride * (size_t)p->groups * sizeof(float) + 64);
    if (!out->packed) return -1;
    for (int g = 0; g < p->groups; g++)
        f32_gemm_pack(out->k, cg_out, w + (size_t)g * cg_out, p->cout, out->packed + (size_t)g * out->group_stride);
    return 0;
}

void conv_packed_free(conv_packed *pk) {
    free(pk->packed);
    free(pk->bias);
    memset(pk, 0, sizeof *pk);
}

#define IM2COL_ROWS 96 /* output pixels per im2col block (a multiple of every GEMM_MR) */

size_t conv_scratch_floats(const conv_params *p, const conv_packed *pk) {
    if (pk->kind != CONV_GEMM_IM2COL) return 0;
    size_t s = (size_t)IM2COL_ROWS * pk->k;
    if (p->groups > 1) s += (size_t)IM2COL_ROWS * (p->cout / p->groups); /* per-group output tile */
    return s;
}

/* im2col: rows [r0, r0+rows) of the output pixels (n, oy, ox) of group g; columns in (ky, kx, i)
   order like the weights; taps in the padding are zeros. cols: rows x (kh*kw*cin/groups) */
static void im2col(const conv_params *p, const float *x, shape4 xs, shape4 ys, int r0, int rows, int g, float *cols) {
    int cg_in = p->cin / p->groups;
    for (int r = 0; r < rows; r++) {
        int idx = r0 + r, n = idx / (ys.h * ys.w), rem = idx % (ys.h * ys.w);
        int oy = rem / ys.w, ox = rem % ys.w;
        float *dst = cols + (size_t)r * p->kh * p->kw * cg_in;
        for (int ky = 0; ky < p->kh; ky++) {
            int iy = oy * p->sh - p->pt + ky;
            if (cg_in < 8) { /* a stem (3 channels): a call to memcpy per 12 bytes would cost more than the copy */
                for (int kx = 0; kx < p->kw; kx++, dst += cg_in) {
                    int ix = ox * p->sw - p->pl + kx;
                    if (iy < 0 || iy >= xs.h || ix < 0 || ix >= xs.w) {
                        for (int i = 0; i < cg_in; i++) dst[i] = 0.0f;
                    } else {
                        const float *src = x + (((size_t)n * xs.h + iy) * xs.w + ix) * xs.c + (size_t)g * cg_in;
                        if (cg_in == 3) { dst[0] = src[0]; dst[1] = src[1]; dst[2] = src[2]; } /* RGB: no loop to turn into memcpy */
                        else for (int i = 0; i < cg_in; i++) dst[i] = src[i];
                    }
                }
                continue;
            }
            for (int kx = 0; kx < p->kw; kx++, dst += cg_in) {
                int ix = ox * p->sw - p->pl + kx;
                if (iy < 0 || iy >= xs.h || ix < 0 || ix >= xs.w) memset(dst, 0, (size_t)cg_in * sizeof(float));
                else memcpy(dst, x + (((size_t)n * xs.h + iy) * xs.w + ix) * xs.c + (size_t)g * cg_in, (size_t)cg_in * sizeof(float));
            }
        }
    }
}

static void split(int total, int part, int nparts, int *lo, int *hi) {
    *lo = (int)((long long)total * part / nparts);
    *hi = (int)((long long)total * (part + 1) / nparts);
}

void conv_forward(const conv_params *p, const conv_packed *pk, const float *x, shape4 xs, float *y,
                  shape4 ys, float *scratch, int part, int nparts) {
    if (pk->kind == CONV_DEPTHWISE) {
        int r0, r1;
        split(ys.n * ys.h, part, nparts, &r0, &r1);
        f32_dwconv(x, xs.h, xs.w, xs.c, pk->packed, pk->bias, p->kh, p->kw, p->sh, p->sw, p->pt, p->pl,
                   y, ys.h, ys.w, p->act, r0, r1);
        return;
    }
    int m = ys.n * ys.h * ys.w, m0, m1;
    split(m, part, nparts, &m0, &m1);
    if (pk->kind == CONV_GEMM_DIRECT) {
        f32_gemm(m0, m1, p->cout, pk->k, x, (size_t)xs.c, pk->packed, pk->bias, y, (size_t)ys.c, p->act);
        return;
    }
    int cg_out = p->cout / p->groups, k = pk->k;
    float *cols = scratch, *tile = scratch + (size_t)IM2COL_ROWS * k;
    for (int r0 = m0; r0 < m1; r0 += IM2COL_ROWS) {
        int rows = m1 - r0 < IM2COL_ROWS ? m1 - r0 : IM2COL_ROWS;
        for (int g = 0; g < p->groups; g++) {
            im2col(p, x, xs, ys, r0, rows, g, cols);
            const float *pw = pk->packed + (size_t)g * pk->group_stride;
            if (p->groups == 1) {
                f32_gemm(0, rows, cg_out, k, cols, (size_t)k, pw, pk->bias, y + (size_t)r0 * ys.c, (size_t)ys.c, p->act);
            } else {
                f32_gemm(0, rows, cg_out, k, cols, (size_t)k, pw, pk->bias + (size_t)g * cg_out, tile, (size_t)cg_out, p->act);
                for (int r = 0; r < rows; r++)
                    memcpy(y + (size_t)(r0 + r) * ys.c + (size_t)g * cg_out, tile + (size_t)r * cg_out, (size_t)cg_out * sizeof(float));
            }
        }
    }
}

/* ------------------------------------------------------------------ backward
 * dw[ky,kx,i,o] += x[n, oy*sh-pt+ky, ox*sw-pl+kx, g*Cgi+i] * dz[n,oy,ox,o]
 * dx[n, iy, ix, g*Cgi+i] += sum_o w[ky,kx,i,o] * dz[n,oy,ox,o]
 * db[o] += dz[n,oy,ox,o]
 * Vectorised over output channels (or over channels for depthwise). */
static inline float dot_v(const float *a, const float *b, int n) {
    vf acc = vsplat(0.0f);
    int i = 0;
    for (; i + SIALO_VW <= n; i += SIALO_VW) acc += vload(a + i) * vload(b + i);
    float s = 0;
    for (int k = 0; k < SIALO_VW; k++) s += acc[k];
    for (; i < n; i++) s += a[i] * b[i];
    return s;
}
static inline void axpy_v(float a, const float *x, float *y, int n) {
    int i = 0;
    vf va = vsplat(a);
    for (; i + SIALO_VW <= n; i += SIALO_VW) vstore(y + i, vload(y + i) + va * vload(x + i));
    for (; i < n; i++) y[i] += a * x[i];
}
static inline void fma_v(const float *a, const float *b, float *y, int n) { /* y += a * b */
    int i = 0;
    for (; i + SIALO_VW <= n; i += SIALO_VW) vstore(y + i, vload(y + i) + vload(a + i) * vload(b + i));
    for (; i < n; i++) y[i] += a[i] * b[i];
}

/* One group (every convolution but depthwise / grouped ones): two GEMMs over the P output pixels
 * of the im2col matrix X (P x K, K = kh*kw*cin; for a 1x1 / stride 1 / unpadded conv X is x), on
 * the packed panels of the forward's micro-kernel, accumulating (f32_gemm_bwd.h):
 *   dX[P,K]  += dz[P,Cout] . w^T[Cout,K]   (w^T packed straight from w; col2im scatters dX back to
 *                                            its taps, a 1x1 conv's dX is dx itself)
 *   dw[K,Cout] += X^T[K,P] . dz[P,Cout]    (X read as stored, dz packed into panels)            */
static int conv_backward_gemm(const conv_params *p, const float *x, shape4 xs, const float *w, const float *dz, shape4 ys,
                              float *dx, float *dw) {
    int ci = p->cin, co = p->cout, K = p->kh * p->kw * ci, P = ys.n * ys.h * ys.w;
    int direct = p->kh == 1 && p->kw == 1 && p->sh == 1 && p->sw == 1 && !p->pt && !p->pb && !p->pl && !p->pr;
    size_t pk_n = f32_gemm_packed_size(co, K) > f32_gemm_packed_size(P, co) ? f32_gemm_packed_size(co, K) : f32_gemm_packed_size(P, co);
    float *pk = malloc(pk_n * sizeof(float));
    float *cols = direct ? NULL : malloc((size_t)P * K * sizeof(float));
    float *tmp = !direct && dx ? calloc((size_t)P * K, sizeof(float)) : NULL;
    if (!pk || (!direct && !cols) || (!direct && dx && !tmp)) { free(pk); free(cols); free(tmp); return -1; }
    const float *X = direct ? x : cols;
    if (!direct) im2col(p, x, xs, ys, 0, P, 0, cols);
    if (dx) {
        f32_gemm_pack_t(co, K, w, co, pk);
        if (direct) f32_gemm_acc(0, P, K, co, dz, (size_t)co, pk, dx, (size_t)ci);
        else { /* col2im */
            f32_gemm_acc(0, P, K, co, dz, (size_t)co, pk, tmp, (size_t)K);
            for (int q = 0; q < P; q++) {
                int n = q / (ys.h * ys.w), rem = q % (ys.h * ys.w), oy = rem / ys.w, ox = rem % ys.w;
                const float *src = tmp + (size_t)q * K;
                for (int ky = 0; ky < p->kh; ky++) {
                    int iy = oy * p->sh - p->pt + ky;
                    for (int kx = 0; kx < p->kw; kx++, src += ci) {
                        int ix = ox * p->sw - p->pl + kx;
                        if (iy >= 0 && iy < xs.h && ix >= 0 && ix < xs.w) add_to(dx + (((size_t)n * xs.h + iy) * xs.w + ix) * xs.c, src, (size_t)ci);
                    }
                }
            }
        }
    }
    if (dw) {
        f32_gemm_pack(P, co, dz, co, pk);
        f32_gemm_tn_acc(0, K, co, P, X, (size_t)K, pk, dw, (size_t)co);
    }
    free(pk); free(cols); free(tmp);
    return 0;
}

void conv_backward(const conv_params *p, const float *x, shape4 xs, const float *w, const float *dz, shape4 ys,
                   float *dx, float *dw, float *db) {
    int cgi = p->cin / p->groups, cgo = p->cout / p->groups;
    /* the GEMMs win for 1x1 convolutions and short im2col rows (a stem); for long rows the transposes
       and the streaming of a P-deep panel cost more than the vectorised loops below (measured) */
    int is_1x1 = p->kh == 1 && p->kw == 1 && p->sh == 1 && p->sw == 1 && !p->pt && !p->pb && !p->pl && !p->pr;
    if (p->groups == 1 && (is_1x1 || p->kh * p->kw * p->cin <= 128) &&
        conv_backward_gemm(p, x, xs, w, dz, ys, dx, dw) == 0) { /* else (out of memory): the loops below */
        if (db) for (int q = 0; q < ys.n * ys.h * ys.w; q++) add_to(db, dz + (size_t)q * p->cout, (size_t)p->cout);
        return;
    }
    int depthwise = p->groups > 1 && cgi == 1 && cgo == 1;
    if (depthwise && p->kh * p->kw <= F32_DWCONV_BWD_MAX_TAPS) {
        if (dw || db) f32_dwconv_dw(x, xs.h, xs.w, xs.c, dz, ys.h, ys.w, p->kh, p->kw, p->sh, p->sw, p->pt, p->pl, dw, db, 0, ys.n * ys.h);
        if (dx) f32_dwconv_dx(dz, ys.h, ys.w, ys.c, w, p->kh, p->kw, p->sh, p->sw, p->pt, p->pl, dx, xs.h, xs.w, 0, xs.n * xs.h);
        return;
    }
    for (int n = 0; n < ys.n; n++)
        for (int oy = 0; oy < ys.h; oy++)
            for (int ox = 0; ox < ys.w; ox++) {
                const float *d = dz + (((size_t)n * ys.h + oy) * ys.w + ox) * ys.c;
                if (db) add_to(db, d, (size_t)p->cout);
                for (int ky = 0; ky < p->kh; ky++) {
                    int iy = oy * p->sh - p->pt + ky;
                    if (iy < 0 || iy >= xs.h) continue;
                    for (int kx = 0; kx < p->kw; kx++) {
                        int ix = ox * p->sw - p->pl + kx;
                        if (ix < 0 || ix >= xs.w) continue;
                        size_t xo = (((size_t)n * xs.h + iy) * xs.w + ix) * xs.c;
                        const float *wk = w + ((size_t)ky * p->kw + kx) * cgi * p->cout;
                        float *dwk = dw ? dw + ((size_t)ky * p->kw + kx) * cgi * p->cout : NULL;
                        if (depthwise) {
                            if (dwk) fma_v(x + xo, d, dwk, p->cout);
                            if (dx) fma_v(wk, d, dx + xo, p->cout);
                            continue;
                        }
                        for (int g = 0; g < p->groups; g++)
                            for (int i = 0; i < cgi; i++) {
                                const float *wr = wk + (size_t)i * p->cout + (size_t)g * cgo;
                                const float *dg = d + (size_t)g * cgo;
                                if (dwk) axpy_v(x[xo + (size_t)g * cgi + i], dg, dwk + (size_t)i * p->cout + (size_t)g * cgo, cgo);
                                if (dx) dx[xo + (size_t)g * cgi + i] += dot_v(wr, dg, cgo);
                            }
                    }
                }
            }
}

void add_to(float *dst, const float *src, size_t n) {
    size_t i = 0;
    for (; i + SIALO_VW <= n; i += SIALO_VW) vstore(dst + i, vload(dst + i) + vload(src + i));
    for (; i < n; i++) dst[i] += src[i];
}
