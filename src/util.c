/* util.c — the error slot, CRC-32, fp16 conversion, small allocation helpers. */
#include "graph.h"
#include "sialoscan.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static _Thread_local char err_buf[512];

const char *sialo_error(void) { return err_buf; }

void sialo_set_error(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err_buf, sizeof err_buf, fmt, ap);
    va_end(ap);
}

void *sialo_xcalloc(size_t n, size_t size) {
    void *p = calloc(n ? n : 1, size ? size : 1);
    if (!p) sialo_fail("out of memory (%zu x %zu bytes)", n, size);
    return p;
}

char *sialo_strdup(const char *s) {
    if (!s) s = "";
    size_t n = strlen(s) + 1;
    char *d = malloc(n);
    if (!d) return sialo_fail_null("out of memory");
    memcpy(d, s, n);
    return d;
}

/* CRC-32 (IEEE), slicing by 4: four table lookups per 32-bit word (the model file's checksum is
 * over megabytes, computed at every load) */
uint32_t sialo_crc32(const void *data, size_t n) {
    static uint32_t table[4][256];
    static int ready;
    if (!ready) {
        for (uint32_t i = 0; i < 256; i++) {
            uint32_t c = i;
            for (int k = 0; k < 8; k++) c = c & 1 ? 0xEDB88320u ^ (c >> 1) : c >> 1;
            table[0][i] = c;
        }
        for (uint32_t i = 0; i < 256; i++)
            for (int t = 1; t < 4; t++) table[t][i] = table[0][table[t - 1][i] & 0xFF] ^ (table[t - 1][i] >> 8);
        ready = 1;
    }
    const uint8_t *p = data;
    uint32_t c = 0xFFFFFFFFu;
    for (; n >= 4; n -= 4, p += 4) {
        c ^= (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
        c = table[3][c & 0xFF] ^ table[2][(c >> 8) & 0xFF] ^ table[1][(c >> 16) & 0xFF] ^ table[0][c >> 24];
    }
    for (; n; n--) c = table[0][(c ^ *p++) & 0xFF] ^ (c >> 8);
    return c ^ 0xFFFFFFFFu;
}

/* IEEE half <-> single, round to nearest even */
uint16_t sialo_f32_to_f16(float f) {
    uint32_t x;
    memcpy(&x, &f, 4);
    uint32_t sign = (x >> 16) & 0x8000u;
    uint32_t mant = x & 0x7FFFFFu;
    int exp = (int)((x >> 23) & 0xFF);
    if (exp == 0xFF) return (uint16_t)(sign | 0x7C00u | (mant ? 0x200u : 0));
    int e = exp - 127 + 15;
    if (e >= 31) return (uint16_t)(sign | 0x7C00u);
    if (e <= 0) {
        if (e < -10) return (uint16_t)sign;
        mant |= 0x800000u;
        int shift = 14 - e;
        uint32_t h = mant >> shift, rem = mant & ((1u << shift) - 1), half = 1u << (shift - 1);
        if (rem > half || (rem == half && (h & 1))) h++;
        return (uint16_t)(sign | h);
    }
    uint32_t h = ((uint32_t)e << 10) | (mant >> 13);
    uint32_t rem = mant & 0x1FFFu;
    if (rem > 0x1000u || (rem == 0x1000u && (h & 1))) h++;
    return (uint16_t)(sign | h);
}

float sialo_f16_to_f32(uint16_t h) {
    uint32_t sign = (uint32_t)(h & 0x8000u) << 16;
    uint32_t exp = (h >> 10) & 0x1F, mant = h & 0x3FFu, x;
    if (exp == 0) {
        if (mant == 0) x = sign;
        else {
            int e = -1;
            do { mant <<= 1; e++; } while (!(mant & 0x400u));
            x = sign | (uint32_t)(127 - 15 - e) << 23 | (mant & 0x3FFu) << 13;
        }
    } else if (exp == 31) x = sign | 0x7F800000u | mant << 13;
    else x = sign | (exp + 127 - 15) << 23 | mant << 13;
    float f;
    memcpy(&f, &x, 4);
    return f;
}

/* n little-endian fp16 values -> float; -1 if one is infinite or NaN. The bits of a finite half,
 * shifted into a float's place, scaled by 2^112 (exact: subnormal halves become normal floats) */
int sialo_f16_to_f32_n(const uint8_t *src, float *dst, size_t n) {
    uint32_t special = 0;
    for (size_t k = 0; k < n; k++) {
        uint32_t h = (uint32_t)src[2 * k] | (uint32_t)src[2 * k + 1] << 8, x = (h & 0x7FFFu) << 13;
        special |= (h & 0x7C00u) == 0x7C00u;
        float f;
        memcpy(&f, &x, 4);
        f *= 0x1p112f;
        memcpy(&x, &f, 4);
        x |= (h & 0x8000u) << 16;
        memcpy(&dst[k], &x, 4);
    }
    return special ? -1 : 0;
}

double sialo_now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

void sialo_path_base(const char *path, char *out, size_t size) {
    size_t len = strlen(path);
    while (len > 1 && path[len - 1] == '/') len--;
    size_t start = len;
    while (start > 0 && path[start - 1] != '/') start--;
    snprintf(out, size, "%.*s", (int)(len - start), path + start);
}
