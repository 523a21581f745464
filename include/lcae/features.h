/* lcae features: features of every pattern that need no training, beside the learned
 * models' latent vectors, clustered and scored the same way.
 *
 * Two methods, on prepared patterns (include/lcae/prep.h: size x size, direct beam at the
 * centre ((size - 1) / 2, (size - 1) / 2) when centred on a beam map):
 *  - polar: angular Fourier magnitudes. The pattern is sampled (bilinear) on a polar grid
 *    of radii r0..r1 prepared pixels (step 1) and n_theta angles theta_t = 2 pi t /
 *    n_theta, the point (y, x) = (c + r sin theta, c + r cos theta) with c = (size - 1) / 2
 *    (row y down, column x right). For each radius, the Fourier series over the azimuth,
 *    F_k(r) = sum_t I(r, theta_t) exp(-i k theta_t) / n_theta, k = 0..K, gives the
 *    features |F_k(r)| for k >= 1 and F_0(r) itself (the ring mean, real and signed: after
 *    the normalization's median subtraction the mean of a dark ring is negative, and
 *    |F_0| would fold it onto a bright one). A rotation about the centre is a cyclic shift
 *    along theta, which leaves every |F_k| unchanged: the features are invariant to
 *    in-plane rotation up to the interpolation (exactly for rotations by multiples of
 *    360 / n_theta degrees that map the pixel grid onto itself: 90, 180, 270, and to
 *    mirror images). Row layout: radius-major, order fastest, (r1 - r0 + 1) (K + 1)
 *    values. Then PCA to `dims` features.
 *  - pca: PCA of the prepared patterns, flattened (size^2 values a row).
 *
 * PCA (lcae_pca) streams the rows through a callback, never holding them all:
 *  - covariance solver: the exact d x d covariance in double (one pass), its top
 *    eigenvectors (LAPACK dsyevr), a second pass to project; for short rows (d <= 1024);
 *  - randomized solver (Halko, Martinsson, Tropp 2011, Algorithm 4.4, subspace iteration):
 *    a Gaussian sketch of k = dims + oversample columns, `power_iters` power iterations
 *    (each two passes, re-orthonormalized by Householder QR), the small SVD, and a last
 *    pass that projects: 3 + 2 power_iters passes; memory n x k doubles for the sketch.
 * Scores are the centred (optionally standardized) rows projected on the top `dims`
 * principal axes, as scikit-learn's PCA.transform (no whitening). Sign convention: each
 * axis has its largest-magnitude entry positive (the first such entry on a tie). The
 * explained variance of an axis is the variance of its scores (divided by n - 1, as
 * scikit-learn), its ratio that over the total variance (the trace of the covariance).
 * The same seed and thread count give the same numbers.
 */
#ifndef LCAE_FEATURES_H
#define LCAE_FEATURES_H

#include <stdint.h>

#include "lcae/core.h"
#include "lcae/io.h"
#include "lcae/prep.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- polar transform ------------------------------------------------------------ */
typedef struct {
    int r0, r1;  /* radii, prepared pixels, inclusive; -1: from the size, 3 size / 32 and
                  * size / 2 - 2 (6 and 30 for 64 x 64: measured, docs/features.md; the
                  * rings inside 3 size / 32 hold the direct beam's disk and edge, which
                  * follow descan and thickness rather than the crystal) */
    int orders;  /* K: orders 0..K; -1: 6 */
    int n_theta; /* angles; 0: the smallest multiple of 8 >= 2 pi r1 (samples at most one
                  * pixel apart on the outer ring, so that no pixel there is skipped, and
                  * 45-degree steps map the grid onto itself) */
} lcae_polar_params;

typedef struct lcae_polar_plan lcae_polar_plan;

/* The sampling tables for size x size patterns (negative radii or orders: the defaults).
 * Fails (LCAE_EUSAGE, with the reason) for r1 < r0, r1 > (size - 1) / 2 (a sample outside
 * the frame), K > 1000 or n_theta <= 2 K (order K not resolved). */
int lcae_polar_plan_create(int size, const lcae_polar_params *p, lcae_polar_plan **out);
void lcae_polar_plan_free(lcae_polar_plan *pl);
/* The parameters with the defaults resolved. */
const lcae_polar_params *lcae_polar_plan_params(const lcae_polar_plan *pl);
/* Values per pattern: (r1 - r0 + 1) (K + 1). */
int lcae_polar_plan_dims(const lcae_polar_plan *pl);
/* n patterns (n, size, size) into out (n, dims). Uses all cores for large n; fails only
 * for want of memory. */
int lcae_polar_apply(const lcae_polar_plan *pl, const float *patterns, int n, float *out);

/* ---- streaming PCA -------------------------------------------------------------- */
/* Rows first .. first + n - 1 of the matrix into out (n x d float32, row-major). Called
 * from one thread at a time, in increasing order of `first` within each pass; returns a
 * status (a failure stops the PCA with the callback's message). */
typedef int (*lcae_rows_fn)(void *ctx, int64_t first, int n, float *out);

typedef enum { LCAE_PCA_AUTO = 0, LCAE_PCA_COVARIANCE = 1, LCAE_PCA_RANDOMIZED = 2 }
    lcae_pca_solver;
extern const char *const lcae_pca_solver_names[];    /* by value, NULL-terminated */
const char *lcae_pca_solver_name(lcae_pca_solver s); /* "auto", "covariance", "randomized" */
int lcae_pca_solver_from_name(const char *name);     /* -1 if unknown */

/* auto: covariance for rows of at most this many values, randomized above */
#define LCAE_PCA_COVARIANCE_MAX_DIMS 1024
/* randomized: the power iterations by default */
#define LCAE_PCA_POWER_ITERS 2

typedef struct {
    int dims;               /* components kept, 1 .. min(n - 1, d) */
    lcae_pca_solver solver;
    int power_iters;        /* randomized: power iterations (LCAE_PCA_POWER_ITERS) */
    int oversample;         /* randomized: sketch columns beyond dims (default 10) */
    int standardize;        /* divide each column by its standard deviation (covariance
                             * solver only: PCA of the correlation matrix) */
    uint64_t seed;          /* randomized: the Gaussian sketch */
} lcae_pca_options;

lcae_pca_options lcae_pca_defaults(int dims);

typedef struct {
    int64_t n;
    int d, dims;
    lcae_pca_solver solver;     /* the one used */
    int passes;                 /* over the rows */
    float *scores;              /* (n, dims) float32 */
    double *mean;               /* (d) */
    double *scale;              /* (d): standard deviation divided by (1 without
                                 * standardize; 1 for a constant column) */
    double *components;         /* (dims, d): unit principal axes, sign convention above;
                                 * randomized: an axis past the data's rank is zero */
    double *explained_variance; /* (dims) */
    double *explained_variance_ratio; /* (dims) */
    double total_variance;      /* trace of the covariance (of the standardized rows) */
} lcae_pca_result;

/* PCA of the n x d matrix the callback gives. `progress` may be NULL; `what` names the
 * rows in its messages ("polar features"). On failure `res` holds nothing to free. */
int lcae_pca(lcae_rows_fn rows, void *ctx, int64_t n, int d, const lcae_pca_options *o,
             const char *what, const lcae_progress *progress, lcae_pca_result *res);
void lcae_pca_free(lcae_pca_result *res);

/* ---- features of a scan --------------------------------------------------------- */
typedef enum { LCAE_FEATURES_POLAR = 0, LCAE_FEATURES_PCA = 1 } lcae_features_method;
extern const char *const lcae_features_method_names[];         /* by value, NULL-ended */
const char *lcae_features_method_name(lcae_features_method m); /* "polar", "pca" */
int lcae_features_method_from_name(const char *name);          /* -1 if unknown */

typedef struct {
    lcae_features_method method;
    lcae_prep prep;          /* crop, bin, center, transform, offset; the call fits the
                              * normalization (lcae_prep_fit) itself */
    int dims;                /* PCA components; polar only: 0 = the magnitudes themselves;
                              * -1: the method's (lcae_features_resolve) */
    lcae_polar_params polar; /* polar only */
    int standardize;         /* polar only: PCA of the correlation matrix */
    lcae_pca_solver solver;
    int power_iters;
    uint64_t seed;
} lcae_features_options;

/* The table (lcae/core.h, lcae_option) of the options but prep (lcae_prep_option_table):
 * method, dims, radii (polar.r0:r1), orders, n-theta, standardize, solver,
 * power-iterations, seed. dims, radii and orders default to "not given" (LCAE_OPT_UNSET,
 * -1), n-theta to 0 (from the outer radius): dims is resolved by the method
 * (lcae_features_resolve), the polar ones by the pattern size (lcae_polar_plan_create).
 * The rows flagged LCAE_FEATURES_POLAR_ONLY are the polar method's. */
enum { LCAE_FEATURES_POLAR_ONLY = 1u << 8 };
extern const lcae_option lcae_features_option_table[];

/* The method's dims for "not given" (polar 10, pca 16: measured, docs/features.md), then
 * the checks: every row in its range, pca dims 1 or more, no polar-only option changed
 * for pca (LCAE_EUSAGE with the message). */
int lcae_features_resolve(lcae_features_options *o);

/* The table's defaults for method m, resolved; log transform, bin 1, no crop, no
 * centring (set prep.center and give a beam map). */
lcae_features_options lcae_features_defaults(lcae_features_method m);

/* The options as JSON (lcae run's stage key): method, prep (lcae_prep_json), then the
 * table's other rows, "not given" as the marker (-1). */
struct cJSON *lcae_features_options_json(const lcae_features_options *o);

typedef struct {
    int64_t n;
    int dims;
    float *x;                   /* (n, dims) float32 in scan order */
    lcae_features_options used; /* defaults resolved, prep fitted */
    int size;                   /* prepared side */
    int row_dims;               /* values per pattern before PCA */
    int has_pca;                /* 0: polar with dims 0 */
    lcae_pca_result pca;        /* its scores are x */
} lcae_features;

/* Features of every pattern of `ds`. beam_map: (count, 2) (y, x) per pattern for
 * prep.center = beam (required then), else ignored. All cores; memory: the output, the
 * PCA's sketch (randomized: n x (dims + oversample) doubles) and a few batches. Under MPI
 * (lcae/mpi.h), called on every rank: each computes the rows of its range, and every rank
 * gets the features (memory then also n x row_dims floats: docs/mpi.md). */
int lcae_features_compute(lcae_dataset *ds, const lcae_features_options *o,
                          const float *beam_map, const lcae_progress *progress,
                          lcae_features *out);
void lcae_features_free(lcae_features *f);

/* What was computed, as a JSON object: method, n, dims, row_dims, size, threads, prep,
 * polar (r0, r1, orders, n_theta, standardize), pca (solver, passes, power_iterations,
 * oversample, seed, total_variance, explained_variance, explained_variance_ratio).
 * Caller frees with cJSON_Delete. */
struct cJSON *lcae_features_json(const lcae_features *f);

/* The JSON file written beside FEATURES.npy: FEATURES.json (the .npy suffix replaced,
 * else appended). malloc'd; NULL with a message if out of memory. */
char *lcae_features_json_path(const char *npy_path);

/* Writes f->x to out_npy (float32 (n, dims)) and lcae_features_json(f) to its JSON path,
 * each atomically. */
int lcae_features_write(const lcae_features *f, const char *out_npy);

/* The features stage, file to file (lcae features, lcae run): computes the features of
 * every pattern of ds and writes out_npy (float32 (n, dims)) and its JSON, each
 * atomically. For prep.center = beam the beam positions are beam_map when given, else
 * lcae_prep_beam_map(ds, beam_npy) (read from beam_npy, or found in the scan when that is
 * NULL too). kept (may be NULL): the features computed, for the caller's summary (free
 * with lcae_features_free). Under MPI, called on every rank; rank 0 writes. */
int lcae_features_file(lcae_dataset *ds, const lcae_features_options *o,
                       const float *beam_map, const char *beam_npy, const char *out_npy,
                       const lcae_progress *progress, lcae_features *kept);

#ifdef __cplusplus
}
#endif
#endif
