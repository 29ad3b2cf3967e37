/* model_file.c — read, validate and write sialoscan model files (*.sialo).
 *
 * FORMAT, versions 1 to 3: one network is written as version 2, an ensemble of networks as
 * version 3 (below); versions 1 and 2 read exactly as they always did. All integers
 * little-endian; floats IEEE-754 binary32 (LE).
 *
 *   offset  size  field
 *   0       8     magic "SIALOSCN"
 *   8       4     u32 format version (2 or 3; 1 is read as well)
 *   12      4     u32 storage bits of tensor data: 32 (fp32) or 16 (fp16, IEEE half)
 *   16      8     u64 payload size in bytes (the file is exactly 32 + payload size bytes)
 *   24      4     u32 CRC-32 (IEEE 802.3, as zlib) of the payload
 *   28      4     u32 reserved, 0
 *   32      ...   payload (versions 1 and 2):
 *     str   arch                 (str = u32 byte length, then that many UTF-8 bytes, no NUL)
 *     str   provenance           (training data, date, method; free text)
 *     u32   input_h, input_w, input_c        (input_c = 3)
 *     f32   norm_scale[3], norm_bias[3]      network input = pixel(0..255) * scale + bias
 *     u32   n_classes                        output width: 1 = sigmoid (binary), K = softmax
 *     u32   n_class_names, then str × n      binary: [negative, positive], positive = "malignant"
 *     f32   threshold                        decision threshold on p(positive), calibrated p when
 *                                            the model carries a calibration
 *     f32   calib_a, calib_b                 version 2 and 3 only: Platt scaling of p(positive),
 *                                            p = sigmoid(a * logit(p_raw) + b) (calibration.h);
 *                                            a = 1/T, b = 0 is temperature scaling; a = 1, b = 0
 *                                            the identity (what a version 1 file means). Finite,
 *                                            a > 0 (monotone), |a|, |b| <= 1e4; binary models only.
 *     BODY (one network):
 *     u32   n_tensors, then per tensor:
 *             str name; u32 ndim (1..4); u32 dims[ndim] (each >= 1);
 *             u64 offset of its data from the start of the data section (multiple of 4)
 *     u32   n_nodes, then per node (topological order; node 0 is the single INPUT):
 *             u32 op (see sialo_op in graph.h); str name (unique);
 *             u32 n_in (0..2), u32 in[n_in] (each < this node's index);
 *             i32 p[16] (op parameters, graph.h); u32 n_t (0..4), u32 t[n_t] (tensor indices)
 *     zero bytes up to the next multiple of 16 of the file offset: the data section starts there
 *     tensor data, each tensor count × storage_bits/8 bytes at its offset, in increasing offset
 *     order, non-overlapping, inside the body (a version 1 / 2 body ends with the payload).
 *
 *   payload (version 3, an ENSEMBLE: the engine averages its networks' logits, ensemble.c):
 *     the fields arch .. calib_b as above: the ensemble's own (arch, e.g. "mobilenetv2", or the
 *       networks' archs joined by "+"; provenance; the input and normalisation of every network;
 *       classes; threshold and calibration of the ensemble's p = sigmoid(mean of the logits))
 *     u32   n_networks (2..16), then per network:
 *       str   arch, str provenance           the network's own (how it was trained)
 *       u32   input_h, input_w, input_c      equal to the ensemble's, else the file is refused
 *       f32   norm_scale[3], norm_bias[3]    equal to the ensemble's (bit for bit), else refused
 *       u64   body size: the bytes of the BODY that follows
 *       BODY  as above (its output width must be n_classes); its data section starts at the next
 *             multiple of 16 of the file offset and ends with the body
 *     the payload ends with the last body.
 *
 *   payload (version 4: versions 2 and 3 with SECTIONS, written when the model carries its
 *   out-of-distribution statistics; a model without any is written as version 2 or 3 as before):
 *     the fields arch .. calib_b as above
 *     u32   n_sections (0..64), then per section:
 *             str tag; u32 network (0-based index, 0xFFFFFFFF = the model as a whole); u64 size;
 *             size bytes. A reader skips the tags it does not know.
 *     u32   n_networks: 1 = one network, its BODY follows (as version 2, to the end of the payload);
 *           2..16 = an ensemble, the per-network records follow as in version 3
 *   sections known (ood.c):
 *     "ood" (one per network, all or none):  str layer (the global average pool whose output are
 *             the features); u32 dim, n_means, rank (rank < dim); f32 scale (> 0), resid_var (> 0);
 *             f32 means[n_means * dim]; f32 var[rank] (> 0); f32 basis[rank * dim] (orthonormal rows)
 *     "ood-threshold" (network 0xFFFFFFFF):  f32 threshold (> 0) on the model's score; u32 frames
 *             the statistics were fitted on. Without it (or without "ood" for every network) the
 *             model's frames are "not checked".
 *   section known (box.c):
 *     "input-modes" (network 0xFFFFFFFF): u32 modes (1 = whole frames, 2 = lesion boxes, 3 = both);
 *             f32 box margin (0..2, a fraction of the box's side per side) the model was trained with.
 *             Without it the model classifies whole frames only (every file before it). A file is
 *             written as version 4 when it carries out-of-distribution statistics or box modes.
 *   section known (model.c):
 *     "box-model" (network 0xFFFFFFFF, at most one): a whole model file (header, payload), trained for
 *             lesion boxes: the model the engine classifies a box with, this file's own networks
 *             classifying whole frames. It must not carry a box model itself, nor may the file's own
 *             networks claim box mode; it names the same classes. Each model keeps its threshold,
 *             calibration and out-of-distribution statistics. A file with one is written as version 4.
 *
 * The reader checks every count, length, offset, index and shape against the bytes that are
 * there before it allocates or reads, and refuses a bad file with a reason naming the problem.
 */
#include "engine/graph.h"
#include "sialoscan.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAGIC "SIALOSCN"
#define HEADER_SIZE 32
#define FORMAT_VERSION 2          /* written for a single network */
#define FORMAT_VERSION_ENSEMBLE 3 /* written for an ensemble */
#define FORMAT_VERSION_MIN 1
#define FORMAT_VERSION_SECTIONS 4 /* written when the model carries out-of-distribution statistics */
#define FORMAT_VERSION_MAX 4
#define MAX_SECTIONS 64
#define OOD_ALL 0xFFFFFFFFu
#define MAX_STR 65536
#define MAX_NAME 1024
#define MAX_TENSORS 100000
#define MAX_NODES 100000
#define MAX_DIM (1 << 24)
#define MAX_COUNT ((size_t)1 << 30)

/* ------------------------------------------------------------------ bounded reader */
typedef struct {
    const uint8_t *p;
    size_t n, pos;
    int bad;
    const char *what; /* what is being read, for the error message */
    size_t base;      /* file offset of p[0] */
} reader;

static int need(reader *r, size_t k) {
    if (r->bad) return 0;
    if (k > r->n - r->pos) {
        r->bad = 1;
        sialo_fail("model file is truncated or corrupt: %s runs past the end of the payload (offset %zu)",
                   r->what, r->pos + r->base);
        return 0;
    }
    return 1;
}
static uint32_t rd_u32(reader *r) {
    if (!need(r, 4)) return 0;
    const uint8_t *b = r->p + r->pos;
    r->pos += 4;
    return (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
}
static uint64_t rd_u64(reader *r) {
    uint64_t lo = rd_u32(r), hi = rd_u32(r);
    return lo | hi << 32;
}
static float rd_f32(reader *r) {
    uint32_t u = rd_u32(r);
    float f;
    memcpy(&f, &u, 4);
    return f;
}
/* returns a malloc'ed NUL-terminated copy, or NULL (error set) */
static char *rd_str(reader *r, size_t max) {
    uint32_t len = rd_u32(r);
    if (r->bad) return NULL;
    if (len > max) {
        r->bad = 1;
        return sialo_fail_null("model file is corrupt: %s has length %u (limit %zu)", r->what, len, max);
    }
    if (!need(r, len)) return NULL;
    if (memchr(r->p + r->pos, 0, len)) {
        r->bad = 1;
        return sialo_fail_null("model file is corrupt: %s contains a NUL byte", r->what);
    }
    char *s = malloc((size_t)len + 1);
    if (!s) { r->bad = 1; return sialo_fail_null("out of memory"); }
    memcpy(s, r->p + r->pos, len);
    s[len] = 0;
    r->pos += len;
    return s;
}

static uint32_t le32(const uint8_t *b) {
    return (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
}

/* the ensemble's / a single network's metadata: arch .. calibration (cn: the class names array) */
static int read_meta(reader *r, sialo_graph *g, uint32_t version) {
#define FAIL_IF(cond, ...) do { if (cond) return sialo_fail(__VA_ARGS__); } while (0)
#define CHECK() do { if (r->bad) return -1; } while (0)
    r->what = "arch";
    g->arch = rd_str(r, MAX_NAME); CHECK();
    r->what = "provenance";
    g->provenance = rd_str(r, MAX_STR); CHECK();
    r->what = "input shape";
    g->in_h = (int)rd_u32(r); g->in_w = (int)rd_u32(r); g->in_c = (int)rd_u32(r); CHECK();
    FAIL_IF(g->in_h < 1 || g->in_w < 1 || g->in_h > 8192 || g->in_w > 8192 || g->in_c != 3,
            "model file is corrupt: input shape %dx%dx%d (expected HxWx3, sides 1..8192)",
            g->in_h, g->in_w, g->in_c);
    r->what = "normalisation";
    for (int i = 0; i < 3; i++) g->norm_scale[i] = rd_f32(r);
    for (int i = 0; i < 3; i++) g->norm_bias[i] = rd_f32(r);
    CHECK();
    for (int i = 0; i < 3; i++)
        FAIL_IF(!(g->norm_scale[i] == g->norm_scale[i]) || !(g->norm_bias[i] == g->norm_bias[i]),
                "model file is corrupt: normalisation constant is NaN");
    r->what = "class count";
    g->n_classes = (int)rd_u32(r);
    uint32_t ncn = rd_u32(r); CHECK();
    FAIL_IF(g->n_classes < 1 || g->n_classes > 100000, "model file is corrupt: %d classes", g->n_classes);
    FAIL_IF(ncn > 100001 || ncn > r->n - r->pos, "model file is corrupt: %u class names", ncn);
    char **cn = sialo_xcalloc(ncn ? ncn : 1, sizeof *cn);
    if (!cn) return -1;
    g->class_names = cn;
    r->what = "class name";
    for (uint32_t i = 0; i < ncn; i++) {
        cn[i] = rd_str(r, MAX_NAME); CHECK();
        g->n_class_names = (int)i + 1;
    }
    r->what = "threshold";
    g->threshold = rd_f32(r); CHECK();
    FAIL_IF(!(g->threshold >= 0.0f && g->threshold <= 1.0f), "model file is corrupt: threshold %g is not in [0, 1]", g->threshold);
    if (version >= 2) {
        r->what = "calibration";
        g->calib_a = rd_f32(r);
        g->calib_b = rd_f32(r);
        CHECK();
        FAIL_IF(!(g->calib_a > 0.0f && g->calib_a <= 1e4f && g->calib_b >= -1e4f && g->calib_b <= 1e4f),
                "model file is corrupt: calibration a = %g, b = %g (a must be in (0, 1e4], b in [-1e4, 1e4])",
                g->calib_a, g->calib_b);
        FAIL_IF(g->n_classes != 1 && !(g->calib_a == 1.0f && g->calib_b == 0.0f),
                "model file is corrupt: a calibration on a model with %d outputs (only binary models are calibrated)",
                g->n_classes);
    }
    return 0;
#undef FAIL_IF
#undef CHECK
}

/* one network's tensors, nodes and data, from r->pos to the end of r (the payload of a version 1 / 2
   file, a member's body in version 3); the shapes are inferred and checked */
static int read_body(reader *r, sialo_graph *g, uint32_t bits) {
    uint64_t *offs = NULL;
#define FAIL_IF(cond, ...) do { if (cond) { sialo_fail(__VA_ARGS__); goto fail; } } while (0)
#define CHECK() do { if (r->bad) goto fail; } while (0)
    /* tensors */
    r->what = "tensor table";
    uint32_t nt = rd_u32(r); CHECK();
    /* each entry is at least 4 + 4 + 4 + 8 bytes */
    FAIL_IF(nt > MAX_TENSORS || (uint64_t)nt * 20 > r->n - r->pos, "model file is corrupt: %u tensors announced", nt);
    g->tensors = sialo_xcalloc(nt ? nt : 1, sizeof *g->tensors);
    offs = sialo_xcalloc(nt ? nt : 1, sizeof *offs);
    if (!g->tensors || !offs) goto fail;
    g->cap_tensors = (int)(nt ? nt : 1);
    for (uint32_t i = 0; i < nt; i++) {
        sialo_tensor *t = &g->tensors[i];
        r->what = "tensor name";
        t->name = rd_str(r, MAX_NAME);
        g->n_tensors = (int)i + 1;
        r->what = "tensor shape";
        uint32_t nd = rd_u32(r);
        if (r->bad) { goto fail; }
        if (nd < 1 || nd > SIALO_MAX_DIMS) { sialo_fail("model file is corrupt: tensor '%s' has %u dimensions (1..4 allowed)", t->name, nd); goto fail; }
        t->ndim = (int)nd;
        size_t count = 1;
        for (uint32_t d = 0; d < nd; d++) {
            uint32_t v = rd_u32(r);
            if (r->bad) { goto fail; }
            if (v < 1 || v > MAX_DIM) { sialo_fail("model file is corrupt: tensor '%s' dimension %u is %u", t->name, d, v); goto fail; }
            t->dims[d] = (int)v;
            count *= v;
            if (count > MAX_COUNT) { sialo_fail("model file is corrupt: tensor '%s' is absurdly large", t->name); goto fail; }
        }
        t->count = count;
        r->what = "tensor offset";
        offs[i] = rd_u64(r);
        if (r->bad) { goto fail; }
    }

    /* nodes */
    r->what = "node table";
    uint32_t nn = rd_u32(r);
    if (r->bad) { goto fail; }
    if (nn < 1 || nn > MAX_NODES || (uint64_t)nn * 80 > r->n - r->pos) { sialo_fail("model file is corrupt: %u nodes announced", nn); goto fail; }
    g->nodes = sialo_xcalloc(nn, sizeof *g->nodes);
    if (!g->nodes) { goto fail; }
    g->cap_nodes = (int)nn;
    for (uint32_t i = 0; i < nn; i++) {
        sialo_node *nd = &g->nodes[i];
        g->n_nodes = (int)i + 1;
        r->what = "node";
        nd->op = (int)rd_u32(r);
        r->what = "node name";
        nd->name = rd_str(r, MAX_NAME);
        r->what = "node inputs";
        uint32_t ni = rd_u32(r);
        if (r->bad) { goto fail; }
        if (nd->op < 0 || nd->op >= OP_COUNT) { sialo_fail("model file is corrupt: node %u ('%s') has unknown op %d", i, nd->name, nd->op); goto fail; }
        if (ni > 2) { sialo_fail("model file is corrupt: node '%s' has %u inputs", nd->name, ni); goto fail; }
        nd->n_in = (int)ni;
        for (uint32_t k = 0; k < ni; k++) {
            uint32_t v = rd_u32(r);
            if (!r->bad && v >= i) { sialo_fail("model file is corrupt: node '%s' input %u refers to node %u (not an earlier node)", nd->name, k, v); goto fail; }
            nd->in[k] = (int)v;
        }
        r->what = "node parameters";
        for (int k = 0; k < SIALO_NPARAMS; k++) nd->p[k] = (int32_t)rd_u32(r);
        r->what = "node tensors";
        uint32_t ntt = rd_u32(r);
        if (r->bad) { goto fail; }
        if (ntt > SIALO_MAX_NODE_TENSORS) { sialo_fail("model file is corrupt: node '%s' has %u tensors", nd->name, ntt); goto fail; }
        nd->n_t = (int)ntt;
        for (uint32_t k = 0; k < ntt; k++) {
            uint32_t v = rd_u32(r);
            if (!r->bad && v >= nt) { sialo_fail("model file is corrupt: node '%s' refers to tensor %u of %u", nd->name, v, nt); goto fail; }
            nd->t[k] = (int)v;
        }
        if (r->bad) { goto fail; }
    }

    /* data section: from the next multiple of 16 of the file offset */
    size_t data_start = (r->base + r->pos + 15) / 16 * 16 - r->base;
    if (data_start > r->n) { sialo_fail("model file is truncated: no room for the data section"); goto fail; }
    size_t elt = bits / 8, data_len = r->n - data_start;
    uint64_t prev_end = 0;
    for (uint32_t i = 0; i < nt; i++) {
        sialo_tensor *t = &g->tensors[i];
        uint64_t nbytes = (uint64_t)t->count * elt;
        if (offs[i] % 4 || offs[i] < prev_end || offs[i] > data_len || nbytes > data_len - offs[i]) {
            sialo_fail("model file is corrupt: data of tensor '%s' (offset %llu, %llu bytes) is misplaced or outside the file",
                       t->name, (unsigned long long)offs[i], (unsigned long long)nbytes);
            goto fail;
        }
        prev_end = offs[i] + nbytes;
    }
    for (uint32_t i = 0; i < nt; i++) {
        sialo_tensor *t = &g->tensors[i];
        t->data = malloc(t->count * sizeof(float));
        if (!t->data) { sialo_fail("out of memory reading tensor '%s'", t->name); goto fail; }
        const uint8_t *src = r->p + data_start + offs[i];
        int finite = 1;
        if (bits == 32) {
            memcpy(t->data, src, t->count * 4); /* little-endian hosts only (x86, wasm) */
            for (size_t k = 0; k < t->count; k++) finite &= t->data[k] - t->data[k] == 0.0f;
        } else {
            finite = sialo_f16_to_f32_n(src, t->data, t->count) == 0;
        }
        if (!finite) { sialo_fail("model file is corrupt: tensor '%s' holds NaN or infinity", t->name); goto fail; }
    }
    free(offs);
    offs = NULL;
    if (sialo_graph_infer_shapes(g) < 0) {
        char why[400];
        snprintf(why, sizeof why, "%s", sialo_error());
        sialo_fail("model file is invalid: %s", why);
        goto fail;
    }
    return 0;
fail:
    free(offs);
    return -1;
#undef FAIL_IF
#undef CHECK
}

/* version 3: n_members, then each member's record (see the spec above) */
static int read_members(reader *r, sialo_graph *g, uint32_t bits) {
    r->what = "ensemble size";
    uint32_t nm = rd_u32(r);
    if (r->bad) return -1;
    if (nm < 2 || nm > SIALO_MAX_MEMBERS)
        return sialo_fail("model file is corrupt: an ensemble of %u networks (2 to %d allowed)", nm, SIALO_MAX_MEMBERS);
    g->members = sialo_xcalloc(nm, sizeof *g->members);
    if (!g->members) return -1;
    for (uint32_t k = 0; k < nm; k++) {
        sialo_graph *mg = sialo_xcalloc(1, sizeof *mg);
        if (!mg) return -1;
        g->members[k] = mg;
        g->n_members = (int)k + 1;
        mg->storage_bits = g->storage_bits;
        mg->checksum = g->checksum;
        mg->format_version = g->format_version;
        mg->calib_a = 1.0f;
        mg->calib_b = 0.0f;
        mg->threshold = g->threshold;
        mg->n_classes = g->n_classes; /* checked against the member's output layer below */
        r->what = "network arch";
        mg->arch = rd_str(r, MAX_NAME);
        if (r->bad) goto fail;
        r->what = "network provenance";
        mg->provenance = rd_str(r, MAX_STR);
        r->what = "network input shape";
        mg->in_h = (int)rd_u32(r); mg->in_w = (int)rd_u32(r); mg->in_c = (int)rd_u32(r);
        r->what = "network normalisation";
        for (int i = 0; i < 3; i++) mg->norm_scale[i] = rd_f32(r);
        for (int i = 0; i < 3; i++) mg->norm_bias[i] = rd_f32(r);
        r->what = "network size";
        uint64_t body = rd_u64(r);
        if (r->bad) goto fail;
        if (mg->in_h != g->in_h || mg->in_w != g->in_w || mg->in_c != g->in_c) {
            sialo_fail("model file is invalid: network %u of the ensemble takes %dx%dx%d inputs but the ensemble %dx%dx%d "
                       "(every network of an ensemble must take the same input size)",
                       k + 1, mg->in_h, mg->in_w, mg->in_c, g->in_h, g->in_w, g->in_c);
            return -1;
        }
        if (memcmp(mg->norm_scale, g->norm_scale, sizeof g->norm_scale) || memcmp(mg->norm_bias, g->norm_bias, sizeof g->norm_bias)) {
            sialo_fail("model file is invalid: network %u of the ensemble normalises its input differently from the ensemble "
                       "(every network of an ensemble must take the same normalisation)", k + 1);
            return -1;
        }
        if (body > r->n - r->pos) {
            sialo_fail("model file is truncated: network %u of the ensemble announces %llu bytes but only %zu remain", k + 1,
                       (unsigned long long)body, r->n - r->pos);
            return -1;
        }
        reader sub = {r->p + r->pos, (size_t)body, 0, 0, "tensor table", r->base + r->pos};
        if (read_body(&sub, mg, bits) < 0) goto fail;
        r->pos += (size_t)body;
    }
    if (r->pos != r->n)
        return sialo_fail("model file is corrupt: %zu bytes after the last network of the ensemble", r->n - r->pos);
    return 0;
fail: {
        char why[480];
        snprintf(why, sizeof why, "%s", sialo_error());
        return sialo_fail("%s (in network %d of the ensemble's %u)", why, g->n_members, nm);
    }
}

/* version 4: the sections (before the networks); the "ood" ones into ood[network], the threshold */
static int read_sections(reader *r, sialo_ood_net **ood, int *has_thr, float *thr, int *frames, sialo_graph *g, int nested) {
    r->what = "section table";
    uint32_t ns = rd_u32(r);
    if (r->bad) return -1;
    if (ns > MAX_SECTIONS) return sialo_fail("model file is corrupt: %u sections announced", ns);
    for (uint32_t s = 0; s < ns; s++) {
        r->what = "section tag";
        char *tag = rd_str(r, MAX_NAME);
        if (!tag) return -1;
        r->what = "section header";
        uint32_t net = rd_u32(r);
        uint64_t size = rd_u64(r);
        if (r->bad || size > r->n - r->pos) {
            if (!r->bad) sialo_fail("model file is truncated: section '%.100s' runs past the end of the payload", tag);
            free(tag);
            return -1;
        }
        reader sub = {r->p + r->pos, (size_t)size, 0, 0, "section", r->base + r->pos};
        int rc = 0;
        if (!strcmp(tag, "input-modes")) {
            sub.what = "input modes";
            uint32_t modes = rd_u32(&sub);
            float margin = rd_f32(&sub);
            if (sub.bad) rc = -1;
            else if (modes < 1 || modes > 3 || !(margin >= 0 && margin <= SIALO_BOX_MAX_MARGIN))
                rc = sialo_fail("model file is corrupt: input modes %u, box margin %g", modes, margin);
            else { g->input_modes = (int)modes; g->box_margin = margin; }
        } else if (!strcmp(tag, "box-model")) {
            uint8_t *copy = g->box_graph || nested ? NULL : malloc(size ? (size_t)size : 1); /* aligned, for the nested reader */
            if (nested) rc = sialo_fail("model file is corrupt: its box model carries a box model itself"); /* one level, no deeper */
            else if (g->box_graph) rc = sialo_fail("model file is corrupt: two box models");
            else if (!copy) rc = sialo_fail("out of memory");
            else {
                memcpy(copy, sub.p, (size_t)size);
                g->box_file = copy;
                g->box_file_size = (size_t)size;
                g->box_graph = sialo_graph_read_head(copy, (size_t)size); /* the networks when the first box comes */
                if (!g->box_graph) {
                    char why[400];
                    snprintf(why, sizeof why, "%s", sialo_error());
                    rc = sialo_fail("the box model inside the file: %s", why);
                } else if (g->box_graph->box_graph) rc = sialo_fail("model file is corrupt: its box model carries a box model itself");
                else if (!(g->box_graph->input_modes & SIALO_MODE_BOX))
                    rc = sialo_fail("model file is corrupt: its box model was not trained for lesion boxes");
            }
        } else if (!strcmp(tag, "ood-threshold")) {
            sub.what = "out-of-distribution threshold";
            *thr = rd_f32(&sub);
            *frames = (int)rd_u32(&sub);
            if (sub.bad) rc = -1;
            else if (!(*thr > 0 && *thr < 1e30f) || *frames < 0)
                rc = sialo_fail("model file is corrupt: out-of-distribution threshold %g", *thr);
            else *has_thr = 1;
        } else if (!strcmp(tag, "ood")) {
            if (net >= SIALO_MAX_MEMBERS || ood[net]) { free(tag); return sialo_fail("model file is corrupt: out-of-distribution statistics for network %u", net + 1); }
            sialo_ood_net *o = sialo_xcalloc(1, sizeof *o);
            if (!o) { free(tag); return -1; }
            ood[net] = o;
            sub.what = "out-of-distribution statistics";
            o->layer = rd_str(&sub, MAX_NAME);
            uint32_t dim = rd_u32(&sub), nm = rd_u32(&sub), rank = rd_u32(&sub);
            o->scale = rd_f32(&sub);
            o->resid_var = rd_f32(&sub);
            if (sub.bad) rc = -1;
            else if (dim < 2 || dim > 65536 || nm < 1 || nm > 1024 || rank >= dim ||
                     (uint64_t)((uint64_t)nm * dim + rank + (uint64_t)rank * dim) * 4 != size - sub.pos)
                rc = sialo_fail("model file is corrupt: out-of-distribution statistics of %u features, %u means, rank %u in %llu bytes",
                                dim, nm, rank, (unsigned long long)size);
            else if (!(o->scale > 0 && o->scale < 1e30f && o->resid_var > 0 && o->resid_var < 1e30f))
                rc = sialo_fail("model file is corrupt: out-of-distribution scale %g, residual variance %g", o->scale, o->resid_var);
            else {
                o->dim = (int)dim; o->n_means = (int)nm; o->rank = (int)rank;
                o->means = malloc((size_t)nm * dim * sizeof(float));
                o->var = malloc((size_t)(rank ? rank : 1) * sizeof(float));
                o->basis = malloc((size_t)(rank ? rank : 1) * dim * sizeof(float));
                if (!o->means || !o->var || !o->basis) rc = sialo_fail("out of memory");
                int finite = 1, pos = 1;
                for (size_t i = 0; !rc && i < (size_t)nm * dim; i++) { o->means[i] = rd_f32(&sub); finite &= o->means[i] - o->means[i] == 0; }
                for (size_t i = 0; !rc && i < rank; i++) { o->var[i] = rd_f32(&sub); pos &= o->var[i] > 0 && o->var[i] < 1e30f; }
                for (size_t i = 0; !rc && i < (size_t)rank * dim; i++) { o->basis[i] = rd_f32(&sub); finite &= o->basis[i] - o->basis[i] == 0; }
                if (!rc && (!finite || !pos)) rc = sialo_fail("model file is corrupt: out-of-distribution statistics hold NaN, infinity or a variance <= 0");
            }
        }
        free(tag);
        if (rc < 0) return -1;
        r->pos += (size_t)size;
    }
    return 0;
}

static sialo_graph *read_file(const void *data, size_t size, int head);
sialo_graph *sialo_graph_read_any(const void *data, size_t size) { return read_file(data, size, 0); }
sialo_graph *sialo_graph_read_head(const void *data, size_t size) { return read_file(data, size, 1); }

/* head: the metadata and sections only (a version 4 file), no checksum (the file around it has one) */
static sialo_graph *read_file(const void *data, size_t size, int head) {
    const uint8_t *b = data;
    if (!data || size == 0) return sialo_fail_null("model file is empty (0 bytes)");
    if (size < HEADER_SIZE) {
        if (size >= 8 && memcmp(b, MAGIC, 8) != 0)
            return sialo_fail_null("not a sialoscan model file (wrong magic; expected \"SIALOSCN\")");
        return sialo_fail_null("model file is truncated: %zu bytes, the header alone is %d", size, HEADER_SIZE);
    }
    if (memcmp(b, MAGIC, 8) != 0)
        return sialo_fail_null("not a sialoscan model file (wrong magic; expected \"SIALOSCN\")");
    uint32_t version = le32(b + 8), bits = le32(b + 12);
    uint64_t payload = (uint64_t)le32(b + 16) | (uint64_t)le32(b + 20) << 32;
    uint32_t crc = le32(b + 24);
    if (version < FORMAT_VERSION_MIN || version > FORMAT_VERSION_MAX)
        return sialo_fail_null("unsupported model format version %u (this build reads versions %d to %d)", version,
                               FORMAT_VERSION_MIN, FORMAT_VERSION_MAX);
    if (bits != 32 && bits != 16)
        return sialo_fail_null("model file is corrupt: storage bits %u (expected 32 or 16)", bits);
    if (payload != size - HEADER_SIZE) {
        if (payload > size - HEADER_SIZE)
            return sialo_fail_null("model file is truncated: header announces %llu payload bytes, file has %zu",
                                   (unsigned long long)payload, size - HEADER_SIZE);
        return sialo_fail_null("model file has %zu trailing bytes after the payload the header announces",
                               (size_t)(size - HEADER_SIZE - payload));
    }
    if (head && version < FORMAT_VERSION_SECTIONS)
        return sialo_fail_null("a model file of version %u: not one trained for lesion boxes", version);
    uint32_t got = head ? crc : sialo_crc32(b + HEADER_SIZE, (size_t)payload);
    if (got != crc)
        return sialo_fail_null("model file is corrupt: payload checksum mismatch (stored CRC-32 %08x, computed %08x)", crc, got);

    reader r = {b + HEADER_SIZE, (size_t)payload, 0, 0, "arch", HEADER_SIZE};
    sialo_graph *g = sialo_xcalloc(1, sizeof *g);
    if (!g) return NULL;
    g->storage_bits = (int)bits;
    g->checksum = crc;
    g->format_version = (int)version;
    g->calib_a = 1.0f; /* version 1: no calibration */
    g->calib_b = 0.0f;
    sialo_ood_net *ood[SIALO_MAX_MEMBERS] = {0};
    int has_thr = 0, frames = 0;
    float thr = 0;
    if (read_meta(&r, g, version) < 0) goto fail;
    int ensemble = version == FORMAT_VERSION_ENSEMBLE;
    if (version >= FORMAT_VERSION_SECTIONS) {
        if (read_sections(&r, ood, &has_thr, &thr, &frames, g, head) < 0) goto fail;
        r.what = "network count";
        uint32_t nn = rd_u32(&r);
        if (r.bad) goto fail;
        if (nn < 1 || nn > SIALO_MAX_MEMBERS) { sialo_fail("model file is corrupt: %u networks (1 to %d allowed)", nn, SIALO_MAX_MEMBERS); goto fail; }
        if (head) { /* the head: its facts, the threshold of its out-of-distribution check; no networks */
            g->head_networks = (int)nn;
            if (has_thr) { g->ood_threshold = thr; g->ood_frames = frames; }
            for (int k = 0; k < SIALO_MAX_MEMBERS; k++) sialo_ood_net_free(ood[k]);
            return g;
        }
        ensemble = nn > 1;
        if (ensemble) r.pos -= 4; /* read_members reads the count again */
    }
    if (ensemble ? read_members(&r, g, bits) < 0 : read_body(&r, g, bits) < 0) goto fail;
    /* the out-of-distribution statistics: one set per network, else none (not checked) */
    int nets = g->n_members ? g->n_members : 1, have = 0;
    for (int k = 0; k < SIALO_MAX_MEMBERS; k++) if (ood[k]) { if (k >= nets) { sialo_fail("model file is corrupt: out-of-distribution statistics for network %d of %d", k + 1, nets); goto fail; } have++; }
    if (have && (have != nets || !has_thr)) {
        sialo_fail("model file is corrupt: out-of-distribution statistics for %d of its %d networks%s", have, nets, has_thr ? "" : ", and no threshold");
        goto fail;
    }
    if (have) {
        sialo_ood_net *v[SIALO_MAX_MEMBERS];
        memcpy(v, ood, sizeof v);
        memset(ood, 0, sizeof ood);
        if (sialo_graph_set_ood(g, v, nets, thr, frames) < 0) goto fail;
    }
    if (g->box_graph && (g->input_modes & SIALO_MODE_BOX)) {
        sialo_fail("model file is corrupt: its networks are trained for boxes and it carries a box model as well");
        goto fail;
    }
    if (g->box_graph && sialo_graph_same_classes(g, g->box_graph) < 0) goto fail;
    return g;
fail:
    for (int k = 0; k < SIALO_MAX_MEMBERS; k++) sialo_ood_net_free(ood[k]);
    sialo_graph_free(g);
    return NULL;
}

sialo_graph *sialo_graph_read(const void *data, size_t size) {
    sialo_graph *g = sialo_graph_read_any(data, size);
    if (g && g->n_members) {
        int n = g->n_members;
        sialo_graph_free(g);
        return sialo_fail_null("the model file is an ensemble of %d networks, but a single network is needed here "
                               "(give one of the files the ensemble was built from)", n);
    }
    return g;
}

/* ------------------------------------------------------------------ writer */
typedef struct {
    uint8_t *p;
    size_t n, cap;
    int oom;
} wbuf;

static void put(wbuf *w, const void *src, size_t k) {
    if (w->oom) return;
    if (w->n + k > w->cap) {
        size_t nc = w->cap ? w->cap : 4096;
        while (nc < w->n + k) nc *= 2;
        uint8_t *np = realloc(w->p, nc);
        if (!np) { w->oom = 1; return; }
        w->p = np;
        w->cap = nc;
    }
    if (src) memcpy(w->p + w->n, src, k); else memset(w->p + w->n, 0, k);
    w->n += k;
}
static void put_u32(wbuf *w, uint32_t v) {
    uint8_t b[4] = {(uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24)};
    put(w, b, 4);
}
static void put_u64(wbuf *w, uint64_t v) { put_u32(w, (uint32_t)v); put_u32(w, (uint32_t)(v >> 32)); }
static void put_f32(wbuf *w, float f) { uint32_t u; memcpy(&u, &f, 4); put_u32(w, u); }
static void put_str(wbuf *w, const char *s) {
    size_t len = s ? strlen(s) : 0;
    put_u32(w, (uint32_t)len);
    put(w, s, len);
}

/* arch .. calibration */
static void put_meta(wbuf *w, const sialo_graph *g) {
    put_str(w, g->arch);
    put_str(w, g->provenance);
    put_u32(w, (uint32_t)g->in_h); put_u32(w, (uint32_t)g->in_w); put_u32(w, (uint32_t)g->in_c);
    for (int i = 0; i < 3; i++) put_f32(w, g->norm_scale[i]);
    for (int i = 0; i < 3; i++) put_f32(w, g->norm_bias[i]);
    put_u32(w, (uint32_t)g->n_classes);
    put_u32(w, (uint32_t)g->n_class_names);
    for (int i = 0; i < g->n_class_names; i++) put_str(w, g->class_names[i]);
    put_f32(w, g->threshold);
    put_f32(w, g->calib_a);
    put_f32(w, g->calib_b);
}

/* tensor table, node table, padding to a multiple of 16 of the file offset (w->n), tensor data */
static void put_body(wbuf *w, const sialo_graph *g, int storage_bits) {
    size_t elt = (size_t)storage_bits / 8;
    put_u32(w, (uint32_t)g->n_tensors);
    uint64_t off = 0;
    for (int i = 0; i < g->n_tensors; i++) {
        const sialo_tensor *t = &g->tensors[i];
        put_str(w, t->name);
        put_u32(w, (uint32_t)t->ndim);
        for (int d = 0; d < t->ndim; d++) put_u32(w, (uint32_t)t->dims[d]);
        put_u64(w, off);
        off += (t->count * elt + 15) / 16 * 16;
    }
    put_u32(w, (uint32_t)g->n_nodes);
    for (int i = 0; i < g->n_nodes; i++) {
        const sialo_node *n = &g->nodes[i];
        put_u32(w, (uint32_t)n->op);
        put_str(w, n->name);
        put_u32(w, (uint32_t)n->n_in);
        for (int k = 0; k < n->n_in; k++) put_u32(w, (uint32_t)n->in[k]);
        for (int k = 0; k < SIALO_NPARAMS; k++) put_u32(w, (uint32_t)n->p[k]);
        put_u32(w, (uint32_t)n->n_t);
        for (int k = 0; k < n->n_t; k++) put_u32(w, (uint32_t)n->t[k]);
    }
    put(w, NULL, (16 - w->n % 16) % 16);
    for (int i = 0; i < g->n_tensors; i++) {
        const sialo_tensor *t = &g->tensors[i];
        if (storage_bits == 32) {
            for (size_t k = 0; k < t->count; k++) put_f32(w, t->data[k]);
        } else {
            for (size_t k = 0; k < t->count; k++) {
                uint16_t h = sialo_f32_to_f16(t->data[k]);
                uint8_t b2[2] = {(uint8_t)h, (uint8_t)(h >> 8)};
                put(w, b2, 2);
            }
        }
        put(w, NULL, (16 - (t->count * elt) % 16) % 16);
    }
}

/* 1 if the model carries out-of-distribution statistics for every network and a threshold */
static int has_ood(const sialo_graph *g) {
    if (!(g->ood_threshold > 0)) return 0;
    for (int k = 0; k < (g->n_members ? g->n_members : 1); k++)
        if (!(g->n_members ? g->members[k] : g)->ood) return 0;
    return 1;
}
/* 1 if the model was trained for more than whole frames */
static int has_modes(const sialo_graph *g) { return g->input_modes && g->input_modes != SIALO_MODE_WHOLE; }

int sialo_graph_same_classes(const sialo_graph *whole, const sialo_graph *box) {
    int same = whole->n_classes == box->n_classes && whole->n_class_names == box->n_class_names;
    for (int i = 0; same && i < whole->n_class_names; i++) same = !strcmp(whole->class_names[i], box->class_names[i]);
    return same ? 0 : sialo_fail("the box model has other outputs or classes than the whole-frame model (%d outputs, %s / %s)", box->n_classes,
                                 box->n_class_names > 0 ? box->class_names[0] : "?", box->n_class_names > 1 ? box->class_names[1] : "?");
}

/* version 4: the sections, then the network count */
static void put_sections(wbuf *w, const sialo_graph *g) {
    int nets = g->n_members ? g->n_members : 1, ood = has_ood(g), modes = has_modes(g);
    put_u32(w, (uint32_t)(ood ? nets + 1 : 0) + (uint32_t)modes + (g->box_graph != NULL));
    if (g->box_graph) { /* the bytes it was read from, verbatim; else the model built in memory */
        uint8_t *nb = NULL;
        size_t nn = 0;
        const sialo_graph *bg = g->box_graph;
        if (!g->box_file && sialo_graph_write(bg, bg->storage_bits == 16 ? 16 : 32, &nb, &nn) < 0) w->oom = 1;
        put_str(w, "box-model");
        put_u32(w, OOD_ALL);
        put_u64(w, (uint64_t)(g->box_file ? g->box_file_size : nn));
        if (g->box_file) put(w, g->box_file, g->box_file_size);
        else put(w, nb, nn);
        free(nb);
    }
    if (modes) {
        put_str(w, "input-modes");
        put_u32(w, OOD_ALL);
        put_u64(w, 8);
        put_u32(w, (uint32_t)g->input_modes);
        put_f32(w, g->box_margin);
    }
    for (int k = 0; ood && k < nets; k++) {
        const sialo_ood_net *o = (g->n_members ? g->members[k] : g)->ood;
        put_str(w, "ood");
        put_u32(w, (uint32_t)k);
        size_t at = w->n;
        put_u64(w, 0);
        size_t start = w->n;
        put_str(w, o->layer);
        put_u32(w, (uint32_t)o->dim); put_u32(w, (uint32_t)o->n_means); put_u32(w, (uint32_t)o->rank);
        put_f32(w, o->scale); put_f32(w, o->resid_var);
        for (size_t i = 0; i < (size_t)o->n_means * o->dim; i++) put_f32(w, o->means[i]);
        for (int i = 0; i < o->rank; i++) put_f32(w, o->var[i]);
        for (size_t i = 0; i < (size_t)o->rank * o->dim; i++) put_f32(w, o->basis[i]);
        if (!w->oom) { uint64_t sz = w->n - start; for (int i = 0; i < 8; i++) w->p[at + i] = (uint8_t)(sz >> (8 * i)); }
    }
    if (ood) {
        put_str(w, "ood-threshold");
        put_u32(w, OOD_ALL);
        put_u64(w, 8);
        put_f32(w, g->ood_threshold);
        put_u32(w, (uint32_t)g->ood_frames);
    }
    if (!g->n_members) put_u32(w, 1); /* an ensemble's records start with their count */
}

int sialo_graph_write(const sialo_graph *g, int storage_bits, uint8_t **out, size_t *out_size) {
    if (storage_bits != 32 && storage_bits != 16) return sialo_fail("storage bits must be 32 or 16, not %d", storage_bits);
    if (g->n_members == 1 || g->n_members > SIALO_MAX_MEMBERS)
        return sialo_fail("an ensemble has 2 to %d networks, not %d", SIALO_MAX_MEMBERS, g->n_members);
    int sections = has_ood(g) || has_modes(g) || g->box_graph;
    if (g->box_graph && (g->box_graph->box_graph || !(g->box_graph->input_modes & SIALO_MODE_BOX) || (g->input_modes & SIALO_MODE_BOX)))
        return sialo_fail("a box model must be trained for boxes, carry no box model itself, and go with a whole-frame model");
    wbuf w = {0};
    put(&w, NULL, HEADER_SIZE);
    put_meta(&w, g);
    if (sections) put_sections(&w, g);
    if (!g->n_members) {
        put_body(&w, g, storage_bits);
    } else { /* version 3: the members, each with its own metadata and the size of its body */
        put_u32(&w, (uint32_t)g->n_members);
        for (int k = 0; k < g->n_members; k++) {
            const sialo_graph *mg = g->members[k];
            put_str(&w, mg->arch);
            put_str(&w, mg->provenance);
            put_u32(&w, (uint32_t)mg->in_h); put_u32(&w, (uint32_t)mg->in_w); put_u32(&w, (uint32_t)mg->in_c);
            for (int i = 0; i < 3; i++) put_f32(&w, mg->norm_scale[i]);
            for (int i = 0; i < 3; i++) put_f32(&w, mg->norm_bias[i]);
            size_t at = w.n;
            put_u64(&w, 0);
            size_t start = w.n;
            put_body(&w, mg, storage_bits);
            if (!w.oom) {
                uint64_t body = w.n - start;
                for (int i = 0; i < 8; i++) w.p[at + i] = (uint8_t)(body >> (8 * i));
            }
        }
    }
    if (w.oom) { free(w.p); return sialo_fail("out of memory writing the model"); }
    uint64_t payload = w.n - HEADER_SIZE;
    memcpy(w.p, MAGIC, 8);
    uint8_t *h = w.p + 8;
    uint32_t hv[5] = {sections ? FORMAT_VERSION_SECTIONS : g->n_members ? FORMAT_VERSION_ENSEMBLE : FORMAT_VERSION, (uint32_t)storage_bits, (uint32_t)payload,
                      (uint32_t)(payload >> 32), sialo_crc32(w.p + HEADER_SIZE, (size_t)payload)};
    for (int i = 0; i < 5; i++) for (int k = 0; k < 4; k++) h[4 * i + k] = (uint8_t)(hv[i] >> (8 * k));
    memset(w.p + 28, 0, 4);
    *out = w.p;
    *out_size = w.n;
    return 0;
}

int sialo_graph_write_file(const sialo_graph *g, int storage_bits, const char *path) {
    uint8_t *buf;
    size_t n;
    if (sialo_graph_write(g, storage_bits, &buf, &n) < 0) return -1;
    FILE *f = fopen(path, "wb");
    if (!f) { free(buf); return sialo_fail("cannot write '%s'", path); }
    size_t wr = fwrite(buf, 1, n, f);
    int closed = fclose(f);
    free(buf);
    if (wr != n || closed != 0) return sialo_fail("writing '%s' failed (disk full?)", path);
    return 0;
}
