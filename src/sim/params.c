/* The built-in sample's parameters (include/lcae/sim.h): their table (defaults, ranges,
 * JSON, the options of lcae simulate and lcae run), the named presets and the checks
 * that involve more than one parameter. */
#include <math.h>
#include <stddef.h>
#include <string.h>

#include "lcae/sim.h"

static const char *const format_names[] = {"empad", "npy", NULL};

#define AT(field) offsetof(lcae_sim_params, field)
#define ANY 0, 0 /* no range */
#define SHAPE LCAE_SIM_SHAPE
#define MAIN LCAE_SIM_MAIN

/* In the order of the JSON (run.json's "sample"). The defaults are the paper's acquisition
 * (the EMPAD at 12 pA for 1 ms) and an Al/Fe polycrystal. */
const lcae_option lcae_sim_option_table[] = {
    {"scan-ny", "ny", LCAE_OPT_I64, AT(ny), 128, ANY, NULL, "NY", "scan rows", SHAPE},
    {"scan-nx", "nx", LCAE_OPT_I64, AT(nx), 128, ANY, NULL, "NX", "scan columns", SHAPE},
    {"det", NULL, LCAE_OPT_INT, AT(det), 128, 16, 1024, NULL, "N",
     "detector N x N pixels over the EMPAD's angles (default)", MAIN},
    {"grains", NULL, LCAE_OPT_INT, AT(grains), 12, 1, 10000, NULL, "K",
     "Voronoi grains (default)", MAIN},
    {"boundary-width", NULL, LCAE_OPT_DOUBLE, AT(boundary_width), 4, 0, 1000, NULL, "W",
     "boundary width, scan pixels (default)", MAIN},
    {"dose", NULL, LCAE_OPT_DOUBLE, AT(dose), 75000, 0, 1e12, NULL, "D",
     "electrons per pattern (default, 12 pA, 1 ms)", MAIN | LCAE_OPT_ABOVE},
    /* any integer: a negative one wraps to the unsigned 64-bit seed. The help's wording,
     * "(default: 1)", is the one tests/cli_sim.sh holds it to */
    {"seed", NULL, LCAE_OPT_U64, AT(seed), 1, ANY, NULL, "S", "random seed (default: 1)",
     MAIN},
    {"kv", NULL, LCAE_OPT_DOUBLE, AT(kv), 200, 10, 3000, NULL, "KV",
     "accelerating voltage (default)", 0},
    {"camera-length", "camera_length_mm", LCAE_OPT_DOUBLE, AT(camera_length_mm), 460, 0, 1e5,
     NULL, "MM", "camera length (default)", LCAE_OPT_ABOVE},
    {"pixel", "pixel_um", LCAE_OPT_DOUBLE, AT(pixel_um), 150, 0, 1e4, NULL, "UM",
     "detector pixel at 128 x 128 (default)", LCAE_OPT_ABOVE},
    {"convergence", "convergence_mrad", LCAE_OPT_DOUBLE, AT(convergence_mrad), 1.1, 0, 100,
     NULL, "MRAD", "convergence semi-angle (default)", LCAE_OPT_ABOVE},
    {"step", "step_nm", LCAE_OPT_DOUBLE, AT(step_nm), 233.0 / 256.0, 0, 1e6, NULL, "NM",
     "scan step (default, 233 nm over 256)", LCAE_OPT_ABOVE},
    {"thickness", "thickness_nm", LCAE_OPT_DOUBLE, AT(thickness_nm), 40, 0, 10000, NULL, "NM",
     "mean thickness, nm (default)", LCAE_OPT_ABOVE},
    {"thickness-var", NULL, LCAE_OPT_DOUBLE, AT(thickness_var), 0.25, 0, 1, NULL, "V",
     "relative thickness variation (default)", LCAE_OPT_BELOW},
    {"bend", "bend_deg", LCAE_OPT_DOUBLE, AT(bend_deg), 3, 0, 90, NULL, "DEG",
     "in-plane rotation across a grain (default)", 0},
    {"tilt", "tilt_deg", LCAE_OPT_DOUBLE, AT(tilt_deg), 0.2, 0, 90, NULL, "DEG",
     "largest mistilt off the zone axis (default)", 0},
    {"general", NULL, LCAE_OPT_INT, AT(general), 0, 0, HUGE_VAL, NULL, "N",
     "grains with a general orientation (default)", 0},
    {"counting", NULL, LCAE_OPT_BOOL, AT(counting), 0, ANY, NULL, NULL,
     "counting detector: whole electrons per pixel, clipped at 65535 (gain 1, no gain "
     "spread, offset, readout noise)", 0},
    {"drift", "drift_px", LCAE_OPT_DOUBLE, AT(drift_px), 2, 0, HUGE_VAL, NULL, "PX",
     "descan drift across the scan, pixels (default)", 0},
    {"psf", "psf_px", LCAE_OPT_DOUBLE, AT(psf_px), 0.5, 0, 2, NULL, "PX",
     "detector blur, Gaussian sigma in pixels (default)", 0},
    {"gain", NULL, LCAE_OPT_DOUBLE, AT(gain), 1, 0, 1e6, NULL, "G", "ADU per electron (default)",
     LCAE_OPT_ABOVE},
    {"gain-spread", NULL, LCAE_OPT_DOUBLE, AT(gain_spread), 0.02, 0, 0.5, NULL, "S",
     "per-pixel gain variation, sd (default)", LCAE_OPT_BELOW},
    {"offset", NULL, LCAE_OPT_DOUBLE, AT(offset), 0, ANY, NULL, "ADU",
     "offset added to every pixel (default)", 0},
    {"readout-noise", NULL, LCAE_OPT_DOUBLE, AT(readout_noise), 0.1, 0, 1e6, NULL, "ADU",
     "readout noise sd (default)", 0},
    {"hot-pixels", NULL, LCAE_OPT_INT, AT(hot_pixels), 3, 0, HUGE_VAL, NULL, "N",
     "hot detector pixels (default)", 0},
    {"outlier-rate", NULL, LCAE_OPT_DOUBLE, AT(outlier_rate), 1e-5, 0, 0.01, NULL, "P",
     "spike probability per pixel and frame (default)", 0},
    {"output-format", "format", LCAE_OPT_CHOICE, AT(format), LCAE_SIM_EMPAD, ANY, format_names,
     "empad|npy", "scan file: EMPAD .raw + .xml or scan.npy (uint16 when counting) (default)",
     0},
    {"batch", NULL, LCAE_OPT_INT, AT(batch), 256, 1, 65536, NULL, "N",
     "patterns per batch (default)", LCAE_OPT_NO_JSON},
    {0}};

void lcae_sim_defaults(lcae_sim_params *p)
{
    *p = (lcae_sim_params){0};
    lcae_options_defaults(lcae_sim_option_table, p);
}

/* A counting detector (Medipix/Merlin, EMPAD at low dose): a few hundred electrons per
 * pattern, most pixels zero; gain 1 and offset 0 are the defaults already. Hot pixels are
 * left out: a counting detector's software masks its noisy pixels, and three of 50-500
 * counts would outweigh the 300 electrons of a pattern. */
static const char *const preset_lowdose[][2] = {
    {"counting", "on"}, {"dose", "300"}, {"det", "64"}, {"gain-spread", "0"},
    {"readout-noise", "0"}, {"hot-pixels", "0"}, {"output-format", "npy"}, {NULL, NULL}};
static const char *const preset_default[][2] = {{NULL, NULL}};

typedef struct {
    const char *name;
    const char *const (*values)[2]; /* (option, value) pairs, ending with {NULL, NULL} */
} sim_preset;
static const sim_preset presets[] = {
    {"default", preset_default}, {"lowdose", preset_lowdose}, {NULL, NULL}};

int lcae_sim_preset(const char *name, lcae_sim_params *p)
{
    for (const sim_preset *d = presets; d->name; d++) {
        if (strcmp(name, d->name))
            continue;
        lcae_sim_params q;
        lcae_sim_defaults(&q);
        for (const char *const(*v)[2] = d->values; (*v)[0]; v++) {
            int rc = lcae_option_parse(lcae_option_find(lcae_sim_option_table, (*v)[0]), &q,
                                       (*v)[1]);
            if (rc)
                return rc;
        }
        *p = q;
        return LCAE_OK;
    }
    return lcae_fail(LCAE_EUSAGE, "expected default or lowdose, found '%s'", name);
}

#define CHECK_RANGE(cond, opt, expect, fmt, val)                                           \
    do {                                                                                   \
        if (!(cond))                                                                       \
            return lcae_fail(LCAE_EUSAGE, "option --%s: expected %s, found " fmt, opt,    \
                             expect, val);                                                 \
    } while (0)

int lcae_sim_check(const lcae_sim_params *p)
{
    CHECK_RANGE(p->ny >= 1 && p->ny <= 4096, "scan", "1 to 4096 rows", "%lld", (long long)p->ny);
    CHECK_RANGE(p->nx >= 1 && p->nx <= 4096, "scan", "1 to 4096 columns", "%lld",
                (long long)p->nx);
    int rc = lcae_options_check(lcae_sim_option_table, p);
    if (rc)
        return rc;
    CHECK_RANGE(p->general <= p->grains, "general", "0 to the grain count", "%d", p->general);
    CHECK_RANGE(p->drift_px <= p->det / 4.0, "drift", "0 to a quarter of the detector", "%g",
                p->drift_px);
    CHECK_RANGE(p->hot_pixels <= p->det * p->det, "hot-pixels",
                "0 to the detector's pixel count", "%d", p->hot_pixels);
    if (p->counting) { /* one count per electron: nothing else of the ADU model applies */
        CHECK_RANGE(p->gain == 1, "gain", "1 with a counting detector", "%g", p->gain);
        CHECK_RANGE(p->gain_spread == 0, "gain-spread", "0 with a counting detector", "%g",
                    p->gain_spread);
        CHECK_RANGE(p->offset == 0, "offset", "0 with a counting detector", "%g", p->offset);
        CHECK_RANGE(p->readout_noise == 0, "readout-noise", "0 with a counting detector", "%g",
                    p->readout_noise);
    }
    return LCAE_OK;
}
