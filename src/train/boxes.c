/* boxes.c — lesion boxes from a TSV or from the lesion masks (boxes.h). */
#include "train/boxes.h"
#include "train/dataset.h"
#include "base/base.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int add_entry(sialo_box_table *t, const char *key, size_t klen, int label, sialo_box b, int rw, int rh) {
    if (t->n == t->cap) {
        int nc = t->cap ? t->cap * 2 : 256;
        sialo_box_entry *ne = realloc(t->e, (size_t)nc * sizeof *ne);
        if (!ne) return sialo_fail("out of memory");
        t->e = ne;
        t->cap = nc;
    }
    sialo_box_entry *e = &t->e[t->n];
    if (!(e->key = malloc(klen + 1))) return sialo_fail("out of memory");
    memcpy(e->key, key, klen);
    e->key[klen] = 0;
    e->label = label;
    e->box = b;
    e->ref_w = rw;
    e->ref_h = rh;
    t->n++;
    return 0;
}

int sialo_boxes_parse_tsv(sialo_box_table *t, const char *text, size_t n) {
    size_t i = 0;
    int line = 0;
    while (i < n) {
        size_t j = i;
        while (j < n && text[j] != '\n') j++;
        line++;
        size_t e = j;
        if (e > i && text[e - 1] == '\r') e--;
        const char *s = text + i;
        size_t len = e - i;
        i = j + 1;
        if (!len || s[0] == '#' || (line == 1 && len >= 4 && !strncmp(s, "path", 4))) continue;
        const char *tab = memchr(s, '\t', len);
        char buf[128];
        long v[4];
        int ok = tab && tab > s;
        const char *p = tab ? tab + 1 : NULL;
        for (int k = 0; ok && k < 4; k++) {
            size_t rest = (size_t)(s + len - p), m = 0;
            while (m < rest && p[m] != '\t') m++;
            if (m == 0 || m >= sizeof buf || (k < 3) != (m < rest)) { ok = 0; break; }
            memcpy(buf, p, m);
            buf[m] = 0;
            char *end;
            v[k] = strtol(buf, &end, 10);
            ok = *end == 0 && v[k] >= -1000000 && v[k] <= 1000000;
            p += m + 1;
        }
        if (!ok) return sialo_fail("boxes file, line %d: expected path<TAB>x<TAB>y<TAB>w<TAB>h (integers, frame pixels)", line);
        if (add_entry(t, s, (size_t)(tab - s), -1, (sialo_box){(int)v[0], (int)v[1], (int)v[2], (int)v[3]}, 0, 0) < 0) return -1;
    }
    return 0;
}

int sialo_boxes_add_mask(sialo_box_table *t, const char *rel, const uint8_t *bytes, size_t n) {
    int label;
    if (sialo_dataset_kind(rel, bytes, n, &label) != SIALO_FILE_MASK) return 0;
    sialo_image img;
    if (sialo_image_decode(bytes, n, &img) < 0) return -1;
    int x0 = img.w, y0 = img.h, x1 = -1, y1 = -1;
    for (int y = 0; y < img.h; y++)
        for (int x = 0; x < img.w; x++) {
            const uint8_t *px = img.rgb + ((size_t)y * img.w + x) * 3;
            if (px[0] > 127 || px[1] > 127 || px[2] > 127) {
                if (x < x0) x0 = x;
                if (x > x1) x1 = x;
                if (y < y0) y0 = y;
                if (y > y1) y1 = y;
            }
        }
    int rc = 0;
    if (x1 >= 0) {
        const char *base = strrchr(rel, '/') + 1;
        rc = add_entry(t, base, strlen(base), label, (sialo_box){x0, y0, x1 - x0 + 1, y1 - y0 + 1}, img.w, img.h) < 0 ? -1 : 1;
    }
    sialo_image_free(&img);
    return rc;
}

int sialo_boxes_find(const sialo_box_table *t, const char *rel, int fw, int fh, sialo_box *out) {
    if (!t) return 0;
    size_t rl = strlen(rel);
    for (int i = 0; i < t->n; i++) {
        const sialo_box_entry *e = &t->e[i];
        if (e->label >= 0) continue;
        size_t kl = strlen(e->key);
        if (!strcmp(e->key, rel) || (kl > rl && e->key[kl - rl - 1] == '/' && !strcmp(e->key + kl - rl, rel))) { *out = e->box; return 1; }
    }
    int label = !strncmp(rel, "malignant/", 10) ? 1 : !strncmp(rel, "benign/", 7) ? 0 : -1;
    if (label < 0) return 0;
    const char *base = strrchr(rel, '/') + 1;
    char stem[1024];
    snprintf(stem, sizeof stem, "%s", base);
    char *dot = strrchr(stem, '.');
    if (dot && dot != stem) *dot = 0;
    double x0 = 1e30, y0 = 1e30, x1 = -1e30, y1 = -1e30;
    int found = 0;
    for (int i = 0; i < t->n; i++) {
        const sialo_box_entry *e = &t->e[i];
        if (e->label != label || !sialo_is_mask_of(e->key, stem)) continue;
        double sx = (double)fw / e->ref_w, sy = (double)fh / e->ref_h;
        double a = e->box.x * sx, b = e->box.y * sy, c = (e->box.x + e->box.w) * sx, d = (e->box.y + e->box.h) * sy;
        if (a < x0) x0 = a;
        if (b < y0) y0 = b;
        if (c > x1) x1 = c;
        if (d > y1) y1 = d;
        found = 1;
    }
    if (!found) return 0;
    int ix0 = (int)floor(x0 + 1e-9), iy0 = (int)floor(y0 + 1e-9), ix1 = (int)ceil(x1 - 1e-9), iy1 = (int)ceil(y1 - 1e-9);
    if (ix0 < 0) ix0 = 0;
    if (iy0 < 0) iy0 = 0;
    if (ix1 > fw) ix1 = fw;
    if (iy1 > fh) iy1 = fh;
    /* a mask smaller than the smallest box the engine takes: grown to SIALO_BOX_MIN about its centre */
    while (ix1 - ix0 < SIALO_BOX_MIN && (ix0 > 0 || ix1 < fw)) { if (ix0 > 0) ix0--; if (ix1 - ix0 < SIALO_BOX_MIN && ix1 < fw) ix1++; }
    while (iy1 - iy0 < SIALO_BOX_MIN && (iy0 > 0 || iy1 < fh)) { if (iy0 > 0) iy0--; if (iy1 - iy0 < SIALO_BOX_MIN && iy1 < fh) iy1++; }
    *out = (sialo_box){ix0, iy0, ix1 - ix0, iy1 - iy0};
    return 1;
}

void sialo_boxes_free(sialo_box_table *t) {
    for (int i = 0; i < t->n; i++) free(t->e[i].key);
    free(t->e);
    memset(t, 0, sizeof *t);
}
