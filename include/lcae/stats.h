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

/* How a normalization's scale was chosen: sigma68, or where it is 0 or below 1e-3 of the
 * standard deviation (68 % of the values tied or nearly so, as in sparse counting data)
 * the standard deviation. */
typedef enum { LCAE_NORM_SIGMA68 = 0, LCAE_NORM_STD = 1 } lcae_norm_rule;
const char *lcae_norm_rule_name(lcae_norm_rule r); /* "sigma68", "std" */
int lcae_norm_rule_from_name(const char *name);    /* -1 if unknown */

typedef struct {
    int exact;           /* 1: exact quantiles (a second pass over the scan) */
    int64_t sample_size; /* pixels in the sample; 0: LCAE_STATS_DEFAULT_SAMPLE */
    uint64_t seed;       /* which pixels are sampled */
    int virtual_images;  /* 1: compute sum, variance and mean_pattern */
    int refuse_nonfinite; /* 1: fail (message names the first position) on NaN/Inf */
    /* Optional: every figure over prepared patterns instead of the stored ones (the
     * normalization of lcae_prep_fit). Each batch of n stored patterns read from
     * position `first` is turned into n patterns of prepared_px values in out; a
     * non-zero return stops the pass with that status. Virtual images must be off. */
    int (*prepare)(void *ctx, int64_t first, int64_t n, const float *raw, float *out);
    void *prepare_ctx;
    int64_t prepared_px;
} lcae_stats_options;

/* The quantile options' table (lcae/core.h, lcae_option): exact, sample_size, seed. */
extern const lcae_option lcae_stats_option_table[];

typedef struct lcae_stats {
    /* over the finite pixel values */
    double median, p16, p84, sigma68; /* NaN if no finite value */
    double min, max;                  /* NaN if no finite value */
    double mean, std;                 /* of every finite value (population), NaN if none */
    double scale;                     /* the normalization's: sigma68, or std where that is
                                         0 or below 1e-3 std (lcae_norm_rule) */
    lcae_norm_rule norm;              /* which */
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
 * batches of patterns per thread plus the sample. Under MPI (lcae/mpi.h), called on every
 * rank: each reads its range of positions, and every rank gets the figures (the same as
 * one process's; docs/mpi.md). `opt` may be NULL (sampled quantiles,
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
struct lcae_beam;
/* Writes DIR/sum.npy, DIR/variance.npy (ny x nx float32), DIR/mean_pattern.npy (h x w)
 * and DIR/stats.json into the existing folder `dir`, all or none (one output set, see
 * lcae/io.h). With `beam` (may be NULL) stats.json also holds its summary under "beam"
 * (lcae_beam_json); the beam's own arrays are written by lcae_beam_write. _in: as
 * members of the caller's `set`, renamed when the caller closes it (so that the beam's
 * arrays can join the same set). */
int lcae_stats_write(const lcae_dataset *ds, const lcae_stats *st,
                     const struct lcae_beam *beam, const char *dir);
int lcae_stats_write_in(lcae_output_set *set, const lcae_dataset *ds, const lcae_stats *st,
                        const struct lcae_beam *beam, const char *dir);

/* ---- direct-beam position (descan) -------------------------------------------------
 * Where the direct (undiffracted) beam sits on the detector at every scan position, and
 * the smooth surface over the scan that patterns are shifted by to bring the beam to the
 * frame centre ((h - 1) / 2, (w - 1) / 2).
 *
 * Units and conventions: detector pixels, (y, x) = (row, column), origin at the centre
 * of pixel (0, 0), so that pixel (i, j) covers [i - 0.5, i + 0.5] x [j - 0.5, j + 0.5]
 * (the simulator's convention, include/lcae/sim.h). Arrays of positions are
 * ny * nx * 2 floats, row-major over the scan, y before x.
 *
 * Method (details in src/stats/beam.c): the beam is first found in the mean of a sample
 * of patterns spread over the scan (the direct beam is the disk present in every pattern;
 * Bragg spots move with the grains and average out), with its radius. Each pattern is
 * then searched only in a window around that place (3 radii plus an eighth of the
 * detector for the descan): the brightest blobs after smoothing, each refined by the
 * centre of mass over a disk of the beam radius (background from a ring around it
 * subtracted), iterated. A robust fit of a surface over the scan (outliers rejected) to
 * each pattern's blob nearest the mean beam then picks, in each pattern, the blob nearest
 * the surface, and is fitted again. The radius comes from the sample patterns averaged
 * with their beams aligned on the fitted positions.
 * Hot pixels (isolated and steady in the mean) are replaced by their neighbours' mean,
 * NaN/Inf pixels count as 0. A pattern with no positive value near the beam (all zeros)
 * is "not found"; it is an error only when no pattern has a beam. */
enum {
    LCAE_BEAM_FIT_QUADRATIC = 0, /* 1, u, v, u^2, u v, v^2 (the default) */
    LCAE_BEAM_FIT_PLANE = 1,     /* 1, u, v */
    LCAE_BEAM_FIT_NONE = 2       /* the measured positions; not-found and outlier
                                    positions filled from their scan neighbours */
};
#define LCAE_BEAM_DEFAULT_SAMPLE 1024
#define LCAE_BEAM_MAX_SAMPLE (1 << 20)
#define LCAE_BEAM_NTERMS 6

typedef struct {
    int radius_px;   /* the beam radius in detector pixels; 0: estimated */
    int fit;         /* LCAE_BEAM_FIT_* */
    int64_t sample;  /* patterns averaged into the mean pattern, spread evenly over the
                        scan; 0: LCAE_BEAM_DEFAULT_SAMPLE (all of them if fewer) */
} lcae_beam_options;

/* The options' table (lcae/core.h, lcae_option): fit, radius_px, sample. */
extern const lcae_option lcae_beam_option_table[];

typedef struct lcae_beam {
    int64_t ny, nx, h, w;
    float *measured;   /* ny * nx * 2: (y, x) found in each pattern; NaN where not found */
    float *fitted;     /* ny * nx * 2: the smooth surface (or, fit NONE, the measured
                        * positions with gaps filled): what patterns are shifted by */
    double radius;     /* direct-beam disk radius, detector pixels (half-maximum radius of
                        * the mean beam, or radius_px) */
    double mean_beam[2]; /* (y, x) of the beam in the sample's mean pattern */
    double rms_residual; /* px: |measured - surface| root mean square over the inliers */
    double scatter;      /* px: robust per-axis standard deviation of measured about the
                          * surface (median distance / 1.1774, the Rayleigh median) */
    int64_t not_found;   /* patterns where no beam was found */
    int64_t outliers;    /* found, but farther from the surface than max(4 scatter, 0.1) */
    int64_t sample;      /* patterns in the mean pattern */
    int fit;             /* LCAE_BEAM_FIT_* asked for */
    /* The surface fitted (for fit NONE: the quadratic used to find the outliers):
     * position = sum_k coef[axis][k] term_k(u, v) with terms 1, u, v, u^2, u v, v^2,
     * u = 2 x / (nx - 1) - 1 and v = 2 y / (ny - 1) - 1 the scan column and row mapped
     * onto [-1, 1] (0 when the scan has one column or row); unused terms are 0 (a scan
     * too small or too degenerate for a term drops it). */
    double coef[2][LCAE_BEAM_NTERMS];
} lcae_beam;

/* Two reads of the sample and one streaming pass over the scan on all cores; memory
 * O(ny * nx) plus a batch of patterns per thread. `opt` may be NULL (defaults). Fails
 * with a one-line message naming the file when the scan has no direct beam (the mean
 * pattern has no disk brighter than its surroundings, e.g. behind a beam stop; or the
 * disk found there is not at a consistent place in most patterns; or no pattern has
 * any signal). On failure `out` holds nothing to free. */
int lcae_beam_compute(lcae_dataset *ds, const lcae_beam_options *opt,
                      const lcae_progress *progress, lcae_beam *out);
void lcae_beam_free(lcae_beam *b);
/* Writes DIR/beam_position.npy (the fitted positions) and DIR/beam_measured.npy (the
 * measured ones, NaN where not found), (ny, nx, 2) float32 (y, x), both or neither, into
 * the existing folder `dir`; _in: as members of the caller's output set. */
int lcae_beam_write(const lcae_beam *b, const char *dir);
int lcae_beam_write_in(lcae_output_set *set, const lcae_beam *b, const char *dir);
/* Summary: frame centre, mean / min / max of the fitted positions, radius, fit and its
 * coefficients, rms residual, scatter, counts. Caller frees with cJSON_Delete. */
struct cJSON *lcae_beam_json(const lcae_beam *b);

#ifdef __cplusplus
}
#endif
#endif
