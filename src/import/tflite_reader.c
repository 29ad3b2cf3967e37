/* tflite_reader.c — a strict, read-only TensorFlow Lite flatbuffer reader (no flatc, no generated
 * code). Every uoffset, vtable, field, vector length, string, buffer index and tensor index is
 * checked against the bytes of the file before it is used; a hostile file gives an error, never a
 * read outside the buffer. All arithmetic on file positions is done in uint64_t. Also: quantised
 * weights dequantised to float (per tensor or per channel), and the labels of a model (a text file,
 * or the zip a .tflite may carry). The flatbuffer essentials and the schema fields read: tflite.h. */
#include "import/importers.h"
#include "import/tflite.h"
#include "sialoscan.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
int fb_int(const fb_file *f, const fb_table *t, int id, unsigned size, int is_signed, int64_t def,
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
int fb_float(const fb_file *f, const fb_table *t, int id, float def, float *out, const char *what) {
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


const char *tfl_op_label(int code) {
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
void tfl_tensor_name(const tfl_model *m, int ti, char *out, size_t cap) {
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
    tfl_tensor_name(m, idx, nm, sizeof nm);
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

int tfl_parse(tfl_model *m, const void *data, size_t size) {
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

void tfl_free(tfl_model *m) {
    free(m->t);
    free(m->op);
    m->t = NULL;
    m->op = NULL;
}

/* ================================================================== dequantisation */
/* Tensor contents as floats, in TFLite layout. malloc'ed; NULL + error on failure. */
float *tfl_dequantize(const tfl_model *m, int ti) {
    const tfl_tensor *t = &m->t[ti];
    char nm[80];
    tfl_tensor_name(m, ti, nm, sizeof nm);
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
