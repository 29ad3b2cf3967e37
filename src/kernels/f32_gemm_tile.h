/* f32_gemm_tile.h — the GEMM tile of the ISA this file is compiled for (GEMM_MR x GEMM_NR, GEMM_TILE,
 * GEMM_LOADSPLAT). Private to the kernel files that run on the packed panels (f32_gemm.c,
 * f32_gemm_bwd.c): it depends on SIALO_VW, so no header outside src/kernels/ may include it
 * (natively each kernel file is compiled once per ISA: README.md). */
#ifndef SIALO_F32_GEMM_TILE_H
#define SIALO_F32_GEMM_TILE_H

#include "kernels/vec.h"

/* the tile of this ISA (vec.h: SIALO_VW floats a vector) */
#if SIALO_VW == 16
#define GEMM_MR 8
#define GEMM_NR 32
#define GEMM_TILE "8x32"
#elif SIALO_VW == 8
#define GEMM_MR 6
#define GEMM_NR 16
#define GEMM_TILE "6x16"
#else /* 4-wide (SIMD128, SSE2): 4x8 measured fastest in V8 (vs 6x8, 8x8) */
#ifndef GEMM_MR
#define GEMM_MR 4
#endif
#define GEMM_NR 8
#define GEMM_STR2(x) #x
#define GEMM_STR(x) GEMM_STR2(x)
#define GEMM_TILE GEMM_STR(GEMM_MR) "x8"
#endif
/* How a 4-wide kernel broadcasts A: 0 = load 4 values of a row, then shuffle each lane out (fewer
 * loads: fastest with separate multiply and add, SIMD128 in V8); 1 = broadcast each value from
 * memory (v128.load32_splat, a load-port broadcast: fastest with fused multiply-add, relaxed SIMD;
 * XNNPACK makes the same two choices). Measured in V8 on Zen 4, whole networks (bench/profile.mjs). */
#ifndef GEMM_LOADSPLAT
#if defined(__wasm_relaxed_simd__)
#define GEMM_LOADSPLAT 1
#else
#define GEMM_LOADSPLAT 0
#endif
#endif
_Static_assert(GEMM_NR == 2 * SIALO_VW, "a tile is two vectors wide");

#endif
