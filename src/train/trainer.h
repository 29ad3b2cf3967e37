/* trainer.h — the trainer core: memory in, callbacks out (no files, no printing).
 *
 * The same core runs behind `sialoscan train` (cli/train.c reads the folder into it and writes
 * the callbacks' bytes to files), in Node and in the page (wasm/bindings.c). A run:
 *
 *   sialo_trainer *t = sialo_trainer_new(backbone_bytes, n, &opts);      (or NULL backbone + opts.arch)
 *   for each file of the folder: sialo_trainer_add(t, "benign/p017/a.png", bytes, size)
 *        -> 1 taken, 0 ignored (not part of a training folder), -1 refused (sialo_error(): why)
 *   sialo_trainer_summary_json(t)       frames per class, groups, masks, refusals (before training)
 *   sialo_trainer_run(t, &callbacks, resume_bytes, resume_n)             -> 0, 1 stopped, -1 error
 *   sialo_trainer_model(t, &size)       the final model file (bytes), if opts.final
 *   sialo_trainer_free(t)
 *
 * Folder rules (the relative path's first component): benign/ and malignant/ hold the frames
 * (PNG, JPEG, BMP, GIF, DICOM; any depth); MANIFEST.tsv (columns path, group, label_conflict)
 * names near-duplicate groups and label conflicts; without a manifest group, a frame in a
 * sub-folder of its class folder belongs to that sub-folder's group (benign/p017/a.png -> p017),
 * else to its own; masks/<class>/<stem>-mask[-K].png are lesion outlines (guided attention). Files
 * are ordered by path whatever the order they are added in, so the model does not depend on it.
 *
 * Frames are kept as 8-bit pixels at the training size; a data set over opts.max_bytes is refused
 * at the frame that would pass it, with the frame count and the limit in the sentence.
 *
 * Checkpoints (one blob, after every epoch): the data set's fingerprint (relative path, size and
 * CRC-32 of every file) and the options' fingerprint, the folds finished (their test predictions),
 * the running fold's stage, epoch, RNG step, weights, best weights and Adam moments. Never pixels.
 * Resuming with another folder or other options is refused with a sentence that says what differs.
 */
#ifndef SIALO_TRAINER_H
#define SIALO_TRAINER_H

#include <stddef.h>
#include <stdint.h>

#include "train/boxes.h"
#include "train/train.h"

typedef struct sialo_trainer sialo_trainer;

/* progress of a run, after every batch (kind 0) and at the end of every epoch (kind 1) */
typedef struct {
    int kind;                 /* 0 = batch, 1 = epoch done, 2 = a run (fold or final) starts */
    int fold, folds;          /* 1..folds for cross-validation; fold 0 = the final model */
    int stage, stages;        /* 1-based */
    const char *stage_name, *unfreeze;
    float lr;
    int epoch, epochs;        /* 1-based; epochs = the stage's max_epochs */
    int batch, batches;       /* 1-based, within the epoch */
    double loss;              /* mean training loss of the epoch so far */
    double val_auc, val_loss; /* kind 1: inner validation (NaN when there is none) */
    double outside;           /* guided attention: mean outside share (NaN if off) */
    int improved;             /* kind 1: the best epoch of the stage so far */
    double images_per_s;
    double eta_s;             /* the whole run (every fold and the final model), seconds: the plan scaled by the share
                                 of their plan the finished folds trained (before the first fold ends, the plan: at most) */
    double done;              /* share of the whole run's work done, 0..1 */
    const char *line;         /* kind 1 and 2: the line `sialoscan train` prints to stderr */
} sialo_train_progress;

typedef struct {
    void (*progress)(void *user, const sialo_train_progress *p);
    /* after every epoch: the blob to resume from. Non-zero = stop now (the run returns 1) */
    int (*checkpoint)(void *user, const uint8_t *bytes, size_t n);
    /* a fold finished: its JSON line (as `sialoscan train` prints it) and its model (best weights) */
    void (*fold_done)(void *user, int fold, const char *json, const uint8_t *model, size_t n);
    /* every other result line: the cross-validation summary, the calibration */
    void (*result)(void *user, const char *json);
    /* a line for a person (data summary, warnings, timings): `sialoscan train` prints it to stderr */
    void (*log)(void *user, const char *line);
    /* polled after every batch: non-zero = stop at once (no checkpoint of the partial epoch) */
    int (*should_stop)(void *user);
    void *user;
} sialo_train_callbacks;

/* opts: the fields of sialo_train_opts that are not paths (data_dir, backbone, schedule, out,
   checkpoint, predictions, resume are ignored here); schedule_text: NULL = the method's default;
   final: train the final model (on every frame) after the cross-validation. */
typedef struct {
    sialo_train_opts o;
    const char *schedule_text;
    const char *backbone_name;  /* for the provenance: a file name, never a path; NULL = "backbone" */
    const char *data_name;      /* the folder's name, for the provenance */
    int final;
    size_t max_bytes;           /* frames' memory limit; 0 = none (native), the WASM build sets one */
    const char *date;           /* YYYY-MM-DD for the provenance; NULL = today (UTC) */
    int keep_masks;             /* keep masks/ even with o.masks off (a later configure may turn it on) */
    const sialo_box_table *boxes; /* box mode (o.box_mode): every frame's lesion box; borrowed until the last file is added */
} sialo_trainer_opts;

sialo_trainer *sialo_trainer_new(const uint8_t *backbone, size_t n, const sialo_trainer_opts *opts);
/* replace the options of the next run (method, schedule, folds, seeds, batch, regularisation,
   calibration, final, names, date); the data set's (input side, threads, memory limit) stay
   those given to sialo_trainer_new; guided attention (o.masks) only where the data set keeps masks
   (o.masks or keep_masks at sialo_trainer_new). -1 (sialo_error(): why) leaves the old options. */
int sialo_trainer_configure(sialo_trainer *t, const sialo_trainer_opts *opts);
int sialo_trainer_add(sialo_trainer *t, const char *relpath, const uint8_t *bytes, size_t n);
/* the same for many files, decoded in parallel on the trainer's threads; status[i] as add's
   return value, reasons[i] (malloc'ed, caller frees) the sentence for -1 (and 0), or NULL */
int sialo_trainer_add_many(sialo_trainer *t, int count, const char *const *relpaths, const uint8_t *const *bytes,
                           const size_t *sizes, int *status, char **reasons);
/* what the data set holds, one JSON object: {"frames":N,"benign":B,"malignant":M,"groups":G,
   "masks":K,"conflicts":C,"ignored":I,"refused":[{"path":..,"reason":..}],"bytes":..,"problem":".."|null}
   problem: the sentence that refuses this data set for training (one class only, < 10 frames in a
   class, no benign/ or malignant/), else null; sialo_trainer_run refuses the same but the 10-frame
   rule (a small test set may train from the CLI). Caller frees. */
char *sialo_trainer_summary_json(sialo_trainer *t);
/* 0 = finished, 1 = stopped by a callback (resume from the last checkpoint), -1 = error */
int sialo_trainer_run(sialo_trainer *t, const sialo_train_callbacks *cb, const uint8_t *resume, size_t resume_n);
/* after a finished run with opts.final: the model file (owned by the trainer) */
const uint8_t *sialo_trainer_model(const sialo_trainer *t, size_t *n);
/* after a finished run with cross-validation: the out-of-fold predictions as CSV
   (path,label,fold,p_malignant; as `train --predictions` writes it). Owned by the trainer. */
const char *sialo_trainer_oof_csv(const sialo_trainer *t);
void sialo_trainer_free(sialo_trainer *t);

#endif
