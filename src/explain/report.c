/* report.c — see report.h. */
#include "explain/report.h"
#include "engine/calibration.h"
#include "engine/runtime.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <stb_image_write.h>

typedef struct { uint8_t *p; size_t n, cap; int oom; } membuf;

static void mem_write(void *ctx, void *data, int size) {
    membuf *b = ctx;
    if (b->oom || size <= 0) return;
    if (b->n + (size_t)size > b->cap) {
        size_t nc = b->cap ? b->cap * 2 : 4096;
        while (nc < b->n + (size_t)size) nc *= 2;
        uint8_t *np = realloc(b->p, nc);
        if (!np) { b->oom = 1; return; }
        b->p = np;
        b->cap = nc;
    }
    memcpy(b->p + b->n, data, (size_t)size);
    b->n += (size_t)size;
}

static char *base64(const uint8_t *d, size_t n) {
    static const char t[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    char *o = malloc((n + 2) / 3 * 4 + 1), *q = o;
    if (!o) return NULL;
    for (size_t i = 0; i < n; i += 3) {
        uint32_t v = (uint32_t)d[i] << 16 | (i + 1 < n ? (uint32_t)d[i + 1] << 8 : 0) | (i + 2 < n ? d[i + 2] : 0);
        *q++ = t[v >> 18 & 63];
        *q++ = t[v >> 12 & 63];
        *q++ = i + 1 < n ? t[v >> 6 & 63] : '=';
        *q++ = i + 2 < n ? t[v & 63] : '=';
    }
    *q = 0;
    return o;
}

char *sialo_thumbnail_rgb_base64(const uint8_t *rgb, int iw, int ih, int max_side) {
    if (!rgb || iw < 1 || ih < 1) return NULL;
    double s = (double)max_side / (iw > ih ? iw : ih);
    if (s > 1) s = 1;
    int w = (int)(iw * s + 0.5), h = (int)(ih * s + 0.5);
    if (w < 1) w = 1;
    if (h < 1) h = 1;
    float one[3] = {1, 1, 1}, zero[3] = {0, 0, 0};
    float *f = malloc((size_t)w * h * 3 * sizeof *f);
    uint8_t *u = malloc((size_t)w * h * 3);
    char *out = NULL;
    if (f && u && sialo_resize_rgb(rgb, iw, ih, w, h, one, zero, f) == 0) {
        for (size_t i = 0; i < (size_t)w * h * 3; i++) u[i] = (uint8_t)(f[i] < 0 ? 0 : f[i] > 255 ? 255 : f[i] + 0.5f);
        membuf b = {0};
        if (stbi_write_png_to_func(mem_write, &b, w, h, 3, u, w * 3) && !b.oom) out = base64(b.p, b.n);
        free(b.p);
    }
    free(f);
    free(u);
    return out;
}

char *sialo_thumbnail_base64(const void *image_bytes, size_t size, int max_side) {
    sialo_image img;
    if (sialo_image_decode(image_bytes, size, &img) < 0) return NULL;
    char *out = sialo_thumbnail_rgb_base64(img.rgb, img.w, img.h, max_side);
    sialo_image_free(&img);
    return out;
}

static void esc(FILE *f, const char *s) {
    for (; s && *s; s++) {
        if (*s == '<') fputs("&lt;", f);
        else if (*s == '>') fputs("&gt;", f);
        else if (*s == '&') fputs("&amp;", f);
        else if (*s == '"') fputs("&quot;", f);
        else fputc(*s, f);
    }
}

typedef struct { float p; int y; } py;
static int by_p_desc(const void *a, const void *b) {
    float x = ((const py *)a)->p, z = ((const py *)b)->p;
    return (x < z) - (x > z);
}

static void pct(FILE *f, double v) { if (isnan(v)) fputs("–", f); else fprintf(f, "%.1f%%", 100 * v); }

int sialo_report_html(FILE *f, const char *title, const char *model_desc, const sialo_report_item *items, int n,
                      float threshold, const sialo_metrics *mt) {
    float *p = malloc((size_t)(n ? n : 1) * sizeof *p);
    int *y = malloc((size_t)(n ? n : 1) * sizeof *y);
    py *s = malloc((size_t)(n ? n : 1) * sizeof *s);
    if (!p || !y || !s) { free(p); free(y); free(s); return sialo_fail("out of memory"); }
    for (int i = 0; i < n; i++) { p[i] = items[i].p; y[i] = items[i].label; s[i].p = p[i]; s[i].y = y[i]; }
    double alo, ahi, slo, shi, clo, chi, xlo, xhi;
    sialo_auc_ci95(p, y, n, &alo, &ahi);
    sialo_wilson_ci95(mt->tp, mt->tp + mt->fn, &slo, &shi);
    sialo_wilson_ci95(mt->tn, mt->tn + mt->fp, &clo, &chi);
    sialo_wilson_ci95(mt->tp + mt->tn, mt->n, &xlo, &xhi);
    fputs("<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>", f);
    esc(f, title);
    fputs("</title><style>body{font:14px/1.4 system-ui,sans-serif;margin:2em;max-width:60em;color:#222}"
          "table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #bbb;padding:.3em .7em;text-align:right}"
          "th{background:#f2f2f2}.thumbs{display:flex;flex-wrap:wrap;gap:12px}.thumbs figure{margin:0;width:170px}"
          ".thumbs img{max-width:160px;border:1px solid #999}figcaption{font-size:12px;word-break:break-all}"
          ".note{color:#666;font-size:12px}</style></head><body><h1>", f);
    esc(f, title);
    fputs("</h1><p>Model: ", f);
    esc(f, model_desc);
    fprintf(f, "<br>Decision threshold on p(malignant): %.4f. Malignant is the positive class.</p>", threshold);
    fputs("<h2>Figures</h2><table><tr><th>figure</th><th>value</th><th>95% interval</th></tr>", f);
    fprintf(f, "<tr><td>images</td><td>%d</td><td></td></tr>", mt->n);
    fprintf(f, "<tr><td>AUC</td><td>%.3f</td><td>%.3f – %.3f (DeLong)</td></tr>", mt->auc, alo, ahi);
    fputs("<tr><td>accuracy</td><td>", f); pct(f, mt->accuracy); fputs("</td><td>", f); pct(f, xlo); fputs(" – ", f); pct(f, xhi); fputs(" (Wilson)</td></tr>", f);
    fputs("<tr><td>sensitivity</td><td>", f); pct(f, mt->sensitivity); fputs("</td><td>", f); pct(f, slo); fputs(" – ", f); pct(f, shi); fputs("</td></tr>", f);
    fputs("<tr><td>specificity</td><td>", f); pct(f, mt->specificity); fputs("</td><td>", f); pct(f, clo); fputs(" – ", f); pct(f, chi); fputs("</td></tr>", f);
    fputs("<tr><td>PPV</td><td>", f); pct(f, mt->ppv); fputs("</td><td></td></tr><tr><td>NPV</td><td>", f); pct(f, mt->npv); fputs("</td><td></td></tr>", f);
    double *pd = malloc((size_t)(n ? n : 1) * sizeof *pd);
    if (!pd) { free(p); free(y); free(s); return sialo_fail("out of memory"); }
    for (int i = 0; i < n; i++) pd[i] = p[i];
    double brier = sialo_brier(pd, y, n), ece = sialo_ece(pd, y, n);
    if (n) fprintf(f, "<tr><td>Brier score</td><td>%.4f</td><td></td></tr><tr><td>ECE (10 bins)</td><td>%.4f</td><td></td></tr>", brier, ece);
    fputs("</table>", f);
    fprintf(f, "<h2>Confusion matrix</h2><table><tr><th></th><th>predicted malignant</th><th>predicted benign</th></tr>"
               "<tr><th>malignant</th><td>%d (TP)</td><td>%d (FN)</td></tr><tr><th>benign</th><td>%d (FP)</td><td>%d (TN)</td></tr></table>",
            mt->tp, mt->fn, mt->fp, mt->tn);
    /* ROC curve */
    int npos = mt->tp + mt->fn, nneg = mt->tn + mt->fp;
    fputs("<h2>ROC curve</h2><svg width=\"340\" height=\"340\" viewBox=\"-30 -10 340 340\" role=\"img\" aria-label=\"ROC curve\">"
          "<rect x=\"0\" y=\"0\" width=\"300\" height=\"300\" fill=\"none\" stroke=\"#999\"/>"
          "<line x1=\"0\" y1=\"300\" x2=\"300\" y2=\"0\" stroke=\"#ccc\" stroke-dasharray=\"4\"/>"
          "<text x=\"150\" y=\"325\" text-anchor=\"middle\" font-size=\"12\">1 − specificity</text>"
          "<text x=\"-18\" y=\"150\" text-anchor=\"middle\" font-size=\"12\" transform=\"rotate(-90 -18 150)\">sensitivity</text>", f);
    if (npos && nneg) {
        qsort(s, (size_t)n, sizeof *s, by_p_desc);
        fputs("<polyline fill=\"none\" stroke=\"#c0392b\" stroke-width=\"2\" points=\"0,300", f);
        int tp = 0, fp = 0;
        for (int i = 0; i < n;) {
            int j = i;
            while (j < n && s[j].p == s[i].p) { if (s[j].y) tp++; else fp++; j++; }
            fprintf(f, " %.1f,%.1f", 300.0 * fp / nneg, 300.0 - 300.0 * tp / npos);
            i = j;
        }
        fputs("\"/>", f);
        if (!isnan(mt->sensitivity) && !isnan(mt->specificity))
            fprintf(f, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"4\" fill=\"#2c3e50\"><title>operating point (threshold %.3f)</title></circle>",
                    300.0 * (1 - mt->specificity), 300.0 - 300.0 * mt->sensitivity, threshold);
    }
    fputs("</svg>", f);
    /* reliability diagram: per bin of p (10 equal-width bins), the fraction malignant against the mean p */
    fputs("<h2>Reliability diagram</h2><svg width=\"340\" height=\"340\" viewBox=\"-30 -10 340 340\" role=\"img\" "
          "aria-label=\"reliability diagram\"><rect x=\"0\" y=\"0\" width=\"300\" height=\"300\" fill=\"none\" stroke=\"#999\"/>"
          "<line x1=\"0\" y1=\"300\" x2=\"300\" y2=\"0\" stroke=\"#ccc\" stroke-dasharray=\"4\"/>"
          "<text x=\"150\" y=\"325\" text-anchor=\"middle\" font-size=\"12\">p(malignant), bins of 0.1</text>"
          "<text x=\"-18\" y=\"150\" text-anchor=\"middle\" font-size=\"12\" transform=\"rotate(-90 -18 150)\">fraction malignant</text>", f);
    {
        double sp[SIALO_ECE_BINS] = {0}, sy[SIALO_ECE_BINS] = {0};
        int cnt[SIALO_ECE_BINS] = {0};
        for (int i = 0; i < n; i++) {
            int k = (int)floor(pd[i] * SIALO_ECE_BINS);
            k = k < 0 ? 0 : k > SIALO_ECE_BINS - 1 ? SIALO_ECE_BINS - 1 : k;
            sp[k] += pd[i]; sy[k] += y[i]; cnt[k]++;
        }
        const double bw = 300.0 / SIALO_ECE_BINS;
        for (int k = 0; k < SIALO_ECE_BINS; k++) {
            if (!cnt[k]) continue;
            double acc = sy[k] / cnt[k], conf = sp[k] / cnt[k];
            fprintf(f, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"#c0392b\" fill-opacity=\"0.25\" stroke=\"#c0392b\">"
                       "<title>p in [%.1f, %.1f%s: %d frames, fraction malignant %.3f, mean p %.3f</title></rect>",
                    k * bw + 1, 300.0 - 300.0 * acc, bw - 2, 300.0 * acc, (double)k / SIALO_ECE_BINS, (double)(k + 1) / SIALO_ECE_BINS,
                    k == SIALO_ECE_BINS - 1 ? "]" : ")", cnt[k], acc, conf);
            fprintf(f, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"%.1f\" fill=\"#2c3e50\"><title>%d frames: mean p %.3f, fraction malignant %.3f</title></circle>",
                    300.0 * conf, 300.0 - 300.0 * acc, 2.5 + 4.0 * sqrt((double)cnt[k] / (n ? n : 1)), cnt[k], conf, acc);
        }
    }
    fputs("</svg>", f);
    if (n) fprintf(f, "<p class=\"note\">Bars: fraction malignant per bin of p; dots: at the bin's mean p (area ~ frames). On the "
                      "diagonal, p means what it says. ECE %.4f, Brier score %.4f.</p>", ece, brier);
    free(pd);
    /* misclassified frames */
    int nmis = 0;
    for (int i = 0; i < n; i++) nmis += (items[i].p >= threshold) != items[i].label;
    fprintf(f, "<h2>Misclassified frames (%d)</h2><div class=\"thumbs\">", nmis);
    for (int i = 0; i < n; i++) {
        if ((items[i].p >= threshold) == items[i].label) continue;
        fputs("<figure>", f);
        if (items[i].thumb_png64) fprintf(f, "<img alt=\"\" src=\"data:image/png;base64,%s\">", items[i].thumb_png64);
        fprintf(f, "<figcaption>%s, p = %.3f%s<br>", items[i].label ? "malignant called benign" : "benign called malignant", items[i].p,
                items[i].thumb_is_cam ? " (Grad-CAM of p(malignant))" : "");
        esc(f, items[i].file);
        fputs("</figcaption></figure>", f);
    }
    fputs("</div><p class=\"note\">Made by sialoscan eval. Research use only; not a medical device.</p></body></html>\n", f);
    free(p); free(y); free(s);
    return ferror(f) ? sialo_fail("writing the report failed") : 0;
}
