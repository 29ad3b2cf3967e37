/* train.h — transfer learning with gradual unfreezing: the options, schedules, guided attention.
 * The trainer that runs them: trainer.h. */
#ifndef SIALO_TRAIN_H
#define SIALO_TRAIN_H

#include <stdint.h>

#define SIALO_MAX_STAGES 16

typedef struct {
    char name[32];
    char unfreeze[128]; /* "head" | "all" | a layer name (or part of one): it and every later layer train */
    float lr;
    int max_epochs;
    int patience;       /* early stopping: epochs without a better validation AUC */
} sialo_stage;

typedef struct {
    const char *data_dir;
    const char *backbone;    /* a .sialo model to start from (its head is replaced), or NULL */
    const char *arch;        /* with no backbone: an architecture trained from scratch */
    const char *method;      /* gradual (default) | full | frozen | scratch */
    const char *schedule;    /* schedule file, or NULL for the method's default */
    const char *out;         /* final model file, or NULL */
    const char *checkpoint;  /* folder for checkpoints (resume) or NULL */
    const char *predictions; /* CSV of out-of-fold predictions (with --cv), or NULL */
    int resume;
    int cv;                  /* 0 = no cross-validation */
    int input;               /* input side; 0 = the backbone's */
    int batch, threads;
    uint64_t seed;
    uint64_t fold_seed;      /* seed of the cross-validation folds; 0 = seed (a seed ensemble keeps its folds) */
    float weight_decay, dropout, val_fraction;
    int storage_bits;        /* of the final model */
    int include_conflicts;   /* train on label_conflict=yes frames too */
    int masks;               /* guided attention: penalise Grad-CAM energy outside the lesion masks
                                (DIR/masks/<class>/<stem>-mask*.png) of the frames that have them */
    float attention_weight;  /* weight of that term (default 1) */
    int box_mode;            /* 1 = train on lesion boxes (sialo_trainer_opts.boxes): the model classifies boxes */
    float box_margin;        /* box mode: margin per side of the crop (fraction of the box's side; default 0.15) */
    float box_jitter;        /* box mode: shift and scale jitter of the box (default 0.15) */
    const char *calibration; /* of the final model, fitted on the out-of-fold predictions (needs cv):
                                "platt" (default), "temperature" or "none" */
} sialo_train_opts;

/* Parse a schedule file: lines "name unfreeze lr max_epochs patience", '#' comments. */
int sialo_schedule_parse(const char *text, sialo_stage *st, int max);
/* The default schedule of a method for an architecture (documented in train.c). */
int sialo_schedule_default(const char *method, const char *arch, sialo_stage *st, int max);

/* Guided attention, one image: the share of the true-class map h = ReLU(sign * sum_c w_c A[p,c])
   (P cells x C channels) whose energy sum h^2 lies outside the lesion (m[p] = lesion share of cell p).
   With dA / dw not NULL: dA = scale * d(share)/dA (P x C, written), dw += scale * d(share)/dw. */
double sialo_attention_outside(const float *A, int P, int C, const float *w, const float *m, float sign, float scale,
                               float *dA, float *dw);


#endif
