/* bright_patch_net.h — a hand-built "bright patch detector" whose Grad-CAM must point at the bright
 * patch: conv 3x3 firing where the local mean is bright -> max pool -> conv 3x3 -> GAP -> dense ->
 * sigmoid. Used by tests/c/test_gradcam.c and by tools/gradcam_examples.c (the docs figures).
 * dense_sign -1 turns the evidence into negative evidence. NULL (reason set) on failure. */
#ifndef SIALO_BRIGHT_PATCH_NET_H
#define SIALO_BRIGHT_PATCH_NET_H

#include "engine/graph.h"

static sialo_graph *bright_patch_net(float dense_sign) {
    sialo_graph *g = sialo_graph_new("bright-patch-detector", 32, 32, 3);
    if (!g) return NULL;
    for (int i = 0; i < 3; i++) { g->norm_scale[i] = 1.0f / 255.0f; g->norm_bias[i] = 0.0f; }
    int c1 = gb_conv(g, "bright", 0, 3, 3, 1, PAD_SAME, 1, 4, 1, ACT_RELU);
    int mp = gb_pool(g, OP_MAXPOOL, "pool", c1, 2, 2, PAD_VALID);
    int c2 = gb_conv(g, "feat", mp, 3, 3, 1, PAD_SAME, 1, 4, 1, ACT_RELU);
    int gap = gb_simple(g, OP_GAP, "avg_pool", c2);
    int dn = gb_dense(g, "predictions", gap, 1, 1, ACT_NONE);
    static const char *const names[2] = {"benign", "malignant"};
    if (gb_simple(g, OP_SIGMOID, "sigmoid", dn) < 0 || sialo_graph_set_classes(g, 2, names) < 0) { sialo_graph_free(g); return NULL; }
    g->n_classes = 1;
    if (sialo_graph_infer_shapes(g) < 0) { sialo_graph_free(g); return NULL; }
    /* bright: mean of the 3x3x3 window minus 0.5 (fires on bright pixels only) */
    sialo_tensor *w1 = &g->tensors[g->nodes[c1].t[0]], *b1 = &g->tensors[g->nodes[c1].t[1]];
    for (size_t k = 0; k < w1->count; k++) w1->data[k] = (1.0f + 0.1f * (float)(k % 4)) / 27.0f;
    for (int k = 0; k < 4; k++) b1->data[k] = -0.5f;
    sialo_tensor *w2 = &g->tensors[g->nodes[c2].t[0]], *b2 = &g->tensors[g->nodes[c2].t[1]];
    for (size_t k = 0; k < w2->count; k++) w2->data[k] = 1.0f / 36.0f;
    for (int k = 0; k < 4; k++) b2->data[k] = -0.05f;
    sialo_tensor *w3 = &g->tensors[g->nodes[dn].t[0]], *b3 = &g->tensors[g->nodes[dn].t[1]];
    for (int k = 0; k < 4; k++) w3->data[k] = dense_sign * (1.0f + 0.25f * k);
    b3->data[0] = -0.5f * dense_sign;
    return g;
}

#endif
