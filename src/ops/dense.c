/* dense.c — fully connected layer.  x: [N, Cin]  w: [Cin, Cout]  b: [Cout]  y: [N, Cout]
 * The fast path is the packed GEMM (a dense layer is a 1x1 convolution on a 1x1 map). */
#include "ops.h"
#include "../kernels/f32_gemm.h"
#include "../kernels/vec.h"

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
