/* Shared by src/sim only: the counter-based random streams, the precomputed physics of
 * one parameter set (reflections, diffuse profiles, detector maps) and the sample
 * layout (grains and the smooth fields over the scan). */
#ifndef LCAE_SIM_INTERNAL_H
#define LCAE_SIM_INTERNAL_H

#include <math.h>
#include <stdint.h>

#include "core/util.h"
#include "lcae/sim.h"

#define SIM_PI 3.14159265358979323846

/* ---- random streams ------------------------------------------------------------------
 * A stream is keyed by (seed, purpose, index) through the splitmix64 finaliser and then
 * advanced by the splitmix64 step. Every pattern draws from its own stream keyed by its
 * scan index, so the bytes do not depend on which thread computes it or when. */
enum {
    SIM_RNG_LAYOUT = 1, /* grain seeds, phases, orientations, fields */
    SIM_RNG_DETECTOR,   /* per-pixel gain, hot pixels */
    SIM_RNG_COUNTS      /* Poisson counts, readout noise, outliers of one pattern */
};

typedef struct {
    uint64_t s;
} sim_rng;

static inline sim_rng sim_rng_key(uint64_t seed, uint64_t purpose, uint64_t index)
{
    sim_rng r = {core_mix64(core_mix64(seed + 0x9e3779b97f4a7c15ULL * purpose) ^ index)};
    r.s = core_mix64(r.s + index);
    return r;
}

static inline uint64_t sim_next(sim_rng *r)
{
    return core_splitmix64(&r->s);
}

/* Uniform in [0, 1) with 53 random bits. */
static inline double sim_uniform(sim_rng *r)
{
    return (double)(sim_next(r) >> 11) * 0x1.0p-53;
}

/* Standard normal (Box-Muller; one value per call keeps the stream simple). */
static inline double sim_normal(sim_rng *r)
{
    double u = 1.0 - sim_uniform(r), v = sim_uniform(r);
    return sqrt(-2.0 * log(u)) * cos(2.0 * SIM_PI * v);
}

uint32_t sim_poisson(sim_rng *r, double lam);

/* ---- physics of one parameter set ---------------------------------------------------- */
typedef struct {
    double g[3];   /* reciprocal lattice vector in crystal Cartesian axes, 1/A */
    double g2;     /* |g|^2 */
    double inv_xi; /* 1 / extinction distance, 1/A */
    int h, k, l;
} sim_ref;

typedef struct {
    lcae_sim_params p;
    double lambda;  /* A */
    double scale;   /* 1/A per detector pixel */
    double radius;  /* disk radius, detector pixels */
    double centre;  /* (det - 1) / 2: the undrifted pattern centre */
    int nref[2];    /* Al, Fe */
    sim_ref *ref[2];
    int ntab;       /* radial profiles sampled every SIM_TAB_STEP pixels */
    float *tds[LCAE_SIM_NPHASES];  /* thermal diffuse background, sums to 1 on the detector */
    float *ring[LCAE_SIM_NPHASES]; /* disordered (amorphous) rings, sums to 1 */
    float *gain;    /* det x det, ADU per electron */
    float *hot;     /* det x det, constant excess ADU (hot pixels) */
} sim_ctx;

#define SIM_TAB_STEP 0.25

int sim_ctx_init(sim_ctx *c, const lcae_sim_params *p);
void sim_ctx_free(sim_ctx *c);

/* Adds weight x dose x the expected pattern of crystal x (or of the amorphous phase)
 * centred at (cx, cy) to out (det x det electrons per pixel). */
void sim_add_crystal(const sim_ctx *c, const lcae_sim_crystal *x, double cx, double cy,
                     double weight, float *out);
/* Adds weight x dose x a disordered pattern of `phase`: direct disk plus the diffuse
 * rings at its nearest-neighbour spacing (amorphous regions, boundary cores). */
void sim_add_disordered(const sim_ctx *c, int phase, double thickness_nm, double cx,
                        double cy, double weight, float *out);
/* Counting and detector model; `tmp` holds det x det floats. */
void sim_detect(const sim_ctx *c, const float *expected, uint64_t key, float *tmp,
                float *out);
/* The detector's point-spread blur of img (det x det) in place: a separable Gaussian of
 * `sigma` pixels truncated at 3 sigma, what it spreads off the detector lost; `tmp` holds
 * det x det floats. */
void sim_blur(int det, double sigma, float *img, float *tmp);

/* ---- sample layout ---------------------------------------------------------------------- */
typedef struct {
    lcae_sim_crystal c; /* orientation at the grain's seed point */
    int cls;            /* truth class (phase + zone axis) */
    int general;        /* general orientation (a class of its own) */
    double sx, sy;      /* Voronoi seed, scan pixels */
    double bend_rate;   /* in-plane rotation, degrees per scan pixel along bend_dir */
    double bend_dir[2];
    double tilt_rate[2]; /* mistilt change, degrees per scan pixel along bend_dir */
    int64_t pixels;     /* scan positions whose nearest grain this is */
} sim_grain;

typedef struct {
    int ngrains, nclasses;
    sim_grain *grains;
    int *class_grain;   /* nclasses: the first grain of each class (its phase and zone) */
    double spacing;     /* typical grain size, scan pixels */
    double warp[2][4];  /* boundary waviness: amplitude, kx, ky, phase for x and y */
    double thick[6];    /* thickness field: wedge direction (2), bump wave vectors (2),
                           bump phases (2) */
} sim_layout;

/* What one scan position is made of. */
typedef struct {
    int a, b;           /* nearest grain; neighbouring grain across the nearest boundary
                           (-1 if a single grain) */
    double m;           /* weight of grain b (0.5 on the boundary, 0 beyond half the width) */
    double disorder;    /* weight of the disordered boundary core */
    int region;         /* LCAE_REGION_* */
    double thickness;   /* nm */
    double cx, cy;      /* pattern centre with descan drift, detector pixels */
} sim_position;

int sim_layout_init(sim_layout *l, const lcae_sim_params *p);
void sim_layout_free(sim_layout *l);
void sim_layout_position(const sim_layout *l, const lcae_sim_params *p, int64_t y,
                         int64_t x, sim_position *out);
/* The local orientation of grain g at scan position (y, x): bending applied. */
void sim_layout_crystal(const sim_layout *l, int g, int64_t y, int64_t x,
                        double thickness, lcae_sim_crystal *out);

#endif
