/* model.c — the public entry points that take any model file: a single network (runtime.c) or an
 * ensemble of several (ensemble.c, above runtime.c). The only file that knows both. */
#include "engine/runtime.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

/* a single network or an ensemble, on pool (NULL: its own) */
static sialo_model *from_graph_on(sialo_graph *g, const sialo_options *opt, sialo_pool *pool) {
    if (g->n_members) return sialo_ensemble_model(g, opt, pool);
    sialo_model *m = sialo_model_from_graph_pool(g, opt, pool);
    if (m && sialo_ood_attach(m) < 0) { sialo_model_free(m); return NULL; }
    return m;
}

sialo_model *sialo_model_from_graph(sialo_graph *g, const sialo_options *opt) {
    sialo_graph *box = g->box_graph; /* a model for lesion boxes inside: built when the first box comes */
    uint8_t *bf = g->box_file;
    size_t bn = g->box_file_size;
    g->box_graph = NULL;
    g->box_file = NULL;
    if (box && opt && opt->training) {
        sialo_graph_free(box);
        free(bf);
        sialo_graph_free(g);
        return sialo_fail_null("a model that carries a box model cannot be trained: train the whole-frame and the box networks apart");
    }
    sialo_model *m = from_graph_on(g, opt, NULL);
    if (!m) { sialo_graph_free(box); free(bf); return NULL; }
    m->box_graph = box;
    m->box_file = bf;
    m->box_file_size = bn;
    return m;
}

sialo_model *sialo_box_model(sialo_model *m) {
    if (!m) return sialo_fail_null("no model");
    if (m->box_model) return m->box_model;
    if (m->box_failed) return sialo_fail_null("the model's box networks could not be loaded");
    if (!m->box_graph) return m;
    sialo_graph *g = m->box_graph;
    if (m->box_file) { /* read from a file: the networks are read now (the whole nested file, its checksum too) */
        g = sialo_graph_read_any(m->box_file, m->box_file_size);
        if (g && (g->box_graph || !(g->input_modes & SIALO_MODE_BOX))) {
            sialo_graph_free(g);
            g = sialo_fail_null("it is not a model trained for lesion boxes");
        }
        if (!g) {
            m->box_failed = 1;
            char why[400];
            snprintf(why, sizeof why, "%s", sialo_error());
            return sialo_fail_null("the model's box networks could not be loaded: %s", why);
        }
        sialo_graph_free(m->box_graph); /* the head */
        free(m->box_file);
        m->box_file = NULL;
    }
    m->box_graph = NULL;
    sialo_options o = m->opt;
    m->box_model = from_graph_on(g, &o, m->pool);
    if (!m->box_model) {
        m->box_failed = 1;
        char why[400];
        snprintf(why, sizeof why, "%s", sialo_error());
        return sialo_fail_null("the model's box networks could not be loaded: %s", why);
    }
    return m->box_model;
}

sialo_model *sialo_model_load(const void *data, size_t size, const sialo_options *opt) {
    sialo_graph *g = sialo_graph_read_any(data, size);
    if (!g) return NULL;
    return sialo_model_from_graph(g, opt);
}

sialo_model *sialo_model_load_file(const char *path, const sialo_options *opt) {
    FILE *f = fopen(path, "rb");
    if (!f) return sialo_fail_null("cannot open model '%s'", path);
    uint8_t *buf = NULL;
    size_t n = 0, cap = 0;
    for (;;) {
        if (n == cap) {
            cap = cap ? cap * 2 : 1 << 20;
            if (cap > SIZE_MAX / 4) { free(buf); fclose(f); return sialo_fail_null("model '%s' is larger than 4 GB", path); }
            uint8_t *nb = realloc(buf, cap);
            if (!nb) { free(buf); fclose(f); return sialo_fail_null("out of memory reading '%s'", path); }
            buf = nb;
        }
        size_t r = fread(buf + n, 1, cap - n, f);
        n += r;
        if (r == 0) break;
    }
    int err = ferror(f);
    fclose(f);
    if (err) { free(buf); return sialo_fail_null("cannot read model '%s'", path); }
    sialo_model *m = sialo_model_load(buf, n, opt);
    free(buf);
    if (!m) {
        char why[512];
        snprintf(why, sizeof why, "%s", sialo_error());
        return sialo_fail_null("%s: %s", path, why);
    }
    return m;
}

int sialo_forward(sialo_model *m, const float *input, float *out) {
    if (!m || !input) return sialo_fail("no model or input");
    if (m->n_members > 1) return sialo_ensemble_forward(m, input, out);
    if (m->batch != 1 && sialo_model_set_batch(m, 1) < 0) return -1;
    return sialo_forward_batch(m, input, out);
}
