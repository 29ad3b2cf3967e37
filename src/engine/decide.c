/* decide.c — what the engine says of a model and of its outputs: model information (struct and
 * JSON), the calibrated p, the decision against the threshold. */
#include "engine/calibration.h"
#include "engine/runtime.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* the file facts of the model m carries for lesion boxes (built or not yet), its network count in *nets; NULL if none */
static const sialo_graph *box_facts(const sialo_model *m, int *nets) {
    const sialo_model *b = m->box_model;
    const sialo_graph *f = b ? (b->meta ? b->meta : b->g) : m->box_graph;
    if (nets) *nets = b ? b->n_members : f && f->n_members ? f->n_members : f && f->head_networks ? f->head_networks : 1;
    return f;
}

void sialo_model_info(const sialo_model *m, sialo_info *out) {
    const sialo_graph *g = m->g, *file = m->meta ? m->meta : m->g; /* an ensemble: the file's own facts */
    memset(out, 0, sizeof *out);
    out->arch = file->arch;
    out->provenance = file->provenance;
    out->input_h = g->in_h; out->input_w = g->in_w; out->input_c = g->in_c;
    memcpy(out->norm_scale, g->norm_scale, sizeof out->norm_scale);
    memcpy(out->norm_bias, g->norm_bias, sizeof out->norm_bias);
    out->n_classes = g->n_classes;
    out->class_names = (const char *const *)g->class_names;
    out->n_class_names = g->n_class_names;
    out->threshold = g->threshold;
    out->calib_a = g->calib_a;
    out->calib_b = g->calib_b;
    out->format_version = file->format_version;
    out->n_params = m->stored_params;
    out->n_layers = m->stored_layers;
    for (int k = 1; k < m->n_members; k++) {
        out->n_params += m->member[k]->stored_params;
        out->n_layers += m->member[k]->stored_layers;
    }
    out->n_members = m->n_members;
    out->checksum = file->checksum;
    out->storage_bits = file->storage_bits;
    out->input_modes = file->input_modes ? file->input_modes : SIALO_MODE_WHOLE;
    out->box_margin = file->box_margin;
    const sialo_graph *bf = box_facts(m, NULL);
    if (bf) { /* it carries a model for boxes: that model's margin */
        out->input_modes |= SIALO_MODE_BOX;
        out->box_margin = bf->box_margin;
    }
}

/* ---- a growing string for JSON */
typedef struct { char *p; size_t n, cap; int oom; } sbuf;

static void sb_printf(sbuf *s, const char *fmt, ...) {
    if (s->oom) return;
    for (;;) {
        va_list ap;
        va_start(ap, fmt);
        int k = vsnprintf(s->p ? s->p + s->n : NULL, s->p ? s->cap - s->n : 0, fmt, ap);
        va_end(ap);
        if (k < 0) { s->oom = 1; return; }
        if (s->p && s->n + (size_t)k < s->cap) { s->n += (size_t)k; return; }
        size_t nc = s->cap ? s->cap * 2 : 1024;
        while (nc < s->n + (size_t)k + 1) nc *= 2;
        char *np = realloc(s->p, nc);
        if (!np) { s->oom = 1; return; }
        s->p = np;
        s->cap = nc;
    }
}

static void json_string(sbuf *s, const char *str) {
    sb_printf(s, "\"");
    for (const unsigned char *c = (const unsigned char *)(str ? str : ""); *c; c++) {
        if (*c == '"' || *c == '\\') sb_printf(s, "\\%c", *c);
        else if (*c == '\n') sb_printf(s, "\\n");
        else if (*c < 0x20) sb_printf(s, "\\u%04x", *c);
        else sb_printf(s, "%c", *c);
    }
    sb_printf(s, "\"");
}

char *sialo_model_info_json(const sialo_model *m) {
    sialo_info in;
    sialo_model_info(m, &in);
    sbuf s = {0};
    sb_printf(&s, "{\"arch\":");
    json_string(&s, in.arch);
    sb_printf(&s, ",\"input\":{\"height\":%d,\"width\":%d,\"channels\":%d,\"scale\":[%.9g,%.9g,%.9g],\"bias\":[%.9g,%.9g,%.9g]}",
              in.input_h, in.input_w, in.input_c, in.norm_scale[0], in.norm_scale[1], in.norm_scale[2],
              in.norm_bias[0], in.norm_bias[1], in.norm_bias[2]);
    sb_printf(&s, ",\"outputs\":%d,\"classes\":[", in.n_classes);
    for (int i = 0; i < in.n_class_names && i < 16; i++) {
        if (i) sb_printf(&s, ",");
        json_string(&s, in.class_names[i]);
    }
    if (in.n_class_names > 16) sb_printf(&s, ",\"... (%d in all)\"", in.n_class_names);
    sb_printf(&s, "],\"positive_class\":");
    json_string(&s, in.n_classes == 1 && in.n_class_names == 2 ? in.class_names[1] : "");
    sb_printf(&s, ",\"threshold\":%.6g,\"parameters\":%zu,\"layers\":%d,\"storage\":\"fp%d\",\"checksum\":\"%08x\",\"provenance\":",
              in.threshold, in.n_params, in.n_layers, in.storage_bits, in.checksum);
    json_string(&s, in.provenance);
    { /* the out-of-distribution check (ood.c) */
        int nets = m->n_members > 1 ? m->n_members : 1, ok = m->g->ood_threshold > 0;
        for (int k = 0; k < nets; k++) ok &= (nets > 1 ? m->member[k] : m)->ood_node > 0 && (nets > 1 ? m->member[k] : m)->g->ood != NULL;
        const sialo_graph *f = m->meta ? m->meta : m->g;
        if (ok) sb_printf(&s, ",\"ood\":{\"checked\":true,\"threshold\":%.9g,\"frames\":%d,\"rank\":%d,\"features\":%d}", m->g->ood_threshold,
                          f->ood_frames ? f->ood_frames : m->g->ood_frames, m->g->ood->rank, m->g->ood->dim);
        else sb_printf(&s, ",\"ood\":{\"checked\":false}");
    }
    sb_printf(&s, ",\"input_modes\":\"%s\"", in.input_modes == (SIALO_MODE_WHOLE | SIALO_MODE_BOX) ? "both" : in.input_modes == SIALO_MODE_BOX ? "box" : "whole");
    if (in.input_modes & SIALO_MODE_BOX) sb_printf(&s, ",\"box_margin\":%.6g", in.box_margin);
    int box_nets;
    const sialo_graph *bf = box_facts(m, &box_nets);
    if (bf) { /* the model it carries for boxes: its own decision, calibration and OOD check */
        sb_printf(&s, ",\"box_model\":{\"members\":%d,\"threshold\":%.6g,\"calibration\":{\"a\":%.9g,\"b\":%.9g},\"ood\":{\"checked\":%s},\"checksum\":\"%08x\",\"provenance\":",
                  box_nets, bf->threshold, bf->calib_a, bf->calib_b, bf->ood_threshold > 0 ? "true" : "false", bf->checksum);
        json_string(&s, bf->provenance);
        sb_printf(&s, "}");
    }
    sb_printf(&s, ",\"calibration\":{\"a\":%.9g,\"b\":%.9g,\"identity\":%s},\"format_version\":%d,\"members\":%d", in.calib_a, in.calib_b,
              in.calib_a == 1.0f && in.calib_b == 0.0f ? "true" : "false", in.format_version, in.n_members);
    if (m->n_members > 1) { /* an ensemble: each network's own facts */
        sb_printf(&s, ",\"networks\":[");
        for (int k = 0; k < m->n_members; k++) {
            const sialo_model *mk = m->member[k];
            sb_printf(&s, "%s{\"arch\":", k ? "," : "");
            json_string(&s, mk->g->arch);
            sb_printf(&s, ",\"parameters\":%zu,\"layers\":%d,\"provenance\":", mk->stored_params, mk->stored_layers);
            json_string(&s, mk->g->provenance);
            sb_printf(&s, "}");
        }
        sb_printf(&s, "]");
    }
    sb_printf(&s, "}");
    if (s.oom) { free(s.p); return sialo_fail_null("out of memory"); }
    return s.p;
}

float sialo_calibrated_p(const sialo_model *m, float p_raw) {
    const sialo_graph *g = m->g;
    if (g->n_classes != 1 || (g->calib_a == 1.0f && g->calib_b == 0.0f)) return p_raw;
    return (float)sialo_calib_apply(g->calib_a, g->calib_b, p_raw);
}

void sialo_decide(const sialo_model *m, const float *y, sialo_result *r) {
    const sialo_graph *g = m->g;
    size_t osz = sialo_output_size(m);
    r->threshold = g->threshold;
    if (g->n_classes == 1) { /* binary: calibrated p(positive) against the model's threshold */
        r->p_positive = sialo_calibrated_p(m, y[0]);
        r->label = r->p_positive >= g->threshold;
    } else {                 /* softmax: the most probable class */
        int best = 0;
        for (size_t i = 1; i < osz; i++) if (y[i] > y[best]) best = (int)i;
        r->label = best;
        r->p_positive = y[best];
    }
    sialo_ood_decide(m, &r->ood);
}
