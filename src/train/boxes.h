/* boxes.h (implemented in dataset.c) — the lesion boxes of a folder of frames, for training and scoring in box mode: read
 * from a TSV (path, x, y, w, h in frame pixels) or derived from the lesion masks (the bounding box
 * of every mask of the frame, united). No file is read here: the CLI hands the bytes in. */
#ifndef SIALO_BOXES_H
#define SIALO_BOXES_H

#include <stddef.h>
#include <stdint.h>

#include "sialoscan.h"

typedef struct {
    char *key;        /* a TSV path, or a mask file's name (label >= 0) */
    int label;        /* -1 = a TSV line; 0 / 1 = a mask of masks/benign/ or masks/malignant/ */
    sialo_box box;    /* in the pixels of a ref_w x ref_h image (the mask's; the frame's for a TSV line: 0 x 0) */
    int ref_w, ref_h;
} sialo_box_entry;

typedef struct {
    sialo_box_entry *e;
    int n, cap;
} sialo_box_table;

/* lines "path<TAB>x<TAB>y<TAB>w<TAB>h"; '#' comments, blank lines and a header line starting with
   "path" skipped. 0, or -1 with the line that is wrong */
int sialo_boxes_parse_tsv(sialo_box_table *t, const char *text, size_t n);
/* a lesion mask (rel = masks/<class>/<stem>-mask*.png): its bounding box (any channel over 127).
   1 taken, 0 not a mask file or an empty mask, -1 a mask that cannot be decoded */
int sialo_boxes_add_mask(sialo_box_table *t, const char *rel, const uint8_t *bytes, size_t n);
/* the box of the frame rel (benign/..., malignant/...) on a frame_w x frame_h frame: a TSV line whose
   path is rel or ends with "/" rel; else the union of its masks' boxes scaled to the frame. 1 found, 0 not */
int sialo_boxes_find(const sialo_box_table *t, const char *rel, int frame_w, int frame_h, sialo_box *out);
void sialo_boxes_free(sialo_box_table *t);

#endif
