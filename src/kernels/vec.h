/* vec.h — one portable SIMD vocabulary over GCC/Clang vector extensions.
 *
 * The same kernel source compiles to WASM SIMD128 (emcc -msimd128), to SSE2, AVX2 or AVX-512
 * natively, to NEON on 64-bit Arm (aarch64). SIALO_VW is the number of floats in one vector;
 * SIALO_ISA names the instruction set and goes into kernel names (f32_gemm_6x16_avx2,
 * f32_gemm_4x8_simd128, ...).
 */
#ifndef SIALO_VEC_H
#define SIALO_VEC_H

#if defined(__AVX512F__)
#define SIALO_VW 16
#define SIALO_ISA "avx512"
#elif defined(__AVX2__)
#define SIALO_VW 8
#define SIALO_ISA "avx2"
#elif defined(__AVX__)
#define SIALO_VW 8
#define SIALO_ISA "avx"
#elif defined(__wasm_relaxed_simd__)
#define SIALO_VW 4
#define SIALO_ISA "relaxedsimd"
#elif defined(__wasm_simd128__)
#define SIALO_VW 4
#define SIALO_ISA "simd128"
#elif defined(__SSE2__)
#define SIALO_VW 4
#define SIALO_ISA "sse2"
#elif defined(__ARM_NEON)
#define SIALO_VW 4
#define SIALO_ISA "neon" /* 64-bit Arm: the vector extensions compile to NEON, the 4-wide tile */
#else
#define SIALO_VW 4
#define SIALO_ISA "scalar"
#endif

typedef float vf __attribute__((vector_size(SIALO_VW * 4)));
typedef int vi __attribute__((vector_size(SIALO_VW * 4)));
typedef float vf_u __attribute__((vector_size(SIALO_VW * 4), aligned(4))); /* unaligned access */

static inline vf vload(const float *p) { return *(const vf_u *)p; }
static inline void vstore(float *p, vf v) { *(vf_u *)p = v; }
static inline vf vsplat(float x) { return (vf){0} + x; }
/* acc + a*b: one fused multiply-add where the ISA has one (natively -ffp-contract=fast fuses it;
   WASM relaxed SIMD: f32x4.relaxed_madd, a*b + c rounded once or twice, as the machine does it) */
static inline vf vfma(vf acc, vf a, vf b) {
#if defined(__wasm_relaxed_simd__)
    /* LLVM 14 names it fma and emits the prototype opcode; tools/wasm-relaxed.mjs rewrites it to
       relaxed_madd (operands a, b, c -> a*b + c), which tests/node/relaxed-simd.test.mjs checks */
    return __builtin_wasm_fma_f32x4(a, b, acc);
#else
    return acc + a * b;
#endif
}
static inline vf vmax(vf a, vf b) {
    vi m = a > b;
    return (vf)(((vi)a & m) | ((vi)b & ~m));
}
static inline vf vmin(vf a, vf b) {
    vi m = a < b;
    return (vf)(((vi)a & m) | ((vi)b & ~m));
}
/* square root per lane: f32x4.sqrt in WASM; natively one scalar square root per lane */
static inline vf vsqrt(vf x) {
#if defined(__wasm_simd128__)
    return __builtin_wasm_sqrt_f32x4(x);
#else
    vf r;
    for (int j = 0; j < SIALO_VW; j++) r[j] = __builtin_sqrtf(x[j]);
    return r;
#endif
}
/* act: 0 none, 1 relu, 2 relu6 */
static inline vf vact(vf v, int act) {
    if (act == 1) return vmax(v, vsplat(0.0f));
    if (act == 2) return vmin(vmax(v, vsplat(0.0f)), vsplat(6.0f));
    return v;
}
static inline float sact(float v, int act) {
    if (act >= 1 && v < 0.0f) v = 0.0f;
    if (act == 2 && v > 6.0f) v = 6.0f;
    return v;
}

#endif
