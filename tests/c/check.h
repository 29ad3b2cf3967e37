/* check.h — the smallest test harness: CHECK(cond, fmt, ...) counts, and test_summary() prints
 * "N passed, M failed" and gives the exit status. */
#ifndef SIALO_CHECK_H
#define SIALO_CHECK_H
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

static int check_passed, check_failed;
#define CHECK(cond, ...)                                                     \
    do {                                                                     \
        if (cond) check_passed++;                                            \
        else {                                                               \
            check_failed++;                                                  \
            fprintf(stderr, "FAIL %s:%d: ", __FILE__, __LINE__);             \
            fprintf(stderr, __VA_ARGS__);                                    \
            fprintf(stderr, "\n");                                           \
        }                                                                    \
    } while (0)
/* a whole file into memory (NULL if absent); the tests' fixtures are small */
static inline uint8_t *slurp(const char *path, size_t *n) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long len = ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *b = malloc(len > 0 ? (size_t)len : 1);
    if (b && fread(b, 1, (size_t)len, f) != (size_t)len) { free(b); b = NULL; }
    fclose(f);
    *n = (size_t)len;
    return b;
}

/* a xorshift generator for test data; each test file keeps its own state (its own seed) */
static inline uint32_t xorshift_next(uint64_t *s) {
    *s ^= *s >> 12;
    *s ^= *s << 25;
    *s ^= *s >> 27;
    return (uint32_t)((*s * 2685821657736338717ull) >> 32);
}

static inline int test_summary(const char *name) {
    printf("%s: %d passed, %d failed\n", name, check_passed, check_failed);
    return check_failed ? 1 : 0;
}
#endif
