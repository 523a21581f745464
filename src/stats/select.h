/* Exact order statistics of float32 values by two-level radix selection, shared by the
 * in-memory percentiles and the streaming exact pass over a scan (src/stats only).
 *
 * A float's order-preserving key (sign bit flipped for positives, all bits flipped for
 * negatives) sorts as the float does. Pass 1 counts the finite values by the key's high
 * 16 bits; the cumulative counts give, for each wanted rank, its bucket and its rank
 * inside the bucket. Pass 2 counts the low 16 bits of the values that fall in one of the
 * chosen buckets (at most 2 per percentile); the cumulative counts then give each rank's
 * full key, i.e. the value. Histograms are plain counts, so per-thread histograms add up
 * in any order to the same result. */
#ifndef LCAE_STATS_SELECT_H
#define LCAE_STATS_SELECT_H

#include <stdint.h>
#include <string.h>

#define LCAE_SEL_MAXQ 16
#define LCAE_SEL_BINS 65536

static inline int stats_f32_finite_bits(uint32_t u) { return (u & 0x7f800000u) != 0x7f800000u; }

static inline uint32_t stats_f32_key(uint32_t u)
{
    return (u & 0x80000000u) ? ~u : (u | 0x80000000u);
}

typedef struct {
    int nq;
    double p[LCAE_SEL_MAXQ];
    int64_t n;                        /* finite values counted in pass 1 */
    int64_t rank[2 * LCAE_SEL_MAXQ];  /* order statistics needed: lo and hi per percentile */
    double frac[LCAE_SEL_MAXQ];       /* interpolation weight of hi */
    int slot[2 * LCAE_SEL_MAXQ];      /* which chosen bucket each rank falls in */
    int64_t inner[2 * LCAE_SEL_MAXQ]; /* its rank inside that bucket */
    int nbuckets;
    uint32_t bucket[2 * LCAE_SEL_MAXQ];
    uint8_t slot_of_hi[LCAE_SEL_BINS]; /* 0: not chosen, else slot + 1 */
} stats_select_plan;

/* Pass 1: hist[key >> 16] += 1 for every finite value. */
static inline void stats_select_count_hi(uint64_t *hist, const float *x, int64_t n)
{
    for (int64_t i = 0; i < n; i++) {
        uint32_t u;
        memcpy(&u, &x[i], 4);
        if (stats_f32_finite_bits(u))
            hist[stats_f32_key(u) >> 16]++;
    }
}

/* Pass 2: hist2[slot * 65536 + (key & 0xffff)] += 1 for finite values in chosen buckets. */
static inline void stats_select_count_lo(const stats_select_plan *pl, uint64_t *hist2,
                                        const float *x, int64_t n)
{
    for (int64_t i = 0; i < n; i++) {
        uint32_t u;
        memcpy(&u, &x[i], 4);
        if (!stats_f32_finite_bits(u))
            continue;
        uint32_t k = stats_f32_key(u);
        int s = pl->slot_of_hi[k >> 16];
        if (s)
            hist2[(size_t)(s - 1) * LCAE_SEL_BINS + (k & 0xffffu)]++;
    }
}

/* After pass 1 (hist summed over threads): ranks and chosen buckets. Returns the number
 * of finite values (0: nothing to select, pass 2 not needed). */
int64_t stats_select_plan_init(stats_select_plan *pl, int nq, const double *p,
                              const uint64_t *hist);
/* After pass 2: the nq percentiles. */
void stats_select_finish(const stats_select_plan *pl, const uint64_t *hist2, double *q);

#endif
