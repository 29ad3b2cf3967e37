/* f32_adam.c — the AdamW update (see f32_adam.h). */
#include "kernels/f32_adam.h"
#include "kernels/vec.h"

#include <math.h>

void f32_adamw(float *w, const float *g, float *m, float *v, size_t n, const f32_adam_params *p) {
    const vf b1 = vsplat(p->b1), a1 = vsplat(1.0f - p->b1), b2 = vsplat(p->b2), a2 = vsplat(1.0f - p->b2);
    const vf c1 = vsplat(p->c1), c2 = vsplat(p->c2), eps = vsplat(p->eps), lr = vsplat(p->lr), decay = vsplat(p->decay);
    size_t i = 0;
    for (; i + SIALO_VW <= n; i += SIALO_VW) {
        vf gi = vload(g + i), wi = vload(w + i);
        vf mi = b1 * vload(m + i) + a1 * gi, vi_ = b2 * vload(v + i) + a2 * (gi * gi);
        vstore(m + i, mi);
        vstore(v + i, vi_);
        vstore(w + i, wi - lr * ((mi * c1) / (vsqrt(vi_ * c2) + eps) + decay * wi));
    }
    for (; i < n; i++) {
        float gi = g[i], wi = w[i];
        float mi = p->b1 * m[i] + (1.0f - p->b1) * gi, vv = p->b2 * v[i] + (1.0f - p->b2) * (gi * gi);
        m[i] = mi;
        v[i] = vv;
        w[i] = wi - p->lr * ((mi * p->c1) / (__builtin_sqrtf(vv * p->c2) + p->eps) + p->decay * wi);
    }
}

void f32_adamw_ref(float *w, const float *g, float *m, float *v, size_t n, const f32_adam_params *p) {
    for (size_t i = 0; i < n; i++) {
        double mi = (double)p->b1 * m[i] + (1.0 - p->b1) * g[i], vv = (double)p->b2 * v[i] + (1.0 - p->b2) * (double)g[i] * g[i];
        m[i] = (float)mi;
        v[i] = (float)vv;
        w[i] = (float)(w[i] - p->lr * ((mi * p->c1) / (sqrt(vv * p->c2) + p->eps) + (double)p->decay * w[i]));
    }
}
