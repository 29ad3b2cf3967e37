/* import/tflite.h — the TensorFlow Lite importer's two halves (internal to import/):
 * tflite_reader.c, a strict read-only flatbuffer reader that parses the file into tfl_model, and
 * tflite.c, the graph builder that turns its operator list into graph.h nodes.
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
#ifndef SIALO_IMPORT_TFLITE_H
#define SIALO_IMPORT_TFLITE_H

#include <stdint.h>
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


static inline uint16_t le16(const uint8_t *b) { return (uint16_t)(b[0] | b[1] << 8); }
static inline uint32_t le32(const uint8_t *b) {
    return (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
}
static inline uint64_t le64(const uint8_t *b) { return (uint64_t)le32(b) | (uint64_t)le32(b + 4) << 32; }
static inline float lef32(const uint8_t *b) {
    uint32_t u = le32(b);
    float f;
    memcpy(&f, &u, 4);
    return f;
}

static inline int32_t fb_vec_i32(const fb_file *f, const fb_vec *v, uint32_t i) { return (int32_t)le32(f->p + v->pos + 4ull * i); }

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

int fb_int(const fb_file *f, const fb_table *t, int id, unsigned size, int is_signed, int64_t def,
                  int64_t *out, const char *what);
int fb_float(const fb_file *f, const fb_table *t, int id, float def, float *out, const char *what);
const char *tfl_op_label(int code);
void tfl_tensor_name(const tfl_model *m, int ti, char *out, size_t cap);
int tfl_parse(tfl_model *m, const void *data, size_t size);
void tfl_free(tfl_model *m);
float *tfl_dequantize(const tfl_model *m, int ti);

#endif
