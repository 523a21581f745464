/* The vector kernels of the k-d tree searches (kernels.h) for each instruction set,
 * and the choice among them. This file alone is compiled with -ffp-contract=fast
 * (CMakeLists.txt): the kernels' error bounds hold for fused multiply-adds, which round
 * once where a multiply and an add round twice, while the exact distances (cl_rdist,
 * elsewhere) must round as the hdbscan library's do. */
#include "cluster_internal.h"

#include <stdlib.h>
#include <string.h>
#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#endif

/* The kernels for each instruction set (kernels.h), and the choice among them by what
 * the processor has (the build itself targets x86-64-v2, without wide vectors). */
#if defined(__x86_64__) && defined(__GNUC__)
#define CL_X86_KERNELS
#define KW 16
#define KTARGET __attribute__((target("avx512f,fma")))
#define KNAME(x) x##_avx512
#define KLE(v, lim)                                                                        \
    ((uint64_t)_mm512_cmp_ps_mask((__m512)(v), _mm512_set1_ps(lim), _CMP_LE_OQ))
#include "kernels.h"
#undef KW
#undef KTARGET
#undef KNAME
#undef KLE
#define KW 8
#define KTARGET __attribute__((target("avx2,fma")))
#define KNAME(x) x##_avx2
#define KLE(v, lim)                                                                        \
    ((uint64_t)_mm256_movemask_ps(_mm256_cmp_ps((__m256)(v), _mm256_set1_ps(lim), _CMP_LE_OQ)))
#include "kernels.h"
#undef KW
#undef KTARGET
#undef KNAME
#undef KLE
#define KLE(v, lim) ((uint64_t)_mm_movemask_ps(_mm_cmple_ps((__m128)(v), _mm_set1_ps(lim))))
#else
static inline uint64_t lanes_le(const void *v, float lim) /* other processors */
{
    float f[4];
    memcpy(f, v, sizeof f);
    uint64_t bits = 0;
    for (int j = 0; j < 4; j++)
        bits |= (uint64_t)(f[j] <= lim) << j;
    return bits;
}
#define KLE(v, lim) lanes_le(&(v), lim)
#endif
#define KW 4
#define KTARGET
#define KNAME(x) x##_base
#include "kernels.h"
#undef KW
#undef KTARGET
#undef KNAME
#undef KLE

/* The widest set the processor has, or no wider than LCAE_SIMD (avx2, base) says:
 * for the tests and benchmarks of the narrower kernels. */
void cl_pick_kernels(cl_kdtree *t)
{
    t->cand = leaf_candidates_base;
    t->sums = node_sums_base;
    t->chunk_sums = chunk_sums_base;
#ifdef CL_X86_KERNELS
    const char *cap = getenv("LCAE_SIMD");
    int no512 = cap && (!strcmp(cap, "avx2") || !strcmp(cap, "base"));
    int no256 = cap && !strcmp(cap, "base");
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("fma") && !no512) {
        t->cand = leaf_candidates_avx512;
        t->sums = node_sums_avx512;
        t->chunk_sums = chunk_sums_avx512;
    } else if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") && !no256) {
        t->cand = leaf_candidates_avx2;
        t->sums = node_sums_avx2;
        t->chunk_sums = chunk_sums_avx2;
    }
#endif
}
