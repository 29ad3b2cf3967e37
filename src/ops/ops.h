/* ops.h — the operators: for each, a naive reference (*_ref, kept for tests and the "ref"
 * backend) and the fast form over the vectorised kernels. Shapes are NHWC; a part/nparts pair
 * splits the output rows between threads (part 0 of 1 = everything).
 * Backward passes sit next to the forwards in the same files (conv.c, dense.c, ...). */
#ifndef SIALO_OPS_H
#define SIALO_OPS_H

#include <stddef.h>

typedef struct { int n, h, w, c; } shape4;

static inline size_t shape_count(shape4 s) { return (size_t)s.n * s.h * s.w * s.c; }

/* ---- conv.c: convolution (incl. grouped and depthwise) */
typedef struct {
    int kh, kw, sh, sw, pt, pb, pl, pr, groups, cin, cout, act;
} conv_params;

/* weights packed once at load */
typedef struct {
    int kind;        /* CONV_GEMM_DIRECT (1x1, stride 1, no pad), CONV_GEMM_IM2COL, CONV_DEPTHWISE */
    int k;           /* GEMM depth per group: kh*kw*cin/groups */
    float *packed;   /* per group f32_gemm_pack'ed panels, or the depthwise weights [KH*KW*C] */
    size_t group_stride;
    float *bias;     /* cout floats (zeros when the layer has none) */
} conv_packed;
enum { CONV_GEMM_DIRECT = 0, CONV_GEMM_IM2COL = 1, CONV_DEPTHWISE = 2 };

/* x: [N,H,W,Cin]  w: [KH,KW,Cin/G,Cout]  b: [Cout] or NULL  y: [N,OH,OW,Cout] */
void conv_forward_ref(const conv_params *p, const float *x, shape4 xs, const float *w, const float *b,
                      float *y, shape4 ys);
int conv_pack(const conv_params *p, const float *w, const float *b, conv_packed *out);
void conv_packed_free(conv_packed *pk);
/* scratch floats one part needs */
size_t conv_scratch_floats(const conv_params *p, const conv_packed *pk);
void conv_forward(const conv_params *p, const conv_packed *pk, const float *x, shape4 xs, float *y,
                  shape4 ys, float *scratch, int part, int nparts);

/* ---- dense.c: fully connected; x: [N, Cin] (any [N,H,W,C] flattened)  w: [Cin,Cout] */
void dense_forward_ref(const float *x, int n, int cin, const float *w, const float *b, int cout, int act, float *y);
void dense_forward(const conv_packed *pk, const float *x, int n, int cin, int cout, int act, float *y, int part, int nparts);
int dense_pack(const float *w, const float *b, int cin, int cout, conv_packed *out);

/* ---- pool.c: x: [N,H,W,C] -> y: [N,OH,OW,C]; window params as conv_params (kh kw sh sw pads) */
void maxpool_forward_ref(const conv_params *p, const float *x, shape4 xs, float *y, shape4 ys);
void maxpool_forward(const conv_params *p, const float *x, shape4 xs, float *y, shape4 ys, int part, int nparts);
void avgpool_forward_ref(const conv_params *p, const float *x, shape4 xs, float *y, shape4 ys);
void avgpool_forward(const conv_params *p, const float *x, shape4 xs, float *y, shape4 ys, int part, int nparts);
void gap_forward_ref(const float *x, shape4 xs, float *y);
void gap_forward(const float *x, shape4 xs, float *y);

/* ---- eltwise.c */
void add_forward_ref(const float *a, const float *b, size_t n, int act, float *y);
void add_forward(const float *a, const float *b, size_t n, int act, float *y);
/* y[i, c] = act(x[i, c] * scale[c] + shift[c]) over rows of C channels */
void affine_forward_ref(const float *x, size_t rows, int c, const float *scale, const float *shift, int act, float *y);
void affine_forward(const float *x, size_t rows, int c, const float *scale, const float *shift, int act, float *y);
void act_forward_ref(const float *x, size_t n, int act, float *y);  /* relu (1), relu6 (2) */
void act_forward(const float *x, size_t n, int act, float *y);
void pad_forward(const float *x, shape4 xs, int pt, int pb, int pl, int pr, float *y);
void sigmoid_forward(const float *x, size_t n, float *y);
void softmax_forward(const float *x, size_t rows, int c, float *y);


/* ---- backward passes (next to each forward in its file). All ACCUMULATE (+=) into dx, dw, db,
 * dscale, dshift; dz is the gradient at the layer's pre-activation output (the executor applies
 * the fused activation's derivative first: act_backward). dx / dw may be NULL when not needed. */
/* dz = dy * act'(y), from the output y (relu: y > 0; relu6: 0 < y < 6); in place allowed */
void act_backward(const float *y, const float *dy, size_t n, int act, float *dz);
void act_backward_ref(const float *y, const float *dy, size_t n, int act, float *dz);
/* conv: x [N,H,W,Cin], w [KH,KW,Cin/G,Cout], dz [N,OH,OW,Cout] */
void conv_backward(const conv_params *p, const float *x, shape4 xs, const float *w, const float *dz, shape4 ys,
                   float *dx, float *dw, float *db);
void dense_backward(const float *x, int n, int cin, const float *w, const float *dz, int cout, float *dx, float *dw, float *db);
void dense_backward_ref(const float *x, int n, int cin, const float *w, const float *dz, int cout, float *dx, float *dw, float *db);
void maxpool_backward(const conv_params *p, const float *x, shape4 xs, const float *dy, shape4 ys, float *dx);
void avgpool_backward(const conv_params *p, shape4 xs, const float *dy, shape4 ys, float *dx);
void gap_backward(shape4 xs, const float *dy, float *dx);
void affine_backward(const float *x, size_t rows, int c, const float *scale, const float *dz, float *dx, float *dscale, float *dshift);
void pad_backward(shape4 xs, int pt, int pl, const float *dy, shape4 ys, float *dx);
void add_to(float *dst, const float *src, size_t n);                 /* dst += src */

#endif
