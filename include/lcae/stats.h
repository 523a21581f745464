/* lcae stats: the dataset statistics the method needs, in one streaming pass.
 *
 * - median and sigma68 = (P84 - P16) / 2 over all finite pixel values (METHOD.md,
 *   normalization). Percentiles follow numpy's default ("linear"): over the n sorted
 *   finite values v[0..n-1], P(p) = v[k] + f (v[k+1] - v[k]) with k + f = (n - 1) p.
 *   Default: from a seeded sample of pixels drawn from every pattern of the scan;
 *   exact on request (radix selection on the float's order-preserving key: a 2^16-bucket
 *   histogram of the high 16 bits, then of the low 16 bits inside the chosen buckets; two
 *   passes, memory independent of the scan size).
 * - Virtual images: per scan position, the sum and the population variance (divided by
 *   the number of finite pixels, not n - 1) of that pattern's pixel values ("variance
 *   over reciprocal space", the paper's Figure 1 right); the mean pattern over the scan.
 * - Non-finite pixels (NaN, +-Inf) are counted; every other figure is over the finite
 *   values only.
 * All figures are accumulated in double. The same seed, sample size and thread count give
 * the same numbers; only the mean pattern's double sums are added in an order that
 * depends on the thread count (a difference far below float32 resolution).
 */
#ifndef LCAE_STATS_H
#define LCAE_STATS_H

#include <stdint.h>

#include "lcae/core.h"
#include "lcae/io.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Default pixel sample for median / sigma68: 2^23 values (32 MiB). The order-statistic
 * standard error of sigma68 is c sigma68 / sqrt(n) with c = 0.96 for a normal law and
 * c = 1.95 on the heavy-tailed diffraction-like scan of tests/test_stats.c: 0.07% of
 * sigma68 at 2^23, so 0.5% is 7 standard errors (README, Statistics). */
#define LCAE_STATS_DEFAULT_SAMPLE (INT64_C(1) << 23)
#define LCAE_STATS_MAX_SAMPLE (INT64_C(1) << 26)

typedef struct {
    int exact;           /* 1: exact quantiles (a second pass over the scan) */
    int64_t sample_size; /* pixels in the sample; 0: LCAE_STATS_DEFAULT_SAMPLE */
    uint64_t seed;       /* which pixels are sampled */
    int virtual_images;  /* 1: compute sum, variance and mean_pattern */
    int refuse_nonfinite; /* 1: fail (message names the first position) on NaN/Inf */
} lcae_stats_options;

typedef struct lcae_stats {
    /* over the finite pixel values */
    double median, p16, p84, sigma68; /* NaN if no finite value */
    double min, max;                  /* NaN if no finite value */
    int64_t pixels;                   /* ny * nx * h * w */
    int64_t nonfinite;                /* NaN and +-Inf pixel values */
    int64_t first_nonfinite;          /* pattern index of the first one, -1 if none */
    /* how the quantiles were obtained */
    int exact;            /* 1: from every finite pixel (asked, or the sample held them all) */
    int64_t sample_size;  /* finite values the quantiles came from */
    uint64_t seed;
    /* Sampling standard errors from the order-statistic asymptotics,
     * SE(P_p) = sqrt(p (1 - p) / n) / f(P_p), with the density f estimated from the sample
     * as 0.04 / (P(p + 0.02) - P(p - 0.02)); 0 when exact. */
    double median_se, sigma68_se;
    /* virtual images (NULL unless asked for) */
    float *sum;          /* ny * nx, row-major: sum of each pattern's finite pixels */
    float *variance;     /* ny * nx: population variance of each pattern's finite pixels
                          * (NaN where a pattern has none) */
    float *mean_pattern; /* h * w: mean over the scan of each detector pixel's finite values */
} lcae_stats;

/* Reads the whole scan once (twice with exact), all cores, memory bounded by a few
 * batches of patterns per thread plus the sample. `opt` may be NULL (sampled quantiles,
 * default size, seed 0, no virtual images, non-finite values counted). On failure `st`
 * holds nothing to free. */
int lcae_stats_compute(lcae_dataset *ds, const lcae_stats_options *opt,
                       const lcae_progress *progress, lcae_stats *st);
void lcae_stats_free(lcae_stats *st);

/* Exact percentiles (p in [0, 1], numpy's "linear" definition) of the finite values
 * of x[0..n-1] by radix selection (no sort, x untouched). Writes nq values into q (NaN
 * if x holds no finite value) and the number of finite values into *nfinite (may be
 * NULL). At most 16 percentiles per call. */
int lcae_percentiles_f32(const float *x, int64_t n, int nq, const double *p, double *q,
                         int64_t *nfinite);

/* The figures `lcae info --json` shows: keys format, scan, detector, dtype, bytes,
 * median, sigma68, min, max, nonfinite (NaN as null). Caller frees with cJSON_Delete. */
struct cJSON *lcae_stats_json(const lcae_dataset *ds, const lcae_stats *st);
/* The same plus the file, p16, p84, pixels and how the quantiles were obtained
 * (stats.json). */
struct cJSON *lcae_stats_json_full(const lcae_dataset *ds, const lcae_stats *st);
/* Writes DIR/sum.npy, DIR/variance.npy (ny x nx float32), DIR/mean_pattern.npy (h x w)
 * and DIR/stats.json, each atomically, into the existing folder `dir`. */
int lcae_stats_write(const lcae_dataset *ds, const lcae_stats *st, const char *dir);

#ifdef __cplusplus
}
#endif
#endif
