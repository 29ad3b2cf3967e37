/* dataset.h — a labelled training folder in memory: files added by their path relative to the
 * folder's root (benign/, malignant/, masks/<class>/, MANIFEST.tsv: the rules in trainer.h);
 * near-duplicate groups stay on one side of every split; label conflicts are excluded from
 * training. Frames are decoded and resized once (in parallel) and cached as 8-bit RGB. */
#ifndef SIALO_DATASET_H
#define SIALO_DATASET_H

#include <stddef.h>
#include <stdint.h>

#include "train/boxes.h"

typedef struct {
    char *path;       /* relative to the folder, e.g. "benign/benign-001.png" */
    int label;        /* 1 = malignant */
    int group;        /* near-duplicate group id (unique when the manifest has none) */
    int conflict;     /* label_conflict = yes */
    uint8_t *train;   /* train_side x train_side x 3: the whole frame, resized (augmentation source) */
    uint8_t *val;     /* in_side x in_side x 3: the whole frame resized as inference does */
    uint8_t *mask;    /* train_side x train_side, 1 = lesion (the union of the frame's masks), or NULL */
    int has_mask_file;
    /* box mode: the frame's size, its lesion box, and the context the train cache covers (the box
       grown enough for every jitter and margin, clamped to the frame), in frame pixels */
    int fw, fh;
    sialo_box box;
    double ctx[4]; /* x0, y0, w, h */
} sialo_sample;

/* a file taken into the data set: the fingerprint a checkpoint is checked against (never pixels) */
typedef struct { char *path; size_t size; uint32_t crc; } sialo_file_entry;
typedef struct { char *name; int label; uint8_t *mask; } sialo_mask_file;
typedef struct { char *path, *reason; } sialo_refusal;

typedef struct {
    sialo_sample *s;
    int n, cap, n_groups;
    int in_side, train_side;
    int unreadable;   /* frames that could not be decoded (refused, listed in refused[]) */
    int ignored;      /* files that are not part of a training folder */
    size_t bytes, max_bytes; /* the frames' pixels, the limit (0 = none) */
    int keep_masks;   /* decode lesion masks (guided attention) */
    const sialo_box_table *boxes; /* box mode when not NULL (borrowed until finish): each frame is its box */
    float box_margin, box_jitter; /* the margin per side of the inference crop; jitter (shift and scale) */
    int n_with_mask;  /* frames that have at least one mask file */
    int finished;
    char *manifest;
    sialo_file_entry *files;
    int n_files, cap_files;
    sialo_mask_file *masks; /* until finish */
    int n_masks, cap_masks;
    sialo_refusal *refused;
    int n_refused, cap_refused;
} sialo_dataset;

enum { SIALO_FILE_IGNORED = 0, SIALO_FILE_FRAME = 1, SIALO_FILE_MASK = 2, SIALO_FILE_MANIFEST = 3 };

/* an empty data set for a network of in_side x in_side inputs (frames cached at 8/7 of it) */
void sialo_dataset_init(sialo_dataset *d, int in_side, size_t max_bytes, int keep_masks);
/* what a file is by its path relative to the folder's root (label: 0 benign, 1 malignant, -1 none) */
int sialo_dataset_kind(const char *rel, const uint8_t *bytes, size_t n, int *label);
/* one file: 1 taken, 0 ignored, -1 refused (the sentence in sialo_error()); the bytes are not kept */
int sialo_dataset_add(sialo_dataset *d, const char *rel, const uint8_t *bytes, size_t n);
/* many files, decoded in parallel; status[i] and reasons[i] (malloc'ed or NULL) per file, either
   may be NULL. Returns 0, or -1 on a failure of the whole call (out of memory) */
int sialo_dataset_add_many(sialo_dataset *d, int count, const char *const *rel, const uint8_t *const *bytes, const size_t *sizes,
                           int threads, int *status, char **reasons);
/* after the last file: order by path, groups (manifest, sub-folders), label conflicts, masks */
int sialo_dataset_finish(sialo_dataset *d);
size_t sialo_dataset_frame_bytes(const sialo_dataset *d);
void sialo_dataset_free(sialo_dataset *d);

/* Stratified, group-aware K-fold assignment: fold[i] in 0..k-1 for each sample in idx[0..n).
 * Every group lands in one fold; folds get near-equal counts of each class. Deterministic. */
void sialo_dataset_folds(const sialo_dataset *d, const int *idx, int n, int k, uint64_t seed, int *fold);

/* 1 if `name` is a mask file of the frame named `stem` (stem-mask.png, stem-mask-K.png, stem-mask_K.png) */
int sialo_is_mask_of(const char *name, const char *stem);

/* box mode (before the first file): every frame is cached as its lesion box from `boxes` (a frame
   without one is refused), the inference crop with `margin` per side, training with box jitter */
void sialo_dataset_set_boxes(sialo_dataset *d, const sialo_box_table *boxes, float margin, float jitter);

/* Augmentation (documented in dataset.c): one training input, normalised, in_side^2 x 3 floats */
typedef struct { float scale[3], bias[3]; } sialo_norm;
void sialo_augment(const sialo_dataset *d, int i, uint64_t seed, const sialo_norm *nrm, float *dst);
/* the lesion share of each cell of an fh x fw grid over the input sialo_augment made with the same
   seed (the same crop, rotation and flip); sample i must have a mask */
void sialo_augment_mask(const sialo_dataset *d, int i, uint64_t seed, int fh, int fw, float *cells);
/* the validation / inference input of sample i */
void sialo_val_input(const sialo_dataset *d, int i, const sialo_norm *nrm, float *dst);

#endif
