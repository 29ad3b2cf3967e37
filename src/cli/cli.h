/* cli/cli.h — what the subcommand files of the CLI share: the parsed options, the helpers of main.c
 * and the commands. cli/ is the top of the house: the only code that touches files; it may use
 * every layer below it (docs/design.md).
 *   main.c       option parsing, dispatch
 *   common.c     usage, errors, opening the model, reading files, JSON strings
 *   classify.c   info, classify, dicom-info, frame
 *   eval.c       eval (with Grad-CAM localisation against lesion masks)
 *   calibrate.c  calibrate, ensemble, bundle
 *   convert.c    init, convert (TFLite, Keras), imagenet
 *   bench.c      forward, bench
 *   train.c      train
 *   ood.c        ood-fit (the out-of-distribution statistics of an existing model)
 */
#ifndef SIALO_CLI_H
#define SIALO_CLI_H

#include <stdint.h>
#include <stdio.h>

#include "sialoscan.h"

#define DEFAULT_MODEL_NAME "sialoscan-busi.sialo"

typedef struct {
    const char *model;
    sialo_options opt;
    int runs;
    const char *arch, *head, *input, *dump, *dump_dir;
    int input_size, seed, storage_bits, warmup;
    int fp32;                        /* ensemble --fp32: fp32 even from fp16 networks */
    const char *cam_out, *cam_layer; /* Grad-CAM: overlay folder (classify), layer (NULL = default) */
    int cam;                         /* eval / bench: compute Grad-CAM */
    int profile;                     /* bench: time per layer and per kind of layer */
    const char *csv, *report;        /* eval: per-image CSV, HTML report */
    const char *predictions, *out, *method; /* calibrate */
    double threshold;                /* ensemble: the threshold on p_raw (NAN = 0.5) */
    double crop;                     /* imagenet: central crop fraction */
    int frame;                       /* DICOM frame (-1 = every frame in classify, frame 0 elsewhere) */
    int us_region;                   /* DICOM: crop to the first ultrasound region */
    int has_box;                     /* classify --box X,Y,W,H: classify that lesion box */
    sialo_box box;
    double margin;                   /* --margin F: the box's margin per side (NAN = the model's) */
    const char *boxes;               /* eval --boxes FILE (TSV path, x, y, w, h) */
    int boxes_from_masks;            /* eval --boxes-from-masks */
    int nargs;
    char **args;
} cli_opts;

int cmd_bench(cli_opts *o);
int cmd_forward(cli_opts *o);
int cmd_calibrate(cli_opts *o);
int cmd_ensemble(cli_opts *o);
int cmd_bundle(cli_opts *o);
int classify_frame(sialo_model *m, const uint8_t *bytes, size_t n, int frame, int us_region, sialo_result *r);

int cmd_classify(cli_opts *o);
int cmd_dicom_info(cli_opts *o);
int cmd_frame(cli_opts *o);
int cmd_info(cli_opts *o);
int decode_and_cam(sialo_model *m, const uint8_t *bytes, size_t n, int frame, int us_region, const char *layer,
                          int class_index, sialo_result *r, sialo_image *img, sialo_cam *cam);
void stem_of(const char *path, char *stem, size_t size);
int cmd_convert(int argc, char **argv);
int cmd_imagenet(cli_opts *o);
int cmd_init(cli_opts *o);
int cmd_eval(cli_opts *o);
int die(const char *fmt, const char *arg);
void json_str(FILE *f, const char *s);
void print_ood(FILE *f, const sialo_ood *o);
const char *label_name(const sialo_model *m, int label);
sialo_model *open_model(cli_opts *o);
uint8_t *read_all(const char *path, size_t *n);
/* the regular files under dir (hidden entries skipped, sub-folders to 8 levels), sorted; NULL if
   dir cannot be opened. What a scanner's USB export holds: DICOMDIR, nested folders, no extensions */
char **list_files(const char *dir, int *count);
/* a file a folder walk reads: an image by its extension, or DICOM by its bytes */
int is_image_file(const char *path, const uint8_t *bytes, size_t n);
/* a DICOM file without an image (DICOMDIR, report, ...): says so in one line on stderr, returns 1 */
int skip_not_image(const char *path, const uint8_t *bytes, size_t n);
int usage(void);
/* "X,Y,W,H" -> box (0, or -1 with the sentence printed) */
int parse_box(const char *v, sialo_box *b);
/* the lesion boxes of a TSV file, or of a folder's masks/<class>/ (0, or -1 with the reason printed) */
#include "train/boxes.h"
int load_boxes_file(const char *path, sialo_box_table *t);
int load_mask_boxes(const char *dir, sialo_box_table *t);
/* box mode (eval --boxes, ood-fit --boxes): the frame's lesion box from the table (rel: its path in the
   data folder), classified as the engine does (io/box.c); margin < 0 = the model's */
int classify_frame_in_table(sialo_model *m, const sialo_box_table *t, const char *rel, const uint8_t *bytes, size_t n, int frame,
                            int us_region, float margin, sialo_result *r);
int cmd_train(int argc, char **argv);
int cmd_ood_fit(int argc, char **argv);

#endif
