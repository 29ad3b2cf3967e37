/* ensemble.c — several networks in one model: their logits averaged.
 *
 * A model file of version 3 (model_file.c) carries 2..16 networks and ONE set of ensemble facts:
 * classes, threshold, calibration, provenance. Every network takes the same input (size and
 * normalisation), so one preprocessed frame feeds them all. The ensemble's score is the mean of
 * the networks' logits (the inputs of their final sigmoid / softmax), which then goes through that
 * final function: for a binary model p_raw = sigmoid(mean_k z_k), what sialo_forward returns; the
 * calibration and the threshold (sialo_decide) then apply to p_raw exactly as for one network.
 * (Averaging logits, not probabilities: the recipe cross-validated in tools/experiments/recipes-score.mjs.)
 *
 * Loading builds one runtime per network (weights packed once each, each its own arena) on one
 * shared thread pool; the networks run one after another. The ensemble's model is network 0,
 * with the others in m->member (runtime.h). Grad-CAM of an ensemble (gradcam.c) averages the
 * networks' raw maps. A file of one network never comes here: it runs exactly as before.
 */
#include "engine/runtime.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int same_input(const sialo_graph *a, const sialo_graph *b) {
    return a->in_h == b->in_h && a->in_w == b->in_w && a->in_c == b->in_c &&
           !memcmp(a->norm_scale, b->norm_scale, sizeof a->norm_scale) && !memcmp(a->norm_bias, b->norm_bias, sizeof a->norm_bias);
}

sialo_graph *sialo_ensemble_graph(sialo_graph **members, int n) {
    sialo_graph *top = NULL;
    int k = 0;
    if (n < 2 || n > SIALO_MAX_MEMBERS) { sialo_fail("an ensemble has 2 to %d networks, not %d", SIALO_MAX_MEMBERS, n); goto fail; }
    for (k = 0; k < n; k++) {
        const sialo_graph *a = members[0], *b = members[k];
        if (!b || b->n_members) { sialo_fail("network %d is %s: an ensemble is made of single networks", k + 1, b ? "itself an ensemble" : "missing"); goto fail; }
        if (b->in_h != a->in_h || b->in_w != a->in_w || b->in_c != a->in_c) {
            sialo_fail("network %d takes %dx%d inputs but network 1 takes %dx%d: the networks of an ensemble must take the same input size",
                       k + 1, b->in_w, b->in_h, a->in_w, a->in_h);
            goto fail;
        }
        if (!same_input(a, b)) {
            sialo_fail("network %d normalises its input differently from network 1 (scale %g, bias %g against %g, %g): the networks of an "
                       "ensemble must take the same normalisation", k + 1, b->norm_scale[0], b->norm_bias[0], a->norm_scale[0], a->norm_bias[0]);
            goto fail;
        }
        if (b->n_classes != a->n_classes) {
            sialo_fail("network %d has %d outputs but network 1 has %d: the networks of an ensemble must have the same outputs", k + 1,
                       b->n_classes, a->n_classes);
            goto fail;
        }
        int names_differ = b->n_class_names != a->n_class_names;
        for (int i = 0; !names_differ && i < a->n_class_names; i++) names_differ = strcmp(a->class_names[i], b->class_names[i]) != 0;
        if (names_differ) { sialo_fail("network %d names its classes differently from network 1", k + 1); goto fail; }
    }
    top = sialo_xcalloc(1, sizeof *top);
    sialo_graph **mv = sialo_xcalloc((size_t)n, sizeof *mv);
    if (!top || !mv) { free(mv); goto fail; }
    /* arch: the networks' own, or "a+b" when they differ (within the reader's limit of 1024 bytes) */
    char arch[1024] = "";
    int same_arch = 1;
    for (k = 1; k < n; k++) same_arch &= !strcmp(members[k]->arch ? members[k]->arch : "", members[0]->arch ? members[0]->arch : "");
    for (k = 0; k < (same_arch ? 1 : n); k++) {
        size_t used = strlen(arch);
        snprintf(arch + used, sizeof arch - used, "%s%s", k ? "+" : "", members[k]->arch ? members[k]->arch : "?");
    }
    char prov[512];
    snprintf(prov, sizeof prov, "ensemble of %d networks (%.300s): p_raw = sigmoid of the mean of their logits; no calibration yet "
             "(sialoscan calibrate fits one on the ensemble's out-of-fold predictions)", n, arch);
    if (sialo_graph_set_text(&top->arch, arch) < 0 || sialo_graph_set_text(&top->provenance, prov) < 0 ||
        sialo_graph_set_classes(top, members[0]->n_class_names, (const char *const *)members[0]->class_names) < 0) {
        free(mv);
        goto fail;
    }
    top->in_h = members[0]->in_h; top->in_w = members[0]->in_w; top->in_c = members[0]->in_c;
    memcpy(top->norm_scale, members[0]->norm_scale, sizeof top->norm_scale);
    memcpy(top->norm_bias, members[0]->norm_bias, sizeof top->norm_bias);
    top->n_classes = members[0]->n_classes;
    top->threshold = 0.5f;
    top->calib_a = 1.0f;
    top->calib_b = 0.0f;
    top->storage_bits = members[0]->storage_bits ? members[0]->storage_bits : 32;
    /* what the networks were trained for: the modes they all share, the first network's margin */
    top->input_modes = SIALO_MODE_WHOLE | SIALO_MODE_BOX;
    for (k = 0; k < n; k++) top->input_modes &= members[k]->input_modes ? members[k]->input_modes : SIALO_MODE_WHOLE;
    if (!top->input_modes) top->input_modes = SIALO_MODE_WHOLE;
    top->box_margin = members[0]->box_margin;
    memcpy(mv, members, (size_t)n * sizeof *mv);
    top->members = mv;
    top->n_members = n;
    return top;
fail:
    sialo_graph_free(top);
    for (k = 0; k < n; k++) sialo_graph_free(members[k]);
    return NULL;
}

sialo_model *sialo_ensemble_model(sialo_graph *g, const sialo_options *opt, sialo_pool *pool) {
    int n = g->n_members;
    sialo_graph **gm = g->members;
    sialo_model **mm = NULL;
    g->members = NULL;
    g->n_members = 0; /* g keeps the ensemble's metadata only */
    int built = 0;
    if (opt && opt->training) { sialo_fail("an ensemble cannot be trained: train its networks one by one"); goto fail; }
    if (n < 2 || n > SIALO_MAX_MEMBERS) { sialo_fail("an ensemble has 2 to %d networks, not %d", SIALO_MAX_MEMBERS, n); goto fail; }
    /* every network carries the ensemble's facts, so that each decides (sialo_decide) as the ensemble */
    for (int k = 0; k < n; k++) {
        sialo_graph *a = gm[k];
        if (!same_input(a, g)) {
            sialo_fail("network %d of the ensemble takes %dx%d inputs (or another normalisation) but the ensemble %dx%d: every network "
                       "of an ensemble must take the same input", k + 1, a->in_w, a->in_h, g->in_w, g->in_h);
            goto fail;
        }
        if (a->n_classes != g->n_classes) {
            sialo_fail("network %d of the ensemble has %d outputs but the ensemble %d", k + 1, a->n_classes, g->n_classes);
            goto fail;
        }
        if (sialo_graph_set_classes(a, g->n_class_names, (const char *const *)g->class_names) < 0) goto fail;
        a->threshold = g->threshold;
        a->calib_a = g->calib_a;
        a->calib_b = g->calib_b;
        a->ood_threshold = g->ood_threshold;
        a->input_modes = g->input_modes;
        a->box_margin = g->box_margin;
        a->checksum = g->checksum;
        a->format_version = g->format_version;
    }
    mm = sialo_xcalloc((size_t)n, sizeof *mm);
    if (!mm) goto fail;
    for (; built < n; built++) {
        mm[built] = sialo_model_from_graph_pool(gm[built], opt, built ? mm[0]->pool : pool);
        gm[built] = NULL; /* the model owns it now, or freed it */
        if (!mm[built]) {
            char why[480];
            snprintf(why, sizeof why, "%s", sialo_error());
            sialo_fail("network %d of the ensemble: %s", built + 1, why);
            goto fail;
        }
    }
    /* the same outputs, through the same final function; each network's logits kept after a forward */
    const sialo_graph *g0 = mm[0]->g;
    for (int k = 0; k < n; k++) {
        const sialo_graph *gk = mm[k]->g;
        int last0 = g0->nodes[g0->n_nodes - 1].op, lastk = gk->nodes[gk->n_nodes - 1].op;
        int fin0 = last0 == OP_SIGMOID || last0 == OP_SOFTMAX ? last0 : -1, fink = lastk == OP_SIGMOID || lastk == OP_SOFTMAX ? lastk : -1;
        if (sialo_output_size(mm[k]) != sialo_output_size(mm[0]) || fink != fin0) {
            sialo_fail("network %d of the ensemble does not end like network 1 (%zu outputs%s against %zu%s)", k + 1, sialo_output_size(mm[k]),
                       fink == OP_SIGMOID ? " through a sigmoid" : fink == OP_SOFTMAX ? " through a softmax" : "", sialo_output_size(mm[0]),
                       fin0 == OP_SIGMOID ? " through a sigmoid" : fin0 == OP_SOFTMAX ? " through a softmax" : "");
            goto fail;
        }
        if (sialo_model_pin(mm[k], sialo_score_node(gk)) < 0 || sialo_ood_attach(mm[k]) < 0) goto fail;
    }
    mm[0]->member = mm;
    mm[0]->n_members = n;
    mm[0]->meta = g;
    free(gm); /* the graphs belong to the networks' models now */
    return mm[0];
fail:
    for (int k = built - 1; k >= 1; k--) sialo_model_free(mm[k]); /* before network 0: they run on its pool */
    if (built > 0) sialo_model_free(mm[0]);
    free(mm);
    for (int k = 0; k < n; k++) sialo_graph_free(gm[k]);
    free(gm);
    sialo_graph_free(g);
    return NULL;
}

int sialo_ensemble_forward(sialo_model *m, const float *input, float *out) {
    int n = m->n_members;
    size_t osz = sialo_output_size(m);
    double *acc = calloc(osz, sizeof *acc);
    float *z = malloc(osz * sizeof *z);
    int rc = -1;
    if (!acc || !z) { sialo_fail("out of memory"); goto out; }
    for (int k = 0; k < n; k++) {
        sialo_model *mk = m->member[k];
        if (mk->batch != 1 && sialo_model_set_batch(mk, 1) < 0) goto out;
        if (sialo_forward_batch(mk, input, NULL) < 0) goto out;
        const float *s = mk->ex[sialo_score_node(mk->g)].out; /* pinned at load */
        for (size_t i = 0; i < osz; i++) acc[i] += s[i];
    }
    for (size_t i = 0; i < osz; i++) z[i] = (float)(acc[i] / n);
    if (out) {
        int last = m->g->nodes[m->g->n_nodes - 1].op;
        if (last == OP_SIGMOID) sigmoid_forward(z, osz, out);
        else if (last == OP_SOFTMAX) softmax_forward(z, 1, (int)osz, out);
        else memcpy(out, z, osz * sizeof *z);
    }
    rc = 0;
out:
    free(acc);
    free(z);
    return rc;
}
