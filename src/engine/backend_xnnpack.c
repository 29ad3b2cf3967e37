/* backend_xnnpack.c — conv and dense through Debian's libXNNPACK (2022 operator API), with its
 * own pthreadpool. Used natively as the reference to match and to race; not in the WASM build. */
#include "engine/backend_xnnpack.h"
#include "sialoscan.h"
#include "engine/graph.h"

#include <stdlib.h>
#include <string.h>

#ifdef SIALO_WITH_XNNPACK
#include <float.h>
#include <math.h>
#include <pthreadpool.h>
#include <xnnpack.h>

struct sialo_xnn_op {
    xnn_operator_t op;
    int is_conv;
    shape4 xs;
    int batch;
    const float *bound_x;
    float *bound_y;
};

static int initialised = 0;
static pthreadpool_t pool;
static int pool_threads;

int sialo_xnn_available(void) {
    if (!initialised) initialised = xnn_initialize(NULL) == xnn_status_success ? 1 : -1;
    return initialised == 1;
}

static void act_range(int act, float *lo, float *hi) {
    *lo = act ? 0.0f : -INFINITY;
    *hi = act == ACT_RELU6 ? 6.0f : INFINITY;
}

sialo_xnn_op *sialo_xnn_conv_create(const conv_params *p, const float *w, const float *b, shape4 xs) {
    if (!sialo_xnn_available()) return sialo_fail_null("XNNPACK failed to initialise");
    int gi = p->cin / p->groups, go = p->cout / p->groups;
    int depthwise = p->groups > 1 && gi == 1;
    size_t n = (size_t)p->kh * p->kw * gi * p->cout;
    float *k = malloc(n * sizeof *k);
    sialo_xnn_op *o = calloc(1, sizeof *o);
    if (!k || !o) { free(k); free(o); return sialo_fail_null("out of memory"); }
    if (depthwise) {
        memcpy(k, w, n * sizeof *k); /* [KH,KW,1,C] == XNNPACK's depthwise [1,KH,KW,C] */
    } else {
        /* ours [KH,KW,Gi,G*Go] -> XNNPACK [G,Go,KH,KW,Gi] */
        for (int g = 0; g < p->groups; g++)
            for (int oc = 0; oc < go; oc++)
                for (int ky = 0; ky < p->kh; ky++)
                    for (int kx = 0; kx < p->kw; kx++)
                        for (int i = 0; i < gi; i++)
                            k[((((size_t)g * go + oc) * p->kh + ky) * p->kw + kx) * gi + i] =
                                w[(((size_t)ky * p->kw + kx) * gi + i) * p->cout + (size_t)g * go + oc];
    }
    float lo, hi;
    act_range(p->act, &lo, &hi);
    enum xnn_status st = xnn_create_convolution2d_nhwc_f32(
        (uint32_t)p->pt, (uint32_t)p->pr, (uint32_t)p->pb, (uint32_t)p->pl, (uint32_t)p->kh, (uint32_t)p->kw,
        (uint32_t)p->sh, (uint32_t)p->sw, 1, 1, (uint32_t)p->groups, (size_t)gi, (size_t)go, (size_t)p->cin,
        (size_t)p->cout, k, b, lo, hi, depthwise ? XNN_FLAG_DEPTHWISE_CONVOLUTION : 0, &o->op);
    free(k);
    if (st != xnn_status_success) { free(o); return sialo_fail_null("XNNPACK refused a convolution (status %d)", (int)st); }
    o->is_conv = 1;
    o->xs = xs;
    return o;
}

sialo_xnn_op *sialo_xnn_dense_create(int cin, int cout, const float *w, const float *b, int act, int batch) {
    if (!sialo_xnn_available()) return sialo_fail_null("XNNPACK failed to initialise");
    sialo_xnn_op *o = calloc(1, sizeof *o);
    if (!o) return sialo_fail_null("out of memory");
    float lo, hi;
    act_range(act, &lo, &hi);
    enum xnn_status st = xnn_create_fully_connected_nc_f32((size_t)cin, (size_t)cout, (size_t)cin, (size_t)cout, w, b,
                                                           lo, hi, XNN_FLAG_TRANSPOSE_WEIGHTS, &o->op);
    if (st != xnn_status_success) { free(o); return sialo_fail_null("XNNPACK refused a dense layer (status %d)", (int)st); }
    o->batch = batch;
    return o;
}

int sialo_xnn_run(sialo_xnn_op *o, const float *x, float *y, int threads) {
    if (threads != pool_threads) {
        if (pool) pthreadpool_destroy(pool);
        pool = threads > 1 ? pthreadpool_create((size_t)threads) : NULL;
        pool_threads = threads;
        o->bound_x = NULL; /* force a new setup with the new pool */
    }
    enum xnn_status st = xnn_status_success;
    if (x != o->bound_x || y != o->bound_y) {
        st = o->is_conv ? xnn_setup_convolution2d_nhwc_f32(o->op, (size_t)o->xs.n, (size_t)o->xs.h, (size_t)o->xs.w, x, y, pool)
                        : xnn_setup_fully_connected_nc_f32(o->op, (size_t)o->batch, x, y, pool);
        if (st != xnn_status_success) return sialo_fail("XNNPACK setup failed (status %d)", (int)st);
        o->bound_x = x;
        o->bound_y = y;
    }
    st = xnn_run_operator(o->op, pool);
    if (st != xnn_status_success) return sialo_fail("XNNPACK run failed (status %d)", (int)st);
    return 0;
}

void sialo_xnn_free(sialo_xnn_op *o) {
    if (!o) return;
    xnn_delete_operator(o->op);
    free(o);
}

#else /* no XNNPACK in this build */
int sialo_xnn_available(void) { return 0; }
sialo_xnn_op *sialo_xnn_conv_create(const conv_params *p, const float *w, const float *b, shape4 xs) {
    (void)p; (void)w; (void)b; (void)xs;
    return sialo_fail_null("the XNNPACK backend is not available in this build");
}
sialo_xnn_op *sialo_xnn_dense_create(int cin, int cout, const float *w, const float *b, int act, int batch) {
    (void)cin; (void)cout; (void)w; (void)b; (void)act; (void)batch;
    return sialo_fail_null("the XNNPACK backend is not available in this build");
}
int sialo_xnn_run(sialo_xnn_op *o, const float *x, float *y, int threads) {
    (void)o; (void)x; (void)y; (void)threads;
    return sialo_fail("the XNNPACK backend is not available in this build");
}
void sialo_xnn_free(sialo_xnn_op *o) { (void)o; }
#endif
