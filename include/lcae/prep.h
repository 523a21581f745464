/* lcae prep: what a diffraction pattern becomes before a model or a feature extractor
 * sees it. In this order, for each pattern:
 *   1. centring: the pattern is resampled (bilinear, edge pixels repeated outside the
 *      frame) so that its direct beam, at (y, x) in the beam map, lands on the frame
 *      centre ((h - 1) / 2, (w - 1) / 2) (detector pixels, origin at the centre of pixel
 *      (0, 0), as lcae_beam and the simulator count them); skipped without a beam map;
 *   2. centre crop to `crop` x `crop` detector pixels (0: none) and sum-binning by `bin`;
 *   3. the detector offset subtracted (`offset` ADU per detector pixel, so bin^2 times
 *      that from a binned pixel) and the intensity transform t(v): none (v), sqrt
 *      (sqrt(max(v, 0))) or log (log(1 + max(v, 0))), the usual 4D-STEM choices
 *      (py4DSTEM's and pyxem's "log" and "power 0.5" display scalings) that stop a few
 *      bright Bragg spots from dominating;
 *   4. normalization (t - median) / scale, median and scale being those of the
 *      transformed pixels of the scan (lcae_prep_fit): scale = sigma68 = (P84 - P16) / 2
 *      where that is more than 1e-3 of the standard deviation, else (sparse counting
 *      data) the standard deviation (lcae_stats' rule). Both give inputs of unit scale;
 *      the rule used is recorded.
 * The prepared pattern is a square of size x size pixels, row-major.
 */
#ifndef LCAE_PREP_H
#define LCAE_PREP_H

#include <stdint.h>

#include "lcae/core.h"
#include "lcae/io.h"
#include "lcae/stats.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum { LCAE_TRANSFORM_NONE = 0, LCAE_TRANSFORM_SQRT = 1, LCAE_TRANSFORM_LOG = 2 }
    lcae_transform;
typedef enum { LCAE_CENTER_NONE = 0, LCAE_CENTER_BEAM = 1 } lcae_center;

/* The names by value, NULL-terminated (option tables' choices). */
extern const char *const lcae_transform_names[]; /* "none", "sqrt", "log" */
extern const char *const lcae_center_names[];    /* "none", "beam" */
const char *lcae_transform_name(lcae_transform t);
int lcae_transform_from_name(const char *name);    /* -1 if unknown */
const char *lcae_center_name(lcae_center c);       /* "none", "beam" */
int lcae_center_from_name(const char *name);

typedef struct {
    int crop;                 /* centre crop, detector pixels; 0: none */
    int bin;                  /* sum-binning factor, 1..16 */
    lcae_center center;       /* beam: shifted by the beam map before cropping */
    lcae_transform transform;
    double offset;            /* ADU per detector pixel subtracted before the transform */
    /* set by lcae_prep_fit */
    double median, scale;
    lcae_norm_rule norm;
} lcae_prep;

/* The choices' table (lcae/core.h, lcae_option): crop, bin, center, transform, offset
 * (the normalization is fitted, not chosen). */
extern const lcae_option lcae_prep_option_table[];

/* Side of the prepared square for an h x w detector (fails, with the reason, unless the
 * cropped pattern is square and its side a multiple of bin). */
int lcae_prep_size(int64_t h, int64_t w, int crop, int bin, int *size);

/* n patterns raw (h x w each, as lcae_dataset_read gives them) into out (n, size, size).
 * beam_yx: the n beam positions ((y, x) pairs), or NULL for no centring. The
 * normalization is applied as (t - median) * (1 / scale), one rounding from numpy's
 * (t - median) / scale. Uses all cores for large n. Fails only for want of memory. */
int lcae_prep_patterns(const lcae_prep *p, int64_t h, int64_t w, int size, const float *raw,
                       const float *beam_yx, float *out, int n);

/* Reads patterns idx[0..n-1] (raw: room for n patterns) and prepares them into out.
 * beam_map: (count, 2) for the whole scan, or NULL. */
int lcae_prep_read(lcae_dataset *ds, const lcae_prep *p, int size, const float *beam_map,
                   const int64_t *idx, int n, float *raw, float *out);

/* Median and scale of the transformed pixels (steps 1-3 above) of the scan, by the
 * statistics module's estimator: lcae_stats_compute over the prepared patterns, from a
 * sample of pixels of every pattern with its standard errors, or exact with so->exact
 * (so may be NULL: sampled, default size, seed 0). Sets p->median, p->scale and p->norm
 * (sigma68, or the standard deviation where sigma68 is 0); *st (may be NULL) receives
 * the statistics (method, sample size, standard errors, min, max). Fails for data with no
 * spread at all (every pixel equal) or no finite value. */
int lcae_prep_fit(lcae_dataset *ds, lcae_prep *p, const float *beam_map,
                  const lcae_stats_options *so, const lcae_progress *progress,
                  lcae_stats *st);

/* The direct beam's position at every scan position, (count, 2) (y, x) floats (malloc'd
 * into *map), for centring: read from `path` (a beam_position.npy as lcae stats writes
 * it, (ny, nx, 2) float32) when given, else found in the scan (lcae_beam_compute, one
 * pass over it, its fitted map). */
int lcae_prep_beam_map(lcae_dataset *ds, const char *path, const lcae_progress *p, float **map);

/* The preparation as a JSON object (crop, bin, center, transform, offset, median, scale,
 * norm). Caller frees with cJSON_Delete. */
struct cJSON *lcae_prep_json(const lcae_prep *p);

#ifdef __cplusplus
}
#endif
#endif
