/* lcae score: how well a clustering finds a ground truth (the built-in sample's, or any
 * labelled scan's): ARI and AMI as scikit-learn computes them, fragmentation, purity and
 * boundary recovery. Independent of the simulator: real-data users score with it too. */
#ifndef LCAE_SCORE_H
#define LCAE_SCORE_H

#include <stdint.h>

#include "lcae/core.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Region codes of truth_region.npy. */
enum { LCAE_REGION_GRAIN = 0, LCAE_REGION_BOUNDARY = 1, LCAE_REGION_AMORPHOUS = 2 };

/* Labels are any int32 values (-1, noise, is an ordinary label here); n > 0.
 * Adjusted Rand index (Hubert and Arabie), as scikit-learn's adjusted_rand_score. */
int lcae_adjusted_rand_index(const int32_t *truth, const int32_t *pred, int64_t n,
                             double *ari);
/* Adjusted mutual information with the arithmetic-mean normalisation (scikit-learn's
 * default, average_method="arithmetic"): (MI - E[MI]) / (mean(H(truth), H(pred)) - E[MI]),
 * with E[MI] computed exactly under the hypergeometric model as scikit-learn does. */
int lcae_adjusted_mutual_info(const int32_t *truth, const int32_t *pred, int64_t n,
                              double *ami);

typedef struct {
    int64_t n;                 /* positions scored */
    int clusters;              /* distinct labels other than -1 */
    int classes;               /* distinct true classes */
    double noise_fraction;     /* share of positions labelled -1 */
    double ari, ami;           /* -1 as its own label */
    double ari_no_noise, ami_no_noise; /* positions labelled -1 left out (NaN if all) */
    double fragmentation;      /* mean over true classes of the clusters whose majority
                                  class it is (1 is ideal) */
    double purity;             /* share of clustered positions in their cluster's
                                  majority class (noise left out) */
    double boundary_recovery;  /* share of true boundary positions in clusters made
                                  mostly (> 50 %) of boundary positions; NaN without a
                                  region map or without boundary positions */
    int has_region;            /* 1 if a region map was given (lcae_score_file: found) */
} lcae_score_result;

/* `region` (LCAE_REGION_* per position) may be NULL. */
int lcae_score(const int32_t *labels, const int32_t *truth, const int32_t *region,
               int64_t n, lcae_score_result *out);

/* File to result: the labels in labels_npy against truth_npy (each one integer per scan
 * position, any shape, the same count; read as int32), with the region map region_npy,
 * or with region_npy NULL the truth_region.npy beside truth_npy if there is one (the
 * simulator writes it there). */
int lcae_score_file(const char *labels_npy, const char *truth_npy, const char *region_npy,
                    lcae_score_result *out);

/* The result as a JSON object with keys positions, clusters, classes, noise_fraction,
 * ari, ami, ari_no_noise, ami_no_noise, fragmentation, purity, boundary_recovery (NaN as
 * null). Caller frees with cJSON_Delete. */
struct cJSON *lcae_score_json(const lcae_score_result *s);

#ifdef __cplusplus
}
#endif
#endif
