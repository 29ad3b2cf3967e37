/* eltwise.c — element-wise and per-channel layers: add, affine (inference batch norm),
 * relu / relu6, zero padding, sigmoid, softmax. */
#include "ops/ops.h"
#include "kernels/vec.h"

#include <math.h>
#include <string.h>

void add_forward_ref(const float *a, const float *b, size_t n, int act, float *y) {
    for (size_t i = 0; i < n; i++) y[i] = sact(a[i] + b[i], act);
}

void add_forward(const float *a, const float *b, size_t n, int act, float *y) {
    size_t i = 0;
    for (; i + SIALO_VW <= n; i += SIALO_VW) vstore(y + i, vact(vload(a + i) + vload(b + i), act));
    for (; i < n; i++) y[i] = sact(a[i] + b[i], act);
}

void affine_forward_ref(const float *x, size_t rows, int c, const float *scale, const float *shift, int act, float *y) {
    for (size_t r = 0; r < rows; r++)
        for (int k = 0; k < c; k++) y[r * c + k] = sact(x[r * c + k] * scale[k] + shift[k], act);
}

void affine_forward(const float *x, size_t rows, int c, const float *scale, const float *shift, int act, float *y) {
    for (size_t r = 0; r < rows; r++) {
        const float *xr = x + r * c;
        float *yr = y + r * c;
        int k = 0;
        for (; k + SIALO_VW <= c; k += SIALO_VW)
            vstore(yr + k, vact(vload(xr + k) * vload(scale + k) + vload(shift + k), act));
        for (; k < c; k++) yr[k] = sact(xr[k] * scale[k] + shift[k], act);
    }
}

void act_forward_ref(const float *x, size_t n, int act, float *y) {
    for (size_t i = 0; i < n; i++) y[i] = sact(x[i], act);
}

void act_forward(const float *x, size_t n, int act, float *y) {
    size_t i = 0;
    for (; i + SIALO_VW <= n; i += SIALO_VW) vstore(y + i, vact(vload(x + i), act));
    for (; i < n; i++) y[i] = sact(x[i], act);
}

/* x: [N,H,W,C] -> y: [N,H+pt+pb,W+pl+pr,C], zeros around */
void pad_forward(const float *x, shape4 xs, int pt, int pb, int pl, int pr, float *y) {
    int oh = xs.h + pt + pb, ow = xs.w + pl + pr;
    memset(y, 0, (size_t)xs.n * oh * ow * xs.c * sizeof(float));
    for (int n = 0; n < xs.n; n++)
        for (int iy = 0; iy < xs.h; iy++)
            memcpy(y + (((size_t)n * oh + iy + pt) * ow + pl) * xs.c, x + (((size_t)n * xs.h + iy) * xs.w) * xs.c,
                   (size_t)xs.w * xs.c * sizeof(float));
}

void sigmoid_forward(const float *x, size_t n, float *y) {
    for (size_t i = 0; i < n; i++) {
        float v = x[i];
        /* numerically stable for large |v| */
        y[i] = v >= 0 ? 1.0f / (1.0f + expf(-v)) : expf(v) / (1.0f + expf(v));
    }
}

void softmax_forward(const float *x, size_t rows, int c, float *y) {
    for (size_t r = 0; r < rows; r++) {
        const float *xr = x + r * c;
        float *yr = y + r * c, m = xr[0];
        for (int k = 1; k < c; k++) if (xr[k] > m) m = xr[k];
        double s = 0;
        for (int k = 0; k < c; k++) { yr[k] = expf(xr[k] - m); s += yr[k]; }
        for (int k = 0; k < c; k++) yr[k] = (float)(yr[k] / s);
    }
}

/* ------------------------------------------------------------------ backward */
void act_backward_ref(const float *y, const float *dy, size_t n, int act, float *dz) {
    if (act == 0) { if (dz != dy) memcpy(dz, dy, n * sizeof(float)); return; }
    for (size_t i = 0; i < n; i++) {
        int pass = y[i] > 0.0f && (act != 2 || y[i] < 6.0f);
        dz[i] = pass ? dy[i] : 0.0f;
    }
}

/* the activation's mask from y, applied to dy with a bitwise and (no branches) */
void act_backward(const float *y, const float *dy, size_t n, int act, float *dz) {
    if (act == 0) { if (dz != dy) memcpy(dz, dy, n * sizeof(float)); return; }
    size_t i = 0;
    const vf zero = vsplat(0.0f), six = vsplat(act == 2 ? 6.0f : __builtin_inff());
    for (; i + SIALO_VW <= n; i += SIALO_VW) {
        vf yv = vload(y + i);
        vi keep = (yv > zero) & (yv < six);
        vstore(dz + i, (vf)((vi)vload(dy + i) & keep));
    }
    for (; i < n; i++) {
        int pass = y[i] > 0.0f && (act != 2 || y[i] < 6.0f);
        dz[i] = pass ? dy[i] : 0.0f;
    }
}

/* y = x * scale + shift:  dx += dz * scale;  dscale += x * dz;  dshift += dz */
void affine_backward(const float *x, size_t rows, int c, const float *scale, const float *dz, float *dx, float *dscale, float *dshift) {
    for (size_t r = 0; r < rows; r++) {
        const float *d = dz + r * c, *xr = x + r * c;
        int k = 0;
        for (; k + SIALO_VW <= c; k += SIALO_VW) {
            vf dv = vload(d + k);
            if (dx) vstore(dx + r * c + k, vload(dx + r * c + k) + dv * vload(scale + k));
            if (dscale) vstore(dscale + k, vload(dscale + k) + vload(xr + k) * dv);
            if (dshift) vstore(dshift + k, vload(dshift + k) + dv);
        }
        for (; k < c; k++) {
            if (dx) dx[r * c + k] += d[k] * scale[k];
            if (dscale) dscale[k] += xr[k] * d[k];
            if (dshift) dshift[k] += d[k];
        }
    }
}

/* y is x with a zero border: dx += the interior of dy */
void pad_backward(shape4 xs, int pt, int pl, const float *dy, shape4 ys, float *dx) {
    for (int n = 0; n < xs.n; n++)
        for (int iy = 0; iy < xs.h; iy++)
            for (int ix = 0; ix < xs.w; ix++) {
                const float *s = dy + (((size_t)n * ys.h + iy + pt) * ys.w + ix + pl) * ys.c;
                float *t = dx + (((size_t)n * xs.h + iy) * xs.w + ix) * xs.c;
                for (int c = 0; c < xs.c; c++) t[c] += s[c];
            }
}
