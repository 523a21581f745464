/* The robust surface fit of the beam positions over the scan and the gap filling
 * (src/stats/beam_fit.c), used by the beam finder (src/stats/beam.c). */
#ifndef LCAE_STATS_BEAM_INTERNAL_H
#define LCAE_STATS_BEAM_INTERNAL_H

#include <stdint.h>

#include "lcae/stats.h"

typedef struct {
    double coef[2][LCAE_BEAM_NTERMS]; /* y, x; see lcae_beam */
    double scatter;                   /* robust per-axis sd, px */
    double rms;                       /* over the inliers, px */
    int64_t inliers;
} beam_surface;

/* Surface at scan position (y, x) of an ny x nx scan: out[0] = y, out[1] = x. */
void beam_surface_eval(const beam_surface *s, int64_t ny, int64_t nx, int64_t y, int64_t x,
                       double out[2]);

/* Robust fit of `kind` (LCAE_BEAM_FIT_PLANE or _QUADRATIC) to pos (ny * nx * 2, NaN
 * where not found): from the median position, least squares over the inliers, then
 * inliers = positions within max(4 scatter, 0.1 px) of the surface, until the inliers
 * stop changing. inlier[i] (ny * nx) is set to 1 for the inliers. Fails only when out of
 * memory; needs at least one found position. */
int beam_fit_robust(int64_t ny, int64_t nx, const float *pos, int kind, uint8_t *inlier,
                    beam_surface *s);

/* Positions where valid[i] is 0 get the mean of their valid 8-neighbours, growing
 * inwards from the valid ones until every position has a value (pos ny * nx * 2; at
 * least one valid position). */
int beam_fill_gaps(int64_t ny, int64_t nx, float *pos, const uint8_t *valid);

#endif
