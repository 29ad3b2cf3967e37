/* test_image_corpus.c — the generated image corpus (tests/tools/make_image_corpus.py) through
 * sialo_image_decode, under AddressSanitizer + UndefinedBehaviorSanitizer:
 *  - every valid file (PNG in every colour type and bit depth 1..16, palette, grey+alpha, RGBA,
 *    Adam7; PNG / BMP / GIF written by PIL) decodes to exactly the RGB bytes PIL reads from it
 *    (16-bit samples rounded (v * 255 + 32767) / 65535 on the reference side);
 *  - every damaged file is refused with exactly the sentence the corpus lists for it.
 * The corpus is generated at test time into a temporary folder (needs python3 with numpy and
 * PIL: `make setup` installs Debian's python3-numpy and python3-pil; $SIALO_PYTHON overrides).
 * Run from the repository root. Prints "N passed, M failed"; exit status 1 on any failure.
 */
#include "check.h"
#include "sialoscan.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *python(void) {
    static const char *cands[] = {NULL, "/usr/bin/python3", "python3"};
    cands[0] = getenv("SIALO_PYTHON");
    for (size_t i = 0; i < sizeof cands / sizeof *cands; i++) {
        if (!cands[i]) continue;
        char cmd[512];
        snprintf(cmd, sizeof cmd, "%s -c 'import numpy, PIL' >/dev/null 2>&1", cands[i]);
        if (system(cmd) == 0) return cands[i];
    }
    return NULL;
}

/* the next line of a TSV file split at tabs into at most 4 fields (in place); 0 at the end */
static int tsv_line(char **cursor, char *field[4]) {
    char *s = *cursor;
    if (!s || !*s) return 0;
    char *nl = strchr(s, '\n');
    if (nl) *nl = 0;
    *cursor = nl ? nl + 1 : s + strlen(s);
    for (int i = 0; i < 4; i++) {
        field[i] = s;
        char *t = s ? strchr(s, '\t') : NULL;
        if (t) { *t = 0; s = t + 1; } else s = NULL;
    }
    return 1;
}

static char *read_text(const char *path) {
    size_t n;
    uint8_t *b = slurp(path, &n);
    if (!b) return NULL;
    char *s = realloc(b, n + 1);
    s[n] = 0;
    return s;
}

static void good_files(const char *dir) {
    char path[1024];
    snprintf(path, sizeof path, "%s/good.tsv", dir);
    char *tsv = read_text(path), *cur = tsv, *f[4];
    CHECK(tsv != NULL, "%s missing", path);
    int n = 0;
    while (tsv && tsv_line(&cur, f)) {
        if (!f[1] || !f[2]) continue;
        n++;
        int w = atoi(f[1]), h = atoi(f[2]);
        size_t size, ref_size;
        snprintf(path, sizeof path, "%s/good/%s", dir, f[0]);
        uint8_t *bytes = slurp(path, &size);
        char *dot = strrchr(path, '.');
        strcpy(dot, ".rgb");
        uint8_t *ref = slurp(path, &ref_size);
        CHECK(bytes && ref && ref_size == (size_t)w * h * 3, "%s: file or reference missing", f[0]);
        if (!bytes || !ref) { free(bytes); free(ref); continue; }
        sialo_image img;
        int rc = sialo_image_decode(bytes, size, &img);
        CHECK(rc == 0, "%s (%s): refused: %s", f[0], f[3], sialo_error());
        if (rc == 0) {
            CHECK(img.w == w && img.h == h, "%s: %dx%d instead of %dx%d", f[0], img.w, img.h, w, h);
            if (img.w == w && img.h == h && strncmp(f[0], "jpeg", 4)) { /* JPEG decoders may differ by rounding */
                size_t diff = 0, first = 0;
                for (size_t i = 0; i < ref_size; i++)
                    if (img.rgb[i] != ref[i] && !diff++) first = i;
                CHECK(diff == 0, "%s (%s): %zu of %zu samples differ from PIL; first at pixel (%zu, %zu) channel %zu: %d, PIL %d",
                      f[0], f[3], diff, ref_size, first / 3 % (size_t)w, first / 3 / (size_t)w, first % 3, img.rgb[first], ref[first]);
            }
            sialo_image_free(&img);
        }
        free(bytes);
        free(ref);
    }
    CHECK(n >= 30, "only %d valid files in the corpus", n);
    printf("corpus: %d valid files decoded\n", n);
    free(tsv);
}

static void bad_files(const char *dir) {
    char path[1024];
    snprintf(path, sizeof path, "%s/bad.tsv", dir);
    char *tsv = read_text(path), *cur = tsv, *f[4];
    CHECK(tsv != NULL, "%s missing", path);
    int n = 0;
    while (tsv && tsv_line(&cur, f)) {
        if (!f[1]) continue;
        n++;
        size_t size;
        snprintf(path, sizeof path, "%s/bad/%s", dir, f[0]);
        uint8_t *bytes = slurp(path, &size);
        CHECK(bytes != NULL, "%s missing", path);
        if (!bytes) continue;
        /* a tight copy so that ASan sees any read past the end (an empty file: a valid pointer, 0 bytes) */
        uint8_t *tight = malloc(size ? size : 1);
        memcpy(tight, bytes, size);
        sialo_image img;
        int rc = sialo_image_decode(tight, size, &img);
        CHECK(rc < 0, "%s (%s): decoded as %dx%d, should be refused with '%s'", f[0], f[2], img.w, img.h, f[1]);
        if (rc == 0) sialo_image_free(&img);
        else CHECK(!strcmp(sialo_error(), f[1]), "%s (%s):\n   got  '%s'\n   want '%s'", f[0], f[2], sialo_error(), f[1]);
        free(tight);
        free(bytes);
    }
    CHECK(n >= 100, "only %d damaged files in the corpus", n);
    printf("corpus: %d damaged files refused\n", n);
    free(tsv);
}

int main(void) {
    const char *py = python();
    CHECK(py != NULL, "python3 with numpy and PIL is needed to generate the corpus (make setup: python3-numpy, python3-pil)");
    if (!py) return test_summary("test_image_corpus");
    char dir[] = "/tmp/sialo-corpus-XXXXXX";
    CHECK(mkdtemp(dir) != NULL, "mkdtemp failed");
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "%s tests/tools/make_image_corpus.py %s", py, dir);
    int st = system(cmd);
    CHECK(st == 0, "%s failed (status %d)", cmd, st);
    if (st == 0) {
        good_files(dir);
        bad_files(dir);
    }
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", dir);
    return test_summary("test_image_corpus");
}
