/* arch.c — the architectures sialoscan knows, built layer by layer with Keras' layer names:
 *   resnet50v2   keras.applications.resnet_v2.ResNet50V2 (pre-activation bottlenecks [3,4,6,3])
 *   mobilenetv2  keras.applications.MobileNetV2, alpha 1.0
 *   smallcnn     a small VGG-style CNN for training from scratch (4 conv-BN-ReLU-pool blocks)
 * and the heads:
 *   binary    avg_pool (GAP) -> dropout(0.5) -> predictions (dense 1) -> sigmoid
 *   imagenet  avg_pool (GAP) -> predictions (dense n_out) -> softmax
 *   none      the backbone's last feature map is the output
 */
#include "engine/graph.h"
#include "sialoscan.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#define RESNET_EPS 1.001e-5f
#define MOBILENET_EPS 1e-3f

static int nm(char *buf, size_t n, const char *a, const char *b) {
    snprintf(buf, n, "%s%s", a, b);
    return 0;
}

/* ---------------------------------------------------------------- ResNet50V2 */
static int resnet_block2(sialo_graph *g, int x, int filters, int stride, int conv_shortcut, const char *name) {
    char b[256];
    nm(b, sizeof b, name, "_preact_bn");
    int pre = gb_bn(g, b, x, RESNET_EPS, ACT_NONE);
    nm(b, sizeof b, name, "_preact_relu");
    pre = gb_simple(g, OP_RELU, b, pre);
    int shortcut;
    if (conv_shortcut) {
        nm(b, sizeof b, name, "_0_conv");
        shortcut = gb_conv(g, b, pre, 1, 1, stride, PAD_VALID, 1, 4 * filters, 1, ACT_NONE);
    } else if (stride > 1) {
        nm(b, sizeof b, name, "_shortcut_pool"); /* Keras: an unnamed MaxPooling2D(1, strides=stride) */
        shortcut = gb_pool(g, OP_MAXPOOL, b, x, 1, stride, PAD_VALID);
    } else {
        shortcut = x;
    }
    nm(b, sizeof b, name, "_1_conv");
    int y = gb_conv(g, b, pre, 1, 1, 1, PAD_VALID, 1, filters, 0, ACT_NONE);
    nm(b, sizeof b, name, "_1_bn");
    y = gb_bn(g, b, y, RESNET_EPS, ACT_NONE);
    nm(b, sizeof b, name, "_1_relu");
    y = gb_simple(g, OP_RELU, b, y);
    nm(b, sizeof b, name, "_2_pad");
    y = gb_pad(g, b, y, 1, 1, 1, 1);
    nm(b, sizeof b, name, "_2_conv");
    y = gb_conv(g, b, y, 3, 3, stride, PAD_VALID, 1, filters, 0, ACT_NONE);
    nm(b, sizeof b, name, "_2_bn");
    y = gb_bn(g, b, y, RESNET_EPS, ACT_NONE);
    nm(b, sizeof b, name, "_2_relu");
    y = gb_simple(g, OP_RELU, b, y);
    nm(b, sizeof b, name, "_3_conv");
    y = gb_conv(g, b, y, 1, 1, 1, PAD_VALID, 1, 4 * filters, 1, ACT_NONE);
    nm(b, sizeof b, name, "_out");
    return gb_add(g, b, shortcut, y, ACT_NONE);
}

static int resnet_stack2(sialo_graph *g, int x, int filters, int blocks, int stride1, const char *name) {
    char b[256];
    snprintf(b, sizeof b, "%s_block1", name);
    x = resnet_block2(g, x, filters, 1, 1, b);
    for (int i = 2; i < blocks; i++) {
        snprintf(b, sizeof b, "%s_block%d", name, i);
        x = resnet_block2(g, x, filters, 1, 0, b);
    }
    snprintf(b, sizeof b, "%s_block%d", name, blocks);
    return resnet_block2(g, x, filters, stride1, 0, b);
}

static int build_resnet50v2(sialo_graph *g) {
    int x = gb_pad(g, "conv1_pad", 0, 3, 3, 3, 3);
    x = gb_conv(g, "conv1_conv", x, 7, 7, 2, PAD_VALID, 1, 64, 1, ACT_NONE);
    x = gb_pad(g, "pool1_pad", x, 1, 1, 1, 1);
    x = gb_pool(g, OP_MAXPOOL, "pool1_pool", x, 3, 2, PAD_VALID);
    x = resnet_stack2(g, x, 64, 3, 2, "conv2");
    x = resnet_stack2(g, x, 128, 4, 2, "conv3");
    x = resnet_stack2(g, x, 256, 6, 2, "conv4");
    x = resnet_stack2(g, x, 512, 3, 1, "conv5");
    x = gb_bn(g, "post_bn", x, RESNET_EPS, ACT_NONE);
    return gb_simple(g, OP_RELU, "post_relu", x);
}

/* ---------------------------------------------------------------- MobileNetV2 */
static int mobilenet_block(sialo_graph *g, int x, int expansion, int stride, int filters, int block_id) {
    char prefix[64], b[256];
    int in_c = g->nodes[x].oc, in = x;
    if (block_id) {
        snprintf(prefix, sizeof prefix, "block_%d_", block_id);
        nm(b, sizeof b, prefix, "expand");
        x = gb_conv(g, b, x, 1, 1, 1, PAD_SAME, 1, expansion * in_c, 0, ACT_NONE);
        nm(b, sizeof b, prefix, "expand_BN");
        x = gb_bn(g, b, x, MOBILENET_EPS, ACT_NONE);
        nm(b, sizeof b, prefix, "expand_relu");
        x = gb_simple(g, OP_RELU6, b, x);
    } else {
        snprintf(prefix, sizeof prefix, "expanded_conv_");
    }
    if (x < 0) return -1;
    if (stride == 2) { /* Keras correct_pad(x, 3) */
        int h = g->nodes[x].oh, w = g->nodes[x].ow;
        nm(b, sizeof b, prefix, "pad");
        x = gb_pad(g, b, x, 1 - (1 - h % 2), 1, 1 - (1 - w % 2), 1);
    }
    int c = x >= 0 ? g->nodes[x].oc : 0;
    nm(b, sizeof b, prefix, "depthwise");
    x = gb_conv(g, b, x, 3, 3, stride, stride == 1 ? PAD_SAME : PAD_VALID, c, c, 0, ACT_NONE);
    nm(b, sizeof b, prefix, "depthwise_BN");
    x = gb_bn(g, b, x, MOBILENET_EPS, ACT_NONE);
    nm(b, sizeof b, prefix, "depthwise_relu");
    x = gb_simple(g, OP_RELU6, b, x);
    nm(b, sizeof b, prefix, "project");
    x = gb_conv(g, b, x, 1, 1, 1, PAD_SAME, 1, filters, 0, ACT_NONE);
    nm(b, sizeof b, prefix, "project_BN");
    x = gb_bn(g, b, x, MOBILENET_EPS, ACT_NONE);
    if (in_c == filters && stride == 1) {
        nm(b, sizeof b, prefix, "add");
        x = gb_add(g, b, in, x, ACT_NONE);
    }
    return x;
}

static int build_mobilenetv2(sialo_graph *g) {
    static const int cfg[17][3] = {/* filters, stride, expansion */
        {16, 1, 1}, {24, 2, 6}, {24, 1, 6}, {32, 2, 6}, {32, 1, 6}, {32, 1, 6}, {64, 2, 6}, {64, 1, 6}, {64, 1, 6},
        {64, 1, 6}, {96, 1, 6}, {96, 1, 6}, {96, 1, 6}, {160, 2, 6}, {160, 1, 6}, {160, 1, 6}, {320, 1, 6}};
    int x = gb_conv(g, "Conv1", 0, 3, 3, 2, PAD_SAME, 1, 32, 0, ACT_NONE);
    x = gb_bn(g, "bn_Conv1", x, MOBILENET_EPS, ACT_NONE);
    x = gb_simple(g, OP_RELU6, "Conv1_relu", x);
    for (int i = 0; i < 17 && x >= 0; i++) x = mobilenet_block(g, x, cfg[i][2], cfg[i][1], cfg[i][0], i);
    x = gb_conv(g, "Conv_1", x, 1, 1, 1, PAD_VALID, 1, 1280, 0, ACT_NONE);
    x = gb_bn(g, "Conv_1_bn", x, MOBILENET_EPS, ACT_NONE);
    return gb_simple(g, OP_RELU6, "out_relu", x);
}

/* ---------------------------------------------------------------- small CNN */
static int build_smallcnn(sialo_graph *g) {
    static const int widths[4] = {32, 64, 128, 256};
    int x = 0;
    char b[64];
    for (int i = 0; i < 4 && x >= 0; i++) {
        snprintf(b, sizeof b, "block%d_conv", i + 1);
        x = gb_conv(g, b, x, 3, 3, 1, PAD_SAME, 1, widths[i], 0, ACT_NONE);
        snprintf(b, sizeof b, "block%d_bn", i + 1);
        x = gb_bn(g, b, x, 1e-3f, ACT_NONE);
        snprintf(b, sizeof b, "block%d_relu", i + 1);
        x = gb_simple(g, OP_RELU, b, x);
        if (i < 3) {
            snprintf(b, sizeof b, "block%d_pool", i + 1);
            x = gb_pool(g, OP_MAXPOOL, b, x, 2, 2, PAD_VALID);
        }
    }
    return x;
}

sialo_graph *sialo_arch_build(const char *arch, int in_h, int in_w, const char *head, int n_out) {
    if (!arch || !head) return sialo_fail_null("no architecture given");
    if (in_h < 32 || in_w < 32 || in_h > 2048 || in_w > 2048)
        return sialo_fail_null("input size %dx%d is outside 32..2048", in_h, in_w);
    sialo_graph *g = sialo_graph_new(arch, in_h, in_w, 3);
    if (!g) return NULL;
    int x;
    if (!strcmp(arch, "resnet50v2")) x = build_resnet50v2(g);
    else if (!strcmp(arch, "mobilenetv2")) x = build_mobilenetv2(g);
    else if (!strcmp(arch, "smallcnn")) x = build_smallcnn(g);
    else { sialo_graph_free(g); return sialo_fail_null("unknown architecture '%s' (known: resnet50v2, mobilenetv2, smallcnn)", arch); }
    if (x < 0) { sialo_graph_free(g); return NULL; }
    if (!strcmp(head, "binary")) {
        x = gb_simple(g, OP_GAP, "avg_pool", x);
        x = gb_dropout(g, "dropout", x, 0.5f);
        x = gb_dense(g, "predictions", x, 1, 1, ACT_NONE);
        x = gb_simple(g, OP_SIGMOID, "sigmoid", x);
        static const char *const names[2] = {"benign", "malignant"};
        if (x < 0 || sialo_graph_set_classes(g, 2, names) < 0) { sialo_graph_free(g); return NULL; }
        g->n_classes = 1;
    } else if (!strcmp(head, "imagenet")) {
        if (n_out < 2) { sialo_graph_free(g); return sialo_fail_null("the imagenet head needs >= 2 classes"); }
        x = gb_simple(g, OP_GAP, "avg_pool", x);
        x = gb_dense(g, "predictions", x, n_out, 1, ACT_NONE);
        x = gb_simple(g, OP_SOFTMAX, "softmax", x);
        if (x < 0) { sialo_graph_free(g); return NULL; }
        g->n_classes = n_out;
    } else if (!strcmp(head, "none")) {
        g->n_classes = g->nodes[x].oc;
    } else {
        sialo_graph_free(g);
        return sialo_fail_null("unknown head '%s' (binary, imagenet, none)", head);
    }
    if (sialo_graph_infer_shapes(g) < 0) { sialo_graph_free(g); return NULL; }
    return g;
}

/* ---------------------------------------------------------------- random weights */
static uint64_t splitmix(uint64_t *s) {
    uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}
static float unif(uint64_t *s, float lo, float hi) {
    return lo + (hi - lo) * (float)((splitmix(s) >> 40) * (1.0 / 16777216.0));
}

void sialo_graph_randomize(sialo_graph *g, uint64_t seed) {
    uint64_t s = seed * 0x2545F4914F6CDD1Dull + 1;
    for (int i = 0; i < g->n_nodes; i++) {
        sialo_node *n = &g->nodes[i];
        if (n->op == OP_CONV || n->op == OP_DENSE) {
            sialo_tensor *w = &g->tensors[n->t[0]];
            size_t fan_in = w->count / (size_t)w->dims[w->ndim - 1];
            /* He-uniform for layers followed by ReLU; the final dense gets a smaller scale so
               that the output probability is not saturated */
            float a = n->op == OP_DENSE ? sqrtf(1.0f / (float)fan_in) : sqrtf(6.0f / (float)fan_in);
            for (size_t k = 0; k < w->count; k++) w->data[k] = unif(&s, -a, a);
            if (n->n_t > 1) {
                sialo_tensor *b = &g->tensors[n->t[1]];
                for (size_t k = 0; k < b->count; k++) b->data[k] = unif(&s, -0.05f, 0.05f);
            }
        } else if (n->op == OP_BATCHNORM) {
            sialo_tensor *gam = &g->tensors[n->t[0]], *bet = &g->tensors[n->t[1]];
            sialo_tensor *mean = &g->tensors[n->t[2]], *var = &g->tensors[n->t[3]];
            for (size_t k = 0; k < gam->count; k++) {
                gam->data[k] = unif(&s, 0.6f, 1.0f);
                bet->data[k] = unif(&s, -0.1f, 0.1f);
                mean->data[k] = unif(&s, -0.1f, 0.1f);
                var->data[k] = unif(&s, 0.8f, 1.5f);
            }
        }
    }
}
