/* base/base.h — what every layer of the engine may use: the error slot and its helpers, allocation,
 * strings and paths, CRC-32, fp16 conversion, float bits. Depends on nothing but the C library
 * (sialo_error() and sialo_now_ms() are declared in the public sialoscan.h).
 *   error.c  the thread-local error slot, allocation, strings, paths, the clock
 *   crc32.c  CRC-32 (IEEE)
 *   fp16.c   IEEE half <-> float
 */
#ifndef SIALO_BASE_H
#define SIALO_BASE_H

#include <stddef.h>
#include <stdint.h>

/* sialo_fail(fmt, ...) sets the error and is -1, sialo_fail_null(fmt, ...) sets it and is NULL. Macros
 * over sialo_set_error() so that the compiler sees the constant: "if (f() < 0) return" after an
 * inlined f() is then known to cover every failure path (no -Wmaybe-uninitialized on out-params). */
void sialo_set_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static inline int sialo_minus_one(void) { return -1; }
static inline void *sialo_null(void) { return (void *)0; }
#define sialo_fail(...) (sialo_set_error(__VA_ARGS__), sialo_minus_one())
#define sialo_fail_null(...) (sialo_set_error(__VA_ARGS__), sialo_null())
uint32_t sialo_crc32(const void *data, size_t n);
uint16_t sialo_f32_to_f16(float f);
float sialo_f16_to_f32(uint16_t h);
int sialo_f16_to_f32_n(const uint8_t *src, float *dst, size_t n); /* -1: an inf or NaN among them */
char *sialo_strdup(const char *s);
/* a file's name without its folder; a folder's last component (trailing slashes ignored) */
void sialo_path_base(const char *path, char *out, size_t size);
void *sialo_xcalloc(size_t n, size_t size); /* calloc that sets an error on failure */
static inline float sialo_bits_to_f32(int32_t b) { union { int32_t i; float f; } u; u.i = b; return u.f; }
static inline int32_t sialo_f32_to_bits(float f) { union { int32_t i; float f; } u; u.f = f; return u.i; }

#endif
