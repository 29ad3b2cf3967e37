/* check.h — the smallest test harness: CHECK(cond, fmt, ...) counts, and test_summary() prints
 * "N passed, M failed" and gives the exit status. */
#ifndef SIALO_CHECK_H
#define SIALO_CHECK_H
#include <stdio.h>

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
static inline int test_summary(const char *name) {
    printf("%s: %d passed, %d failed\n", name, check_passed, check_failed);
    return check_failed ? 1 : 0;
}
#endif
