/* dataset.h — a labelled image folder for training and evaluation: DIR/benign/ and DIR/malignant/ image files,
 * optionally DIR/MANIFEST.tsv (columns path, class, group, label_conflict, ...: near-duplicate
 * groups stay on one side of every split; label conflicts are excluded from training).
 * Images are decoded and resized once, in parallel, and cached as 8-bit RGB. */
#ifndef SIALO_DATASET_H
#define SIALO_DATASET_H

#include <stdint.h>

typedef struct {
    char *path;       /* relative to the folder, e.g. "benign/benign-001.png" */
    int label;        /* 1 = malignant */
    int group;        /* near-duplicate group id (unique when the manifest has none) */
    int conflict;     /* label_conflict = yes */
    uint8_t *train;   /* train_side x train_side x 3: the whole frame, resized (augmentation source) */
    uint8_t *val;     /* in_side x in_side x 3: the whole frame resized as inference does */
    uint8_t *mask;    /* train_side x train_side, 1 = lesion (the union of the frame's masks), or NULL */
} sialo_sample;

typedef struct {
    sialo_sample *s;
    int n, n_groups;
    int in_side, train_side;
    int unreadable;   /* files that could not be decoded (reported, skipped) */
} sialo_dataset;

/* progress(done, total) may be NULL */
int sialo_dataset_load(sialo_dataset *d, const char *dir, int in_side, int threads, void (*progress)(int, int));
void sialo_dataset_free(sialo_dataset *d);

/* Stratified, group-aware K-fold assignment: fold[i] in 0..k-1 for each sample in idx[0..n).
 * Every group lands in one fold; folds get near-equal counts of each class. Deterministic. */
void sialo_dataset_folds(const sialo_dataset *d, const int *idx, int n, int k, uint64_t seed, int *fold);

/* Lesion masks for guided attention: DIR/masks/<class>/<stem>-mask[-K].png (several per frame are
   united), cached at train_side. Returns how many samples have one (0: none found), or -1. */
int sialo_dataset_load_masks(sialo_dataset *d, const char *dir, int threads);
/* 1 if `name` is a mask file of the frame named `stem` (stem-mask.png, stem-mask-K.png, stem-mask_K.png) */
int sialo_is_mask_of(const char *name, const char *stem);

/* Augmentation (documented in dataset.c): one training input, normalised, in_side^2 x 3 floats */
typedef struct { float scale[3], bias[3]; } sialo_norm;
void sialo_augment(const sialo_dataset *d, int i, uint64_t seed, const sialo_norm *nrm, float *dst);
/* the lesion share of each cell of an fh x fw grid over the input sialo_augment made with the same
   seed (the same crop, rotation and flip); sample i must have a mask */
void sialo_augment_mask(const sialo_dataset *d, int i, uint64_t seed, int fh, int fw, float *cells);
/* the validation / inference input of sample i */
void sialo_val_input(const sialo_dataset *d, int i, const sialo_norm *nrm, float *dst);

#endif
