/* gradcam_examples.c — the Grad-CAM example figures of the docs, from SYNTHETIC frames only.
 *
 *   make gradcam-examples      (builds this against build/libsialoscan.a, writes docs/gradcam-example-*.png)
 *
 * A hand-built "bright patch detector" (tests/c/bright_patch_net.h, also used by test_gradcam.c: conv 3x3 that fires
 * where the local mean is bright -> max pool -> conv 3x3 -> GAP -> dense -> sigmoid) is run through
 * sialo_classify_image_cam on speckled frames with bright synthetic "lesions"; each figure is the
 * frame and its overlay side by side. No patient image is involved.
 */
#include "bright_patch_net.h"
#include "engine/graph.h"
#include "engine/runtime.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <stb_image_write.h>


static uint64_t rng = 12345;
static double urand(void) {
    rng = rng * 6364136223846793005ull + 1442695040888963407ull;
    return (double)(rng >> 11) * (1.0 / 9007199254740992.0);
}

typedef struct { double cx, cy, rx, ry, level; } blob;

/* a grey speckled frame (Rayleigh-like noise) with bright elliptical blobs with soft edges */
static uint8_t *synth(int w, int h, const blob *b, int nb) {
    uint8_t *rgb = malloc((size_t)w * h * 3);
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            double v = 32.0 + 8.0 * floor(1.5 * sqrt(-2.0 * log(urand() + 1e-12))) + 12.0 * (double)y / h;
            for (int k = 0; k < nb; k++) {
                double dx = (x - b[k].cx) / b[k].rx, dy = (y - b[k].cy) / b[k].ry, r = sqrt(dx * dx + dy * dy);
                double t = r < 0.8 ? 1.0 : r < 1.2 ? (1.2 - r) / 0.4 : 0.0;
                v = v * (1 - t) + t * (b[k].level + 8.0 * floor(2.0 * urand()));
            }
            uint8_t g = (uint8_t)(v < 0 ? 0 : v > 255 ? 255 : v + 0.5);
            rgb[((size_t)y * w + x) * 3] = rgb[((size_t)y * w + x) * 3 + 1] = rgb[((size_t)y * w + x) * 3 + 2] = g;
        }
    return rgb;
}

int main(int argc, char **argv) {
    const char *dir = argc > 1 ? argv[1] : "docs";
    sialo_graph *g = bright_patch_net(1.0f);
    sialo_options opt = {SIALO_BACKEND_OWN, 1, 0, 0};
    sialo_model *m = g ? sialo_model_from_graph(g, &opt) : NULL;
    if (!m) { fprintf(stderr, "gradcam_examples: %s\n", sialo_error()); return 1; }
    const int W = 160, H = 120;
    struct { const char *name; blob b[2]; int nb; } ex[2] = {
        {"corner", {{30, 27, 18, 13, 225}}, 1},
        {"two-lesions", {{112, 80, 20, 14, 235}, {45, 45, 15, 11, 200}}, 2},
    };
    for (int e = 0; e < 2; e++) {
        sialo_image img = {synth(W, H, ex[e].b, ex[e].nb), W, H};
        sialo_result r;
        sialo_cam cam;
        if (sialo_classify_image_cam(m, &img, NULL, &r, &cam) < 0) { fprintf(stderr, "gradcam_examples: %s\n", sialo_error()); return 1; }
        uint8_t *rgba = malloc((size_t)W * H * 4), *pair = malloc((size_t)2 * W * H * 3);
        sialo_cam_overlay(&img, &cam, -1.0f, rgba);
        for (int y = 0; y < H; y++)
            for (int x = 0; x < W; x++) {
                memcpy(pair + ((size_t)y * 2 * W + x) * 3, img.rgb + ((size_t)y * W + x) * 3, 3);
                memcpy(pair + ((size_t)y * 2 * W + W + x) * 3, rgba + ((size_t)y * W + x) * 4, 3);
            }
        char path[1024];
        snprintf(path, sizeof path, "%s/gradcam-example-%s.png", dir, ex[e].name);
        if (!stbi_write_png(path, 2 * W, H, 3, pair, 2 * W * 3)) { fprintf(stderr, "gradcam_examples: cannot write %s\n", path); return 1; }
        printf("%s: p=%.3f, layer %s (%dx%d), frame %dx%d\n", path, r.p_positive, cam.layer, cam.raw_w, cam.raw_h, W, H);
        free(rgba);
        free(pair);
        free(img.rgb);
        sialo_cam_free(&cam);
    }
    sialo_model_free(m);
    return 0;
}
