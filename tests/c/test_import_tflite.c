/* test_import_tflite.c — the TensorFlow Lite importer (src/import/tflite.c).
 *
 * Part 1 (always): small TFLite models built here byte by byte with a tiny flatbuffer writer
 *   (uint8 / int8 per-channel / float weights, CONV_2D with asymmetric SAME padding, a depthwise
 *   conv with multiplier 2, PAD, ADD, MAX_POOL, MEAN or AVERAGE_POOL, FULLY_CONNECTED or a 1x1
 *   logits conv, RESHAPE, SOFTMAX, QUANTIZE / DEQUANTIZE) are imported and run through the
 *   engine, and compared with a direct float evaluation of the TFLite semantics written here
 *   (filters read in TFLite layout, so the importer's transposes are checked independently).
 *   Then hostile variants: every truncation, seeded random byte flips, and targeted corruptions
 *   (indices out of range, vector lengths of 0x7fffffff, absurd shapes, bad vtables...).
 * Part 2 (when ../shared is present): the two MobileNetV2 files: convert, write, load, run on the
 *   four 224x224 reference inputs, compare with table A of ../shared/samples/imagenet/REFERENCE.md;
 *   targeted corruptions and random flips of the real files.
 *
 * Run from the repository root. Prints "N passed, M failed" (check.h); exit status 1 on any failure.
 */
#define _POSIX_C_SOURCE 200809L
#include "engine/graph.h"
#include "import/importers.h"
#include "sialoscan.h"

#include "check.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static uint64_t rng_state = 0x9E3779B97F4A7C15ull;
static uint32_t rnd(void) { /* xorshift64*, seeded: the runs are reproducible */
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return (uint32_t)((rng_state * 2685821657736338717ull) >> 32);
}


/* ================================================================== a tiny flatbuffer writer
 * Objects are laid out front to back: a parent is written first with placeholder references,
 * each child later (at a higher address, as uoffsets are unsigned) and linked. A table's vtable
 * is written just before it. Little-endian host assumed (x86, wasm). */
typedef struct {
    uint8_t *b;
    size_t n, cap;
} fbw;

static size_t w_reserve(fbw *w, size_t k, size_t align) {
    while (w->n % align) w->n++;
    if (w->n + k > w->cap) {
        size_t nc = w->cap ? w->cap : 1024;
        while (nc < w->n + k) nc *= 2;
        w->b = realloc(w->b, nc);
        memset(w->b + w->cap, 0, nc - w->cap);
        w->cap = nc;
    }
    size_t p = w->n;
    w->n += k;
    return p;
}
static void w_put(fbw *w, size_t pos, const void *v, size_t k) { memcpy(w->b + pos, v, k); }
static void w_u32(fbw *w, size_t pos, uint32_t v) { w_put(w, pos, &v, 4); }
static void w_link(fbw *w, size_t field, size_t target) { w_u32(w, field, (uint32_t)(target - field)); }

typedef struct {
    int id;
    int size;    /* 1, 4, 8: scalar; 0: reference (uoffset placeholder) */
    int64_t v;
} fld;

/* a table with the given fields; ref[id] receives the position of reference fields */
static size_t w_table(fbw *w, int nf, const fld *f, size_t *ref) {
    int maxid = -1;
    for (int i = 0; i < nf; i++) if (f[i].id > maxid) maxid = f[i].id;
    unsigned vts = 4 + 2 * (unsigned)(maxid + 1), off[32] = {0}, ts = 4;
    for (int i = 0; i < nf; i++) {
        unsigned sz = f[i].size ? (unsigned)f[i].size : 4;
        while (ts % sz) ts++;
        off[i] = ts;
        ts += sz;
    }
    size_t vt = w_reserve(w, vts, 2);
    size_t tp = w_reserve(w, ts, 8);
    uint16_t h[2] = {(uint16_t)vts, (uint16_t)ts};
    w_put(w, vt, h, 4);
    for (int i = 0; i < nf; i++) {
        uint16_t o = (uint16_t)off[i];
        w_put(w, vt + 4 + 2 * (size_t)f[i].id, &o, 2);
        if (f[i].size == 0) { if (ref) ref[f[i].id] = tp + off[i]; }
        else w_put(w, tp + off[i], &f[i].v, (size_t)f[i].size);
    }
    int32_t so = (int32_t)(tp - vt);
    w_put(w, tp, &so, 4);
    return tp;
}
/* a vector: length word, then n elements of elem bytes (data may be NULL: zeros) */
static size_t w_vec(fbw *w, uint32_t n, size_t elem, const void *data) {
    size_t al = elem > 4 ? elem : 4;
    while ((w->n + 4) % al) w->n++;
    size_t p = w_reserve(w, 4 + (size_t)n * elem + (elem == 1 ? 1 : 0), 4);
    w_u32(w, p, n);
    if (data && n) w_put(w, p + 4, data, (size_t)n * elem);
    return p;
}
static size_t w_str(fbw *w, const char *s) { return w_vec(w, (uint32_t)strlen(s), 1, s); }

/* ================================================================== synthetic TFLite models */
enum { TF32 = 0, TI32 = 2, TU8 = 3, TI8 = 9 };
enum { B_ADD = 0, B_AVG = 1, B_CONV = 3, B_DW = 4, B_DEQ = 6, B_FC = 9, B_MAX = 17, B_RESHAPE = 22,
       B_SOFTMAX = 25, B_PAD = 34, B_MEAN = 40, B_QUANT = 114, B_HARD_SWISH = 117 };

typedef struct {
    const char *name;
    int type, rank, dims[7];
    const void *data;
    size_t nbytes;
    int nq, qdim;
    float scale[64];
    int64_t zp[64];
    int64_t buffer_override; /* >= 0: write this buffer index instead */
} syn_tensor;

typedef struct {
    int code, nin, in[3], out;
    int pad, stride, act, filt, keep; /* options (pad: 0 SAME 1 VALID) */
    int no_options;
} syn_op;

typedef struct {
    int nt, nops, input, output;
    syn_tensor t[40];
    syn_op op[20];
    int version;
    const char *ident;
} syn_model;

/* positions of interesting bytes in the last serialised model */
typedef struct {
    size_t tensors_len, ops_len, buffers_len, codes_len, shape0_len, name0_len, tensor0_soff, op0_inputs_len;
} syn_pos;

static int opt_type_of(int code) {
    switch (code) {
    case B_CONV: return 1;
    case B_DW: return 2;
    case B_AVG: case B_MAX: return 5;
    case B_FC: return 8;
    case B_SOFTMAX: return 9;
    case B_ADD: return 11;
    case B_MEAN: return 27;
    default: return 0;
    }
}

static uint8_t *syn_write(const syn_model *m, size_t *size, syn_pos *pos) {
    fbw w = {0};
    syn_pos dummy;
    if (!pos) pos = &dummy;
    memset(pos, 0, sizeof *pos);
    size_t root = w_reserve(&w, 8, 4);
    w_put(&w, 4, m->ident ? m->ident : "TFL3", 4);
    size_t mref[8];
    fld mf[] = {{0, 4, m->version ? m->version : 3}, {1, 0, 0}, {2, 0, 0}, {3, 0, 0}, {4, 0, 0}};
    size_t mt = w_table(&w, 5, mf, mref);
    w_link(&w, root, mt);
    /* operator codes: one per distinct code */
    int codes[32], nc = 0, opcode_of[20];
    for (int i = 0; i < m->nops; i++) {
        int k = 0;
        while (k < nc && codes[k] != m->op[i].code) k++;
        if (k == nc) codes[nc++] = m->op[i].code;
        opcode_of[i] = k;
    }
    size_t cv = w_vec(&w, (uint32_t)nc, 4, NULL);
    pos->codes_len = cv;
    w_link(&w, mref[1], cv);
    for (int k = 0; k < nc; k++) {
        fld cf[] = {{0, 1, codes[k] < 127 ? codes[k] : 127}, {2, 4, 1}, {3, 4, codes[k]}};
        w_link(&w, cv + 4 + 4 * (size_t)k, w_table(&w, 3, cf, NULL));
    }
    /* one subgraph */
    size_t sv = w_vec(&w, 1, 4, NULL);
    w_link(&w, mref[2], sv);
    size_t sref[8];
    fld sf[] = {{0, 0, 0}, {1, 0, 0}, {2, 0, 0}, {3, 0, 0}, {4, 0, 0}};
    size_t st = w_table(&w, 5, sf, sref);
    w_link(&w, sv + 4, st);
    size_t tv = w_vec(&w, (uint32_t)m->nt, 4, NULL);
    pos->tensors_len = tv;
    w_link(&w, sref[0], tv);
    int nbuf = 1, buf_of[40];
    for (int i = 0; i < m->nt; i++) buf_of[i] = m->t[i].data ? nbuf++ : 0;
    for (int i = 0; i < m->nt; i++) {
        const syn_tensor *t = &m->t[i];
        size_t tref[8];
        int64_t bi = t->buffer_override >= 0 ? t->buffer_override : buf_of[i];
        fld tf[6] = {{0, 0, 0}, {1, 1, t->type}, {2, 4, bi}, {3, 0, 0}};
        int ntf = 4;
        if (t->nq) tf[ntf++] = (fld){4, 0, 0};
        size_t tt = w_table(&w, ntf, tf, tref);
        if (i == 0) pos->tensor0_soff = tt;
        w_link(&w, tv + 4 + 4 * (size_t)i, tt);
        size_t shp = w_vec(&w, (uint32_t)t->rank, 4, t->dims);
        if (i == 0) pos->shape0_len = shp;
        w_link(&w, tref[0], shp);
        size_t nm = w_str(&w, t->name);
        if (i == 0) pos->name0_len = nm;
        w_link(&w, tref[3], nm);
        if (t->nq) {
            size_t qref[8];
            fld qf[] = {{2, 0, 0}, {3, 0, 0}, {6, 4, t->qdim}};
            size_t qt = w_table(&w, 3, qf, qref);
            w_link(&w, tref[4], qt);
            w_link(&w, qref[2], w_vec(&w, (uint32_t)t->nq, 4, t->scale));
            w_link(&w, qref[3], w_vec(&w, (uint32_t)t->nq, 8, t->zp));
        }
    }
    int32_t io[1] = {m->input};
    w_link(&w, sref[1], w_vec(&w, 1, 4, io));
    io[0] = m->output;
    w_link(&w, sref[2], w_vec(&w, 1, 4, io));
    size_t ov = w_vec(&w, (uint32_t)m->nops, 4, NULL);
    pos->ops_len = ov;
    w_link(&w, sref[3], ov);
    for (int i = 0; i < m->nops; i++) {
        const syn_op *o = &m->op[i];
        size_t oref[8];
        int ot = o->no_options ? 0 : opt_type_of(o->code);
        fld of[5] = {{0, 4, opcode_of[i]}, {1, 0, 0}, {2, 0, 0}};
        int nof = 3;
        if (ot) { of[nof++] = (fld){3, 1, ot}; of[nof++] = (fld){4, 0, 0}; }
        size_t opt = w_table(&w, nof, of, oref);
        w_link(&w, ov + 4 + 4 * (size_t)i, opt);
        size_t iv = w_vec(&w, (uint32_t)o->nin, 4, o->in);
        if (i == 0) pos->op0_inputs_len = iv;
        w_link(&w, oref[1], iv);
        w_link(&w, oref[2], w_vec(&w, 1, 4, &o->out));
        if (!ot) continue;
        fld pf[8];
        int np = 0;
        switch (o->code) {
        case B_CONV:
            pf[np++] = (fld){0, 1, o->pad}; pf[np++] = (fld){1, 4, o->stride}; pf[np++] = (fld){2, 4, o->stride};
            pf[np++] = (fld){3, 1, o->act}; pf[np++] = (fld){4, 4, 1}; pf[np++] = (fld){5, 4, 1};
            break;
        case B_DW:
            pf[np++] = (fld){0, 1, o->pad}; pf[np++] = (fld){1, 4, o->stride}; pf[np++] = (fld){2, 4, o->stride};
            pf[np++] = (fld){3, 4, 2}; pf[np++] = (fld){4, 1, o->act};
            break;
        case B_AVG: case B_MAX:
            pf[np++] = (fld){0, 1, o->pad}; pf[np++] = (fld){1, 4, o->stride}; pf[np++] = (fld){2, 4, o->stride};
            pf[np++] = (fld){3, 4, o->filt}; pf[np++] = (fld){4, 4, o->filt}; pf[np++] = (fld){5, 1, o->act};
            break;
        case B_FC: pf[np++] = (fld){0, 1, o->act}; break;
        case B_ADD: pf[np++] = (fld){0, 1, o->act}; break;
        case B_MEAN: pf[np++] = (fld){0, 1, o->keep}; break;
        case B_SOFTMAX: {
            float one = 1.0f;
            int32_t bits;
            memcpy(&bits, &one, 4);
            pf[np++] = (fld){0, 4, bits};
            break;
        }
        }
        w_link(&w, oref[4], w_table(&w, np, pf, NULL));
    }
    w_link(&w, sref[4], w_str(&w, "main"));
    w_link(&w, mref[3], w_str(&w, "synthetic test model"));
    size_t bv = w_vec(&w, (uint32_t)nbuf, 4, NULL);
    pos->buffers_len = bv;
    w_link(&w, mref[4], bv);
    w_link(&w, bv + 4, w_table(&w, 0, NULL, NULL)); /* buffer 0: empty */
    for (int i = 0; i < m->nt; i++) {
        if (!buf_of[i]) continue;
        size_t bref[4];
        fld bf[] = {{0, 0, 0}};
        size_t bt = w_table(&w, 1, bf, bref);
        w_link(&w, bv + 4 + 4 * (size_t)buf_of[i], bt);
        w_link(&w, bref[0], w_vec(&w, (uint32_t)m->t[i].nbytes, 1, m->t[i].data));
    }
    w.n--; /* no NUL after the last byte vector: every byte of the file is then needed */
    *size = w.n;
    return w.b;
}

/* --- building the synthetic models */
static int8_t wq8[4096];
static uint8_t wqu8[4096];
static int32_t bq32[64];
static float wf32[4096];

static int add_t(syn_model *m, const char *name, int type, int rank, int d0, int d1, int d2, int d3) {
    syn_tensor *t = &m->t[m->nt];
    memset(t, 0, sizeof *t);
    t->name = name; t->type = type; t->rank = rank;
    t->dims[0] = d0; t->dims[1] = d1; t->dims[2] = d2; t->dims[3] = d3;
    t->buffer_override = -1;
    return m->nt++;
}
static size_t t_count(const syn_tensor *t) {
    size_t c = 1;
    for (int d = 0; d < t->rank; d++) c *= (size_t)t->dims[d];
    return c;
}
static void quant(syn_model *m, int ti, int n, float s0, int64_t zp, int qdim) {
    syn_tensor *t = &m->t[ti];
    t->nq = n;
    t->qdim = qdim;
    for (int i = 0; i < n; i++) { t->scale[i] = s0 * (1.0f + 0.25f * (float)(i % 5)); t->zp[i] = zp; }
}
static int add_op(syn_model *m, int code, int nin, int a, int b, int c, int out) {
    syn_op *o = &m->op[m->nops];
    memset(o, 0, sizeof *o);
    o->code = code; o->nin = nin; o->in[0] = a; o->in[1] = b; o->in[2] = c; o->out = out;
    o->stride = 1;
    return m->nops++;
}

/* Variant 0: uint8 input, QUANTIZE, conv 3x3/2 SAME (int8 per-channel) RELU6, depthwise 3x3 x2
 * SAME (int8 per-channel, qdim 3) RELU, PAD 1, conv 3x3 VALID (uint8 per-tensor), ADD RELU,
 * MAX_POOL 2/2, conv 1x1 (float) RELU6, MEAN, RESHAPE, FC (int8), SOFTMAX, DEQUANTIZE.
 * Variant 1: float input, same body, then AVERAGE_POOL 2x2 VALID, conv 1x1 logits, RESHAPE, SOFTMAX. */
static void build_synth(syn_model *m, int variant) {
    memset(m, 0, sizeof *m);
    size_t wo = 0, bo = 0;
    uint32_t seed = 12345;
#define NEXT() (seed = seed * 1103515245u + 12345u, (seed >> 16) & 0xff)
    for (int i = 0; i < 4096; i++) { wq8[i] = (int8_t)NEXT(); wqu8[i] = (uint8_t)NEXT(); wf32[i] = ((float)NEXT() - 128.0f) / 400.0f; }
    for (int i = 0; i < 64; i++) bq32[i] = (int32_t)NEXT() * 40 - 5000;
#undef NEXT
    int in = variant == 0 ? add_t(m, "input", TU8, 4, 1, 8, 8, 3) : add_t(m, "input", TF32, 4, 1, 8, 8, 3);
    if (variant == 0) quant(m, in, 1, 1.0f / 128, 128, 0);
    int x = in;
    if (variant == 0) {
        int q = add_t(m, "model/quantize", TI8, 4, 1, 8, 8, 3);
        quant(m, q, 1, 1.0f / 128, 0, 0);
        add_op(m, B_QUANT, 1, in, 0, 0, q);
        x = q;
    }
    /* conv 3x3 stride 2 SAME -> 4x4x4, int8 per-channel */
    int w1 = add_t(m, "model/conv1/weights", TI8, 4, 4, 3, 3, 3);
    m->t[w1].data = wq8 + wo; m->t[w1].nbytes = t_count(&m->t[w1]); wo += m->t[w1].nbytes;
    quant(m, w1, 4, 0.004f, 0, 0);
    int b1 = add_t(m, "model/conv1/bias", TI32, 1, 4, 0, 0, 0);
    m->t[b1].data = bq32 + bo; m->t[b1].nbytes = 16; bo += 4;
    quant(m, b1, 4, 0.004f / 128, 0, 0);
    int y1 = add_t(m, "model/conv1/Relu6;model/conv1/BiasAdd", TI8, 4, 1, 4, 4, 4);
    int o = add_op(m, B_CONV, 3, x, w1, b1, y1);
    m->op[o].pad = 0; m->op[o].stride = 2; m->op[o].act = 3;
    /* depthwise 3x3 multiplier 2 SAME -> 4x4x8, qdim 3 */
    int w2 = add_t(m, "model/dw/depthwise_weights", TI8, 4, 1, 3, 3, 8);
    m->t[w2].data = wq8 + wo; m->t[w2].nbytes = t_count(&m->t[w2]); wo += m->t[w2].nbytes;
    quant(m, w2, 8, 0.01f, 0, 3);
    int b2 = add_t(m, "model/dw/bias", TI32, 1, 8, 0, 0, 0);
    m->t[b2].data = bq32 + bo; m->t[b2].nbytes = 32; bo += 8;
    quant(m, b2, 8, 0.0001f, 0, 0);
    int y2 = add_t(m, "model/dw/Relu", TI8, 4, 1, 4, 4, 8);
    o = add_op(m, B_DW, 3, y1, w2, b2, y2);
    m->op[o].pad = 0; m->op[o].act = 1;
    /* PAD 1 -> 6x6x8 */
    static const int32_t pads[8] = {0, 0, 1, 1, 1, 1, 0, 0};
    int pt = add_t(m, "model/pad/paddings", TI32, 2, 4, 2, 0, 0);
    m->t[pt].data = pads; m->t[pt].nbytes = sizeof pads;
    int y3 = add_t(m, "model/pad/Pad", TI8, 4, 1, 6, 6, 8);
    add_op(m, B_PAD, 2, y2, pt, 0, y3);
    /* conv 3x3 VALID -> 4x4x8, uint8 per-tensor with zero point 120 */
    int w4 = add_t(m, "model/conv2/weights", TU8, 4, 8, 3, 3, 8);
    m->t[w4].data = wqu8; m->t[w4].nbytes = t_count(&m->t[w4]);
    quant(m, w4, 1, 0.003f, 120, 0);
    int b4 = add_t(m, "model/conv2/bias", TI32, 1, 8, 0, 0, 0);
    m->t[b4].data = bq32 + bo; m->t[b4].nbytes = 32; bo += 8;
    quant(m, b4, 1, 0.0002f, 0, 0);
    int y4 = add_t(m, "model/conv2/BiasAdd", TI8, 4, 1, 4, 4, 8);
    o = add_op(m, B_CONV, 3, y3, w4, b4, y4);
    m->op[o].pad = 1;
    /* ADD RELU */
    int y5 = add_t(m, "model/block/add", TI8, 4, 1, 4, 4, 8);
    o = add_op(m, B_ADD, 2, y4, y2, 0, y5);
    m->op[o].act = 1;
    /* MAX_POOL 2x2/2 -> 2x2x8 */
    int y6 = add_t(m, "model/pool/MaxPool", TI8, 4, 1, 2, 2, 8);
    o = add_op(m, B_MAX, 1, y5, 0, 0, y6);
    m->op[o].pad = 1; m->op[o].stride = 2; m->op[o].filt = 2;
    /* conv 1x1 float weights RELU6 -> 2x2x6 (the "out_relu" layer) */
    int w7 = add_t(m, "model/top/weights", TF32, 4, 6, 1, 1, 8);
    m->t[w7].data = wf32; m->t[w7].nbytes = 4 * t_count(&m->t[w7]);
    int b7 = add_t(m, "model/top/bias", TF32, 1, 6, 0, 0, 0);
    m->t[b7].data = wf32 + 100; m->t[b7].nbytes = 24;
    int y7 = add_t(m, "model/top/Relu6", TI8, 4, 1, 2, 2, 6);
    o = add_op(m, B_CONV, 3, y6, w7, b7, y7);
    m->op[o].pad = 0; m->op[o].act = 3;
    int logits;
    if (variant == 0) {
        static const int32_t axes[2] = {1, 2};
        int at = add_t(m, "model/gp/axes", TI32, 1, 2, 0, 0, 0);
        m->t[at].data = axes; m->t[at].nbytes = 8;
        int y8 = add_t(m, "model/gp/Mean", TI8, 4, 1, 1, 1, 6);
        o = add_op(m, B_MEAN, 2, y7, at, 0, y8);
        m->op[o].keep = 1;
        static const int32_t shp[2] = {1, 6};
        int st = add_t(m, "model/flat/shape", TI32, 1, 2, 0, 0, 0);
        m->t[st].data = shp; m->t[st].nbytes = 8;
        int y9 = add_t(m, "model/flat/Reshape", TI8, 2, 1, 6, 0, 0);
        add_op(m, B_RESHAPE, 2, y8, st, 0, y9);
        int wf = add_t(m, "model/fc/weights", TI8, 2, 5, 6, 0, 0);
        m->t[wf].data = wq8 + wo; m->t[wf].nbytes = 30; wo += 30;
        quant(m, wf, 1, 0.02f, 0, 0);
        int bf = add_t(m, "model/fc/bias", TI32, 1, 5, 0, 0, 0);
        m->t[bf].data = bq32 + bo; m->t[bf].nbytes = 20; bo += 5;
        quant(m, bf, 1, 0.0003f, 0, 0);
        logits = add_t(m, "model/fc/BiasAdd", TI8, 2, 1, 5, 0, 0);
        add_op(m, B_FC, 3, y9, wf, bf, logits);
    } else {
        int y8 = add_t(m, "model/gp/AvgPool", TI8, 4, 1, 1, 1, 6);
        o = add_op(m, B_AVG, 1, y7, 0, 0, y8);
        m->op[o].pad = 1; m->op[o].stride = 2; m->op[o].filt = 2;
        int wl = add_t(m, "model/logits/weights", TI8, 4, 5, 1, 1, 6);
        m->t[wl].data = wq8 + wo; m->t[wl].nbytes = 30; wo += 30;
        quant(m, wl, 5, 0.02f, 0, 0);
        int bl = add_t(m, "model/logits/bias", TI32, 1, 5, 0, 0, 0);
        m->t[bl].data = bq32 + bo; m->t[bl].nbytes = 20; bo += 5;
        quant(m, bl, 5, 0.0003f, 0, 0);
        int y9 = add_t(m, "model/logits/BiasAdd", TI8, 4, 1, 1, 1, 5);
        o = add_op(m, B_CONV, 3, y8, wl, bl, y9);
        m->op[o].pad = 1;
        static const int32_t shp[2] = {1, 5};
        int st = add_t(m, "model/flat/shape", TI32, 1, 2, 0, 0, 0);
        m->t[st].data = shp; m->t[st].nbytes = 8;
        logits = add_t(m, "model/flat/Reshape", TI8, 2, 1, 5, 0, 0);
        add_op(m, B_RESHAPE, 2, y9, st, 0, logits);
    }
    int sm = add_t(m, "model/Predictions/Softmax", TI8, 2, 1, 5, 0, 0);
    add_op(m, B_SOFTMAX, 1, logits, 0, 0, sm);
    int out = add_t(m, "Identity", TF32, 2, 1, 5, 0, 0);
    add_op(m, B_DEQ, 1, sm, 0, 0, out);
    m->input = in;
    m->output = out;
}

/* --- direct float evaluation of a synthetic model, TFLite semantics, TFLite layouts */
static float deq(const syn_tensor *t, size_t k) {
    if (t->type == TF32) return ((const float *)t->data)[k];
    double q = t->type == TI8 ? ((const int8_t *)t->data)[k] : t->type == TU8 ? ((const uint8_t *)t->data)[k]
                                                                              : ((const int32_t *)t->data)[k];
    int ch = 0;
    if (t->nq > 1) {
        size_t stride = 1;
        for (int d = t->qdim + 1; d < t->rank; d++) stride *= (size_t)t->dims[d];
        ch = (int)((k / stride) % (size_t)t->dims[t->qdim]);
    }
    return (float)(t->scale[ch] * (q - (double)t->zp[ch]));
}
static float act_of(float v, int a) {
    if (a == 1 || a == 3) v = v > 0 ? v : 0;
    if (a == 3 && v > 6) v = 6;
    return v;
}
static void synth_reference(const syn_model *m, const float *input, float *out) {
    float *val[40] = {0};
    val[m->input] = (float *)input;
    for (int i = 0; i < m->nops; i++) {
        const syn_op *o = &m->op[i];
        const syn_tensor *ot = &m->t[o->out], *it = &m->t[o->in[0]];
        size_t n = t_count(ot);
        float *y = calloc(n, sizeof *y), *x = val[o->in[0]];
        val[o->out] = y;
        int H = it->rank == 4 ? it->dims[1] : 1, W = it->rank == 4 ? it->dims[2] : 1, C = it->dims[it->rank - 1];
        int OH = ot->rank == 4 ? ot->dims[1] : 1, OW = ot->rank == 4 ? ot->dims[2] : 1, OC = ot->dims[ot->rank - 1];
        switch (o->code) {
        case B_QUANT: case B_DEQ: case B_RESHAPE: memcpy(y, x, n * sizeof *y); break;
        case B_CONV: case B_DW: {
            const syn_tensor *wt = &m->t[o->in[1]], *bt = &m->t[o->in[2]];
            int KH = wt->dims[1], KW = wt->dims[2], s = o->stride, pt = 0, pl = 0;
            if (o->pad == 0) {
                int th = (OH - 1) * s + KH - H, tw = (OW - 1) * s + KW - W;
                pt = th > 0 ? th / 2 : 0;
                pl = tw > 0 ? tw / 2 : 0;
            }
            for (int oy = 0; oy < OH; oy++)
                for (int ox = 0; ox < OW; ox++)
                    for (int oc = 0; oc < OC; oc++) {
                        double acc = deq(bt, (size_t)oc);
                        for (int ky = 0; ky < KH; ky++)
                            for (int kx = 0; kx < KW; kx++) {
                                int iy = oy * s - pt + ky, ix = ox * s - pl + kx;
                                if (iy < 0 || iy >= H || ix < 0 || ix >= W) continue;
                                if (o->code == B_DW) { /* filter [1,KH,KW,C*M], input channel oc / M */
                                    int mult = OC / C;
                                    acc += x[((size_t)iy * W + ix) * C + oc / mult] * deq(wt, ((size_t)ky * KW + kx) * OC + oc);
                                } else { /* filter [OC,KH,KW,IC] */
                                    for (int ic = 0; ic < C; ic++)
                                        acc += x[((size_t)iy * W + ix) * C + ic] * deq(wt, (((size_t)oc * KH + ky) * KW + kx) * C + ic);
                                }
                            }
                        y[((size_t)oy * OW + ox) * OC + oc] = act_of((float)acc, o->act);
                    }
            break;
        }
        case B_PAD: {
            const int32_t *p = m->t[o->in[1]].data;
            for (int yy = 0; yy < H; yy++)
                for (int xx = 0; xx < W; xx++)
                    memcpy(y + ((size_t)(yy + p[2]) * OW + xx + p[4]) * OC, x + ((size_t)yy * W + xx) * C, (size_t)C * sizeof *y);
            break;
        }
        case B_ADD:
            for (size_t k = 0; k < n; k++) y[k] = act_of(x[k] + val[o->in[1]][k], o->act);
            break;
        case B_MAX: case B_AVG:
            for (int oy = 0; oy < OH; oy++)
                for (int ox = 0; ox < OW; ox++)
                    for (int c = 0; c < C; c++) {
                        float mx = -1e30f, sum = 0;
                        for (int ky = 0; ky < o->filt; ky++)
                            for (int kx = 0; kx < o->filt; kx++) {
                                float v = x[((size_t)(oy * o->stride + ky) * W + ox * o->stride + kx) * C + c];
                                mx = v > mx ? v : mx;
                                sum += v;
                            }
                        y[((size_t)oy * OW + ox) * OC + c] = o->code == B_MAX ? mx : sum / (float)(o->filt * o->filt);
                    }
            break;
        case B_MEAN:
            for (int c = 0; c < C; c++) {
                double s = 0;
                for (int k = 0; k < H * W; k++) s += x[(size_t)k * C + c];
                y[c] = (float)(s / (H * W));
            }
            break;
        case B_FC: {
            const syn_tensor *wt = &m->t[o->in[1]], *bt = &m->t[o->in[2]];
            int IN = wt->dims[1];
            for (int oc = 0; oc < OC; oc++) {
                double acc = deq(bt, (size_t)oc);
                for (int k = 0; k < IN; k++) acc += x[k] * deq(wt, (size_t)oc * IN + k);
                y[oc] = act_of((float)acc, o->act);
            }
            break;
        }
        case B_SOFTMAX: {
            double mx = -1e30, s = 0;
            for (size_t k = 0; k < n; k++) mx = x[k] > mx ? x[k] : mx;
            for (size_t k = 0; k < n; k++) s += exp(x[k] - mx);
            for (size_t k = 0; k < n; k++) y[k] = (float)(exp(x[k] - mx) / s);
            break;
        }
        }
    }
    memcpy(out, val[m->output], t_count(&m->t[m->output]) * sizeof *out);
    for (int i = 0; i < m->nt; i++) if (i != m->input) free(val[i]);
}

/* ================================================================== helpers on imported graphs */
static int node_named(const sialo_graph *g, const char *name) {
    for (int i = 0; i < g->n_nodes; i++) if (!strcmp(g->nodes[i].name, name)) return i;
    return -1;
}

/* write + load the graph (the path a converted model takes), run one image given as bytes */
static sialo_model *load_graph(const sialo_graph *g, sialo_backend be) {
    uint8_t *buf = NULL;
    size_t n = 0;
    if (sialo_graph_write(g, 32, &buf, &n) < 0) return NULL;
    sialo_options opt;
    memset(&opt, 0, sizeof opt);
    opt.backend = be;
    opt.threads = 1;
    sialo_model *m = sialo_model_load(buf, n, &opt);
    free(buf);
    return m;
}

/* import must fail with a reason */
static int expect_fail(const uint8_t *data, size_t n, const char *what, const char *must_contain) {
    sialo_graph *g = sialo_import_tflite(data, n);
    if (g) {
        sialo_graph_free(g);
        CHECK(0, "%s: the import succeeded, expected an error", what);
        return 0;
    }
    const char *e = sialo_error();
    int ok = e && e[0] && (!must_contain || strstr(e, must_contain));
    CHECK(ok, "%s: error '%s'%s%s", what, e ? e : "(null)", must_contain ? " should mention " : "", must_contain ? must_contain : "");
    return ok;
}

/* An import of damaged bytes may succeed (a flipped weight is still a model) or fail with a
 * reason; a successful result must be a consistent graph. Returns 1 accepted, 0 refused with a
 * reason, -1 inconsistent. */
static int robust_import(const uint8_t *data, size_t n) {
    sialo_graph *g = sialo_import_tflite(data, n);
    if (!g) return sialo_error()[0] != 0 ? 0 : -1;
    int ok = sialo_graph_infer_shapes(g) == 0 && g->n_nodes >= 2;
    sialo_graph_free(g);
    return ok ? 1 : -1;
}

/* ================================================================== part 1: synthetic models */
static void test_synthetic(int variant) {
    syn_model m;
    build_synth(&m, variant);
    size_t n;
    syn_pos pos;
    uint8_t *file = syn_write(&m, &n, &pos);
    sialo_graph *g = sialo_import_tflite(file, n);
    CHECK(g != NULL, "synthetic %d: import failed: %s", variant, sialo_error());
    if (!g) { free(file); return; }
    CHECK(!strcmp(g->arch, "mobilenetv2"), "synthetic %d: arch '%s'", variant, g->arch);
    CHECK(g->n_classes == 5 && g->in_h == 8 && g->in_w == 8 && g->in_c == 3, "synthetic %d: shape", variant);
    if (variant == 0)
        CHECK(fabsf(g->norm_scale[0] - 1.0f / 128) < 1e-9f && fabsf(g->norm_bias[0] + 1.0f) < 1e-7f,
              "uint8 input: normalisation %g %g", g->norm_scale[0], g->norm_bias[0]);
    else
        CHECK(fabsf(g->norm_scale[1] - 1.0f / 127.5f) < 1e-9f && fabsf(g->norm_bias[2] + 1.0f) < 1e-7f,
              "float input: normalisation %g %g", g->norm_scale[1], g->norm_bias[2]);
    int o = node_named(g, "out_relu"), gp = node_named(g, "global_average_pooling2d"), lg = node_named(g, "Logits"),
        pr = node_named(g, "Predictions");
    CHECK(o > 0 && gp > o && lg > gp && pr == g->n_nodes - 1, "synthetic %d: tail names %d %d %d %d", variant, o, gp, lg, pr);
    if (o > 0 && lg > 0 && gp > 0) {
        CHECK(g->nodes[o].op == OP_CONV && g->nodes[o].p[P_ACT] == ACT_RELU6 && g->nodes[o].oc == 6, "out_relu layer");
        CHECK(g->nodes[gp].op == OP_GAP, "global pool is OP_GAP");
        CHECK(g->nodes[lg].op == OP_DENSE, "Logits is OP_DENSE (variant %d)", variant);
    }
    CHECK(node_named(g, "conv1") > 0 && node_named(g, "dw") > 0 && node_named(g, "block") > 0,
          "synthetic %d: names derived from the tensor names (conv1, dw, block)", variant);
    CHECK(g->n_class_names == 0, "no class names in a tflite file");

    /* numbers: engine (both backends) vs the direct evaluation */
    float input[8 * 8 * 3], ref_in[8 * 8 * 3], ref_out[5], out[5];
    uint32_t s = 777;
    for (int i = 0; i < 8 * 8 * 3; i++) {
        s = s * 1664525u + 1013904223u;
        uint8_t px = (uint8_t)(s >> 24);
        input[i] = px * g->norm_scale[i % 3] + g->norm_bias[i % 3];
        ref_in[i] = variant == 0 ? (px - 128) / 128.0f : px / 127.5f - 1.0f;
    }
    synth_reference(&m, ref_in, ref_out);
    for (int be = 0; be < 2; be++) {
        sialo_model *sm = load_graph(g, be ? SIALO_BACKEND_REF : SIALO_BACKEND_OWN);
        CHECK(sm != NULL, "synthetic %d: load: %s", variant, sialo_error());
        if (!sm) continue;
        int r = sialo_forward(sm, input, out);
        CHECK(r == 0, "synthetic %d: forward: %s", variant, sialo_error());
        double maxd = 0, sum = 0;
        for (int k = 0; k < 5; k++) { maxd = fmax(maxd, fabs(out[k] - ref_out[k])); sum += out[k]; }
        CHECK(maxd < 2e-5, "synthetic %d backend %d: max |engine - reference| = %g", variant, be, maxd);
        CHECK(fabs(sum - 1) < 1e-5, "softmax sums to %g", sum);
        /* the output is not trivially uniform (the check above would be weak otherwise) */
        double spread = 0;
        for (int k = 0; k < 5; k++) spread = fmax(spread, fabs(ref_out[k] - 0.2));
        CHECK(spread > 0.02, "synthetic %d: reference output is too flat to test anything (%g)", variant, spread);
        sialo_model_free(sm);
    }
    sialo_graph_free(g);

    if (variant != 0) { free(file); return; }

    /* ---- hostile variants of the small file: every truncation */
    int trunc_ok = 1;
    for (size_t k = 0; k < n; k++) {
        sialo_graph *t = sialo_import_tflite(file, k);
        if (t || !sialo_error()[0]) { trunc_ok = 0; printf("  truncation to %zu bytes was accepted\n", k); sialo_graph_free(t); break; }
    }
    CHECK(trunc_ok, "every truncation of the %zu-byte synthetic file is refused", n);
    expect_fail(NULL, 0, "NULL, 0 bytes", NULL);
    expect_fail(file, 0, "0 bytes", "empty");

    /* seeded random byte flips: never a crash; a success must be a consistent graph */
    uint8_t *mut = malloc(n);
    int flips_ok = 1, nfail = 0, trials = 6000;
    for (int t = 0; t < trials; t++) {
        memcpy(mut, file, n);
        int k = 1 + (int)(rnd() % 4);
        for (int j = 0; j < k; j++) mut[rnd() % n] ^= (uint8_t)(1u + rnd() % 255);
        int r = robust_import(mut, n);
        if (r < 0) { flips_ok = 0; printf("  flip trial %d gave an inconsistent result\n", t); break; }
        nfail += r == 0;
    }
    printf("synthetic file (%zu bytes): %d random 1-4 byte corruptions, %d refused with a reason, the rest imported consistently\n",
           n, trials, nfail);
    CHECK(flips_ok, "random byte flips of the synthetic file");
    CHECK(nfail > trials / 4, "most random flips are detected (%d of %d refused)", nfail, trials);
    /* set a 32-bit word to extreme values at every aligned position */
    static const uint32_t extremes[] = {0x7fffffffu, 0xffffffffu, 0x80000000u, 0x10000u};
    int words_ok = 1;
    for (size_t p = 0; p + 4 <= n && words_ok; p += 4)
        for (int e = 0; e < 4; e++) {
            memcpy(mut, file, n);
            memcpy(mut + p, &extremes[e], 4);
            if (robust_import(mut, n) < 0) { words_ok = 0; printf("  word 0x%x at %zu\n", extremes[e], p); break; }
        }
    CHECK(words_ok, "extreme 32-bit words at every aligned position");

    /* targeted: vector lengths of 0x7fffffff */
    const struct { size_t at; const char *what; } lens[] = {
        {pos.tensors_len, "tensors vector"}, {pos.ops_len, "operators vector"}, {pos.buffers_len, "buffers vector"},
        {pos.codes_len, "operator codes vector"}, {pos.shape0_len, "shape vector"}, {pos.name0_len, "name string"},
        {pos.op0_inputs_len, "operator inputs vector"}};
    for (size_t i = 0; i < sizeof lens / sizeof *lens; i++) {
        memcpy(mut, file, n);
        uint32_t v = 0x7fffffffu;
        memcpy(mut + lens[i].at, &v, 4);
        char what[80];
        snprintf(what, sizeof what, "%s length 0x7fffffff", lens[i].what);
        expect_fail(mut, n, what, NULL);
    }
    /* root offset outside the file, soffset of a table outside, identifier, version */
    memcpy(mut, file, n);
    uint32_t big = (uint32_t)n + 100;
    memcpy(mut, &big, 4);
    expect_fail(mut, n, "root offset past the end", "outside");
    memcpy(mut, file, n);
    int32_t so = -(int32_t)n * 2;
    memcpy(mut + pos.tensor0_soff, &so, 4);
    expect_fail(mut, n, "table soffset outside the file", "vtable");
    memcpy(mut, file, n);
    memcpy(mut + 4, "TFL2", 4);
    expect_fail(mut, n, "wrong identifier", "TFL3");
    free(mut);
    free(file);

    /* structural variants built through the model description */
    syn_model b;
#define VARIANT(setup, what, needle)                       \
    do {                                                   \
        build_synth(&b, 0);                                \
        setup;                                             \
        size_t bn;                                         \
        uint8_t *bf = syn_write(&b, &bn, NULL);            \
        expect_fail(bf, bn, what, needle);                 \
        free(bf);                                          \
    } while (0)
    VARIANT(b.t[2].buffer_override = 1000, "buffer index out of range", "buffer");
    VARIANT(b.t[2].buffer_override = 0x7fffffff, "buffer index 0x7fffffff", "buffer");
    VARIANT(b.t[2].buffer_override = 0, "weights without data", NULL);
    VARIANT((b.t[4].dims[1] = 0x7fffffff), "activation dimension 0x7fffffff", "dimension");
    VARIANT((b.t[4].dims[2] = 0), "activation dimension 0", "dimension");
    VARIANT((b.t[4].dims[2] = -5), "negative dimension", "dimension");
    VARIANT((b.t[4].dims[1] = 65536, b.t[4].dims[2] = 65536), "activation with 2^32 elements", "large");
    VARIANT((b.t[2].dims[0] = 5), "filter shape disagrees with its data", "bytes");
    VARIANT((b.t[4].rank = 7), "rank 7", "dimensions");
    VARIANT((b.t[0].dims[3] = 4), "4-channel input", "RGB");
    VARIANT((b.t[4].dims[3] = 5), "declared output shape differs from the computed one", "declares");
    VARIANT((b.op[1].in[0] = 1000), "operator input index out of range", "tensor");
    VARIANT((b.op[1].in[0] = -1), "required input absent (-1)", "missing");
    VARIANT((b.op[1].out = 1000), "operator output index out of range", "tensor");
    VARIANT((b.op[1].in[0] = b.op[1].out), "operator reads its own output", "produces");
    VARIANT((b.op[2].out = b.op[1].out), "two operators write one tensor", "already");
    VARIANT((b.op[1].code = B_HARD_SWISH), "unsupported operator", "not supported");
    VARIANT((b.op[1].no_options = 1), "conv without options", "options");
    VARIANT((b.op[1].stride = 0), "stride 0", "stride");
    VARIANT((b.op[1].act = 4), "TANH activation", "activation");
    VARIANT((b.t[2].nq = 3), "3 scales for 4 channels", "scales");
    VARIANT((b.t[2].scale[1] = NAN), "NaN scale", "NaN");
    VARIANT((b.t[2].scale[0] = 1e38f, b.t[2].zp[0] = -100000), "weights overflowing float", "infinite");
    VARIANT((b.t[2].nq = 0), "integer weights without scale", "scale");
    VARIANT((b.version = 2), "schema version 2", "version");
    VARIANT((b.output = b.nt - 3), "output not produced by the last layer", "last layer");
#undef VARIANT
}

/* ================================================================== part 2: the real files */
typedef struct { int idx; double p; } ref_entry;
typedef struct { const char *photo; ref_entry top[5]; } ref_row;

/* Table A of ../shared/samples/imagenet/REFERENCE.md (weights dequantised, float32 network). */
static const ref_row table_quant[4] = {
    {"dog", {{250, .457}, {249, .135}, {252, .047}, {677, .043}, {538, .033}}},
    {"eagle", {{22, .462}, {23, .428}, {140, .041}, {136, .013}, {24, .013}}},
    {"giraffe", {{341, .420}, {139, .105}, {135, .071}, {136, .026}, {10, .021}}},
    {"horses", {{349, .545}, {356, .066}, {347, .037}, {350, .037}, {355, .027}}},
};
static const ref_row table_ptq[4] = {
    {"dog", {{250, .226}, {197, .055}, {252, .049}, {249, .037}, {445, .022}}},
    {"eagle", {{22, .435}, {23, .298}, {140, .028}, {136, .013}, {9, .010}}},
    {"giraffe", {{341, .072}, {139, .035}, {294, .022}, {354, .020}, {353, .020}}},
    {"horses", {{347, .123}, {349, .089}, {223, .037}, {346, .025}, {355, .025}}},
};

static void top5(const float *p, int n, int *idx) {
    for (int t = 0; t < 5; t++) {
        int best = -1;
        for (int k = 0; k < n; k++) {
            int used = 0;
            for (int u = 0; u < t; u++) used |= idx[u] == k;
            if (!used && (best < 0 || p[k] > p[best])) best = k;
        }
        idx[t] = best;
    }
}

/* trusted navigation of a real file (to place targeted corruptions) */
static uint32_t r32(const uint8_t *b, size_t p) { uint32_t v; memcpy(&v, b + p, 4); return v; }
static size_t nav_field(const uint8_t *b, size_t table, int id) {
    int32_t so;
    memcpy(&so, b + table, 4);
    size_t vt = (size_t)((int64_t)table - so);
    uint16_t vts, fo;
    memcpy(&vts, b + vt, 2);
    if (4u + 2u * (unsigned)id + 2 > vts) return 0;
    memcpy(&fo, b + vt + 4 + 2 * id, 2);
    return fo ? table + fo : 0;
}
static size_t nav_ref(const uint8_t *b, size_t table, int id) { /* target of a reference field */
    size_t f = nav_field(b, table, id);
    return f ? f + r32(b, f) : 0;
}
static size_t nav_elem(const uint8_t *b, size_t vec, uint32_t i) { size_t q = vec + 4 + 4 * (size_t)i; return q + r32(b, q); }

static void corrupt_real(const uint8_t *file, size_t n, const char *label) {
    uint8_t *mut = malloc(n);
    size_t root = r32(file, 0);
    size_t subgraphs = nav_ref(file, root, 2), buffers = nav_ref(file, root, 4), codes = nav_ref(file, root, 1);
    size_t sg = nav_elem(file, subgraphs, 0);
    size_t tensors = nav_ref(file, sg, 0), ops = nav_ref(file, sg, 3);
    size_t op0 = nav_elem(file, ops, 1); /* a CONV_2D in both files (the 2nd operator) */
    size_t op0_in = nav_ref(file, op0, 1);
    uint32_t wi = r32(file, op0_in + 4 + 4), di = r32(file, op0_in + 4); /* its filter and data tensors */
    size_t wt = nav_elem(file, tensors, wi), dt = nav_elem(file, tensors, di);
    size_t wt_buf = nav_field(file, wt, 2), wt_shape = nav_ref(file, wt, 0), dt_shape = nav_ref(file, dt, 0);
    size_t wt_name = nav_ref(file, wt, 3), op0_code = nav_field(file, op0, 0);
    size_t wbuf = nav_elem(file, buffers, r32(file, wt_buf)), wdata = nav_ref(file, wbuf, 0);
    CHECK(subgraphs && buffers && codes && tensors && ops && op0_in && wt_buf && wt_shape && dt_shape && wt_name && op0_code && wdata,
          "%s: navigation to the corruption targets", label);
    char what[160];
    const struct { size_t at; uint32_t v; const char *what; const char *needle; } pokes[] = {
        {0, (uint32_t)n + 64, "root offset past the end", "outside"},
        {tensors, 0x7fffffffu, "tensors vector length 0x7fffffff", NULL},
        {ops, 0x7fffffffu, "operators vector length 0x7fffffff", NULL},
        {buffers, 0x7fffffffu, "buffers vector length 0x7fffffff", NULL},
        {codes, 0x7fffffffu, "operator codes vector length 0x7fffffff", NULL},
        {wt_buf, r32(file, buffers), "buffer index = number of buffers", "buffer"},
        {wt_buf, 0xffffffffu, "buffer index 0xffffffff", "buffer"},
        {wt_shape + 4, 0x7fffffffu, "filter dimension 0x7fffffff", "dimension"},
        {wt_shape + 8, 0, "filter dimension 0", "dimension"},
        {wt_shape, 0x7fffffffu, "filter shape length 0x7fffffff", NULL},
        {dt_shape + 8, 100000, "activation 100000 high", NULL},
        {dt_shape + 12, 1u << 20, "activation 2^20 wide", NULL},
        {wt_name, 0x7fffffffu, "name length 0x7fffffff", NULL},
        {wdata, 0x7fffffffu, "buffer data length 0x7fffffff", NULL},
        {wdata, r32(file, wdata) - 1, "buffer data one byte short", "bytes"},
        {op0_code, 5000, "opcode index out of range", "operator code"},
        {op0_in + 4, 1000000, "operator input index out of range", "tensor"},
    };
    for (size_t i = 0; i < sizeof pokes / sizeof *pokes; i++) {
        if (!pokes[i].at && i) continue;
        memcpy(mut, file, n);
        memcpy(mut + pokes[i].at, &pokes[i].v, 4);
        snprintf(what, sizeof what, "%s: %s", label, pokes[i].what);
        expect_fail(mut, n, what, pokes[i].needle);
    }
    /* truncations inside the flatbuffer; it ends where the appended ZIP of associated files
     * (the labels) starts */
    size_t fb_end = n;
    for (size_t p = n - 4; p > 0; p--)
        if (r32(file, p) == 0x04034b50u) { fb_end = p; break; }
    CHECK(fb_end < n, "%s: the appended labels archive is found", label);
    const size_t cuts[] = {1, 4, 7, 8, 12, 31, 100, 1000, 4096, n / 8, n / 3, n / 2, fb_end - 4096, fb_end - 64};
    for (size_t i = 0; i < sizeof cuts / sizeof *cuts; i++) {
        snprintf(what, sizeof what, "%s truncated to %zu bytes", label, cuts[i]);
        expect_fail(file, cuts[i], what, NULL);
    }
    /* truncations inside the archive: the model is intact, the labels are not */
    const size_t zcuts[] = {fb_end + 10, n - 4096, n - 16};
    for (size_t i = 0; i < sizeof zcuts / sizeof *zcuts; i++) {
        sialo_graph *g = sialo_import_tflite(file, zcuts[i]);
        CHECK(g != NULL, "%s truncated to %zu bytes (inside the labels archive): model import: %s", label, zcuts[i], sialo_error());
        if (g) {
            int r = sialo_graph_set_labels_tflite(g, file, zcuts[i]);
            CHECK(r <= 0 && g->n_class_names == 0, "%s truncated to %zu bytes: labels %d", label, zcuts[i], r);
        }
        sialo_graph_free(g);
    }
    /* random flips in the archive: labels set, refused or absent, never a crash */
    {
        sialo_graph *g = sialo_import_tflite(file, n);
        int zok = g != NULL;
        memcpy(mut, file, n);
        for (int t = 0; g && t < 300; t++) {
            memcpy(mut + fb_end, file + fb_end, n - fb_end);
            for (int j = 0; j < 2; j++) {
                size_t p = fb_end + rnd() % (n - fb_end);
                if (rnd() % 2) p = n - 1 - rnd() % 128; /* the directory and end record */
                mut[p] ^= (uint8_t)(1u + rnd() % 255);
            }
            int r = sialo_graph_set_labels_tflite(g, mut, n);
            if (r < 0 && !sialo_error()[0]) zok = 0;
            if (r == 1 && g->n_class_names != 1001) zok = 0;
        }
        CHECK(zok, "%s: random flips in the labels archive", label);
        sialo_graph_free(g);
    }
    expect_fail(file, 0, "zero bytes", "empty");
    /* seeded random flips away from the weight bytes (so that they hit the structure) */
    int ok = 1;
    for (int t = 0; t < 60 && ok; t++) {
        memcpy(mut, file, n);
        for (int j = 0; j < 3; j++) {
            size_t p = rnd() % n;
            if (p > 8192 && p < n - 65536) p = rnd() % 8192; /* favour the head and the tail */
            mut[p] ^= (uint8_t)(1u + rnd() % 255);
        }
        ok = robust_import(mut, n) >= 0;
        if (!ok) printf("  %s: flip trial %d gave an inconsistent result\n", label, t);
    }
    CHECK(ok, "%s: random byte flips", label);
    free(mut);
}

static void test_real(const char *file, const ref_row *table, const char *label) {
    size_t n;
    uint8_t *bytes = slurp(file, &n);
    CHECK(bytes != NULL, "cannot read %s", file);
    if (!bytes) return;
    double t0 = sialo_now_ms();
    sialo_graph *g = sialo_import_tflite(bytes, n);
    double t1 = sialo_now_ms();
    CHECK(g != NULL, "%s: import: %s", label, sialo_error());
    if (!g) { free(bytes); return; }
    printf("%s: imported in %.0f ms: %d layers, %zu parameters\n", label, t1 - t0, g->n_nodes, sialo_graph_param_count(g));
    CHECK(!strcmp(g->arch, "mobilenetv2"), "%s: arch %s", label, g->arch);
    CHECK(g->in_h == 224 && g->in_w == 224 && g->in_c == 3 && g->n_classes == 1001, "%s: shapes", label);
    int o = node_named(g, "out_relu"), gp = node_named(g, "global_average_pooling2d"), lg = node_named(g, "Logits");
    CHECK(o > 0 && g->nodes[o].oc == 1280 && g->nodes[o].oh == 7 && g->nodes[o].op == OP_CONV && g->nodes[o].p[P_ACT] == ACT_RELU6,
          "%s: out_relu is the 7x7x1280 conv with ReLU6", label);
    CHECK(gp == o + 1 && g->nodes[gp].op == OP_GAP, "%s: global_average_pooling2d follows it", label);
    CHECK(lg == gp + 1 && g->nodes[lg].op == OP_DENSE && g->nodes[lg].oc == 1001, "%s: Logits is a dense 1001", label);
    CHECK(g->n_nodes - 1 == node_named(g, "Predictions") && g->nodes[g->n_nodes - 1].op == OP_SOFTMAX, "%s: Predictions", label);
    int dw = 0;
    for (int i = 0; i < g->n_nodes; i++) dw += g->nodes[i].op == OP_CONV && g->nodes[i].p[P_GROUPS] > 1;
    CHECK(dw == 17, "%s: 17 depthwise convs (%d)", label, dw);
    CHECK(g->n_class_names == 0, "%s: no class names before a labels file", label);

    /* labels: embedded in the file (appended ZIP), and from the labels file */
    int r = sialo_graph_set_labels_tflite(g, bytes, n);
    CHECK(r == 1 && g->n_class_names == 1001 && !strcmp(g->class_names[0], "background") &&
              !strncmp(g->class_names[250], "malamute,", 9) && !strncmp(g->class_names[1000], "toilet tissue,", 14),
          "%s: embedded labels: %d %s", label, r, r < 0 ? sialo_error() : "");
    CHECK(sialo_graph_set_labels_tflite(g, bytes, 100) == 0, "%s: no labels in the first 100 bytes", label);
    r = sialo_graph_set_labels_file(g, "../shared/pretrained/imagenet_labels.txt");
    CHECK(r == 0 && g->n_class_names == 1001 && !strcmp(g->class_names[0], "background") &&
              !strncmp(g->class_names[250], "malamute", 8),
          "%s: labels file: %s", label, r ? sialo_error() : "");
    char tmpl[] = "/tmp/sialo_labels_XXXXXX";
    int fd = mkstemp(tmpl);
    if (fd >= 0) {
        FILE *f = fdopen(fd, "w");
        fputs("a\nb\r\nc\n", f);
        fclose(f);
        CHECK(sialo_graph_set_labels_file(g, tmpl) < 0 && strstr(sialo_error(), "3 lines"), "labels with a wrong count: %s", sialo_error());
        CHECK(g->n_class_names == 1001, "a refused labels file leaves the names unchanged");
        unlink(tmpl);
    }
    CHECK(sialo_graph_set_labels_file(g, "/nonexistent/labels.txt") < 0 && sialo_error()[0], "missing labels file");

    /* write -> load -> forward on the reference inputs */
    sialo_model *m = load_graph(g, SIALO_BACKEND_OWN);
    CHECK(m != NULL, "%s: load converted model: %s", label, sialo_error());
    if (m) {
        sialo_info info;
        sialo_model_info(m, &info);
        CHECK(info.n_class_names == 1001 && info.n_classes == 1001, "%s: model info classes", label);
        float *in = malloc(224 * 224 * 3 * sizeof *in), *out = malloc(1001 * sizeof *out);
        for (int ph = 0; ph < 4; ph++) {
            char path[256];
            snprintf(path, sizeof path, "../shared/samples/imagenet/reference/%s-224.png", table[ph].photo);
            size_t pn;
            uint8_t *png = slurp(path, &pn);
            sialo_image img;
            if (!png || sialo_image_decode(png, pn, &img) < 0) { CHECK(0, "decode %s: %s", path, sialo_error()); free(png); continue; }
            free(png);
            CHECK(img.w == 224 && img.h == 224, "%s is 224x224", path);
            for (int k = 0; k < 224 * 224 * 3; k++) in[k] = img.rgb[k] * info.norm_scale[k % 3] + info.norm_bias[k % 3];
            sialo_image_free(&img);
            if (sialo_forward(m, in, out) < 0) { CHECK(0, "forward: %s", sialo_error()); continue; }
            int top[5];
            top5(out, 1001, top);
            printf("  %-8s", table[ph].photo);
            for (int k = 0; k < 5; k++) printf(" %d:%.3f", top[k], out[top[k]]);
            printf("   (table A:");
            for (int k = 0; k < 5; k++) printf(" %d:%.3f", table[ph].top[k].idx, table[ph].top[k].p);
            printf(")\n");
            /* same order; entries the table prints with equal probabilities (3 decimals) may swap */
            int order_ok = 1, prob_ok = 1;
            for (int k = 0; k < 5; k++) {
                if (top[k] != table[ph].top[k].idx) {
                    int tie = 0;
                    for (int j = 0; j < 5; j++)
                        tie |= table[ph].top[j].idx == top[k] && fabs(table[ph].top[j].p - table[ph].top[k].p) < 0.0015;
                    order_ok &= tie;
                }
                prob_ok &= fabs(out[table[ph].top[k].idx] - table[ph].top[k].p) <= 0.005;
            }
            CHECK(order_ok, "%s %s: top-5 order differs from table A", label, table[ph].photo);
            CHECK(prob_ok, "%s %s: a top-5 probability differs from table A by more than 0.005", label, table[ph].photo);
        }
        free(in);
        free(out);
        sialo_model_free(m);
    }
    sialo_graph_free(g);
    corrupt_real(bytes, n, label);
    free(bytes);
}

/* `test_import_tflite --seeds DIR`: write the synthetic models (the fuzzer's seeds) and stop */
static int write_seeds(const char *dir) {
    for (int variant = 0; variant < 2; variant++) {
        syn_model m;
        build_synth(&m, variant);
        size_t n;
        syn_pos pos;
        uint8_t *file = syn_write(&m, &n, &pos);
        char path[4096];
        snprintf(path, sizeof path, "%s/synthetic-%d.tflite", dir, variant);
        FILE *f = fopen(path, "wb");
        int ok = f && fwrite(file, 1, n, f) == n;
        if (f) fclose(f);
        free(file);
        if (!ok) { fprintf(stderr, "cannot write %s\n", path); return 1; }
    }
    return 0;
}

int main(int argc, char **argv) {
    if (argc == 3 && !strcmp(argv[1], "--seeds")) return write_seeds(argv[2]);
    test_synthetic(0);
    test_synthetic(1);
    if (access("../shared/pretrained/mobilenet_v2_1.0_224_quant.tflite", R_OK) != 0) {
        printf("SKIP the MobileNetV2 checks: ../shared/pretrained is absent (run from the repository root)\n");
    } else {
        test_real("../shared/pretrained/mobilenet_v2_1.0_224_quant.tflite", table_quant, "quant uint8");
        test_real("../shared/pretrained/tf2_mobilenet_v2_1.0_224_ptq.tflite", table_ptq, "tf2 int8 ptq");
    }
    return test_summary("test_import_tflite");
}
