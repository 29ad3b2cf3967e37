/* run.h — one training run (run.c) as the trainer (trainer.c) drives it: the resumable state of a
 * run, and what a run reports. Internal to train/. */
#ifndef SIALO_TRAIN_RUN_H
#define SIALO_TRAIN_RUN_H

#include <stddef.h>
#include <stdint.h>

#include "train/dataset.h"
#include "train/train.h"
#include "train/trainer.h"

typedef struct sialo_model sialo_model;

/* where a run stands after an epoch: enough to continue it exactly */
typedef struct {
    int stage, epoch, bad;      /* the next epoch to run: stage (0-based), epoch in it (0-based) */
    double best_auc, best_loss;
    uint64_t step;              /* batches so far (seeds augmentation and dropout) */
    uint8_t *weights;           /* the current weights as a model file (32-bit), malloc'ed */
    size_t weights_n;
    float *aux;                 /* the stage's best weights, Adam m and v, trainable tensor by tensor */
    size_t aux_n;               /* floats; 0 at the start of a stage (a fresh optimiser) */
} sialo_run_state;

void sialo_run_state_free(sialo_run_state *rs);

/* shared progress accounting of the whole trainer run (every fold and the final model) */
typedef struct {
    double images_done, images_total; /* work done (also before a resume), planned */
    double session_images, session_t0; /* this session: images trained and its start (s) */
    /* for the expected time left: the current run's planned work and images_done at its start, the
       planned work of the runs after it, and planned vs trained work of the runs finished (from
       their start) in this session — early stopping ends most stages before their last epoch */
    double cur_plan, cur_done0, future_plan, fin_plan, fin_done;
} sialo_run_clock;

/* the expected seconds left of the whole trainer run at `rate` images/s: the planned work scaled by
   the share of their plan that the finished runs trained (no finished run yet: the plan, an upper
   bound), never more than the upper bound; NaN before any image is trained (no rate) */
double sialo_run_clock_eta(const sialo_run_clock *c, double rate);

typedef struct {
    const sialo_train_opts *o;
    const sialo_dataset *d;
    const uint8_t *backbone;    /* NULL: o->arch from random weights */
    size_t backbone_n;
    const sialo_stage *st;
    int nst;
    const char *label;          /* "[fold 1/5]", "[final]" */
    int fold, folds;            /* fold 0 = final */
    const int *tr, *va;
    int ntr, nva;
    const sialo_run_state *resume; /* NULL = from the start */
    /* after every epoch (and at a stage's end): the state to resume from; non-zero = stop */
    int (*epoch_done)(void *user, const sialo_run_state *rs);
    const sialo_train_callbacks *cb;
    sialo_run_clock *clock;
    void *user;                 /* epoch_done's */
} sialo_run_args;

/* the trained model (best weights), or NULL: *stopped = 1 if a callback asked to stop, else an error */
sialo_model *sialo_train_run(const sialo_run_args *a, int *stopped);
/* probabilities of samples idx[0..n) (no augmentation) */
int sialo_train_predict(sialo_model *m, const sialo_train_opts *o, const sialo_dataset *d, const int *idx, int n, float *p);
/* the model a run trains: the backbone (or o->arch from random weights, seeded) cut at its global
   pooling, plus the binary head (GAP, dropout, dense 1, sigmoid); NULL + reason */
struct sialo_graph *sialo_train_graph(const sialo_train_opts *o, const uint8_t *backbone, size_t backbone_n, uint64_t seed);
/* the first layer that trains in a stage (its unfreeze rule), or -1 + reason */
int sialo_train_stage_start(const sialo_model *m, const sialo_stage *st);
/* one AdamW step (beta 0.9 / 0.999, eps 1e-7, decoupled weight decay on kernels) of step number t
   (1, 2, ...) on every trainable tensor: w, its moments mom / vel, from its gradient grad */
void sialo_train_update(sialo_model *m, const int *trainable, float *const *grad, float *const *mom, float *const *vel, float lr,
                        float weight_decay, long t);
/* images a run trains at most (every stage to its max_epochs) */
double sialo_run_planned_images(const sialo_stage *st, int nst, int ntr, int batch);

#endif
