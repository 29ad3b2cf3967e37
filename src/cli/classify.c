/* classify.c — sialoscan info, classify (with Grad-CAM overlays, every frame of a DICOM cine loop),
 * dicom-info and frame. */
#include "cli/cli.h"
#include "engine/calibration.h"
#include "train/dataset.h"
#include "engine/graph.h"
#include "base/metrics.h"
#include "explain/report.h"
#include "train/train.h"
#include "import/importers.h"
#include "engine/runtime.h"
#include "kernels/f32_gemm.h"
#include "kernels/f32_dwconv.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <stb_image_write.h>

/* ------------------------------------------------------------------ commands */
int cmd_info(cli_opts *o) {
    if (o->nargs == 1) o->model = o->args[0];
    else if (o->nargs > 1 || !o->model) return usage();
    sialo_model *m = open_model(o);
    if (!m) return 1;
    char *js = sialo_model_info_json(m);
    /* the model's JSON object, and which kernels run it here */
    if (js) printf("%.*s,\"kernels\":{\"isa\":\"%s\",\"gemm\":\"%s\",\"dwconv\":\"%s\",\"cpu\":\"%s\"}}\n",
                   (int)strlen(js) - 1, js, sialo_isa(), f32_gemm_kernel_name(), f32_dwconv_kernel_name(), sialo_isa_available());
    free(js);
    sialo_model_free(m);
    return js ? 0 : 1;
}

/* file name without folder and extension */
void stem_of(const char *path, char *stem, size_t size) {
    const char *base = strrchr(path, '/');
    snprintf(stem, size, "%s", base ? base + 1 : path);
    char *dot = strrchr(stem, '.');
    if (dot && dot != stem) *dot = 0;
}

/* decode, classify and Grad-CAM (class_index as sialo_classify_image_cam_class); on success the
   caller frees img and cam; r->ms covers all of it */
int decode_and_cam(sialo_model *m, const uint8_t *bytes, size_t n, int frame, int us_region, const char *layer,
                          int class_index, sialo_result *r, sialo_image *img, sialo_cam *cam) {
    double t0 = sialo_now_ms();
    if (sialo_image_decode_frame(bytes, n, frame, us_region, img) < 0) return -1;
    if (sialo_classify_image_cam_class(m, img, layer, class_index, r, cam) < 0) { sialo_image_free(img); return -1; }
    r->ms = sialo_now_ms() - t0;
    return 0;
}

/* classify + Grad-CAM; the overlay goes to DIR/<stem>-cam.png (path in cam_path) */
static int classify_cam_png(sialo_model *m, const char *dir, const char *layer, const char *image_path,
                            const uint8_t *bytes, size_t n, int frame, int multi, int us_region, const sialo_box *box, float margin,
                            sialo_box *region, sialo_result *r, char *cam_path, size_t cam_path_size) {
    sialo_image img;
    sialo_cam cam;
    /* the overlay shows the malignant evidence, as the JS API does; a box: over the region classified */
    if (!box) {
        if (decode_and_cam(m, bytes, n, frame, us_region, layer, -1, r, &img, &cam) < 0) return -1;
    } else {
        double t0 = sialo_now_ms();
        sialo_image whole;
        if (sialo_image_decode_frame(bytes, n, frame, us_region, &whole) < 0) return -1;
        int rc = sialo_classify_image_box_cam(m, &whole, box, margin, layer, -1, r, &cam, region);
        if (rc == 0) rc = sialo_image_crop(&whole, region, &img);
        sialo_image_free(&whole);
        if (rc < 0) { sialo_cam_free(&cam); return -1; }
        r->ms = sialo_now_ms() - t0;
    }
    char stem[1024];
    stem_of(image_path, stem, sizeof stem);
    if (multi) snprintf(cam_path, cam_path_size, "%s/%s-f%d-cam.png", dir, stem, frame);
    else snprintf(cam_path, cam_path_size, "%s/%s-cam.png", dir, stem);
    size_t np = (size_t)img.w * img.h;
    uint8_t *rgba = malloc(np * 4);
    int rc = -1;
    if (!rgba) sialo_fail("out of memory");
    else if (sialo_cam_overlay(&img, &cam, -1.0f, rgba) == 0) {
        for (size_t p = 0; p < np; p++) memmove(rgba + 3 * p, rgba + 4 * p, 3); /* RGB: the alpha is 255 */
        if (stbi_write_png(cam_path, img.w, img.h, 3, rgba, img.w * 3)) rc = 0;
        else sialo_fail("cannot write '%s'", cam_path);
    }
    free(rgba);
    sialo_cam_free(&cam);
    sialo_image_free(&img);
    return rc;
}

/* decode one frame and classify it (or its lesion box: box not NULL, region receives what was
   classified); r->ms covers both */
int classify_frame_box(sialo_model *m, const uint8_t *bytes, size_t n, int frame, int us_region, const sialo_box *box, float margin,
                       sialo_box *region, sialo_result *r) {
    double t0 = sialo_now_ms();
    sialo_image img;
    if (sialo_image_decode_frame(bytes, n, frame, us_region, &img) < 0) return -1;
    int rc = box ? sialo_classify_image_box(m, &img, box, margin, r, region) : sialo_classify_image(m, &img, r);
    sialo_image_free(&img);
    r->ms = sialo_now_ms() - t0;
    return rc;
}

int classify_frame_in_table(sialo_model *m, const sialo_box_table *t, const char *rel, const uint8_t *bytes, size_t n, int frame,
                            int us_region, float margin, sialo_result *r) {
    sialo_image img;
    if (sialo_image_decode_frame(bytes, n, frame, us_region, &img) < 0) return -1;
    sialo_box b;
    int rc = sialo_boxes_find(t, rel, img.w, img.h, &b) ? sialo_classify_image_box(m, &img, &b, margin, r, NULL)
                                                       : sialo_fail("no lesion box for this frame (a line of the boxes file, or a mask in masks/)");
    sialo_image_free(&img);
    return rc;
}

int classify_frame(sialo_model *m, const uint8_t *bytes, size_t n, int frame, int us_region, sialo_result *r) {
    double t0 = sialo_now_ms();
    sialo_image img;
    if (sialo_image_decode_frame(bytes, n, frame, us_region, &img) < 0) return -1;
    int rc = sialo_classify_image(m, &img, r);
    sialo_image_free(&img);
    r->ms = sialo_now_ms() - t0;
    return rc;
}

static void print_error_line(const char *file, int frame) {
    fprintf(stderr, "sialoscan: %s: %s\n", file, sialo_error());
    printf("{\"file\":");
    json_str(stdout, file);
    if (frame >= 0) printf(",\"frame\":%d", frame);
    printf(",\"error\":");
    json_str(stdout, sialo_error());
    printf("}\n");
}

/* one file: a line per frame (or an error line); a DICOM file without an image is skipped */
static int classify_file(sialo_model *m, cli_opts *o, const char *path, int in_folder, int *tried) {
    size_t n;
    uint8_t *bytes = read_all(path, &n);
    int failures = 0;
    if (in_folder && (!bytes || !is_image_file(path, bytes, n))) { free(bytes); return 0; } /* not an image: a folder's other files */
    if (skip_not_image(path, bytes, n)) { free(bytes); return 0; }
    ++*tried;
    int dicom = bytes && sialo_is_dicom(bytes, n);
    int frames = bytes ? sialo_image_frames(bytes, n) : -1;
    if (frames < 0) {
        print_error_line(path, -1);
        free(bytes);
        return 1;
    }
    int f0 = o->frame >= 0 ? o->frame : 0, f1 = o->frame >= 0 ? o->frame + 1 : frames;
    for (int k = f0; k < f1; k++) {
        sialo_result r;
        char cam_path[4096] = "";
        const sialo_box *box = o->has_box ? &o->box : NULL;
        float margin = isnan(o->margin) ? -1.0f : (float)o->margin;
        sialo_box region = {0, 0, 0, 0};
        if ((o->cam_out ? classify_cam_png(m, o->cam_out, o->cam_layer, path, bytes, n, k, dicom && frames > 1, o->us_region,
                                           box, margin, &region, &r, cam_path, sizeof cam_path)
                        : classify_frame_box(m, bytes, n, k, o->us_region, box, margin, &region, &r)) < 0) {
            print_error_line(path, dicom ? k : -1);
            failures++;
        } else {
            printf("{\"file\":");
            json_str(stdout, path);
            if (dicom) printf(",\"frame\":%d", k);
            if (box) {
                sialo_info in;
                sialo_model_info(m, &in);
                printf(",\"box\":[%d,%d,%d,%d],\"margin\":%.6g,\"region\":[%d,%d,%d,%d]", box->x, box->y, box->w, box->h,
                       margin < 0 ? in.box_margin : margin, region.x, region.y, region.w, region.h);
            }
            printf(",\"p_malignant\":%.6f,\"label\":", r.p_positive);
            json_str(stdout, label_name(m, r.label));
            printf(",\"threshold\":%.6g,\"ms\":%.1f", r.threshold, r.ms);
            print_ood(stdout, &r.ood);
            if (*cam_path) { printf(",\"cam\":"); json_str(stdout, cam_path); }
            printf("}\n");
        }
        fflush(stdout);
    }
    free(bytes);
    return failures;
}

int cmd_classify(cli_opts *o) {
    if (o->nargs < 1) return usage();
    if (o->cam_out && mkdir(o->cam_out, 0777) != 0 && errno != EEXIST)
        return die("cannot create the Grad-CAM folder '%s'", o->cam_out);
    sialo_model *m = open_model(o);
    if (!m) return 1;
    int failures = 0;
    for (int i = 0; i < o->nargs; i++) {
        struct stat st;
        if (stat(o->args[i], &st) == 0 && S_ISDIR(st.st_mode)) { /* a folder: every image under it (a scanner's USB export) */
            int nf, tried = 0;
            char **files = list_files(o->args[i], &nf);
            for (int k = 0; k < nf; k++) {
                failures += classify_file(m, o, files[k], 1, &tried);
                free(files[k]);
            }
            free(files);
            if (!tried) { /* nothing to classify there: say so rather than print nothing */
                fprintf(stderr, "sialoscan: %s: no image found in this folder (PNG, JPEG, BMP, GIF or DICOM)\n", o->args[i]);
                failures++;
            }
        } else {
            int tried = 0;
            failures += classify_file(m, o, o->args[i], 0, &tried);
        }
    }
    sialo_model_free(m);
    return failures ? 1 : 0;
}

int cmd_dicom_info(cli_opts *o) {
    if (o->nargs != 1) return usage();
    size_t n;
    uint8_t *bytes = read_all(o->args[0], &n);
    sialo_dicom_info in;
    char *js = NULL;
    if (bytes && sialo_dicom_read_info(bytes, n, &in) == 0) js = sialo_dicom_info_json(&in);
    free(bytes);
    if (!js) { fprintf(stderr, "sialoscan: %s: %s\n", o->args[0], sialo_error()); return 1; }
    printf("%s\n", js);
    free(js);
    return 0;
}

int cmd_frame(cli_opts *o) {
    if (o->nargs != 2) return usage();
    size_t n;
    uint8_t *bytes = read_all(o->args[0], &n);
    sialo_image img;
    int rc = bytes ? sialo_image_decode_frame(bytes, n, o->frame < 0 ? 0 : o->frame, o->us_region, &img) : -1;
    free(bytes);
    if (rc < 0) { fprintf(stderr, "sialoscan: %s: %s\n", o->args[0], sialo_error()); return 1; }
    rc = stbi_write_png(o->args[1], img.w, img.h, 3, img.rgb, img.w * 3) ? 0 : die("cannot write '%s'", o->args[1]);
    sialo_image_free(&img);
    return rc;
}
