/* fp16.c — IEEE half precision <-> float, for fp16 storage of the weights (base.h). */
#include "base/base.h"

#include <string.h>

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
