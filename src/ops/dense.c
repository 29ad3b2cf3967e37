/* dense.c — fully connected layer.  x: [N, Cin]  w: [Cin, Cout]  b: [Cout]  y: [N, Cout]
 * The fast path is the packed GEMM (a dense layer is a 1x1 convolution on a 1x1 map). */
#include "ops/ops.h"
#include "kernels/f32_gemm.h"
#include "kernels/vec.h"

#include <stdlib.h>
#include <string.h>

void dense_forward_ref(const float *x, int n, int cin, const float *w, const float *b, int cout, int act, float *y) {
    for (int i = 0; i < n; i++)
        for (int o = 0; o < cout; o++) {
            double acc = b ? b[o] : 0.0;
            for (int k = 0; k < cin; k++) acc += (double)x[(size_t)i * cin + k] * w[(size_t)k * cout + o];
            y[(size_t)i * cout + o] = sact((float)acc, act);
        }
}

int dense_pack(const float *w, const float *b, int cin, int cout, conv_packed *out) {
    conv_params p = {1, 1, 1, 1, 0, 0, 0, 0, 1, cin, cout, 0};
    return conv_pack(&p, w, b, out);
}

void dense_forward(const conv_packed *pk, const float *x, int n, int cin, int cout, int act, float *y, int part, int nparts) {
    int m0 = (int)((long long)n * part / nparts), m1 = (int)((long long)n * (part + 1) / nparts);
    f32_gemm(m0, m1, cout, cin, x, (size_t)cin, pk->packed, pk->bias, y, (size_t)cout, act);
}

/* backward: dw[k,o] += x[n,k] dz[n,o];  dx[n,k] += sum_o w[k,o] dz[n,o];  db[o] += dz[n,o] */
void dense_backward_ref(const float *x, int n, int cin, const float *w, const float *dz, int cout, float *dx, float *dw, float *db) {
    for (int i = 0; i < n; i++) {
        const float *d = dz + (size_t)i * cout;
        if (db) for (int o = 0; o < cout; o++) db[o] += d[o];
        for (int k = 0; k < cin; k++) {
            const float *wr = w + (size_t)k * cout;
            float xv = x[(size_t)i * cin + k];
            if (dw) { float *dwr = dw + (size_t)k * cout; for (int o = 0; o < cout; o++) dwr[o] += xv * d[o]; }
            if (dx) { float s = 0; for (int o = 0; o < cout; o++) s += wr[o] * d[o]; dx[(size_t)i * cin + k] += s; }
        }
    }
}

/* vectorised over the output channels, or over the input channels when there is one output (a
   binary head: dw += x d, dx += w d) */
void dense_backward(const float *x, int n, int cin, const float *w, const float *dz, int cout, float *dx, float *dw, float *db) {
    const int V = SIALO_VW;
    for (int i = 0; i < n; i++) {
        const float *d = dz + (size_t)i * cout, *xi = x + (size_t)i * cin;
        float *dxi = dx ? dx + (size_t)i * cin : NULL;
        if (db) for (int o = 0; o < cout; o++) db[o] += d[o];
        if (cout == 1) {
            vf dv = vsplat(d[0]);
            int k = 0;
            for (; k + V <= cin; k += V) {
                if (dw) vstore(dw + k, vload(dw + k) + vload(xi + k) * dv);
                if (dxi) vstore(dxi + k, vload(dxi + k) + vload(w + k) * dv);
            }
            for (; k < cin; k++) {
                if (dw) dw[k] += xi[k] * d[0];
                if (dxi) dxi[k] += w[k] * d[0];
            }
            continue;
        }
        for (int k = 0; k < cin; k++) {
            const float *wr = w + (size_t)k * cout;
            float *dwr = dw ? dw + (size_t)k * cout : NULL;
            vf xv = vsplat(xi[k]), acc = vsplat(0.0f);
            int o = 0;
            for (; o + V <= cout; o += V) {
                vf dv = vload(d + o);
                if (dwr) vstore(dwr + o, vload(dwr + o) + xv * dv);
                acc += vload(wr + o) * dv;
            }
            float s = 0;
            for (int j = 0; j < V; j++) s += acc[j];
            for (; o < cout; o++) {
                if (dwr) dwr[o] += xi[k] * d[o];
                s += wr[o] * d[o];
            }
            if (dxi) dxi[k] += s;
        }
    }
}
