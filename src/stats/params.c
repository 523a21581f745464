/* The statistics' and the beam finder's options (include/lcae/stats.h): their tables
 * (defaults, ranges, the options of lcae stats and lcae info). */
#include <math.h>
#include <stddef.h>

#include "lcae/stats.h"

static const char *const fit_names[] = {"quadratic", "plane", "none", NULL};

#define ANY 0, 0 /* no range */
#define STATS(field) offsetof(lcae_stats_options, field)
#define BEAM(field) offsetof(lcae_beam_options, field)

/* The quantiles' options; the rest of lcae_stats_options is the caller's choice. */
const lcae_option lcae_stats_option_table[] = {
    {"exact", NULL, LCAE_OPT_BOOL, STATS(exact), 0, ANY, NULL, NULL,
     "exact median and sigma68 (radix selection, a second pass over the scan)", 0},
    {"sample", "sample_size", LCAE_OPT_I64, STATS(sample_size), LCAE_STATS_DEFAULT_SAMPLE, 1,
     LCAE_STATS_MAX_SAMPLE, NULL, "N", "pixels sampled for median and sigma68 (default)", 0},
    {"seed", NULL, LCAE_OPT_U64, STATS(seed), 0, 0, HUGE_VAL, NULL, "S",
     "which pixels are sampled (default)", 0},
    {0}};

const lcae_option lcae_beam_option_table[] = {
    {"beam-fit", "fit", LCAE_OPT_CHOICE, BEAM(fit), LCAE_BEAM_FIT_QUADRATIC, ANY, fit_names,
     "KIND", "surface over the scan: quadratic, plane, none (measured positions) (default)",
     0},
    {"beam-radius", "radius_px", LCAE_OPT_INT, BEAM(radius_px), 0, 0, HUGE_VAL, NULL, "PX",
     "direct-beam radius in detector pixels, 0: estimated (default)", 0},
    {"beam-sample", "sample", LCAE_OPT_I64, BEAM(sample), LCAE_BEAM_DEFAULT_SAMPLE, 1,
     LCAE_BEAM_MAX_SAMPLE, NULL, "N",
     "patterns averaged to find the beam in the mean pattern (default)", 0},
    {0}};
