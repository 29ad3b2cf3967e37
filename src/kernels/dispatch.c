/* dispatch.c — which ISA's kernels run, chosen once at start (natively on x86-64), as XNNPACK does it.
 *
 * Built with -DSIALO_DISPATCH (the native x86-64 build), every src/kernels/NAME.c but this one is
 * compiled three times, for SSE2 (baseline x86-64: the 4-wide tile of SIMD128), AVX2 + FMA and
 * AVX-512 (F, VL, BW, DQ), its functions renamed name_sse2 / name_avx2 / name_avx512 (Makefile).
 * This file, built for the baseline like the rest of the program, defines each kernel function of
 * kernels.def under its plain name: a jump through the table of the ISA picked by a constructor
 * before main() from CPUID (__builtin_cpu_supports: CPU and OS state) and SIALOSCAN_ISA, which may
 * ask for a lower level. Packed weights follow the choice: f32_gemm_pack is dispatched too, and the
 * choice never changes after start.
 * Without SIALO_DISPATCH (WebAssembly, other architectures, the fuzzers) the kernels are compiled
 * once with the build's flags and this file only answers sialo_isa*() for that one ISA.
 */
#include "sialoscan.h"
#include "base/base.h"
#include "kernels/vec.h"
/* the kernels' own headers: the compiler checks kernels.def against them */
#include "kernels/f32_adam.h"
#include "kernels/f32_dwconv.h"
#include "kernels/f32_dwconv_bwd.h"
#include "kernels/f32_gemm.h"
#include "kernels/f32_gemm_bwd.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifdef SIALO_DISPATCH

#define KCAT2(a, b) a##b
#define KCAT(a, b) KCAT2(a, b)

/* the per-ISA definitions (build/<flavour>/src/kernels/NAME.ISA.o) */
#define SIALO_KERNEL(ret, name, params, args) ret name##_sse2 params; ret name##_avx2 params; ret name##_avx512 params;
#define SIALO_KERNEL_VOID(name, params, args) SIALO_KERNEL(void, name, params, args)
#include "kernels/kernels.def"
#undef SIALO_KERNEL
#undef SIALO_KERNEL_VOID

typedef struct {
#define SIALO_KERNEL(ret, name, params, args) ret(*name) params;
#define SIALO_KERNEL_VOID(name, params, args) SIALO_KERNEL(void, name, params, args)
#include "kernels/kernels.def"
#undef SIALO_KERNEL
#undef SIALO_KERNEL_VOID
} kernel_table;

#define SIALO_KERNEL(ret, name, params, args) .name = KCAT(name, ISA_SFX),
#define SIALO_KERNEL_VOID(name, params, args) SIALO_KERNEL(void, name, params, args)
#define ISA_SFX _sse2
static const kernel_table table_sse2 = {
#include "kernels/kernels.def"
};
#undef ISA_SFX
#define ISA_SFX _avx2
static const kernel_table table_avx2 = {
#include "kernels/kernels.def"
};
#undef ISA_SFX
#define ISA_SFX _avx512
static const kernel_table table_avx512 = {
#include "kernels/kernels.def"
};
#undef ISA_SFX
#undef SIALO_KERNEL
#undef SIALO_KERNEL_VOID

enum { ISA_SSE2, ISA_AVX2, ISA_AVX512, ISA_N };
static const char *const isa_names[ISA_N] = {"sse2", "avx2", "avx512"};
static const char *const isa_long[ISA_N] = {"SSE2", "AVX2 and FMA", "AVX-512 (F, VL, BW, DQ)"};
static const kernel_table *const tables[ISA_N] = {&table_sse2, &table_avx2, &table_avx512};

static const kernel_table *kt = &table_sse2;
static int isa_now = ISA_SSE2, isa_best = ISA_SSE2;
static char isa_refusal[200];

/* the highest level this CPU and its OS run (the OS state is checked by libgcc with XGETBV) */
static int cpu_best(void) {
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512bw") &&
        __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))
        return ISA_AVX512;
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return ISA_AVX2;
    return ISA_SSE2;
}

__attribute__((constructor)) static void isa_pick(void) {
    isa_best = isa_now = cpu_best();
    const char *want = getenv("SIALOSCAN_ISA");
    if (want && *want) {
        int w = -1;
        for (int i = 0; i < ISA_N; i++)
            if (!strcmp(want, isa_names[i])) w = i;
        if (w < 0)
            snprintf(isa_refusal, sizeof isa_refusal, "SIALOSCAN_ISA must be sse2, avx2 or avx512, not '%.40s'.", want);
        else if (w > isa_best)
            snprintf(isa_refusal, sizeof isa_refusal, "SIALOSCAN_ISA=%s: this CPU has no %s (its best is %s).", want,
                     isa_long[w], isa_names[isa_best]);
        else isa_now = w;
    }
    kt = tables[isa_now];
}

const char *sialo_isa(void) { return isa_names[isa_now]; }
const char *sialo_isa_available(void) {
    static const char *const avail[ISA_N] = {"sse2", "sse2 avx2", "sse2 avx2 avx512"};
    return avail[isa_best];
}
int sialo_isa_check(void) { return isa_refusal[0] ? sialo_fail("%s", isa_refusal) : 0; }

/* the plain names: one jump through the table */
#define SIALO_KERNEL(ret, name, params, args) ret name params { return kt->name args; }
#define SIALO_KERNEL_VOID(name, params, args) void name params { kt->name args; }
#include "kernels/kernels.def"
#undef SIALO_KERNEL
#undef SIALO_KERNEL_VOID

#else /* one ISA, fixed at build time */

const char *sialo_isa(void) { return SIALO_ISA; }
const char *sialo_isa_available(void) { return SIALO_ISA; }
int sialo_isa_check(void) {
    const char *want = getenv("SIALOSCAN_ISA");
    if (want && *want && strcmp(want, SIALO_ISA))
        return sialo_fail("SIALOSCAN_ISA=%.40s: this build has one set of kernels (%s).", want, SIALO_ISA);
    return 0;
}

#endif
