/* lcae sim: the built-in sample (a kinematic polycrystal 4D-STEM simulator with its
 * ground truth; its region codes and the scores against it are in lcae/score.h).
 *
 * Units: scan positions in scan pixels (x = column, y = row); detector positions in
 * detector pixels, column then row, origin at the centre of pixel (0, 0); reciprocal
 * space in 1/A (|g| = 1/d); angles in degrees unless stated; thickness in nm; dose in
 * electrons per pattern; pattern values in detector ADU (gain x electrons + offset), or
 * whole electrons counted with a counting detector.
 * The model and its defaults are described in README.md ("The built-in sample").
 */
#ifndef LCAE_SIM_H
#define LCAE_SIM_H

#include <stddef.h>
#include <stdint.h>

#include "lcae/core.h"
#include "lcae/score.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- phases -------------------------------------------------------------------- */
typedef enum {
    LCAE_PHASE_AL = 0,       /* FCC aluminium, a = 4.05 A */
    LCAE_PHASE_FE = 1,       /* BCC iron, a = 2.87 A */
    LCAE_PHASE_AMORPHOUS = 2 /* amorphous (metallic glass of iron), diffuse rings */
} lcae_sim_phase;
#define LCAE_SIM_NPHASES 3

const char *lcae_sim_phase_name(int phase); /* "Al", "Fe", "amorphous" */

/* ---- parameters ------------------------------------------------------------------- */
/* The scan file lcae_simulate writes. */
typedef enum {
    LCAE_SIM_EMPAD = 0, /* scan_x{NX}_y{NY}.raw (float32 frames + 2 metadata rows) and .xml */
    LCAE_SIM_NPY = 1    /* scan.npy, (ny, nx, det, det): uint16 when counting, else float32 */
} lcae_sim_format;

/* A counting detector's pixel counter saturates here (the largest uint16). */
#define LCAE_SIM_MAX_COUNT 65535

typedef struct {
    int64_t ny, nx;          /* scan shape (default 128 x 128) */
    int det;                 /* detector pixels per side (default 128, the EMPAD); other
                                sizes cover the same angles with pixels 128/det larger */
    int grains;              /* Voronoi grains (default 12) */
    double boundary_width;   /* boundary width, scan pixels (default 4) */
    double dose;             /* electrons per pattern (default 75000: 12 pA for 1 ms) */
    uint64_t seed;           /* everything random derives from it (default 1) */
    /* microscope (defaults: the paper's acquisition) */
    double kv;               /* accelerating voltage, kV (200) */
    double camera_length_mm; /* 460 */
    double pixel_um;         /* detector pixel at det = 128, um (150) */
    double convergence_mrad; /* probe convergence semi-angle (1.1) */
    double step_nm;          /* scan step (233 nm / 256) */
    /* sample */
    double thickness_nm;     /* mean thickness (40) */
    double thickness_var;    /* relative amplitude of smooth thickness variation (0.25) */
    double bend_deg;         /* in-plane rotation gradient across a grain (3) */
    double tilt_deg;         /* largest random mistilt off the zone axis (0.2) */
    int general;             /* grains with a general (random) orientation (0) */
    /* detector and acquisition */
    int counting;            /* 0 (default): an integrating detector, the EMPAD: Poisson
                                electrons, blurred, times a per-pixel gain, plus offset and
                                readout noise (ADU, float). 1: a counting detector (Medipix/
                                Merlin, EMPAD at low dose): the blur spreads the expected
                                electrons before they are counted, and a pixel's value is its
                                Poisson count, an integer up to LCAE_SIM_MAX_COUNT (clipped);
                                needs gain 1 and no gain spread, offset or readout noise.
                                Hot pixels and spikes are whole counts. */
    double drift_px;         /* descan drift of the pattern centre across the scan (2) */
    double psf_px;           /* Gaussian sigma of the detector point-spread blur (0.5) */
    double gain;             /* ADU per electron (1) */
    double gain_spread;      /* relative per-pixel gain variation, sd (0.02) */
    double offset;           /* ADU added to every pixel (0) */
    double readout_noise;    /* Gaussian readout noise, sd in ADU (0.1) */
    int hot_pixels;          /* detector pixels with a large constant excess (3) */
    double outlier_rate;     /* per-pixel per-frame probability of a spike (1e-5) */
    int batch;               /* patterns computed per batch (default 256) */
    int format;              /* lcae_sim_format of the scan file (default LCAE_SIM_EMPAD) */
} lcae_sim_params;

/* The parameters' table (lcae/core.h, lcae_option): names (lcae simulate's options),
 * defaults, ranges, help; in the order of their JSON (run.json's "sample"). Flags: */
enum {
    LCAE_SIM_SHAPE = 1u << 8, /* ny, nx: the command line's --scan NYxNX */
    LCAE_SIM_MAIN = 1u << 9   /* the main ones, which lcae run also takes (--sample-NAME) */
};
extern const lcae_option lcae_sim_option_table[];
void lcae_sim_defaults(lcae_sim_params *p);
/* Fills p with a named setting: "default" (the defaults above: the EMPAD at 75000
 * electrons per pattern) or "lowdose" (a counting detector at 300 electrons per pattern,
 * 64 x 64 pixels, no hot pixels, scan.npy of uint16 counts; the rest as the defaults).
 * Options given by the user are applied after it. Another name: LCAE_EUSAGE with a
 * message, p unchanged. */
int lcae_sim_preset(const char *name, lcae_sim_params *p);
/* Checks ranges; on failure returns LCAE_EUSAGE with a message naming the option. */
int lcae_sim_check(const lcae_sim_params *p);

/* Relativistic electron wavelength in A at `kv` kilovolts (0.02508 at 200). */
double lcae_sim_wavelength(double kv);
/* Reciprocal-space size of one detector pixel, 1/A (0.01300 for the defaults). */
double lcae_sim_scale(const lcae_sim_params *p);
/* Radius of the diffraction disks in detector pixels (convergence / angle per pixel). */
double lcae_sim_disk_radius(const lcae_sim_params *p);

/* ---- one crystal orientation ------------------------------------------------------ */
typedef struct {
    int phase;           /* lcae_sim_phase */
    double zone[3];      /* beam direction [uvw] in crystal axes (need not be unit) */
    double angle_deg;    /* in-plane rotation about the beam */
    double tilt_deg[2];  /* mistilt: rotations about the lab x then y axes */
    double thickness_nm;
} lcae_sim_crystal;

/* A reflection as it lands on the detector. */
typedef struct {
    int h, k, l;
    double x, y;          /* disk centre, detector pixels, for a pattern centred at (cx, cy) */
    double excitation;    /* excitation error s_g at the disk centre, 1/A */
    double intensity;     /* fraction of the incident beam in this disk */
} lcae_sim_spot;

/* The reflections of `c` whose disks touch the detector and carry at least
 * `min_intensity` of the beam, for a pattern centred at (cx, cy). Fills up to `max`
 * spots and returns how many there are (which may exceed max), or -1 with a message. */
int lcae_sim_spots(const lcae_sim_params *p, const lcae_sim_crystal *c, double cx,
                   double cy, double min_intensity, lcae_sim_spot *spots, int max);

/* The expected pattern of `c` centred at (cx, cy): electrons per pixel at the
 * parameters' dose, before counting noise, blur and detector response (det x det). */
int lcae_sim_render(const lcae_sim_params *p, const lcae_sim_crystal *c, double cx,
                    double cy, float *out);

/* The counting and detector model applied to an expected pattern (electrons per pixel):
 * Poisson counts, point-spread blur, gain, offset, readout noise, hot pixels, outliers
 * (with p->counting: blur, Poisson counts, hot pixels, outliers, clip). `key` selects
 * the random stream (the simulator uses the pattern index). det x det. */
int lcae_sim_detect(const lcae_sim_params *p, const float *expected, uint64_t key,
                    float *out);

/* ---- the whole sample --------------------------------------------------------------
 * Writes into the existing folder `dir` the scan (lcae_sim_scan_name: EMPAD .raw and
 * .xml, or scan.npy), truth_grain.npy, truth_class.npy, truth_region.npy (int32, ny x nx),
 * truth_angle.npy (float32 degrees, NaN where amorphous), truth_thickness.npy
 * (float32 nm) and truth.json, all or none (one output set: see lcae/io.h). Streams in
 * batches: memory does not grow with the scan.
 * The same parameters give the same bytes whatever the number of threads. */
int lcae_simulate(const lcae_sim_params *p, const char *dir, const lcae_progress *prog);
/* The name of the scan file lcae_simulate writes for p: "scan_x{NX}_y{NY}.raw" or
 * "scan.npy" (into buf, truncated to size). Returns buf. */
const char *lcae_sim_scan_name(const lcae_sim_params *p, char *buf, size_t size);

#ifdef __cplusplus
}
#endif
#endif
