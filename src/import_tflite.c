/* import_tflite.c — TensorFlow Lite flatbuffer (.tflite) -> float sialo_graph.
 *
 * Two layers:
 *   1. A strict, read-only flatbuffer reader (no flatc, no generated code). Every uoffset,
 *      vtable, field, vector length, string, buffer index and tensor index is checked against
 *      the bytes of the file before it is used; a hostile file gives an error, never a read
 *      outside the buffer. All arithmetic on file positions is done in uint64_t.
 *   2. A converter from the TFLite operator list of the first subgraph to graph.h nodes:
 *      quantised weights are dequantised to float (per tensor or per channel), filters are
 *      transposed to the Keras layouts graph.h uses, activation quantisation is dropped.
 *
 * Flatbuffer essentials used here (little-endian throughout):
 *   - the file starts with a u32 uoffset to the root table, then the 4-byte identifier "TFL3";
 *   - a table starts with an i32 soffset: vtable position = table position - soffset;
 *   - a vtable is u16 vtable size, u16 table size, then one u16 per field id: the field's
 *     offset from the table start, 0 = absent (the schema default applies);
 *   - a reference field (table, vector, string) holds a u32 uoffset relative to the field's own
 *     position; a vector is a u32 element count followed by the elements; a string is a byte
 *     vector (followed by a NUL we do not rely on); a union is a u8 type field + a table field.
 *
 * TFLite schema fields read (schema.fbs, field ids):
 *   Model          version:0 operator_codes:1 subgraphs:2 description:3 buffers:4
 *   OperatorCode   deprecated_builtin_code:0 (i8) custom_code:1 version:2 builtin_code:3 (i32)
 *   SubGraph       tensors:0 inputs:1 outputs:2 operators:3 name:4
 *   Tensor         shape:0 type:1 buffer:2 name:3 quantization:4 is_variable:5 sparsity:6
 *   Quantization   min:0 max:1 scale:2 zero_point:3 (i64) details_type:4 details:5 quantized_dimension:6
 *   Buffer         data:0 offset:1 (u64) size:2 (u64)   (offset/size: data outside the flatbuffer)
 *   Operator       opcode_index:0 inputs:1 outputs:2 builtin_options_type:3 builtin_options:4
 *   Conv2DOptions  padding:0 stride_w:1 stride_h:2 fused_activation_function:3 dilation_w:4 dilation_h:5
 *   DepthwiseConv2DOptions  padding:0 stride_w:1 stride_h:2 depth_multiplier:3 fused_act:4 dilation_w:5 dilation_h:6
 *   Pool2DOptions  padding:0 stride_w:1 stride_h:2 filter_width:3 filter_height:4 fused_act:5
 *   FullyConnectedOptions  fused_act:0 weights_format:1 keep_num_dims:2
 *   AddOptions     fused_act:0          SoftmaxOptions  beta:0          ReducerOptions keep_dims:0
 */
#include "importers.h"
#include "sialoscan.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------------ limits (hostile files) */
#define TFL_MAX_FILE ((uint64_t)0x7fffffff)     /* flatbuffers address at most 2 GB */
#define TFL_MAX_TENSORS 65536
#define TFL_MAX_OPS 16384
#define TFL_MAX_OPCODES 4096
#define TFL_MAX_RANK 6
#define TFL_MAX_DIM (1 << 24)
#define TFL_MAX_ELEMS ((uint64_t)1 << 28)       /* elements of one tensor */
#define TFL_MAX_PARAMS ((uint64_t)1 << 27)      /* float parameters of the whole graph (512 MB) */
#define TFL_MAX_NAME 160                         /* layer names are cut to this many bytes */

/* TFLite enums */
enum { TT_FLOAT32 = 0, TT_FLOAT16 = 1, TT_INT32 = 2, TT_UINT8 = 3, TT_INT64 = 4, TT_INT16 = 7, TT_INT8 = 9 };
enum {
    BO_ADD = 0, BO_AVERAGE_POOL_2D = 1, BO_CONV_2D = 3, BO_DEPTHWISE_CONV_2D = 4, BO_DEQUANTIZE = 6,
    BO_FULLY_CONNECTED = 9, BO_LOGISTIC = 14, BO_MAX_POOL_2D = 17, BO_RELU = 19, BO_RELU6 = 21,
    BO_RESHAPE = 22, BO_SOFTMAX = 25, BO_CUSTOM = 32, BO_PAD = 34, BO_MEAN = 40, BO_SQUEEZE = 43,
    BO_QUANTIZE = 114
};
enum { OPT_CONV2D = 1, OPT_DEPTHWISE = 2, OPT_POOL2D = 5, OPT_FC = 8, OPT_SOFTMAX = 9, OPT_ADD = 11, OPT_REDUCER = 27 };
enum { TPAD_SAME = 0, TPAD_VALID = 1 };
enum { TACT_NONE = 0, TACT_RELU = 1, TACT_RELU6 = 3 };

/* ================================================================== flatbuffer reader */
typedef struct {
    const uint8_t *p;
    uint64_t n;
} fb_file;

typedef struct {
    uint64_t pos;      /* table start */
    uint64_t vt;       /* vtable start */
    unsigned vtsize;   /* vtable bytes */
    unsigned tsize;    /* table bytes (inline part) */
} fb_table;

typedef struct {
    uint64_t pos;      /* position of element 0 */
    uint32_t len;      /* element count */
} fb_vec;

static uint16_t le16(const uint8_t *b) { return (uint16_t)(b[0] | b[1] << 8); }
static uint32_t le32(const uint8_t *b) {
    return (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
}
static uint64_t le64(const uint8_t *b) { return (uint64_t)le32(b) | (uint64_t)le32(b + 4) << 32; }
static float lef32(const uint8_t *b) {
    uint32_t u = le32(b);
    float f;
    memcpy(&f, &u, 4);
    return f;
}

/* A table at pos: check the table header, its vtable and the table's declared size. */
static int fb_table_at(const fb_file *f, uint64_t pos, fb_table *t, const char *what) {
    if (f->n < 4 || pos > f->n - 4)
        return sialo_fail("TFLite file is corrupt: %s table at offset %llu is outside the file (%llu bytes)",
                          what, (unsigned long long)pos, (unsigned long long)f->n);
    int32_t soff = (int32_t)le32(f->p + pos);
    int64_t vt = (int64_t)pos - (int64_t)soff;
    if (vt < 0 || (uint64_t)vt > f->n - 4)
        return sialo_fail("TFLite file is corrupt: %s table at offset %llu has its vtable outside the file",
                          what, (unsigned long long)pos);
    unsigned vts = le16(f->p + vt), ts = le16(f->p + vt + 2);
    if (vts < 4 || (vts & 1) || (uint64_t)vt + vts > f->n)
        return sialo_fail("TFLite file is corrupt: %s table at offset %llu has a bad vtable (size %u)",
                          what, (unsigned long long)pos, vts);
    if (ts < 4 || pos + ts > f->n)
        return sialo_fail("TFLite file is corrupt: %s table at offset %llu (size %u) runs past the end of the file",
                          what, (unsigned long long)pos, ts);
    t->pos = pos;
    t->vt = (uint64_t)vt;
    t->vtsize = vts;
    t->tsize = ts;
    return 0;
}

/* Field id of table t, `size` bytes inline. 1 = present (*abs = its file position), 0 = absent,
 * -1 = the field does not fit inside the table (error set). */
static int fb_field(const fb_file *f, const fb_table *t, int id, unsigned size, uint64_t *abs, const char *what) {
    unsigned slot = 4u + 2u * (unsigned)id;
    if (slot + 2 > t->vtsize) return 0;
    unsigned fo = le16(f->p + t->vt + slot);
    if (fo == 0) return 0;
    if (fo < 4 || fo + size > t->tsize)
        return sialo_fail("TFLite file is corrupt: field %d of a %s table lies outside the table", id, what);
    *abs = t->pos + fo;
    return 1;
}

/* scalar fields with their schema default; return 0 or -1 */
static int fb_int(const fb_file *f, const fb_table *t, int id, unsigned size, int is_signed, int64_t def,
                  int64_t *out, const char *what) {
    uint64_t a;
    int r = fb_field(f, t, id, size, &a, what);
    if (r < 0) return -1;
    if (r == 0) { *out = def; return 0; }
    const uint8_t *b = f->p + a;
    switch (size) {
    case 1: *out = is_signed ? (int64_t)(int8_t)b[0] : (int64_t)b[0]; break;
    case 2: *out = is_signed ? (int64_t)(int16_t)le16(b) : (int64_t)le16(b); break;
    case 4: *out = is_signed ? (int64_t)(int32_t)le32(b) : (int64_t)le32(b); break;
    default: *out = (int64_t)le64(b); break;
    }
    return 0;
}
static int fb_float(const fb_file *f, const fb_table *t, int id, float def, float *out, const char *what) {
    uint64_t a;
    int r = fb_field(f, t, id, 4, &a, what);
    if (r < 0) return -1;
    *out = r ? lef32(f->p + a) : def;
    return 0;
}

/* follow the uoffset stored at file position q; the target must leave room for 4 bytes */
static int fb_deref(const fb_file *f, uint64_t q, uint64_t *target, const char *what) {
    if (q > f->n - 4) return sialo_fail("TFLite file is corrupt: %s reference outside the file", what);
    uint64_t t = q + le32(f->p + q);
    if (t > f->n - 4 || t < 4)
        return sialo_fail("TFLite file is corrupt: %s points to offset %llu, outside the file (%llu bytes)",
                          what, (unsigned long long)t, (unsigned long long)f->n);
    *target = t;
    return 0;
}

/* a vector at position v with elements of elem bytes */
static int fb_vector_at(const fb_file *f, uint64_t v, unsigned elem, fb_vec *out, const char *what) {
    uint32_t len = le32(f->p + v);
    uint64_t room = f->n - (v + 4);
    if ((uint64_t)len * elem > room)
        return sialo_fail("TFLite file is corrupt: %s vector of %u elements runs past the end of the file", what, len);
    out->pos = v + 4;
    out->len = len;
    return 0;
}

/* reference fields: 1 present, 0 absent, -1 error */
static int fb_vec_field(const fb_file *f, const fb_table *t, int id, unsigned elem, fb_vec *out, const char *what) {
    uint64_t a, v;
    int r = fb_field(f, t, id, 4, &a, what);
    if (r <= 0) { out->pos = 0; out->len = 0; return r; }
    if (fb_deref(f, a, &v, what) < 0 || fb_vector_at(f, v, elem, out, what) < 0) return -1;
    return 1;
}
static int fb_table_field(const fb_file *f, const fb_table *t, int id, fb_table *out, const char *what) {
    uint64_t a, v;
    int r = fb_field(f, t, id, 4, &a, what);
    if (r <= 0) return r;
    if (fb_deref(f, a, &v, what) < 0 || fb_table_at(f, v, out, what) < 0) return -1;
    return 1;
}
/* element i of a vector of tables */
static int fb_vec_table(const fb_file *f, const fb_vec *v, uint32_t i, fb_table *out, const char *what) {
    uint64_t tp;
    if (i >= v->len) return sialo_fail("internal: vector index %u of %u", i, v->len);
    if (fb_deref(f, v->pos + 4ull * i, &tp, what) < 0) return -1;
    return fb_table_at(f, tp, out, what);
}
static int32_t fb_vec_i32(const fb_file *f, const fb_vec *v, uint32_t i) { return (int32_t)le32(f->p + v->pos + 4ull * i); }

/* ================================================================== parsed model */
typedef struct {
    int type;                      /* TensorType */
    int rank;
    int dims[TFL_MAX_RANK];
    uint64_t count;                /* product of dims */
    const uint8_t *data;           /* constant contents, or NULL */
    uint64_t data_len;
    const uint8_t *name;           /* not NUL-terminated */
    uint32_t name_len;
    fb_vec scale, zp;              /* quantisation: f32 scales, i64 zero points (len 0 = none) */
    int qdim;                      /* quantized_dimension */
} tfl_tensor;

typedef struct {
    int code;                      /* builtin operator */
    fb_vec in, out;                /* int32 tensor indices (-1 = optional input absent) */
    int opt_type;                  /* builtin_options_type */
    int has_opt;
    fb_table opt;
} tfl_op;

typedef struct {
    fb_file f;
    int n_tensors, n_ops;
    tfl_tensor *t;
    tfl_op *op;
    int input, output;             /* tensor indices */
    char desc[96];                 /* Model.description, sanitised */
} tfl_model;

static const char *op_label(int code) {
    switch (code) {
    case BO_ADD: return "ADD";
    case BO_AVERAGE_POOL_2D: return "AVERAGE_POOL_2D";
    case BO_CONV_2D: return "CONV_2D";
    case BO_DEPTHWISE_CONV_2D: return "DEPTHWISE_CONV_2D";
    case BO_DEQUANTIZE: return "DEQUANTIZE";
    case BO_FULLY_CONNECTED: return "FULLY_CONNECTED";
    case BO_LOGISTIC: return "LOGISTIC";
    case BO_MAX_POOL_2D: return "MAX_POOL_2D";
    case BO_RELU: return "RELU";
    case BO_RELU6: return "RELU6";
    case BO_RESHAPE: return "RESHAPE";
    case BO_SOFTMAX: return "SOFTMAX";
    case BO_PAD: return "PAD";
    case BO_MEAN: return "MEAN";
    case BO_SQUEEZE: return "SQUEEZE";
    case BO_QUANTIZE: return "QUANTIZE";
    case 2: return "CONCATENATION";
    case 18: return "MUL";
    case 41: return "SUB";
    case 117: return "HARD_SWISH";
    default: return "builtin";
    }
}

static size_t type_size(int type) {
    switch (type) {
    case TT_FLOAT32: case TT_INT32: return 4;
    case TT_FLOAT16: case TT_INT16: return 2;
    case TT_UINT8: case TT_INT8: return 1;
    case TT_INT64: return 8;
    default: return 0;
    }
}

/* copy a tensor name for messages: printable ASCII, bounded */
static void tname(const tfl_model *m, int ti, char *out, size_t cap) {
    size_t k = 0;
    if (ti >= 0 && ti < m->n_tensors) {
        const tfl_tensor *t = &m->t[ti];
        for (uint32_t i = 0; i < t->name_len && k + 1 < cap; i++) {
            uint8_t c = t->name[i];
            out[k++] = (c >= 32 && c < 127) ? (char)c : '?';
        }
    }
    if (k == 0 && cap > 8) k = (size_t)snprintf(out, cap, "#%d", ti);
    out[k < cap ? k : cap - 1] = 0;
}

static int parse_tensor(tfl_model *m, const fb_table *tt, int idx, const fb_vec *buffers) {
    const fb_file *f = &m->f;
    tfl_tensor *t = &m->t[idx];
    fb_vec shape, name;
    int64_t v;
    int r;
    if ((r = fb_vec_field(f, tt, 0, 4, &shape, "tensor shape")) < 0) return -1;
    if (fb_int(f, tt, 1, 1, 1, 0, &v, "tensor") < 0) return -1;
    t->type = (int)v;
    if ((r = fb_vec_field(f, tt, 3, 1, &name, "tensor name")) < 0) return -1;
    t->name = f->p + name.pos;
    t->name_len = name.len;
    char nm[80];
    tname(m, idx, nm, sizeof nm);
    if (shape.len > TFL_MAX_RANK)
        return sialo_fail("TFLite tensor '%s' has %u dimensions (at most %d supported)", nm, shape.len, TFL_MAX_RANK);
    t->rank = (int)shape.len;
    t->count = 1;
    for (uint32_t d = 0; d < shape.len; d++) {
        int32_t dv = fb_vec_i32(f, &shape, d);
        if (dv < 1 || dv > TFL_MAX_DIM)
            return sialo_fail("TFLite tensor '%s' has dimension %u of size %d (1..%d allowed)", nm, d, dv, TFL_MAX_DIM);
        t->dims[d] = dv;
        t->count *= (uint64_t)dv;
        if (t->count > TFL_MAX_ELEMS) return sialo_fail("TFLite tensor '%s' is absurdly large (more than %llu elements)",
                                                      nm, (unsigned long long)TFL_MAX_ELEMS);
    }
    uint64_t spa;
    if ((r = fb_field(f, tt, 6, 4, &spa, "tensor")) < 0) return -1;
    if (r) return sialo_fail("TFLite tensor '%s' is sparse; sparse tensors are not supported", nm);

    /* constant data */
    if (fb_int(f, tt, 2, 4, 0, 0, &v, "tensor") < 0) return -1;
    if ((uint64_t)v >= buffers->len)
        return sialo_fail("TFLite file is corrupt: tensor '%s' refers to buffer %lld of %u", nm, (long long)v, buffers->len);
    fb_table bt;
    fb_vec data;
    if (fb_vec_table(f, buffers, (uint32_t)v, &bt, "buffer") < 0) return -1;
    if ((r = fb_vec_field(f, &bt, 0, 1, &data, "buffer data")) < 0) return -1;
    if (data.len > 0) {
        t->data = f->p + data.pos;
        t->data_len = data.len;
    } else {
        int64_t off, sz;
        if (fb_int(f, &bt, 1, 8, 0, 0, &off, "buffer") < 0 || fb_int(f, &bt, 2, 8, 0, 0, &sz, "buffer") < 0) return -1;
        if (off > 1) { /* data stored after the flatbuffer (files > 2 GB); offset 1 = "none" marker */
            if ((uint64_t)off > f->n || (uint64_t)sz > f->n - (uint64_t)off)
                return sialo_fail("TFLite file is corrupt: data of tensor '%s' (offset %lld, %lld bytes) is outside the file",
                                  nm, (long long)off, (long long)sz);
            if (sz > 0) { t->data = f->p + off; t->data_len = (uint64_t)sz; }
        }
    }
    if (t->data) {
        size_t es = type_size(t->type);
        if (es == 0) return sialo_fail("TFLite tensor '%s' holds constants of unsupported type %d", nm, t->type);
        if (t->data_len != t->count * es)
            return sialo_fail("TFLite file is corrupt: tensor '%s' has %llu bytes of data, its shape needs %llu",
                              nm, (unsigned long long)t->data_len, (unsigned long long)(t->count * es));
    }

    /* quantisation */
    fb_table qt;
    if ((r = fb_table_field(f, tt, 4, &qt, "quantization")) < 0) return -1;
    t->scale.len = t->zp.len = 0;
    t->qdim = 0;
    if (r) {
        if (fb_vec_field(f, &qt, 2, 4, &t->scale, "quantization scale") < 0) return -1;
        if (fb_vec_field(f, &qt, 3, 8, &t->zp, "quantization zero point") < 0) return -1;
        if (fb_int(f, &qt, 4, 1, 0, 0, &v, "quantization") < 0) return -1;
        if (v != 0) return sialo_fail("TFLite tensor '%s' uses custom quantization (not supported)", nm);
        if (fb_int(f, &qt, 6, 4, 1, 0, &v, "quantization") < 0) return -1;
        if (t->scale.len > 1) {
            if (v < 0 || v >= t->rank || (uint32_t)t->dims[v] != t->scale.len)
                return sialo_fail("TFLite file is corrupt: tensor '%s' has %u scales for quantized dimension %lld",
                                  nm, t->scale.len, (long long)v);
        }
        t->qdim = (int)(v >= 0 && v < TFL_MAX_RANK ? v : 0);
        if (t->zp.len > 1 && t->zp.len != t->scale.len)
            return sialo_fail("TFLite file is corrupt: tensor '%s' has %u zero points for %u scales", nm, t->zp.len, t->scale.len);
        for (uint32_t i = 0; i < t->scale.len; i++) {
            float s = lef32(f->p + t->scale.pos + 4ull * i);
            if (!(s - s == 0.0f)) return sialo_fail("TFLite tensor '%s' has a NaN or infinite quantization scale", nm);
        }
    }
    return 0;
}

/* resolve an OperatorCode table to its builtin code */
static int parse_opcode(const fb_file *f, const fb_table *ot, int *code) {
    int64_t dep, bc;
    if (fb_int(f, ot, 0, 1, 1, 0, &dep, "operator code") < 0) return -1;
    if (fb_int(f, ot, 3, 4, 1, 0, &bc, "operator code") < 0) return -1;
    /* newer files set builtin_code; older ones only the deprecated byte (min(code, 127)) */
    int64_t c = bc > dep ? bc : dep;
    if (c < 0 || c > 100000) return sialo_fail("TFLite file is corrupt: operator code %lld", (long long)c);
    if (c == BO_CUSTOM) {
        fb_vec cc;
        char nm[64] = "?";
        if (fb_vec_field(f, ot, 1, 1, &cc, "custom code") < 0) return -1;
        size_t k = 0;
        for (uint32_t i = 0; i < cc.len && k + 1 < sizeof nm; i++) {
            uint8_t ch = f->p[cc.pos + i];
            nm[k++] = ch >= 32 && ch < 127 ? (char)ch : '?';
        }
        if (k) nm[k] = 0;
        return sialo_fail("the TFLite model uses the custom operator '%s' (not supported)", nm);
    }
    *code = (int)c;
    return 0;
}

/* check a vector of int32 tensor indices */
static int check_indices(const tfl_model *m, const fb_vec *v, int allow_absent, const char *what, int op) {
    for (uint32_t i = 0; i < v->len; i++) {
        int32_t x = fb_vec_i32(&m->f, v, i);
        if ((x == -1 && allow_absent) || (x >= 0 && x < m->n_tensors)) continue;
        return sialo_fail("TFLite file is corrupt: %s %u of operator %d refers to tensor %d of %d", what, i, op, x, m->n_tensors);
    }
    return 0;
}

static int parse_model(tfl_model *m, const void *data, size_t size) {
    memset(m, 0, sizeof *m);
    if (!data || size == 0) return sialo_fail("TFLite file is empty (0 bytes)");
    if (size < 8) return sialo_fail("TFLite file is truncated: %zu bytes", size);
    if ((uint64_t)size > TFL_MAX_FILE) return sialo_fail("TFLite file is too large (%zu bytes; at most 2 GB)", size);
    fb_file *f = &m->f;
    f->p = data;
    f->n = size;
    if (memcmp(f->p + 4, "TFL3", 4) != 0)
        return sialo_fail("not a TensorFlow Lite file (no \"TFL3\" identifier at offset 4)");
    fb_table root, sg;
    uint64_t rp;
    if (fb_deref(f, 0, &rp, "root table") < 0 || fb_table_at(f, rp, &root, "Model") < 0) return -1;
    int64_t ver;
    if (fb_int(f, &root, 0, 4, 0, 0, &ver, "Model") < 0) return -1;
    if (ver != 3) return sialo_fail("unsupported TFLite schema version %lld (this importer reads version 3)", (long long)ver);

    fb_vec desc;
    if (fb_vec_field(f, &root, 3, 1, &desc, "description") < 0) return -1;
    size_t k = 0;
    for (uint32_t i = 0; i < desc.len && k + 1 < sizeof m->desc; i++) {
        uint8_t c = f->p[desc.pos + i];
        m->desc[k++] = c >= 32 && c < 127 ? (char)c : '?';
    }
    m->desc[k] = 0;

    fb_vec codes, subgraphs, buffers, tensors, ins, outs, ops;
    if (fb_vec_field(f, &root, 1, 4, &codes, "operator_codes") < 0) return -1;
    if (fb_vec_field(f, &root, 2, 4, &subgraphs, "subgraphs") < 0) return -1;
    if (fb_vec_field(f, &root, 4, 4, &buffers, "buffers") < 0) return -1;
    if (subgraphs.len < 1) return sialo_fail("TFLite file has no subgraph");
    if (codes.len > TFL_MAX_OPCODES) return sialo_fail("TFLite file is corrupt: %u operator codes", codes.len);
    if (fb_vec_table(f, &subgraphs, 0, &sg, "SubGraph") < 0) return -1;
    if (fb_vec_field(f, &sg, 0, 4, &tensors, "tensors") < 0) return -1;
    if (fb_vec_field(f, &sg, 1, 4, &ins, "subgraph inputs") < 0) return -1;
    if (fb_vec_field(f, &sg, 2, 4, &outs, "subgraph outputs") < 0) return -1;
    if (fb_vec_field(f, &sg, 3, 4, &ops, "operators") < 0) return -1;
    if (tensors.len < 1 || tensors.len > TFL_MAX_TENSORS)
        return sialo_fail("TFLite file has %u tensors (1..%d supported)", tensors.len, TFL_MAX_TENSORS);
    if (ops.len < 1 || ops.len > TFL_MAX_OPS)
        return sialo_fail("TFLite file has %u operators (1..%d supported)", ops.len, TFL_MAX_OPS);

    m->n_tensors = (int)tensors.len;
    m->t = sialo_xcalloc(tensors.len, sizeof *m->t);
    if (!m->t) return -1;
    for (uint32_t i = 0; i < tensors.len; i++) {
        fb_table tt;
        if (fb_vec_table(f, &tensors, i, &tt, "Tensor") < 0 || parse_tensor(m, &tt, (int)i, &buffers) < 0) return -1;
    }

    if (ins.len != 1 || outs.len != 1)
        return sialo_fail("the TFLite model has %u inputs and %u outputs (exactly one of each supported)", ins.len, outs.len);
    m->input = fb_vec_i32(f, &ins, 0);
    m->output = fb_vec_i32(f, &outs, 0);
    if (m->input < 0 || m->input >= m->n_tensors || m->output < 0 || m->output >= m->n_tensors)
        return sialo_fail("TFLite file is corrupt: subgraph input/output tensor index out of range");

    int *opcode = sialo_xcalloc(codes.len ? codes.len : 1, sizeof *opcode);
    if (!opcode) return -1;
    for (uint32_t i = 0; i < codes.len; i++) {
        fb_table ot;
        opcode[i] = -1;
        /* resolve lazily: only codes that operators use must be valid (custom ones may be unused) */
        if (fb_vec_table(f, &codes, i, &ot, "OperatorCode") < 0) { free(opcode); return -1; }
    }
    m->n_ops = (int)ops.len;
    m->op = sialo_xcalloc(ops.len, sizeof *m->op);
    if (!m->op) { free(opcode); return -1; }
    for (uint32_t i = 0; i < ops.len; i++) {
        tfl_op *o = &m->op[i];
        fb_table ot;
        int64_t oi, ty;
        if (fb_vec_table(f, &ops, i, &ot, "Operator") < 0) goto fail;
        if (fb_int(f, &ot, 0, 4, 0, 0, &oi, "Operator") < 0) goto fail;
        if ((uint64_t)oi >= codes.len) {
            sialo_fail("TFLite file is corrupt: operator %u uses operator code %lld of %u", i, (long long)oi, codes.len);
            goto fail;
        }
        if (opcode[oi] < 0) {
            fb_table ct;
            if (fb_vec_table(f, &codes, (uint32_t)oi, &ct, "OperatorCode") < 0 || parse_opcode(f, &ct, &opcode[oi]) < 0) goto fail;
        }
        o->code = opcode[oi];
        if (fb_vec_field(f, &ot, 1, 4, &o->in, "operator inputs") < 0) goto fail;
        if (fb_vec_field(f, &ot, 2, 4, &o->out, "operator outputs") < 0) goto fail;
        if (check_indices(m, &o->in, 1, "input", (int)i) < 0 || check_indices(m, &o->out, 0, "output", (int)i) < 0) goto fail;
        if (fb_int(f, &ot, 3, 1, 0, 0, &ty, "Operator") < 0) goto fail;
        o->opt_type = (int)ty;
        int r = fb_table_field(f, &ot, 4, &o->opt, "builtin options");
        if (r < 0) goto fail;
        o->has_opt = r;
    }
    free(opcode);
    return 0;
fail:
    free(opcode);
    return -1;
}

static void free_model(tfl_model *m) {
    free(m->t);
    free(m->op);
    m->t = NULL;
    m->op = NULL;
}

/* ================================================================== dequantisation */
/* Tensor contents as floats, in TFLite layout. malloc'ed; NULL + error on failure. */
static float *dequantize(const tfl_model *m, int ti) {
    const tfl_tensor *t = &m->t[ti];
    char nm[80];
    tname(m, ti, nm, sizeof nm);
    if (!t->data) return sialo_fail_null("TFLite tensor '%s' should hold constant weights but has no data", nm);
    float *out = malloc((size_t)t->count * sizeof *out);
    if (!out) return sialo_fail_null("out of memory dequantising '%s'", nm);
    const uint8_t *d = t->data, *fp = m->f.p;
    int quant = t->type != TT_FLOAT32 && t->type != TT_FLOAT16;
    if (quant && t->scale.len == 0) {
        free(out);
        return sialo_fail_null("TFLite tensor '%s' holds integers but has no quantization scale", nm);
    }
    /* per-channel: channel of flat element k = (k / stride) % dims[qdim] */
    uint64_t stride = 1;
    uint32_t nch = t->scale.len > 1 ? t->scale.len : 1;
    if (nch > 1)
        for (int dd = t->qdim + 1; dd < t->rank; dd++) stride *= (uint64_t)t->dims[dd];
    for (uint64_t k = 0; k < t->count; k++) {
        double q;
        switch (t->type) {
        case TT_FLOAT32: out[k] = lef32(d + 4 * k); goto check;
        case TT_FLOAT16: out[k] = sialo_f16_to_f32(le16(d + 2 * k)); goto check;
        case TT_UINT8: q = d[k]; break;
        case TT_INT8: q = (int8_t)d[k]; break;
        case TT_INT16: q = (int16_t)le16(d + 2 * k); break;
        case TT_INT32: q = (int32_t)le32(d + 4 * k); break;
        default:
            free(out);
            return sialo_fail_null("TFLite tensor '%s' has unsupported type %d for weights", nm, t->type);
        }
        {
            uint32_t ch = nch > 1 ? (uint32_t)((k / stride) % nch) : 0;
            double s = lef32(fp + t->scale.pos + 4ull * ch);
            double z = 0;
            if (t->zp.len) z = (double)(int64_t)le64(fp + t->zp.pos + 8ull * (t->zp.len > 1 ? ch : 0));
            out[k] = (float)(s * (q - z));
        }
    check:
        if (!(out[k] - out[k] == 0.0f)) {
            free(out);
            return sialo_fail_null("TFLite tensor '%s' holds NaN or infinite weights", nm);
        }
    }
    return out;
}

/* ================================================================== name set (unique layer names) */
typedef struct {
    char **slot;
    size_t cap, n;
} name_set;

static uint64_t hash_str(const char *s) {
    uint64_t h = 1469598103934665603ull;
    for (; *s; s++) h = (h ^ (uint8_t)*s) * 1099511628211ull;
    return h;
}
static int ns_has(const name_set *ns, const char *s) {
    for (size_t i = hash_str(s) & (ns->cap - 1);; i = (i + 1) & (ns->cap - 1)) {
        if (!ns->slot[i]) return 0;
        if (!strcmp(ns->slot[i], s)) return 1;
    }
}
static int ns_add(name_set *ns, const char *s) {
    if (2 * (ns->n + 1) > ns->cap) return sialo_fail("internal: name set full");
    char *d = sialo_strdup(s);
    if (!d) return -1;
    size_t i = hash_str(s) & (ns->cap - 1);
    while (ns->slot[i]) i = (i + 1) & (ns->cap - 1);
    ns->slot[i] = d;
    ns->n++;
    return 0;
}
static void ns_free(name_set *ns) {
    for (size_t i = 0; i < ns->cap; i++) free(ns->slot[i]);
    free(ns->slot);
}

/* ================================================================== conversion */
typedef struct {
    tfl_model *m;
    sialo_graph *g;
    int *tnode;        /* tensor -> graph node producing it, -1 */
    int *tconst;       /* tensor -> tensor holding its constant value (itself, or through DEQUANTIZE), -1 */
    int *producer;     /* tensor -> operator producing it, -1 */
    const char **opname; /* operator -> reserved special name, or NULL */
    name_set names;
    uint64_t params;
} conv_ctx;

/* A TFLite activation tensor as (h, w, c) of one image: [1,H,W,C] or [1,C] or [C]. */
static int tensor_hwc(const tfl_tensor *t, int s[3]) {
    if (t->rank == 4 && t->dims[0] == 1) { s[0] = t->dims[1]; s[1] = t->dims[2]; s[2] = t->dims[3]; return 0; }
    if (t->rank == 2 && t->dims[0] == 1) { s[0] = 1; s[1] = 1; s[2] = t->dims[1]; return 0; }
    if (t->rank == 1) { s[0] = 1; s[1] = 1; s[2] = t->dims[0]; return 0; }
    return -1;
}

static void op_error(conv_ctx *c, int oi, const char *why) {
    char nm[80] = "?";
    const tfl_op *o = &c->m->op[oi];
    if (o->out.len) tname(c->m, fb_vec_i32(&c->m->f, &o->out, 0), nm, sizeof nm);
    sialo_set_error("TFLite operator %d (%s, output '%s'): %s", oi, op_label(o->code), nm, why);
}
/* sets the error and is -1, visibly to the compiler (as sialo_fail) */
#define op_fail(c, oi, why) (op_error(c, oi, why), sialo_minus_one())

/* input k of operator oi as a tensor index (-1 if absent) */
static int op_in(const conv_ctx *c, int oi, uint32_t k) {
    const tfl_op *o = &c->m->op[oi];
    return k < o->in.len ? fb_vec_i32(&c->m->f, &o->in, k) : -1;
}
static int op_out(const conv_ctx *c, int oi) { return fb_vec_i32(&c->m->f, &c->m->op[oi].out, 0); }

/* graph node of an activation input; `spatial`: its TFLite shape must equal the node's shape */
static int data_input(conv_ctx *c, int oi, uint32_t k, int spatial) {
    int ti = op_in(c, oi, k);
    if (ti < 0) return op_fail(c, oi, "a data input is missing");
    int node = c->tnode[ti];
    if (node < 0) {
        if (c->tconst[ti] >= 0) return op_fail(c, oi, "a constant is used as data (not supported)");
        return op_fail(c, oi, "reads a tensor that no earlier operator produces");
    }
    const sialo_node *n = &c->g->nodes[node];
    int s[3];
    if (tensor_hwc(&c->m->t[ti], s) < 0) return op_fail(c, oi, "input tensor has an unsupported shape");
    if (spatial ? (s[0] != n->oh || s[1] != n->ow || s[2] != n->oc)
                : ((uint64_t)s[0] * s[1] * s[2] != (uint64_t)n->oh * n->ow * n->oc))
        return op_fail(c, oi, "input shape disagrees with the producing layer");
    return node;
}

/* constant input k (through DEQUANTIZE of a constant); returns its tensor index */
static int const_input(conv_ctx *c, int oi, uint32_t k, int optional) {
    int ti = op_in(c, oi, k);
    if (ti < 0) return optional ? -2 : op_fail(c, oi, "a weight input is missing");
    if (c->tconst[ti] < 0) return op_fail(c, oi, "weights are not constants (not supported)");
    return c->tconst[ti];
}

static int map_act(conv_ctx *c, int oi, int64_t a, int *act) {
    if (a == TACT_NONE) *act = ACT_NONE;
    else if (a == TACT_RELU) *act = ACT_RELU;
    else if (a == TACT_RELU6) *act = ACT_RELU6;
    else return op_fail(c, oi, "fused activation function not supported (only none, RELU, RELU6)");
    return 0;
}

/* Layer name for operator oi: a reserved one (tail of the network) or one derived from the
 * output tensor's name: the part before ';', without the leading scope ("MobilenetV2/") and
 * without trailing TF op segments ("Relu6", "add_fold", "batch_norm/FusedBatchNormV3", ...),
 * '/' and unprintable bytes replaced by '_', made unique with a "_N" suffix.
 * e.g. "MobilenetV2/expanded_conv_1/expand/Relu6;..." -> "expanded_conv_1_expand". */
static int is_op_segment(const uint8_t *s, size_t n) {
    static const char *const seg[] = {"Relu6", "relu6", "Relu", "relu", "add_fold", "BiasAdd", "Conv2D",
                                      "Conv2D_Fold", "FusedBatchNormV3", "batch_norm", "BatchNorm", "add",
                                      "depthwise_Fold", "Reshape", "Squeeze", "Mean", "Softmax", "AvgPool"};
    for (size_t i = 0; i < sizeof seg / sizeof *seg; i++)
        if (strlen(seg[i]) == n && !memcmp(seg[i], s, n)) return 1;
    return 0;
}

static int make_name(conv_ctx *c, int oi, const char *suffix, char *out, size_t cap) {
    if (!suffix && c->opname[oi]) {
        snprintf(out, cap, "%s", c->opname[oi]);
        return 0; /* reserved in the set already */
    }
    int ti = op_out(c, oi);
    const tfl_tensor *t = &c->m->t[ti];
    char base[TFL_MAX_NAME + 1];
    size_t k = 0;
    uint32_t start = 0, end = t->name_len < 4096 ? t->name_len : 4096; /* long names: the head is enough */
    for (uint32_t i = 0; i < end; i++)
        if (t->name[i] == ';') { end = i; break; }
    for (uint32_t i = start; i < end; i++) /* drop the first scope if something follows it */
        if (t->name[i] == '/' && i + 1 < end) { start = i + 1; break; }
    for (;;) { /* drop trailing op segments while two or more segments remain */
        uint32_t i = end;
        while (i > start && t->name[i - 1] != '/') i--;
        if (i <= start + 1 || !is_op_segment(t->name + i, end - i)) break;
        end = i - 1;
    }
    for (uint32_t i = start; i < end && k < TFL_MAX_NAME; i++) {
        uint8_t ch = t->name[i];
        base[k++] = (ch > 32 && ch < 127 && ch != '/') ? (char)ch : '_';
    }
    base[k] = 0;
    if (k == 0) snprintf(base, sizeof base, "%s_%d", op_label(c->m->op[oi].code), oi);
    char cand[TFL_MAX_NAME + 48];
    snprintf(cand, sizeof cand, "%s%s", base, suffix ? suffix : "");
    for (int n = 1; ns_has(&c->names, cand); n++) snprintf(cand, sizeof cand, "%s%s_%d", base, suffix ? suffix : "", n);
    if (ns_add(&c->names, cand) < 0) return -1;
    snprintf(out, cap, "%s", cand);
    return 0;
}

/* record: operator oi's output tensor is graph node `node`; check the node's shape */
static int bind_output(conv_ctx *c, int oi, int node) {
    if (node < 0) {
        char why[300];
        snprintf(why, sizeof why, "%s", sialo_error());
        return op_fail(c, oi, why);
    }
    int ti = op_out(c, oi), s[3];
    const sialo_node *n = &c->g->nodes[node];
    if (tensor_hwc(&c->m->t[ti], s) < 0) return op_fail(c, oi, "output tensor has an unsupported shape");
    if (s[0] != n->oh || s[1] != n->ow || s[2] != n->oc) {
        char why[200];
        snprintf(why, sizeof why, "the converted layer computes %dx%dx%d but the file declares %dx%dx%d",
                 n->oh, n->ow, n->oc, s[0], s[1], s[2]);
        return op_fail(c, oi, why);
    }
    c->tnode[ti] = node;
    return 0;
}

/* fill graph tensor gt from TFLite constant ti, in the layout `kind` */
enum { LAY_COPY, LAY_CONV, LAY_FC };
static int fill(conv_ctx *c, int oi, int gt, int ti, int kind, const int *tdims) {
    sialo_tensor *dst = &c->g->tensors[gt];
    const tfl_tensor *t = &c->m->t[ti];
    if (t->count != dst->count) return op_fail(c, oi, "weight tensor size does not match the layer");
    float *w = dequantize(c->m, ti);
    if (!w) {
        char why[300];
        snprintf(why, sizeof why, "%s", sialo_error());
        return op_fail(c, oi, why);
    }
    if (kind == LAY_CONV) { /* [OC,KH,KW,IC] -> [KH,KW,IC,OC] */
        size_t oc = (size_t)tdims[0], khw_ic = (size_t)tdims[1] * tdims[2] * tdims[3];
        for (size_t o = 0; o < oc; o++)
            for (size_t r = 0; r < khw_ic; r++) dst->data[r * oc + o] = w[o * khw_ic + r];
    } else if (kind == LAY_FC) { /* [OUT,IN] -> [IN,OUT] */
        size_t no = (size_t)tdims[0], ni = (size_t)tdims[1];
        for (size_t o = 0; o < no; o++)
            for (size_t i = 0; i < ni; i++) dst->data[i * no + o] = w[o * ni + i];
    } else {
        memcpy(dst->data, w, dst->count * sizeof *w);
    }
    free(w);
    return 0;
}

/* count a layer's parameters against the budget before its tensors are allocated (operators
 * may share one weight buffer, so the file size alone does not bound the graph) */
static int budget(conv_ctx *c, int oi, uint64_t weights, uint64_t bias) {
    c->params += weights + bias;
    if (c->params > TFL_MAX_PARAMS) return op_fail(c, oi, "the model has too many parameters");
    return 0;
}

static int get_opts(conv_ctx *c, int oi, int type, fb_table *opt) {
    const tfl_op *o = &c->m->op[oi];
    if (!o->has_opt || o->opt_type != type) return op_fail(c, oi, "its options are missing or of the wrong type");
    *opt = o->opt;
    return 0;
}

/* CONV_2D and DEPTHWISE_CONV_2D; a 1x1 conv on a 1x1 map becomes a dense layer */
static int do_conv(conv_ctx *c, int oi, int depthwise) {
    const fb_file *f = &c->m->f;
    fb_table opt;
    int64_t pad, sw, sh, act, dw, dh;
    if (get_opts(c, oi, depthwise ? OPT_DEPTHWISE : OPT_CONV2D, &opt) < 0) return -1;
    int ia = depthwise ? 4 : 3, id = depthwise ? 5 : 4;
    if (fb_int(f, &opt, 0, 1, 1, 0, &pad, "conv options") < 0 || fb_int(f, &opt, 1, 4, 1, 0, &sw, "conv options") < 0 ||
        fb_int(f, &opt, 2, 4, 1, 0, &sh, "conv options") < 0 || fb_int(f, &opt, ia, 1, 1, 0, &act, "conv options") < 0 ||
        fb_int(f, &opt, id, 4, 1, 1, &dw, "conv options") < 0 || fb_int(f, &opt, id + 1, 4, 1, 1, &dh, "conv options") < 0)
        return -1;
    if (dw != 1 || dh != 1) return op_fail(c, oi, "dilated convolution is not supported");
    if (sw < 1 || sh < 1 || sw > 64 || sh > 64) return op_fail(c, oi, "stride out of range");
    if (pad != TPAD_SAME && pad != TPAD_VALID) return op_fail(c, oi, "unknown padding");
    int gact;
    if (map_act(c, oi, act, &gact) < 0) return -1;
    int in = data_input(c, oi, 0, 1);
    if (in < 0) return -1;
    int wt = const_input(c, oi, 1, 0);
    if (wt < 0) return -1;
    int bt = const_input(c, oi, 2, 1);
    if (bt == -1) return -1;
    const tfl_tensor *w = &c->m->t[wt];
    int cin = c->g->nodes[in].oc, ih = c->g->nodes[in].oh, iw = c->g->nodes[in].ow;
    if (w->rank != 4) return op_fail(c, oi, "filter is not 4-dimensional");
    int kh = w->dims[1], kw = w->dims[2], cout, groups;
    if (depthwise) {
        if (w->dims[0] != 1) return op_fail(c, oi, "depthwise filter must be [1,KH,KW,C*multiplier]");
        cout = w->dims[3];
        if (cout % cin) return op_fail(c, oi, "depthwise output channels are not a multiple of the input channels");
        groups = cin;
    } else {
        cout = w->dims[0];
        if (w->dims[3] != cin) return op_fail(c, oi, "filter input channels differ from the input (grouped conv not supported)");
        groups = 1;
    }
    if (kh > 64 || kw > 64) return op_fail(c, oi, "kernel larger than 64");
    if (bt >= 0 && (c->m->t[bt].count != (uint64_t)cout)) return op_fail(c, oi, "bias size differs from the output channels");
    if (budget(c, oi, w->count, (uint64_t)cout) < 0) return -1;
    char name[TFL_MAX_NAME + 64];
    if (make_name(c, oi, NULL, name, sizeof name) < 0) return -1;
    int node;
    int dense = !depthwise && kh == 1 && kw == 1 && ih == 1 && iw == 1;
    if (dense) {
        node = gb_dense(c->g, name, in, cout, 1, gact);
    } else if (sh == sw) {
        node = gb_conv(c->g, name, in, kh, kw, (int)sh, pad == TPAD_SAME ? PAD_SAME : PAD_VALID, groups, cout, 1, gact);
    } else { /* TF 'same' padding resolved by hand for unequal strides */
        int pt = 0, pb = 0, pl = 0, pr = 0;
        if (pad == TPAD_SAME) {
            int oh = (ih + (int)sh - 1) / (int)sh, ow = (iw + (int)sw - 1) / (int)sw;
            int th = (oh - 1) * (int)sh + kh - ih, tw = (ow - 1) * (int)sw + kw - iw;
            if (th < 0) th = 0;
            if (tw < 0) tw = 0;
            pt = th / 2; pb = th - pt; pl = tw / 2; pr = tw - pl;
        }
        node = gb_conv_explicit(c->g, name, in, kh, kw, (int)sh, (int)sw, pt, pb, pl, pr, groups, cout, 1, gact);
    }
    if (bind_output(c, oi, node) < 0) return -1;
    const sialo_node *n = &c->g->nodes[node];
    /* depthwise [1,KH,KW,C*m] has the memory order of [KH,KW,1,C*m]; dense [OC,1,1,IC] is [OC,IC] */
    int fcd[2] = {cout, cin};
    if (fill(c, oi, n->t[0], wt, depthwise ? LAY_COPY : dense ? LAY_FC : LAY_CONV, dense ? fcd : w->dims) < 0) return -1;
    if (bt >= 0 && fill(c, oi, c->g->nodes[node].t[1], bt, LAY_COPY, NULL) < 0) return -1;
    return 0;
}

static int do_fc(conv_ctx *c, int oi) {
    const fb_file *f = &c->m->f;
    fb_table opt;
    int64_t act, fmt;
    if (get_opts(c, oi, OPT_FC, &opt) < 0) return -1;
    if (fb_int(f, &opt, 0, 1, 1, 0, &act, "fc options") < 0 || fb_int(f, &opt, 1, 1, 1, 0, &fmt, "fc options") < 0) return -1;
    if (fmt != 0) return op_fail(c, oi, "shuffled weight format is not supported");
    int gact;
    if (map_act(c, oi, act, &gact) < 0) return -1;
    int in = data_input(c, oi, 0, 0);
    if (in < 0) return -1;
    int wt = const_input(c, oi, 1, 0);
    if (wt < 0) return -1;
    int bt = const_input(c, oi, 2, 1);
    if (bt == -1) return -1;
    const tfl_tensor *w = &c->m->t[wt];
    const sialo_node *src = &c->g->nodes[in];
    if (w->rank != 2 || (uint64_t)w->dims[1] != (uint64_t)src->oh * src->ow * src->oc)
        return op_fail(c, oi, "weights are not [outputs, inputs]");
    int cout = w->dims[0];
    if (bt >= 0 && c->m->t[bt].count != (uint64_t)cout) return op_fail(c, oi, "bias size differs from the outputs");
    if (budget(c, oi, w->count, (uint64_t)cout) < 0) return -1;
    char name[TFL_MAX_NAME + 64];
    if (make_name(c, oi, NULL, name, sizeof name) < 0) return -1;
    int node = gb_dense(c->g, name, in, cout, 1, gact);
    if (bind_output(c, oi, node) < 0) return -1;
    if (fill(c, oi, c->g->nodes[node].t[0], wt, LAY_FC, w->dims) < 0) return -1;
    if (bt >= 0 && fill(c, oi, c->g->nodes[node].t[1], bt, LAY_COPY, NULL) < 0) return -1;
    return 0;
}

/* an extra activation layer after a pool with a fused activation */
static int add_act_after(conv_ctx *c, int oi, int node, int gact) {
    if (node < 0 || gact == ACT_NONE) return node;
    char name[TFL_MAX_NAME + 64];
    if (make_name(c, oi, "_act", name, sizeof name) < 0) return -1;
    return gb_simple(c->g, gact == ACT_RELU ? OP_RELU : OP_RELU6, name, node);
}

static int do_pool(conv_ctx *c, int oi, int op) {
    const fb_file *f = &c->m->f;
    fb_table opt;
    int64_t pad, sw, sh, fw, fh, act;
    if (get_opts(c, oi, OPT_POOL2D, &opt) < 0) return -1;
    if (fb_int(f, &opt, 0, 1, 1, 0, &pad, "pool options") < 0 || fb_int(f, &opt, 1, 4, 1, 0, &sw, "pool options") < 0 ||
        fb_int(f, &opt, 2, 4, 1, 0, &sh, "pool options") < 0 || fb_int(f, &opt, 3, 4, 1, 0, &fw, "pool options") < 0 ||
        fb_int(f, &opt, 4, 4, 1, 0, &fh, "pool options") < 0 || fb_int(f, &opt, 5, 1, 1, 0, &act, "pool options") < 0)
        return -1;
    int gact;
    if (map_act(c, oi, act, &gact) < 0) return -1;
    if (pad != TPAD_SAME && pad != TPAD_VALID) return op_fail(c, oi, "unknown padding");
    int in = data_input(c, oi, 0, 1);
    if (in < 0) return -1;
    const sialo_node *src = &c->g->nodes[in];
    char name[TFL_MAX_NAME + 64];
    if (make_name(c, oi, NULL, name, sizeof name) < 0) return -1;
    int node;
    if (op == OP_AVGPOOL && pad == TPAD_VALID && fh == src->oh && fw == src->ow) {
        node = gb_simple(c->g, OP_GAP, name, in); /* a window over the whole map */
    } else {
        if (fh != fw || sh != sw) return op_fail(c, oi, "only square pooling windows and strides are supported");
        if (fh < 1 || fh > 64 || sh < 1 || sh > 64) return op_fail(c, oi, "pooling window or stride out of range");
        node = gb_pool(c->g, op, name, in, (int)fh, (int)sh, pad == TPAD_SAME ? PAD_SAME : PAD_VALID);
    }
    return bind_output(c, oi, add_act_after(c, oi, node, gact));
}

static int do_mean(conv_ctx *c, int oi) {
    int in = data_input(c, oi, 0, 1);
    if (in < 0) return -1;
    int at = const_input(c, oi, 1, 0);
    if (at < 0) return -1;
    const tfl_tensor *a = &c->m->t[at];
    if (a->type != TT_INT32 || a->count != 2) return op_fail(c, oi, "only a mean over the two spatial axes is supported");
    int seen = 0;
    for (int k = 0; k < 2; k++) {
        int32_t ax = (int32_t)le32(a->data + 4 * k);
        if (ax < 0) ax += 4;
        if (ax != 1 && ax != 2) return op_fail(c, oi, "only a mean over the two spatial axes is supported");
        seen |= 1 << ax;
    }
    if (seen != 6) return op_fail(c, oi, "only a mean over the two spatial axes is supported");
    char name[TFL_MAX_NAME + 64];
    if (make_name(c, oi, NULL, name, sizeof name) < 0) return -1;
    return bind_output(c, oi, gb_simple(c->g, OP_GAP, name, in));
}

static int do_pad(conv_ctx *c, int oi) {
    int in = data_input(c, oi, 0, 1);
    if (in < 0) return -1;
    int pt = const_input(c, oi, 1, 0);
    if (pt < 0) return -1;
    const tfl_tensor *p = &c->m->t[pt];
    if (p->type != TT_INT32 || p->rank != 2 || p->dims[0] != 4 || p->dims[1] != 2)
        return op_fail(c, oi, "paddings must be an int32 [4,2] constant");
    int32_t v[8];
    for (int k = 0; k < 8; k++) {
        v[k] = (int32_t)le32(p->data + 4 * k);
        if (v[k] < 0 || v[k] > 1024) return op_fail(c, oi, "padding out of range");
    }
    if (v[0] || v[1] || v[6] || v[7]) return op_fail(c, oi, "padding of the batch or channel axis is not supported");
    char name[TFL_MAX_NAME + 64];
    if (make_name(c, oi, NULL, name, sizeof name) < 0) return -1;
    return bind_output(c, oi, gb_pad(c->g, name, in, v[2], v[3], v[4], v[5]));
}

static int do_add(conv_ctx *c, int oi) {
    fb_table opt;
    int64_t act = 0;
    const tfl_op *o = &c->m->op[oi];
    if (o->has_opt) {
        if (get_opts(c, oi, OPT_ADD, &opt) < 0 || fb_int(&c->m->f, &opt, 0, 1, 1, 0, &act, "add options") < 0) return -1;
    }
    int gact;
    if (map_act(c, oi, act, &gact) < 0) return -1;
    int a = data_input(c, oi, 0, 1);
    if (a < 0) return -1;
    int b = data_input(c, oi, 1, 1);
    if (b < 0) return -1;
    char name[TFL_MAX_NAME + 64];
    if (make_name(c, oi, NULL, name, sizeof name) < 0) return -1;
    return bind_output(c, oi, gb_add(c->g, name, a, b, gact));
}

static int do_softmax(conv_ctx *c, int oi) {
    fb_table opt;
    float beta;
    if (get_opts(c, oi, OPT_SOFTMAX, &opt) < 0 || fb_float(&c->m->f, &opt, 0, 0.0f, &beta, "softmax options") < 0) return -1;
    if (!(fabsf(beta - 1.0f) < 1e-6f)) return op_fail(c, oi, "softmax with beta other than 1 is not supported");
    int in = data_input(c, oi, 0, 1);
    if (in < 0) return -1;
    const sialo_node *src = &c->g->nodes[in];
    if (src->oh != 1 || src->ow != 1) return op_fail(c, oi, "softmax over a spatial map is not supported");
    char name[TFL_MAX_NAME + 64];
    if (make_name(c, oi, NULL, name, sizeof name) < 0) return -1;
    return bind_output(c, oi, gb_simple(c->g, OP_SOFTMAX, name, in));
}

static int do_simple(conv_ctx *c, int oi, int op) {
    int in = data_input(c, oi, 0, 1);
    if (in < 0) return -1;
    char name[TFL_MAX_NAME + 64];
    if (make_name(c, oi, NULL, name, sizeof name) < 0) return -1;
    return bind_output(c, oi, gb_simple(c->g, op, name, in));
}

/* RESHAPE / SQUEEZE / QUANTIZE / DEQUANTIZE: the output is the input (same data, same order) */
static int do_passthrough(conv_ctx *c, int oi) {
    int ti = op_in(c, oi, 0), to = op_out(c, oi);
    if (ti < 0) return op_fail(c, oi, "input is missing");
    if (c->tconst[ti] >= 0 && c->m->op[oi].code == BO_DEQUANTIZE) { /* e.g. float16 weights */
        c->tconst[to] = c->tconst[ti];
        return 0;
    }
    int node = c->tnode[ti];
    if (node < 0) return op_fail(c, oi, "reads a tensor that no earlier operator produces");
    if (c->m->t[ti].count != c->m->t[to].count) return op_fail(c, oi, "changes the number of elements");
    c->tnode[to] = node;
    return 0;
}

static int is_passthrough(int code) {
    return code == BO_RESHAPE || code == BO_SQUEEZE || code == BO_QUANTIZE || code == BO_DEQUANTIZE;
}

/* the operator whose output is tensor ti, looking through pass-through operators; -1 if none */
static int real_producer(const conv_ctx *c, int ti) {
    for (int steps = 0; ti >= 0 && steps <= c->m->n_ops; steps++) {
        int oi = c->producer[ti];
        if (oi < 0) return -1;
        if (!is_passthrough(c->m->op[oi].code)) return oi;
        ti = op_in(c, oi, 0);
    }
    return -1;
}

/* Find the classifier tail: [conv] -> global pool -> logits (FC / 1x1 conv) -> softmax, and
 * reserve the Keras MobileNetV2 names for it. Returns 1 if the whole tail matched. */
static int name_tail(conv_ctx *c) {
    static const char *const special[4] = {"Predictions", "Logits", "global_average_pooling2d", "out_relu"};
    for (int k = 0; k < 4; k++)
        if (!ns_has(&c->names, special[k]) && ns_add(&c->names, special[k]) < 0) return -1;
    const tfl_model *m = c->m;
    int sm = real_producer(c, m->output);
    if (sm < 0 || m->op[sm].code != BO_SOFTMAX) return 0;
    c->opname[sm] = special[0];
    int lg = real_producer(c, op_in(c, sm, 0));
    if (lg < 0) return 0;
    int lc = m->op[lg].code;
    if (lc != BO_FULLY_CONNECTED && lc != BO_CONV_2D) return 0;
    if (lc == BO_CONV_2D) { /* only a 1x1 conv on a 1x1 map is a logits layer */
        int wi = op_in(c, lg, 1), xi = op_in(c, lg, 0), s[3];
        if (wi < 0 || xi < 0 || m->t[wi].rank != 4 || m->t[wi].dims[1] != 1 || m->t[wi].dims[2] != 1) return 0;
        if (tensor_hwc(&m->t[xi], s) < 0 || s[0] != 1 || s[1] != 1) return 0;
    }
    c->opname[lg] = special[1];
    int gp = real_producer(c, op_in(c, lg, 0));
    if (gp < 0 || (m->op[gp].code != BO_AVERAGE_POOL_2D && m->op[gp].code != BO_MEAN)) return 0;
    c->opname[gp] = special[2];
    int fc = real_producer(c, op_in(c, gp, 0));
    if (fc < 0 || m->op[fc].code != BO_CONV_2D) return 0;
    c->opname[fc] = special[3];
    return 1;
}

sialo_graph *sialo_import_tflite(const void *data, size_t size) {
    tfl_model m;
    conv_ctx c;
    memset(&c, 0, sizeof c);
    if (parse_model(&m, data, size) < 0) { free_model(&m); return NULL; }
    c.m = &m;

    /* the input: one image [1,H,W,3] */
    const tfl_tensor *it = &m.t[m.input];
    char nm[80];
    tname(&m, m.input, nm, sizeof nm);
    if (it->rank != 4 || it->dims[0] != 1 || it->dims[3] != 3 || it->dims[1] > 8192 || it->dims[2] > 8192) {
        sialo_fail("the TFLite model's input '%s' is not one RGB image [1,H,W,3] (H, W <= 8192)", nm);
        goto fail;
    }
    if (it->type != TT_FLOAT32 && it->type != TT_UINT8 && it->type != TT_INT8) {
        sialo_fail("the TFLite model's input '%s' has unsupported type %d", nm, it->type);
        goto fail;
    }

    size_t nt = (size_t)m.n_tensors;
    c.tnode = malloc(nt * sizeof *c.tnode);
    c.tconst = malloc(nt * sizeof *c.tconst);
    c.producer = malloc(nt * sizeof *c.producer);
    c.opname = calloc((size_t)m.n_ops, sizeof *c.opname);
    c.names.cap = 64;
    while (c.names.cap < 4 * ((size_t)m.n_ops + 16)) c.names.cap *= 2;
    c.names.slot = calloc(c.names.cap, sizeof *c.names.slot);
    if (!c.tnode || !c.tconst || !c.producer || !c.opname || !c.names.slot) { sialo_fail("out of memory"); goto fail; }
    for (size_t i = 0; i < nt; i++) {
        c.tnode[i] = -1;
        c.producer[i] = -1;
        c.tconst[i] = m.t[i].data ? (int)i : -1;
    }
    if (m.t[m.input].data) { sialo_fail("TFLite file is corrupt: the input tensor holds constant data"); goto fail; }
    for (int oi = 0; oi < m.n_ops; oi++) {
        const tfl_op *o = &m.op[oi];
        if (o->out.len != 1) { op_fail(&c, oi, "operators with several outputs are not supported"); goto fail; }
        int to = op_out(&c, oi);
        if (c.producer[to] >= 0 || to == m.input || m.t[to].data) { op_fail(&c, oi, "writes a tensor that is already defined"); goto fail; }
        c.producer[to] = oi;
    }

    c.g = sialo_graph_new("tflite", it->dims[1], it->dims[2], 3);
    if (!c.g) goto fail;
    if (ns_add(&c.names, "input") < 0) goto fail;
    c.tnode[m.input] = 0;
    int tail = name_tail(&c);
    if (tail < 0) goto fail;

    int has_dw = 0, has_add = 0;
    for (int oi = 0; oi < m.n_ops; oi++) {
        int code = m.op[oi].code, r;
        switch (code) {
        case BO_CONV_2D: r = do_conv(&c, oi, 0); break;
        case BO_DEPTHWISE_CONV_2D: r = do_conv(&c, oi, 1); has_dw = 1; break;
        case BO_FULLY_CONNECTED: r = do_fc(&c, oi); break;
        case BO_ADD: r = do_add(&c, oi); has_add = 1; break;
        case BO_AVERAGE_POOL_2D: r = do_pool(&c, oi, OP_AVGPOOL); break;
        case BO_MAX_POOL_2D: r = do_pool(&c, oi, OP_MAXPOOL); break;
        case BO_MEAN: r = do_mean(&c, oi); break;
        case BO_PAD: r = do_pad(&c, oi); break;
        case BO_SOFTMAX: r = do_softmax(&c, oi); break;
        case BO_RELU: r = do_simple(&c, oi, OP_RELU); break;
        case BO_RELU6: r = do_simple(&c, oi, OP_RELU6); break;
        case BO_LOGISTIC: r = do_simple(&c, oi, OP_SIGMOID); break;
        case BO_RESHAPE: case BO_SQUEEZE: case BO_QUANTIZE: case BO_DEQUANTIZE: r = do_passthrough(&c, oi); break;
        default: {
            char why[80];
            snprintf(why, sizeof why, "operator code %d is not supported by this importer", code);
            r = op_fail(&c, oi, why);
        }
        }
        if (r < 0) goto fail;
    }

    /* the output must be the last layer, one vector per image */
    int out = c.tnode[m.output];
    if (out < 0) { sialo_fail("the TFLite model's output is not computed by any supported operator"); goto fail; }
    if (out != c.g->n_nodes - 1) { sialo_fail("the TFLite model's output is not produced by its last layer"); goto fail; }
    const sialo_node *on = &c.g->nodes[out];
    if (on->oh != 1 || on->ow != 1) { sialo_fail("the TFLite model's output is a %dx%dx%d map, not a vector", on->oh, on->ow, on->oc); goto fail; }
    c.g->n_classes = on->oc;
    if (tail && has_dw && has_add && sialo_graph_set_text(&c.g->arch, "mobilenetv2") < 0) goto fail;
    {
        char prov[300];
        snprintf(prov, sizeof prov,
                 "imported from TensorFlow Lite (%zu bytes%s%s): weights dequantised to float32, activation quantisation dropped",
                 size, m.desc[0] ? ", description: " : "", m.desc);
        if (sialo_graph_set_text(&c.g->provenance, prov) < 0) goto fail;
    }
    /* Normalisation: an integer input tensor says exactly what the network sees for a pixel p:
     * uint8: s * (p - zp); int8 (fed p - 128): s * (p - 128 - zp). A float input gets the
     * convention of TFLite image classifiers, p / 127.5 - 1 (inputs in [-1, 1]). */
    {
        float ns = 1.0f / 127.5f, nb = -1.0f;
        if (it->type != TT_FLOAT32 && it->scale.len == 1) {
            double s = lef32(m.f.p + it->scale.pos);
            double zp = it->zp.len ? (double)(int64_t)le64(m.f.p + it->zp.pos) : 0.0;
            if (it->type == TT_INT8) zp += 128.0;
            if (!(s > 1e-6 && s < 1.0) || zp < -1024 || zp > 1024) {
                sialo_fail("the TFLite model's input '%s' has an implausible quantization (scale %g, zero point %g)", nm, s, zp);
                goto fail;
            }
            ns = (float)s;
            nb = (float)(-s * zp);
        } else if (it->type != TT_FLOAT32) {
            sialo_fail("the TFLite model's integer input '%s' has no per-tensor quantization", nm);
            goto fail;
        }
        for (int k = 0; k < 3; k++) { c.g->norm_scale[k] = ns; c.g->norm_bias[k] = nb; }
    }
    if (sialo_graph_infer_shapes(c.g) < 0) goto fail;

    free(c.tnode); free(c.tconst); free(c.producer); free(c.opname); ns_free(&c.names);
    free_model(&m);
    return c.g;
fail:
    sialo_graph_free(c.g);
    free(c.tnode); free(c.tconst); free(c.producer); free(c.opname);
    if (c.names.slot) ns_free(&c.names);
    free_model(&m);
    return NULL;
}

/* ================================================================== labels */
#define LABELS_MAX_BYTES (16u << 20)
#define LABEL_MAX_LEN 1024

/* Parse buf (n bytes, writable, buf[n] == 0) as one label per line into g's class names. */
static int set_labels_text(sialo_graph *g, char *buf, size_t n, const char *what) {
    if (memchr(buf, 0, n)) return sialo_fail("labels %s contain a NUL byte (not a text file)", what);
    /* count lines; a final line without '\n' counts, a final empty line does not */
    size_t lines = 0;
    for (size_t i = 0; i < n; i++) if (buf[i] == '\n') lines++;
    if (n > 0 && buf[n - 1] != '\n') lines++;
    if (lines != (size_t)g->n_classes)
        return sialo_fail("labels %s have %zu lines but the model has %d outputs", what, lines, g->n_classes);
    const char **names = malloc((lines ? lines : 1) * sizeof *names);
    if (!names) return sialo_fail("out of memory");
    char *s = buf;
    for (size_t i = 0; i < lines; i++) {
        char *e = strchr(s, '\n');
        char *next = e ? e + 1 : s + strlen(s);
        if (!e) e = s + strlen(s);
        if (e > s && e[-1] == '\r') e--;
        *e = 0;
        if ((size_t)(e - s) > LABEL_MAX_LEN) {
            free(names);
            return sialo_fail("labels %s: line %zu is longer than %d bytes", what, i + 1, LABEL_MAX_LEN);
        }
        names[i] = s;
        s = next;
    }
    int r = sialo_graph_set_classes(g, (int)lines, names);
    free(names);
    return r;
}

int sialo_graph_set_labels_file(sialo_graph *g, const char *path) {
    if (!g || !path) return sialo_fail("labels: no graph or no path");
    FILE *fp = fopen(path, "rb");
    if (!fp) return sialo_fail("cannot open labels file '%s'", path);
    char *buf = malloc(LABELS_MAX_BYTES + 1);
    if (!buf) { fclose(fp); return sialo_fail("out of memory"); }
    size_t n = fread(buf, 1, LABELS_MAX_BYTES + 1, fp);
    int err = ferror(fp);
    fclose(fp);
    if (err) { free(buf); return sialo_fail("cannot read labels file '%s'", path); }
    if (n > LABELS_MAX_BYTES) { free(buf); return sialo_fail("labels file '%s' is larger than %u bytes", path, LABELS_MAX_BYTES); }
    buf[n] = 0;
    char what[300];
    snprintf(what, sizeof what, "in '%s'", path);
    int r = set_labels_text(g, buf, n, what);
    free(buf);
    return r;
}

/* Labels embedded in a .tflite file. The TFLite Metadata tooling appends the model's
 * "associated files" (e.g. imagenet_labels.txt) as a ZIP archive after the flatbuffer; both
 * MobileNetV2 files in ../shared carry one, stored uncompressed. We read the ZIP's end record,
 * walk the central directory for the first stored "*label*.txt", check its local header, sizes
 * and CRC-32, and parse it like a labels file. Everything is bounds-checked. */
static uint32_t zle32(const uint8_t *b) { return le32(b); }

int sialo_graph_set_labels_tflite(sialo_graph *g, const void *data, size_t size) {
    const uint8_t *b = data;
    if (!g || !data || size < 22) return 0;
    /* end of central directory: 22 bytes + a comment of up to 65535 bytes */
    size_t eocd = 0;
    int found = 0;
    size_t lowest = size - 22 > 65535 ? size - 22 - 65535 : 0;
    for (size_t p = size - 22 + 1; p-- > lowest;) {
        if (zle32(b + p) == 0x06054b50u && (size_t)le16(b + p + 20) == size - p - 22) { eocd = p; found = 1; break; }
    }
    if (!found) return 0;
    uint32_t entries = le16(b + eocd + 10), cd_size = zle32(b + eocd + 12), cd_off = zle32(b + eocd + 16);
    if ((uint64_t)cd_off + cd_size > eocd) return sialo_fail("embedded labels: the ZIP directory is outside the file");
    size_t prefix = eocd - ((size_t)cd_off + cd_size); /* bytes before the archive if its offsets are relative */
    size_t p = (size_t)cd_off + prefix, end = p + cd_size;
    for (uint32_t e = 0; e < entries; e++) {
        if (end - p < 46 || zle32(b + p) != 0x02014b50u) return sialo_fail("embedded labels: corrupt ZIP directory");
        unsigned method = le16(b + p + 10), nlen = le16(b + p + 28), xlen = le16(b + p + 30), clen = le16(b + p + 32);
        uint32_t crc = zle32(b + p + 16), csize = zle32(b + p + 20), usize = zle32(b + p + 24), loff = zle32(b + p + 42);
        if ((uint64_t)46 + nlen + xlen + clen > end - p) return sialo_fail("embedded labels: corrupt ZIP directory");
        const char *name = (const char *)b + p + 46;
        p += 46 + (size_t)nlen + xlen + clen;
        int is_labels = nlen >= 4 && !memcmp(name + nlen - 4, ".txt", 4);
        int has_label = 0;
        for (unsigned i = 0; i + 5 <= nlen; i++) has_label |= !memcmp(name + i, "label", 5);
        if (!is_labels || !has_label) continue;
        if (method != 0) return sialo_fail("embedded labels: '%.*s' is compressed (only stored entries are read)", (int)(nlen < 100 ? nlen : 100), name);
        if (csize != usize || usize > LABELS_MAX_BYTES) return sialo_fail("embedded labels: bad entry sizes");
        uint64_t lo = (uint64_t)loff + prefix;
        if (lo > size || size - lo < 30 || zle32(b + lo) != 0x04034b50u) {
            lo = loff; /* absolute offsets (the TFLite metadata writer's way) */
            if (lo > size || size - lo < 30 || zle32(b + lo) != 0x04034b50u)
                return sialo_fail("embedded labels: the ZIP entry's local header is missing");
        }
        uint64_t dpos = lo + 30 + le16(b + lo + 26) + le16(b + lo + 28);
        if (dpos > size || size - dpos < usize) return sialo_fail("embedded labels: the ZIP entry runs past the end of the file");
        if (sialo_crc32(b + dpos, usize) != crc) return sialo_fail("embedded labels: CRC-32 mismatch");
        char *buf = malloc((size_t)usize + 1);
        if (!buf) return sialo_fail("out of memory");
        memcpy(buf, b + dpos, usize);
        buf[usize] = 0;
        int r = set_labels_text(g, buf, usize, "embedded in the TFLite file");
        free(buf);
        return r < 0 ? -1 : 1;
    }
    return 0;
}
