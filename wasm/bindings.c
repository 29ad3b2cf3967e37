/* bindings.c — the functions the WASM module exports: thin wrappers over sialoscan.h that
 * take and return plain pointers and numbers (no logic of their own). */
#include "engine/runtime.h"
#include "kernels/f32_gemm.h"
#include "train/trainer.h"

#include <emscripten.h>
#include <stdlib.h>

EMSCRIPTEN_KEEPALIVE const char *sialo_wasm_error(void) { return sialo_error(); }

/* threads: the parts of the model's thread pool (1 in a build without pthreads, whatever is asked) */
EMSCRIPTEN_KEEPALIVE sialo_model *sialo_wasm_load(const void *data, size_t size, int keep_activations, int threads) {
    sialo_options opt = {.backend = SIALO_BACKEND_OWN, .threads = threads < 1 ? 1 : threads, .keep_activations = keep_activations};
    return sialo_model_load(data, size, &opt);
}

/* what this build is: "pthreads" or "single"; whether it uses SIMD128; a model's thread count */
/* the image codec libraries of the compressed DICOM syntaxes, with their versions */
EMSCRIPTEN_KEEPALIVE const char *sialo_wasm_codecs(void) { return sialo_codecs_version(); }
EMSCRIPTEN_KEEPALIVE const char *sialo_wasm_build(void) {
#ifdef __EMSCRIPTEN_PTHREADS__
    return "pthreads";
#else
    return "single";
#endif
}
EMSCRIPTEN_KEEPALIVE int sialo_wasm_simd(void) {
#ifdef __wasm_simd128__
    return 1;
#else
    return 0;
#endif
}
/* the engine's version (wasm/package.json's, compiled in): info().version */
EMSCRIPTEN_KEEPALIVE const char *sialo_wasm_version(void) { return SIALO_VERSION; }
/* the GEMM micro-kernel of this build: f32_gemm_4x8_simd128 or f32_gemm_4x8_relaxedsimd */
EMSCRIPTEN_KEEPALIVE const char *sialo_wasm_kernel(void) { return f32_gemm_kernel_name(); }

EMSCRIPTEN_KEEPALIVE int sialo_wasm_threads(const sialo_model *m) { return sialo_pool_size(m->pool); }

EMSCRIPTEN_KEEPALIVE void sialo_wasm_free(sialo_model *m) { sialo_model_free(m); }

EMSCRIPTEN_KEEPALIVE char *sialo_wasm_info_json(const sialo_model *m) { return sialo_model_info_json(m); }

EMSCRIPTEN_KEEPALIVE int sialo_wasm_input_floats(const sialo_model *m) { return m->g->in_h * m->g->in_w * m->g->in_c; }

EMSCRIPTEN_KEEPALIVE int sialo_wasm_output_floats(const sialo_model *m) { return (int)sialo_output_size(m); }

/* the out-of-distribution check into out[4..7]: checked, score, flag, threshold (sialo_ood) */
static void put_ood(const sialo_result *r, float *out) {
    out[4] = (float)r->ood.checked;
    out[5] = r->ood.score;
    out[6] = (float)r->ood.flag;
    out[7] = r->ood.threshold;
}

/* one frame (0 for an image file; DICOM: frame k, us_region = crop to the first ultrasound region).
 * out: [p_positive, label, threshold, ms, ood checked, ood score, ood flag, ood threshold] */
EMSCRIPTEN_KEEPALIVE int sialo_wasm_classify(sialo_model *m, const void *bytes, size_t size, int frame, int us_region, float *out) {
    double t0 = sialo_now_ms();
    sialo_result r;
    sialo_image img;
    if (sialo_image_decode_frame(bytes, size, frame, us_region, &img) < 0) return -1;
    int rc = sialo_classify_image(m, &img, &r);
    sialo_image_free(&img);
    if (rc < 0) return -1;
    r.ms = sialo_now_ms() - t0;
    out[0] = r.p_positive;
    out[1] = (float)r.label;
    out[2] = r.threshold;
    out[3] = (float)r.ms;
    put_ood(&r, out);
    return 0;
}

/* a lesion box (io/box.c): the box x, y, w, h in frame pixels, margin < 0 = the model's. out: as
 * sialo_wasm_classify, then [8..11] the region classified (x, y, w, h) and [12] the margin used */
static void put_region(const sialo_model *m, const sialo_box *reg, float margin, float *out) {
    sialo_info in;
    sialo_model_info(m, &in);
    out[8] = (float)reg->x; out[9] = (float)reg->y; out[10] = (float)reg->w; out[11] = (float)reg->h;
    out[12] = margin < 0 ? in.box_margin : margin;
}

EMSCRIPTEN_KEEPALIVE int sialo_wasm_classify_box(sialo_model *m, const void *bytes, size_t size, int frame, int us_region, int x, int y,
                                                 int w, int h, float margin, float *out) {
    double t0 = sialo_now_ms();
    sialo_result r;
    sialo_image img;
    sialo_box box = {x, y, w, h}, reg;
    if (sialo_image_decode_frame(bytes, size, frame, us_region, &img) < 0) return -1;
    int rc = sialo_classify_image_box(m, &img, &box, margin, &r, &reg);
    sialo_image_free(&img);
    if (rc < 0) return -1;
    out[0] = r.p_positive;
    out[1] = (float)r.label;
    out[2] = r.threshold;
    out[3] = (float)(sialo_now_ms() - t0);
    put_ood(&r, out);
    put_region(m, &reg, margin, out);
    return 0;
}

/* ---- DICOM: 1 if the bytes are a DICOM file; its metadata as JSON (caller frees); frames (-1 = cannot decode) */
EMSCRIPTEN_KEEPALIVE int sialo_wasm_is_dicom(const void *bytes, size_t size) { return sialo_is_dicom(bytes, size); }
EMSCRIPTEN_KEEPALIVE char *sialo_wasm_dicom_info_json(const void *bytes, size_t size) {
    sialo_dicom_info in;
    if (sialo_dicom_read_info(bytes, size, &in) < 0) return NULL;
    return sialo_dicom_info_json(&in);
}
EMSCRIPTEN_KEEPALIVE int sialo_wasm_frames(const void *bytes, size_t size) { return sialo_image_frames(bytes, size); }

EMSCRIPTEN_KEEPALIVE int sialo_wasm_forward(sialo_model *m, const float *input, float *out) {
    return sialo_forward(m, input, out);
}

/* shape: int[4]; returns a pointer into the model's arena (valid until the next call) */
/* profile: wall time per layer over `runs` forwards of one input (profile.c); JSON, caller frees */
EMSCRIPTEN_KEEPALIVE char *sialo_wasm_profile_json(sialo_model *m, const float *input, int runs) {
    if (runs < 1 || runs > 10000) return sialo_fail_null("runs must be 1..10000");
    float *out = malloc(sialo_output_size(m) * sizeof *out);
    if (!out || sialo_profile_start(m) < 0) { free(out); return sialo_fail_null("out of memory"); }
    char *js = NULL;
    int rc = 0;
    for (int i = 0; i < runs && rc == 0; i++) rc = sialo_forward(m, input, out);
    if (rc == 0) js = sialo_profile_json(m);
    sialo_profile_stop(m);
    free(out);
    return js;
}

EMSCRIPTEN_KEEPALIVE const float *sialo_wasm_activation(sialo_model *m, const char *layer, int *shape) {
    return sialo_activation(m, layer, shape);
}

/* ---- Grad-CAM: a result handle the JS side reads and then frees with sialo_wasm_cam_free */
typedef struct {
    sialo_cam cam;
    uint8_t *rgba;     /* overlay on the frame (classify), or NULL (tensor input) */
    sialo_image image; /* the decoded image (RGB) when the caller asked to keep it, else empty */
} wasm_cam;

/* layer: "" = the default. out: [p_positive, label, threshold, ms, ood x 4 (as sialo_wasm_classify)]. alpha < 0 = default opacity.
 * frame, us_region: which frame of a DICOM file, and whether to crop it to its first ultrasound region.
 * keep_image: also hand back the decoded image (sialo_wasm_cam_image), for pages that draw it. */
EMSCRIPTEN_KEEPALIVE wasm_cam *sialo_wasm_classify_cam(sialo_model *m, const void *bytes, size_t size, int frame, int us_region,
                                                       const char *layer, float alpha, int keep_image, float *out) {
    double t0 = sialo_now_ms();
    wasm_cam *c = calloc(1, sizeof *c);
    sialo_image img;
    sialo_result r;
    if (!c) { sialo_fail("out of memory"); return NULL; }
    if (sialo_image_decode_frame(bytes, size, frame, us_region, &img) < 0) { free(c); return NULL; }
    int rc = sialo_classify_image_cam(m, &img, layer, &r, &c->cam);
    if (rc == 0) {
        c->rgba = malloc((size_t)img.w * img.h * 4);
        rc = c->rgba ? sialo_cam_overlay(&img, &c->cam, alpha, c->rgba) : sialo_fail("out of memory");
    }
    if (rc == 0 && keep_image) c->image = img;
    else sialo_image_free(&img);
    if (rc < 0) { sialo_cam_free(&c->cam); free(c->rgba); free(c); return NULL; }
    out[0] = r.p_positive;
    out[1] = (float)r.label;
    out[2] = r.threshold;
    out[3] = (float)(sialo_now_ms() - t0);
    put_ood(&r, out);
    return c;
}

/* a lesion box with Grad-CAM: the map and the overlay cover the region classified (the image kept
 * is the region's pixels); out as sialo_wasm_classify_box */
EMSCRIPTEN_KEEPALIVE wasm_cam *sialo_wasm_classify_box_cam(sialo_model *m, const void *bytes, size_t size, int frame, int us_region,
                                                           int x, int y, int w, int h, float margin, const char *layer, float alpha,
                                                           int keep_image, float *out) {
    double t0 = sialo_now_ms();
    wasm_cam *c = calloc(1, sizeof *c);
    sialo_image whole, img = {0};
    sialo_result r;
    sialo_box box = {x, y, w, h}, reg;
    if (!c) { sialo_fail("out of memory"); return NULL; }
    if (sialo_image_decode_frame(bytes, size, frame, us_region, &whole) < 0) { free(c); return NULL; }
    int rc = sialo_classify_image_box_cam(m, &whole, &box, margin, layer, -1, &r, &c->cam, &reg);
    if (rc == 0) rc = sialo_image_crop(&whole, &reg, &img);
    sialo_image_free(&whole);
    if (rc == 0) {
        c->rgba = malloc((size_t)img.w * img.h * 4);
        rc = c->rgba ? sialo_cam_overlay(&img, &c->cam, alpha, c->rgba) : sialo_fail("out of memory");
    }
    if (rc == 0 && keep_image) c->image = img;
    else sialo_image_free(&img);
    if (rc < 0) { sialo_cam_free(&c->cam); free(c->rgba); free(c); return NULL; }
    out[0] = r.p_positive;
    out[1] = (float)r.label;
    out[2] = r.threshold;
    out[3] = (float)(sialo_now_ms() - t0);
    put_ood(&r, out);
    put_region(m, &reg, margin, out);
    return c;
}

/* one preprocessed input (as sialo_wasm_forward); the map at the layer's size; out: the outputs */
EMSCRIPTEN_KEEPALIVE wasm_cam *sialo_wasm_cam_tensor(sialo_model *m, const float *input, const char *layer, int class_index,
                                                     float *out) {
    wasm_cam *c = calloc(1, sizeof *c);
    if (!c) { sialo_fail("out of memory"); return NULL; }
    if (sialo_cam_forward(m, input, layer, class_index, 0, 0, out, &c->cam) < 0) { free(c); return NULL; }
    return c;
}

/* dims: [w, h, raw_w, raw_h, class_index]; returns the layer name */
EMSCRIPTEN_KEEPALIVE const char *sialo_wasm_cam_dims(const wasm_cam *c, int *dims) {
    dims[0] = c->cam.w; dims[1] = c->cam.h; dims[2] = c->cam.raw_w; dims[3] = c->cam.raw_h; dims[4] = c->cam.class_index;
    return c->cam.layer;
}
EMSCRIPTEN_KEEPALIVE const float *sialo_wasm_cam_map(const wasm_cam *c) { return c->cam.map; }
EMSCRIPTEN_KEEPALIVE const float *sialo_wasm_cam_raw(const wasm_cam *c) { return c->cam.raw; }
EMSCRIPTEN_KEEPALIVE const uint8_t *sialo_wasm_cam_rgba(const wasm_cam *c) { return c->rgba; }
EMSCRIPTEN_KEEPALIVE const uint8_t *sialo_wasm_cam_image(const wasm_cam *c) { return c->image.rgb; }
EMSCRIPTEN_KEEPALIVE void sialo_wasm_cam_free(wasm_cam *c) {
    if (!c) return;
    sialo_cam_free(&c->cam);
    sialo_image_free(&c->image);
    free(c->rgba);
    free(c);
}

/* ---- the trainer (train/trainer.h): memory in, callbacks out.
 * Options are plain arguments (seeds as doubles: whole numbers up to 2^53). Each callback of a
 * run crosses into JavaScript synchronously through an EM_JS function that calls the per-run
 * hooks object the JS API puts on the module (Module.sialoTrainHooks, wasm/sialoscan.mjs): it
 * gets numbers and pointers, copies what it keeps out of the heap before returning, and answers
 * checkpoint / should_stop with 0 (go on) or 1 (stop). Every callback runs on the calling thread. */

EM_JS(void, sialo_js_train_progress, (int kind, int fold, int folds, int stage, int stages, const char *stage_name,
                                      const char *unfreeze, double lr, int epoch, int epochs, int batch, int batches,
                                      double loss, double val_auc, double val_loss, double outside, int improved,
                                      double images_per_s, double eta_s, double done, const char *line), {
    var h = Module["sialoTrainHooks"];
    if (h) h.progress(kind, fold, folds, stage, stages, stage_name, unfreeze, lr, epoch, epochs, batch, batches, loss,
                      val_auc, val_loss, outside, improved, images_per_s, eta_s, done, line);
});
EM_JS(int, sialo_js_train_checkpoint, (const uint8_t *bytes, size_t n), {
    var h = Module["sialoTrainHooks"];
    return h ? h.checkpoint(bytes, n) : 0;
});
EM_JS(void, sialo_js_train_fold, (int fold, const char *json, const uint8_t *model, size_t n), {
    var h = Module["sialoTrainHooks"];
    if (h) h.fold(fold, json, model, n);
});
EM_JS(void, sialo_js_train_result, (const char *json), {
    var h = Module["sialoTrainHooks"];
    if (h) h.result(json);
});
EM_JS(void, sialo_js_train_log, (const char *line), {
    var h = Module["sialoTrainHooks"];
    if (h) h.log(line);
});
EM_JS(int, sialo_js_train_should_stop, (void), {
    var h = Module["sialoTrainHooks"];
    return h ? h.shouldStop() : 0;
});

static void train_progress(void *user, const sialo_train_progress *p) {
    sialo_js_train_progress(p->kind, p->fold, p->folds, p->stage, p->stages, p->stage_name, p->unfreeze, p->lr, p->epoch,
                            p->epochs, p->batch, p->batches, p->loss, p->val_auc, p->val_loss, p->outside, p->improved,
                            p->images_per_s, p->eta_s, p->done, p->line);
}
static int train_checkpoint(void *user, const uint8_t *bytes, size_t n) { return sialo_js_train_checkpoint(bytes, n); }
static void train_fold(void *user, int fold, const char *json, const uint8_t *model, size_t n) {
    sialo_js_train_fold(fold, json, model, n);
}
static void train_result(void *user, const char *json) { sialo_js_train_result(json); }
static void train_log(void *user, const char *line) { sialo_js_train_log(line); }
static int train_should_stop(void *user) { return sialo_js_train_should_stop(); }

/* a trainer for a data set: backbone = the bytes of a .sialo model, or NULL with arch (trained
 * from scratch); input 0 = the backbone's side; masks: keep masks/ for guided attention;
 * max_bytes: the frames' memory limit (0 = none). The run's options come with configure. */
EMSCRIPTEN_KEEPALIVE sialo_trainer *sialo_wasm_trainer_new(const uint8_t *backbone, size_t n, const char *arch, int input, int threads,
                                                           double max_bytes, int masks, const char *backbone_name) {
    sialo_trainer_opts to = {
        .o = {.arch = arch, .input = input, .threads = threads < 1 ? 1 : threads, .batch = 16, .seed = 1},
        .keep_masks = masks,
        .backbone_name = backbone_name,
        .max_bytes = max_bytes > 0 ? (size_t)max_bytes : 0,
    };
    return sialo_trainer_new(backbone, n, &to);
}
/* the next run's options (seeds as doubles: whole numbers up to 2^53); strings may be NULL (the
 * defaults); 0 ok, -1 refused (the sentence in sialo_wasm_error()) */
EMSCRIPTEN_KEEPALIVE int sialo_wasm_trainer_configure(sialo_trainer *t, const char *method, const char *schedule_text, int cv, int final,
                                                      double seed, double fold_seed, int batch, double val_fraction, double weight_decay,
                                                      double dropout, const char *calibration, int masks, double attention_weight,
                                                      int include_conflicts, int storage_bits, const char *data_name, const char *date) {
    sialo_trainer_opts to = {
        .o = {.method = method, .cv = cv, .batch = batch, .seed = (uint64_t)seed, .fold_seed = (uint64_t)fold_seed,
              .weight_decay = (float)weight_decay, .dropout = (float)dropout, .val_fraction = (float)val_fraction,
              .storage_bits = storage_bits, .include_conflicts = include_conflicts, .masks = masks, .attention_weight = (float)attention_weight,
              .calibration = calibration},
        .schedule_text = schedule_text,
        .data_name = data_name,
        .final = final,
        .date = date,
    };
    return sialo_trainer_configure(t, &to);
}
/* 1 taken, 0 ignored, -1 refused: the sentence in sialo_wasm_error() */
EMSCRIPTEN_KEEPALIVE int sialo_wasm_trainer_add(sialo_trainer *t, const char *path, const uint8_t *bytes, size_t n) {
    return sialo_trainer_add(t, path, bytes, n);
}
/* many files decoded on the trainer's threads; status[i] as add's (reasons are not kept) */
EMSCRIPTEN_KEEPALIVE int sialo_wasm_trainer_add_many(sialo_trainer *t, int count, const char *const *paths, const uint8_t *const *bytes,
                                                     const size_t *sizes, int *status) {
    return sialo_trainer_add_many(t, count, paths, bytes, sizes, status, NULL);
}
EMSCRIPTEN_KEEPALIVE char *sialo_wasm_trainer_summary_json(sialo_trainer *t) { return sialo_trainer_summary_json(t); }
/* 0 finished, 1 stopped by a hook, -1 error; resume: a checkpoint's bytes, or NULL */
EMSCRIPTEN_KEEPALIVE int sialo_wasm_trainer_run(sialo_trainer *t, const uint8_t *resume, size_t resume_n) {
    sialo_train_callbacks cb = {train_progress, train_checkpoint, train_fold, train_result, train_log, train_should_stop, NULL};
    return sialo_trainer_run(t, &cb, resume, resume_n); /* resume NULL: from the start */
}
/* the final model's bytes (owned by the trainer) and their size in *n, or NULL */
EMSCRIPTEN_KEEPALIVE const uint8_t *sialo_wasm_trainer_model(const sialo_trainer *t, size_t *n) { return sialo_trainer_model(t, n); }
EMSCRIPTEN_KEEPALIVE const char *sialo_wasm_trainer_oof_csv(const sialo_trainer *t) { return sialo_trainer_oof_csv(t); }
EMSCRIPTEN_KEEPALIVE void sialo_wasm_trainer_free(sialo_trainer *t) { sialo_trainer_free(t); }
