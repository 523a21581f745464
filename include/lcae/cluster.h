/* lcae cluster: HDBSCAN* as the hdbscan library (scikit-learn-contrib, v0.8) computes it
 * with an exact minimum spanning tree (approx_min_span_tree=False), Euclidean metric.
 *
 * Conventions (the library's):
 *  - core distance of a point = distance to its min_samples-th nearest OTHER point;
 *  - mutual reachability d_mr(a, b) = max(core(a), core(b), |a - b|), in double precision;
 *  - the single-linkage hierarchy of the minimum spanning tree of d_mr, condensed at
 *    min_cluster_size (a side with fewer points "falls out"), lambda = 1 / distance;
 *  - clusters selected by excess of mass (EOM) or as the leaves of the condensed tree,
 *    with cluster_selection_epsilon and allow_single_cluster as in the library;
 *  - probabilities and labels exactly as the library's do_labelling/get_probabilities.
 * Where lcae chooses (documented in lcae_hdbscan and the README):
 *  - edges of equal weight are ordered by (weight, smaller index, larger index); the
 *    spanning tree is the unique minimum one under that total order, so the answer does
 *    not depend on the thread count or traversal order;
 *  - clusters are numbered by decreasing size, ties by their smallest point index;
 *  - GLOSH outlier scores use the largest lambda in the whole subtree of the cluster a
 *    point leaves (Campello et al. 2015).
 */
#ifndef LCAE_CLUSTER_H
#define LCAE_CLUSTER_H

#include <stdint.h>

#include "lcae/core.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum { LCAE_SELECT_EOM = 0, LCAE_SELECT_LEAF = 1 } lcae_cluster_selection;

typedef struct {
    int64_t min_cluster_size;  /* >= 2; 0: lcae_min_cluster_size_for(n) */
    int64_t min_samples;       /* >= 1; 0 means min_cluster_size (the library's default) */
    lcae_cluster_selection method;
    double epsilon;            /* cluster_selection_epsilon, >= 0 (distance units) */
    int allow_single_cluster;
    int nonfinite_noise;       /* 0: rows with NaN/Inf are an error; 1: set aside as noise */
    int assign_noise;          /* 1: also labels_full (see lcae_hdbscan_result) */
} lcae_hdbscan_params;

/* The parameters' table (lcae/core.h, lcae_option), in the order of their JSON. */
extern const lcae_option lcae_hdbscan_option_table[];
/* The table's defaults: min_cluster_size = 60 (the paper's, for 65,536 points). */
lcae_hdbscan_params lcae_hdbscan_defaults(void);

/* The min_cluster_size lcae uses for n points when none is given: 60 sqrt(n / 65536)
 * rounded, at least 5 (60 at the paper's 65,536 positions, 30 at 16,384, 8 at 1,024;
 * chosen by measurement: docs/clustering.md). */
int64_t lcae_min_cluster_size_for(int64_t n);

/* The condensed tree in the library's format (condensed_tree_.to_numpy()): row r says
 * `child` leaves `parent` at lambda[r] (1/distance, may be +inf) with child_size points.
 * Points are 0..n-1 (input rows), clusters n (the root), n+1, ... in the library's order. */
typedef struct {
    int64_t rows;
    int64_t *parent, *child, *child_size;
    double *lambda;
} lcae_condensed_tree;

typedef struct {
    int64_t n;             /* input rows */
    int64_t min_cluster_size, min_samples; /* as used (0 in the parameters resolved) */
    int64_t n_clusters;
    int64_t n_nonfinite;   /* rows set aside (nonfinite_noise) */
    int32_t *labels;       /* (n): 0..n_clusters-1 by decreasing size, -1 noise */
    double *probabilities; /* (n): membership strength in [0, 1], 0 for noise */
    double *outlier_scores;/* (n): GLOSH in [0, 1]; 1 for rows set aside */
    /* (n) with assign_noise, else NULL: labels with every noise point given the label of
     * its nearest clustered point in mutual reachability, max(core(a), core(b), |a - b|),
     * ties to the nearer point, then the smaller index (the neighbour the library's
     * approximate_predict takes, among all clustered points); -1 only for rows set aside,
     * or everywhere when there is no cluster */
    int32_t *labels_full;
    lcae_condensed_tree tree;
    /* tree cluster id (>= n) of each label: cluster_node[label] (n_clusters) */
    int64_t *cluster_node;
} lcae_hdbscan_result;

/* Clusters n points of d features (x is (n, d), row-major, double). Errors (message set):
 * LCAE_EUSAGE for bad parameters, LCAE_EFAIL for unusable data (NaN/Inf rows without
 * nonfinite_noise, n_finite <= min_samples, d < 1), LCAE_ENOMEM. `name` names the data
 * in messages (a file path). Threads: OpenMP. Memory: O(n*d). */
int lcae_hdbscan(const double *x, int64_t n, int64_t d, const lcae_hdbscan_params *p,
                 const char *name, const lcae_progress *progress, lcae_hdbscan_result *out);
void lcae_hdbscan_result_free(lcae_hdbscan_result *r);

/* ---- spatial smoothing of the feature map (before clustering) ------------------------
 * Features are one row per scan position in scan order (row i = position (i / nx, i % nx)).
 * At low dose a position's features carry shot noise that HDBSCAN reads as sparse
 * density (two thirds of the positions noise); averaging each position's features with
 * its neighbours' (a size x size window, cut at the scan's edge) lowers the noise at the
 * cost of blurring boundaries by size / 2 positions. The noise share says which case a
 * map is: median over neighbouring pairs (horizontal and vertical) of |x_a - x_b|^2,
 * over 2 x the features' total variance (sum over features, population variance): the
 * share of the variance that changes from one position to the next. Rows with NaN/Inf
 * take no part in either and are left as they are. */
typedef enum { LCAE_SMOOTH_OFF = 0, LCAE_SMOOTH_AUTO = 1, LCAE_SMOOTH_ON = 2 } lcae_smooth_mode;

typedef struct {
    lcae_smooth_mode mode;  /* AUTO: smooth when noise share > auto_threshold */
    int64_t ny, nx;         /* the scan's shape: ny * nx = rows of the feature map */
    int size;               /* window side, odd, >= 3 */
    double auto_threshold;  /* 0: LCAE_SMOOTH_AUTO_THRESHOLD */
    int fill_radius;        /* after clustering: also the filled map (lcae_fill_map) with
                               this radius in scan pixels; 0: none */
} lcae_smooth_params;

/* The options' table of the map's treatment in scan space (mode, size, auto_threshold,
 * fill_radius; not the shape) and its defaults (off, 3, LCAE_SMOOTH_AUTO_THRESHOLD, 0). */
extern const lcae_option lcae_smooth_option_table[];
void lcae_smooth_defaults(lcae_smooth_params *p);

/* AUTO's threshold, chosen by measurement (docs/clustering.md): maps of high-dose
 * simulations score 0.001-0.006, where smoothing costs boundaries and gains nothing; the
 * low-dose ones where it pays score 0.06-0.17. */
#define LCAE_SMOOTH_AUTO_THRESHOLD 0.03

/* The noise share of the (ny * nx, d) map x (0 for a constant map). */
int lcae_feature_noise_share(const double *x, int64_t ny, int64_t nx, int64_t d,
                             double *share);
/* x (ny * nx, d) replaced by its size x size window means (size odd). */
int lcae_smooth_features(double *x, int64_t ny, int64_t nx, int64_t d, int size);

/* ---- the filled map (after clustering) -----------------------------------------------
 * HDBSCAN leaves a boundary between grains as noise or as thin clusters of its own
 * (patterns that mix both grains). The filled map gives those positions to the regions
 * around them, as EBSD software's "grain dilation" clean-up does, for a map with every
 * position in a grain (or class) region; the labels with the boundaries stay the map of
 * record. Labels (ny * nx, scan order, -1 noise): a position is a core position when the
 * disk of `radius` scan pixels about it (dy^2 + dx^2 <= radius^2, cut at the scan's edge)
 * lies wholly in its cluster; a region is a 4-connected piece of one cluster that holds a
 * core position, so a band at most 2 radius pixels wide is no region. Regions keep their
 * labels; every other position is filled in synchronous rounds: each unlabelled position
 * beside a labelled one takes the label most of its labelled 8-neighbours carry (ties:
 * the smallest label), until none is left. With no region at all the map is the labels
 * unchanged. */
typedef struct {
    int64_t regions; /* the regions kept */
    int64_t filled;  /* positions whose label the filling changed */
} lcae_fill_summary;

int lcae_fill_map(const int32_t *labels, int64_t ny, int64_t nx, int radius,
                  int32_t *filled, lcae_fill_summary *summary);

/* The grain map of a filled map: every 4-connected piece of one label a label of its own,
 * numbered 0, 1, ... in the scan order of the pieces' first positions (-1 stays -1), as
 * EBSD software reconstructs grains: a cluster (an orientation, or a class) found in
 * separate places of the scan is as many grains (docs/clustering.md). *n_grains: the
 * pieces. */
int lcae_grain_map(const int32_t *filled, int64_t ny, int64_t nx, int32_t *out,
                   int64_t *n_grains);

/* ---- the cluster stage, file to files (lcae cluster, lcae run) ---------------------- */
/* Where it writes; a NULL member is not written. */
typedef struct {
    const char *labels;         /* int32 (n,), -1 noise */
    const char *labels_full;    /* with assign_noise: int32 (n,), labels_full */
    const char *labels_filled;  /* with a fill radius: int32 (n,), the filled map */
    const char *labels_grains;  /* with a fill radius: int32 (n,), its grain map */
    const char *probabilities;  /* float32 (n,) */
    const char *outlier_scores; /* float32 (n,) */
    const char *tree;           /* the condensed tree (parent, child, lambda, child_size):
                                   NAME.csv with a header line, else .npy float64 (rows, 4) */
    const char *summary;        /* JSON: lcae_cluster_summary's members under their names */
} lcae_cluster_outputs;

/* What a clustering came to (for the caller's summary). */
typedef struct {
    int64_t n, d;           /* points, features used */
    int64_t min_cluster_size, min_samples, n_clusters, n_noise, n_nonfinite;
    double noise_share;     /* of the features clustered (-1: not computed, smoothing off) */
    int smoothed;           /* window side the features were smoothed with, 0: not */
    int fill_radius;        /* the filled map's radius, 0: none */
    lcae_fill_summary fill;
    int64_t grains;         /* the grain map's grains (0: none written) */
} lcae_cluster_summary;

/* Clusters the (n, D) array in in_npy (any numeric dtype, computed in double) on its
 * first `dims` features (0, or dims >= D: all), smoothed as `smooth` says (NULL: not;
 * its shape must hold n positions), and writes the outputs asked for as one output set
 * (all or none). summary may be NULL. */
int lcae_cluster_file(const char *in_npy, int64_t dims, const lcae_hdbscan_params *p,
                      const lcae_smooth_params *smooth, const lcae_cluster_outputs *out,
                      const lcae_progress *progress, lcae_cluster_summary *summary);

#ifdef __cplusplus
}
#endif
#endif
