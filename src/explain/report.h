/* report.h — the evaluation report of `sialoscan eval --report FILE.html`: one self-contained HTML
 * file (no scripts, no external resources) with the figures and their 95% intervals, the
 * confusion matrix, the ROC curve and the reliability diagram as inline SVG and the misclassified
 * frames as thumbnails (with their Grad-CAM overlay when eval computes Grad-CAM). */
#ifndef SIALO_REPORT_H
#define SIALO_REPORT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "base/metrics.h"

typedef struct {
    const char *file;
    int label;          /* 1 = malignant */
    float p;            /* p(malignant) */
    char *thumb_png64;  /* base64 PNG thumbnail (misclassified frames only), or NULL */
    int thumb_is_cam;   /* 1: the thumbnail is the frame with its Grad-CAM overlay (malignant map) */
} sialo_report_item;

/* a PNG thumbnail (longest side max_side) of image bytes, base64; NULL on failure; caller frees */
char *sialo_thumbnail_base64(const void *image_bytes, size_t size, int max_side);
/* the same of an RGB frame (w*h*3 bytes) */
char *sialo_thumbnail_rgb_base64(const uint8_t *rgb, int w, int h, int max_side);
int sialo_report_html(FILE *f, const char *title, const char *model_desc, const sialo_report_item *items, int n,
                      float threshold, const sialo_metrics *mt);

#endif
