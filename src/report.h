/* report.h — the evaluation report of `sialoscan eval --report FILE.html`: one self-contained HTML
 * file (no scripts, no external resources) with the figures and their 95% intervals, the
 * confusion matrix, the ROC curve as inline SVG and the misclassified frames as thumbnails. */
#ifndef SIALO_REPORT_H
#define SIALO_REPORT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "metrics.h"

typedef struct {
    const char *file;
    int label;          /* 1 = malignant */
    float p;            /* p(malignant) */
    char *thumb_png64;  /* base64 PNG thumbnail (misclassified frames only), or NULL */
} sialo_report_item;

/* a PNG thumbnail (longest side max_side) of image bytes, base64; NULL on failure; caller frees */
char *sialo_thumbnail_base64(const void *image_bytes, size_t size, int max_side);
int sialo_report_html(FILE *f, const char *title, const char *model_desc, const sialo_report_item *items, int n,
                      float threshold, const sialo_metrics *mt);

#endif
