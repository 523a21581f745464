/* The physics of one pattern: reciprocal lattices, structure factors, excitation errors,
 * two-beam intensities, diffuse scattering, and the counting/detector model.
 * Units: A, 1/A (|g| = 1/d, s = sin(theta)/lambda = |g|/2), nm for thickness at the
 * interface, electrons per pixel for expected patterns. */
#include "sim_internal.h"

#include <stdlib.h>
#include <string.h>

/* ---- phases ------------------------------------------------------------------------------
 * Elastic electron scattering factors f(s) = sum a_i exp(-b_i s^2), f in A, s in 1/A:
 * five-Gaussian fits of Peng et al. (1996), International Tables C, table 4.3.2.3. */
static const double peng_al[5][2] = {
    {0.1165, 0.1295}, {0.5504, 1.2619}, {1.0179, 6.8242}, {2.6295, 28.4577}, {1.5711, 88.4750}};
static const double peng_fe[5][2] = {
    {0.1929, 0.1087}, {0.8239, 1.0806}, {1.8689, 4.7637}, {2.3694, 22.8500}, {1.9060, 76.7309}};

typedef struct {
    const char *name;
    int lattice;           /* 0 FCC, 1 BCC, 2 none (amorphous) */
    double a;              /* lattice parameter, A */
    double B;              /* Debye-Waller B = 8 pi^2 <u^2>, A^2 (room temperature) */
    double d_nn;           /* nearest-neighbour distance, A (diffuse rings) */
    const double (*f)[2];  /* scattering factor */
} sim_phase_def;

static const sim_phase_def phases[LCAE_SIM_NPHASES] = {
    {"Al", 0, 4.05, 0.86, 2.864, peng_al},   /* d_nn = a / sqrt 2 */
    {"Fe", 1, 2.87, 0.35, 2.485, peng_fe},   /* d_nn = a sqrt 3 / 2 */
    {"amorphous", 2, 0.0, 0.35, 2.52, peng_fe}, /* Fe-based metallic glass */
};

/* Atoms of the conventional cubic cell, fractional coordinates. */
static const double fcc_basis[4][3] = {{0, 0, 0}, {0, .5, .5}, {.5, 0, .5}, {.5, .5, 0}};
static const double bcc_basis[2][3] = {{0, 0, 0}, {.5, .5, .5}};

/* Share of the beam scattered out of the Bragg beams into a smooth background
 * (crystals) or into the rings (disordered material), growing with thickness. */
#define SIM_MEAN_FREE_PATH_NM 100.0
#define SIM_TDS_SHARE 0.1
/* The kinematic/two-beam intensities of many beams excited at once at a zone axis can
 * add up to more than the incident beam; they are scaled down to this total. */
#define SIM_MAX_DIFFRACTED 0.6
/* Reflections carrying less of the beam are not drawn (0.075 electrons at the
 * default dose). */
#define SIM_MIN_DRAWN 1e-6

const char *lcae_sim_phase_name(int phase)
{
    return phase >= 0 && phase < LCAE_SIM_NPHASES ? phases[phase].name : "?";
}

static double scattering_factor(const sim_phase_def *ph, double s)
{
    double f = 0;
    for (int i = 0; i < 5; i++)
        f += ph->f[i][0] * exp(-ph->f[i][1] * s * s);
    return f;
}

double lcae_sim_wavelength(double kv)
{
    const double h = 6.62607015e-34, m0 = 9.1093837015e-31, e = 1.602176634e-19,
                 c = 299792458.0;
    double eV = e * kv * 1e3;
    return h / sqrt(2 * m0 * eV * (1 + eV / (2 * m0 * c * c))) * 1e10;
}

/* Scattering angle of one detector pixel, rad (binned pixels for det != 128). */
static double pixel_angle(const lcae_sim_params *p)
{
    return p->pixel_um * 1e-6 * (128.0 / p->det) / (p->camera_length_mm * 1e-3);
}

double lcae_sim_scale(const lcae_sim_params *p)
{
    return pixel_angle(p) / lcae_sim_wavelength(p->kv);
}

double lcae_sim_disk_radius(const lcae_sim_params *p)
{
    return p->convergence_mrad * 1e-3 / pixel_angle(p);
}

/* ---- precomputation ---------------------------------------------------------------------- */
static int build_reflections(sim_ctx *c, int phase, double gmax)
{
    const sim_phase_def *ph = &phases[phase];
    const double(*basis)[3] = ph->lattice == 0 ? fcc_basis : bcc_basis;
    int nb = ph->lattice == 0 ? 4 : 2;
    int n = (int)ceil(gmax * ph->a);
    /* relativistic mass factor: the scattering potential seen by the electron */
    double gamma = 1 + c->p.kv / 510.99895;
    double volume = ph->a * ph->a * ph->a;
    size_t cap = (size_t)(2 * n + 1) * (2 * n + 1) * (2 * n + 1);
    sim_ref *ref = lcae_malloc(cap * sizeof *ref);
    if (!ref)
        return LCAE_ENOMEM;
    int count = 0;
    for (int h = -n; h <= n; h++)
        for (int k = -n; k <= n; k++)
            for (int l = -n; l <= n; l++) {
                if (!h && !k && !l)
                    continue;
                double g2 = (h * h + k * k + l * l) / (ph->a * ph->a);
                if (g2 > gmax * gmax)
                    continue;
                /* geometric structure factor: the extinctions follow from the basis */
                double re = 0, im = 0;
                for (int j = 0; j < nb; j++) {
                    double phase_ = 2 * SIM_PI * (h * basis[j][0] + k * basis[j][1] +
                                                  l * basis[j][2]);
                    re += cos(phase_);
                    im += sin(phase_);
                }
                double geo = sqrt(re * re + im * im);
                if (geo < 1e-6)
                    continue;
                double s = sqrt(g2) / 2;
                double F = geo * scattering_factor(ph, s) * exp(-ph->B * s * s);
                sim_ref *r = &ref[count++];
                r->h = h;
                r->k = k;
                r->l = l;
                r->g[0] = h / ph->a;
                r->g[1] = k / ph->a;
                r->g[2] = l / ph->a;
                r->g2 = g2;
                /* extinction distance xi = pi V / (lambda gamma F) */
                r->inv_xi = c->lambda * gamma * F / (SIM_PI * volume);
            }
    c->ref[phase] = ref;
    c->nref[phase] = count;
    return LCAE_OK;
}

/* Structure factor of a metallic glass, phenomenological: peaks at 1, 1.7 and 2.6 times
 * q1 = 1.23 / d_nn (the Ehrenfest relation), suppressed below the first peak. */
static double glass_structure(double q, double d_nn)
{
    double q1 = 1.23 / d_nn;
    double low = 1 - exp(-pow(q / (0.7 * q1), 4));
    double x1 = (q - q1) / (0.07 * q1), x2 = (q - 1.7 * q1) / (0.10 * q1),
           x3 = (q - 2.6 * q1) / (0.12 * q1);
    return low + 1.6 * exp(-0.5 * x1 * x1) + 0.6 * exp(-0.5 * x2 * x2) +
           0.3 * exp(-0.5 * x3 * x3);
}

/* Radial profile table of `kind` (0 thermal diffuse, 1 glass rings), normalised to sum 1
 * over the detector pixels around the undrifted centre. */
static float *build_profile(sim_ctx *c, int phase, int kind)
{
    const sim_phase_def *ph = &phases[phase];
    float *t = lcae_malloc((size_t)c->ntab * sizeof *t);
    if (!t)
        return NULL;
    for (int i = 0; i < c->ntab; i++) {
        double q = i * SIM_TAB_STEP * c->scale, s = q / 2;
        double f = scattering_factor(ph, s);
        t[i] = (float)(kind == 0 ? f * f * (1 - exp(-2 * ph->B * s * s))
                                 : f * f * glass_structure(q, ph->d_nn));
    }
    double sum = 0;
    int det = c->p.det;
    for (int y = 0; y < det; y++)
        for (int x = 0; x < det; x++) {
            double r = hypot(x - c->centre, y - c->centre) / SIM_TAB_STEP;
            sum += t[(int)r]; /* r < ntab - 1 by construction of ntab */
        }
    for (int i = 0; i < c->ntab; i++)
        t[i] = (float)(t[i] / sum);
    return t;
}

int sim_ctx_init(sim_ctx *c, const lcae_sim_params *p)
{
    memset(c, 0, sizeof *c);
    int rc = lcae_sim_check(p);
    if (rc)
        return rc;
    c->p = *p;
    c->lambda = lcae_sim_wavelength(p->kv);
    c->scale = lcae_sim_scale(p);
    c->radius = lcae_sim_disk_radius(p);
    c->centre = (p->det - 1) / 2.0;
    /* reflections whose disks can touch the detector, wherever the drift puts the centre */
    double reach = (p->det / 2.0 * sqrt(2.0) + c->radius + p->drift_px + 2) * c->scale;
    c->ntab = (int)((p->det * 0.75 + p->drift_px + 4) / SIM_TAB_STEP) + 2;
    int det2 = p->det * p->det;
    if ((rc = build_reflections(c, LCAE_PHASE_AL, reach)) ||
        (rc = build_reflections(c, LCAE_PHASE_FE, reach)))
        goto fail;
    rc = LCAE_ENOMEM;
    for (int ph = 0; ph < LCAE_SIM_NPHASES; ph++)
        if (!(c->tds[ph] = build_profile(c, ph, 0)) || !(c->ring[ph] = build_profile(c, ph, 1)))
            goto fail;
    c->gain = lcae_malloc((size_t)det2 * sizeof *c->gain);
    c->hot = lcae_calloc((size_t)det2, sizeof *c->hot);
    if (!c->gain || !c->hot)
        goto fail;
    sim_rng r = sim_rng_key(p->seed, SIM_RNG_DETECTOR, 0);
    for (int i = 0; i < det2; i++)
        c->gain[i] = (float)(p->gain * (1 + p->gain_spread * sim_normal(&r)));
    for (int i = 0; i < p->hot_pixels; i++) {
        int at = (int)(sim_uniform(&r) * det2);
        double level = 50 + 450 * sim_uniform(&r); /* electrons' worth */
        c->hot[at] = (float)(p->counting ? floor(level) : p->gain * level);
    }
    return LCAE_OK;
fail:
    sim_ctx_free(c);
    return rc;
}

void sim_ctx_free(sim_ctx *c)
{
    for (int i = 0; i < 2; i++)
        free(c->ref[i]);
    for (int i = 0; i < LCAE_SIM_NPHASES; i++) {
        free(c->tds[i]);
        free(c->ring[i]);
    }
    free(c->gain);
    free(c->hot);
    memset(c, 0, sizeof *c);
}

/* ---- geometry -------------------------------------------------------------------------------
 * Crystal axes to lab axes (beam along +z, detector x = column, y = row): the zone axis
 * becomes z; the crystal axis least aligned with it, made perpendicular, becomes x at zero
 * in-plane angle; then the in-plane rotation about z, then the mistilts about x and y. */
static void orientation(const lcae_sim_crystal *x, double M[3][3])
{
    double u[3], n = sqrt(x->zone[0] * x->zone[0] + x->zone[1] * x->zone[1] +
                          x->zone[2] * x->zone[2]);
    for (int i = 0; i < 3; i++)
        u[i] = x->zone[i] / n;
    int e = 0;
    for (int i = 1; i < 3; i++)
        if (fabs(u[i]) < fabs(u[e]) - 1e-12)
            e = i;
    double r[3] = {-u[e] * u[0], -u[e] * u[1], -u[e] * u[2]};
    r[e] += 1;
    double rn = sqrt(r[0] * r[0] + r[1] * r[1] + r[2] * r[2]);
    for (int i = 0; i < 3; i++)
        r[i] /= rn;
    double q[3] = {u[1] * r[2] - u[2] * r[1], u[2] * r[0] - u[0] * r[2],
                   u[0] * r[1] - u[1] * r[0]};
    double B[3][3];
    for (int i = 0; i < 3; i++) {
        B[0][i] = r[i];
        B[1][i] = q[i];
        B[2][i] = u[i];
    }
    double a = x->angle_deg * SIM_PI / 180, tx = x->tilt_deg[0] * SIM_PI / 180,
           ty = x->tilt_deg[1] * SIM_PI / 180;
    double Rz[3][3] = {{cos(a), -sin(a), 0}, {sin(a), cos(a), 0}, {0, 0, 1}};
    double Rx[3][3] = {{1, 0, 0}, {0, cos(tx), -sin(tx)}, {0, sin(tx), cos(tx)}};
    double Ry[3][3] = {{cos(ty), 0, sin(ty)}, {0, 1, 0}, {-sin(ty), 0, cos(ty)}};
    double T1[3][3], T2[3][3];
    for (int i = 0; i < 3; i++)
        for (int j = 0; j < 3; j++) {
            T1[i][j] = 0;
            for (int k = 0; k < 3; k++)
                T1[i][j] += Rz[i][k] * B[k][j];
        }
    for (int i = 0; i < 3; i++)
        for (int j = 0; j < 3; j++) {
            T2[i][j] = 0;
            for (int k = 0; k < 3; k++)
                T2[i][j] += Rx[i][k] * T1[k][j];
        }
    for (int i = 0; i < 3; i++)
        for (int j = 0; j < 3; j++) {
            M[i][j] = 0;
            for (int k = 0; k < 3; k++)
                M[i][j] += Ry[i][k] * T2[k][j];
        }
}

/* Two-beam intensity of a reflection at excitation error s (1/A) through thickness t (A):
 * sin^2(pi t s_eff) / (xi s_eff)^2 with s_eff = sqrt(s^2 + 1/xi^2). Far from the Bragg
 * condition this is the kinematic (pi t / xi)^2 sinc^2(pi t s); at s = 0 it stays below 1. */
static double two_beam(double s, double inv_xi, double t)
{
    double se2 = s * s + inv_xi * inv_xi;
    double sn = sin(SIM_PI * t * sqrt(se2));
    return inv_xi * inv_xi * sn * sn / se2;
}

/* One crystal's beams in lab axes. */
typedef struct {
    double M[3][3];
    double t;       /* thickness, A */
    double norm;    /* scale of the Bragg intensities (1 unless they add up too much) */
    double direct;  /* share of the direct beam */
    double diffuse; /* share of the thermal diffuse background */
} sim_beams;

static void beam_geometry(const sim_ctx *c, const sim_beams *b, const sim_ref *r,
                          double g[3], double *s0)
{
    for (int i = 0; i < 3; i++)
        g[i] = b->M[i][0] * r->g[0] + b->M[i][1] * r->g[1] + b->M[i][2] * r->g[2];
    /* excitation error: distance from g to the Ewald sphere along the beam (positive
     * inside the sphere); the sphere passes through the origin with the beam along +z */
    *s0 = -(g[2] + c->lambda * r->g2 / 2);
}

static void beams_init(const sim_ctx *c, const lcae_sim_crystal *x, sim_beams *b)
{
    orientation(x, b->M);
    b->t = x->thickness_nm * 10;
    b->diffuse = SIM_TDS_SHARE * (1 - exp(-x->thickness_nm / SIM_MEAN_FREE_PATH_NM));
    double total = 0;
    const sim_ref *ref = c->ref[x->phase];
    for (int i = 0; i < c->nref[x->phase]; i++) {
        double g[3], s0;
        beam_geometry(c, b, &ref[i], g, &s0);
        total += two_beam(s0, ref[i].inv_xi, b->t);
    }
    b->norm = total > SIM_MAX_DIFFRACTED ? SIM_MAX_DIFFRACTED / total : 1;
    b->direct = 1 - total * b->norm - b->diffuse;
}

/* Adds a disk of radius c->radius centred at (x0, y0), antialiased over one pixel.
 * Uniform (amp per pixel) when inv_xi == 0; otherwise each pixel sees the incident
 * direction of its offset in the disk, which shifts the excitation error (a rocking
 * curve across the disk): s = s0 - lambda kt . g with kt = offset * scale. */
static void add_disk(const sim_ctx *c, float *out, double x0, double y0, double amp,
                     double s0, double gx, double gy, double inv_xi, double t)
{
    int det = c->p.det;
    double r = c->radius;
    int xa = (int)floor(x0 - r - 1), xb = (int)ceil(x0 + r + 1);
    int ya = (int)floor(y0 - r - 1), yb = (int)ceil(y0 + r + 1);
    if (xa < 0) xa = 0;
    if (ya < 0) ya = 0;
    if (xb > det - 1) xb = det - 1;
    if (yb > det - 1) yb = det - 1;
    double k = c->lambda * c->scale;
    for (int y = ya; y <= yb; y++)
        for (int x = xa; x <= xb; x++) {
            double dx = x - x0, dy = y - y0;
            double cov = r + 0.5 - sqrt(dx * dx + dy * dy);
            if (cov <= 0)
                continue;
            if (cov > 1)
                cov = 1;
            double v = amp;
            if (inv_xi > 0)
                v *= two_beam(s0 - k * (dx * gx + dy * gy), inv_xi, t);
            out[(size_t)y * det + x] += (float)(v * cov);
        }
}

static void add_profile(const sim_ctx *c, const float *tab, double cx, double cy,
                        double amp, float *out)
{
    int det = c->p.det;
    for (int y = 0; y < det; y++)
        for (int x = 0; x < det; x++) {
            double dx = x - cx, dy = y - cy;
            double r = sqrt(dx * dx + dy * dy) / SIM_TAB_STEP;
            int i = (int)r;
            if (i >= c->ntab - 1)
                continue;
            double f = r - i;
            out[(size_t)y * det + x] += (float)(amp * ((1 - f) * tab[i] + f * tab[i + 1]));
        }
}

void sim_add_disordered(const sim_ctx *c, int phase, double thickness_nm, double cx,
                        double cy, double weight, float *out)
{
    double share = 1 - exp(-thickness_nm / SIM_MEAN_FREE_PATH_NM);
    double dose = weight * c->p.dose;
    double disk_area = SIM_PI * c->radius * c->radius;
    add_disk(c, out, cx, cy, dose * (1 - share) / disk_area, 0, 0, 0, 0, 0);
    add_profile(c, c->ring[phase], cx, cy, dose * share, out);
}

void sim_add_crystal(const sim_ctx *c, const lcae_sim_crystal *x, double cx, double cy,
                     double weight, float *out)
{
    if (x->phase == LCAE_PHASE_AMORPHOUS) {
        sim_add_disordered(c, x->phase, x->thickness_nm, cx, cy, weight, out);
        return;
    }
    sim_beams b;
    beams_init(c, x, &b);
    double dose = weight * c->p.dose;
    double disk_area = SIM_PI * c->radius * c->radius;
    add_disk(c, out, cx, cy, dose * b.direct / disk_area, 0, 0, 0, 0, 0);
    add_profile(c, c->tds[x->phase], cx, cy, dose * b.diffuse, out);
    const sim_ref *ref = c->ref[x->phase];
    double lim_lo = -c->radius - 1, lim_hi = c->p.det + c->radius;
    for (int i = 0; i < c->nref[x->phase]; i++) {
        double g[3], s0;
        beam_geometry(c, &b, &ref[i], g, &s0);
        double px = cx + g[0] / c->scale, py = cy + g[1] / c->scale;
        if (px < lim_lo || px > lim_hi || py < lim_lo || py > lim_hi)
            continue;
        if (b.norm * two_beam(s0, ref[i].inv_xi, b.t) < SIM_MIN_DRAWN)
            continue;
        add_disk(c, out, px, py, dose * b.norm / disk_area, s0, g[0], g[1], ref[i].inv_xi,
                 b.t);
    }
}

static int check_crystal(const lcae_sim_crystal *x)
{
    if (x->phase < 0 || x->phase >= LCAE_SIM_NPHASES)
        return lcae_fail(LCAE_EUSAGE, "phase %d unknown (expected 0 Al, 1 Fe, 2 amorphous)",
                         x->phase);
    if (x->zone[0] == 0 && x->zone[1] == 0 && x->zone[2] == 0)
        return lcae_fail(LCAE_EUSAGE, "zone axis [0 0 0] (expected a direction)");
    if (!(x->thickness_nm > 0))
        return lcae_fail(LCAE_EUSAGE, "thickness %g nm (expected > 0)", x->thickness_nm);
    return LCAE_OK;
}

int lcae_sim_spots(const lcae_sim_params *p, const lcae_sim_crystal *x, double cx,
                   double cy, double min_intensity, lcae_sim_spot *spots, int max)
{
    sim_ctx c;
    if (check_crystal(x) || sim_ctx_init(&c, p))
        return -1;
    int n = 0;
    if (x->phase != LCAE_PHASE_AMORPHOUS) {
        sim_beams b;
        beams_init(&c, x, &b);
        const sim_ref *ref = c.ref[x->phase];
        for (int i = 0; i < c.nref[x->phase]; i++) {
            double g[3], s0;
            beam_geometry(&c, &b, &ref[i], g, &s0);
            double px = cx + g[0] / c.scale, py = cy + g[1] / c.scale;
            double I = b.norm * two_beam(s0, ref[i].inv_xi, b.t);
            if (I < min_intensity || px + c.radius < -0.5 || py + c.radius < -0.5 ||
                px - c.radius > p->det - 0.5 || py - c.radius > p->det - 0.5)
                continue;
            if (n < max)
                spots[n] = (lcae_sim_spot){ref[i].h, ref[i].k, ref[i].l, px, py, s0, I};
            n++;
        }
    }
    sim_ctx_free(&c);
    return n;
}

int lcae_sim_render(const lcae_sim_params *p, const lcae_sim_crystal *x, double cx,
                    double cy, float *out)
{
    sim_ctx c;
    int rc;
    if ((rc = check_crystal(x)) || (rc = sim_ctx_init(&c, p)))
        return rc;
    memset(out, 0, (size_t)p->det * p->det * sizeof *out);
    sim_add_crystal(&c, x, cx, cy, 1, out);
    sim_ctx_free(&c);
    return LCAE_OK;
}

/* ---- counting and detector ------------------------------------------------------------------ */
static double log_factorial(double k)
{
    if (k < 10) {
        double s = 0;
        for (int i = 2; i <= (int)k; i++)
            s += log((double)i);
        return s;
    }
    double x = k + 1; /* Stirling series for lgamma(x), error < 1e-12 for x >= 11 */
    return (x - 0.5) * log(x) - x + 0.91893853320467274178 + 1 / (12 * x) -
           1 / (360 * x * x * x) + 1 / (1260 * x * x * x * x * x);
}

/* Inversion for small means; Hormann's transformed rejection (PTRS, as numpy) above. */
uint32_t sim_poisson(sim_rng *r, double lam)
{
    if (!(lam > 0))
        return 0;
    if (lam < 12) {
        double u = sim_uniform(r), p = exp(-lam), F = p;
        uint32_t k = 0;
        while (u > F && k < 1000) {
            k++;
            p *= lam / k;
            F += p;
        }
        return k;
    }
    double slam = sqrt(lam), loglam = log(lam);
    double b = 0.931 + 2.53 * slam, a = -0.059 + 0.02483 * b;
    double invalpha = 1.1239 + 1.1328 / (b - 3.4), vr = 0.9277 - 3.6224 / (b - 2);
    for (;;) {
        double U = sim_uniform(r) - 0.5, V = sim_uniform(r);
        double us = 0.5 - fabs(U);
        double k = floor((2 * a / us + b) * U + lam + 0.43);
        if (us >= 0.07 && V <= vr)
            return (uint32_t)k;
        if (k < 0 || (us < 0.013 && V > us))
            continue;
        if (log(V) + log(invalpha) - log(a / (us * us) + b) <=
            -lam + k * loglam - log_factorial(k))
            return (uint32_t)k;
    }
}

void sim_blur(int det, double sigma, float *img, float *tmp)
{
    float w[16];
    int rad = (int)ceil(3 * sigma);
    double sum = 0;
    for (int i = -rad; i <= rad; i++)
        sum += exp(-0.5 * i * i / (sigma * sigma));
    for (int i = -rad; i <= rad; i++)
        w[i + rad] = (float)(exp(-0.5 * i * i / (sigma * sigma)) / sum);
    for (int y = 0; y < det; y++) {
        const float *row = img + (size_t)y * det;
        for (int x = 0; x < det; x++) {
            float v = 0;
            int lo = x - rad < 0 ? -x : -rad, hi = x + rad >= det ? det - 1 - x : rad;
            for (int i = lo; i <= hi; i++)
                v += w[i + rad] * row[x + i];
            tmp[(size_t)y * det + x] = v;
        }
    }
    for (int y = 0; y < det; y++) {
        int lo = y - rad < 0 ? -y : -rad, hi = y + rad >= det ? det - 1 - y : rad;
        float *dst = img + (size_t)y * det;
        for (int x = 0; x < det; x++)
            dst[x] = 0;
        for (int i = lo; i <= hi; i++) {
            const float *src = tmp + (size_t)(y + i) * det;
            for (int x = 0; x < det; x++)
                dst[x] += w[i + rad] * src[x];
        }
    }
}

/* A counting detector: the charge an electron leaves is shared between neighbouring
 * pixels, but it is counted once, by one of them; so the blur spreads the expected
 * electrons, and the count of each pixel is a Poisson draw of its blurred mean. Hot
 * pixels and spikes add whole counts, and the 16-bit counter saturates. */
static void detect_counting(const sim_ctx *c, const float *expected, sim_rng *r, float *tmp,
                            float *out)
{
    const lcae_sim_params *p = &c->p;
    size_t n = (size_t)p->det * p->det;
    memcpy(out, expected, n * sizeof *out);
    if (p->psf_px > 0)
        sim_blur(p->det, p->psf_px, out, tmp);
    for (size_t i = 0; i < n; i++) {
        /* above a mean of 1e5 a count below the saturation would be 100 standard
         * deviations away (and sim_poisson's uint32 would overflow past 4e9) */
        double k = out[i] < 1e5f ? sim_poisson(r, out[i]) : LCAE_SIM_MAX_COUNT;
        out[i] = (float)(k + c->hot[i]);
    }
    uint32_t spikes = sim_poisson(r, p->outlier_rate * (double)n);
    for (uint32_t s = 0; s < spikes; s++) {
        size_t at = (size_t)(sim_uniform(r) * (double)n);
        out[at] += (float)floor(20 + 180 * sim_uniform(r));
    }
    /* every value is a whole number far below 2^24, so exact in float32 */
    for (size_t i = 0; i < n; i++)
        out[i] = out[i] < LCAE_SIM_MAX_COUNT ? out[i] : LCAE_SIM_MAX_COUNT;
}

void sim_detect(const sim_ctx *c, const float *expected, uint64_t key, float *tmp,
                float *out)
{
    const lcae_sim_params *p = &c->p;
    size_t n = (size_t)p->det * p->det;
    sim_rng r = sim_rng_key(p->seed, SIM_RNG_COUNTS, key);
    if (p->counting) {
        detect_counting(c, expected, &r, tmp, out);
        return;
    }
    for (size_t i = 0; i < n; i++)
        out[i] = (float)sim_poisson(&r, expected[i]);
    /* charge sharing: a separable Gaussian blur of the counted electrons; charge spread
     * off the detector is lost */
    if (p->psf_px > 0)
        sim_blur(p->det, p->psf_px, out, tmp);
    /* readout noise: Gaussian pairs by Marsaglia's polar method (no trigonometry) */
    for (size_t i = 0; i < n; i += 2) {
        double u, v, q;
        do {
            u = 2 * sim_uniform(&r) - 1;
            v = 2 * sim_uniform(&r) - 1;
            q = u * u + v * v;
        } while (q >= 1 || q == 0);
        double f = p->readout_noise * sqrt(-2 * log(q) / q);
        out[i] = (float)(c->gain[i] * out[i] + p->offset + c->hot[i] + f * u);
        if (i + 1 < n)
            out[i + 1] = (float)(c->gain[i + 1] * out[i + 1] + p->offset + c->hot[i + 1] + f * v);
    }
    /* rare spikes (cosmic rays, readout glitches): 20-200 electrons' worth */
    uint32_t spikes = sim_poisson(&r, p->outlier_rate * (double)n);
    for (uint32_t s = 0; s < spikes; s++) {
        size_t at = (size_t)(sim_uniform(&r) * (double)n);
        out[at] += (float)(p->gain * (20 + 180 * sim_uniform(&r)));
    }
}

int lcae_sim_detect(const lcae_sim_params *p, const float *expected, uint64_t key,
                    float *out)
{
    sim_ctx c;
    int rc = sim_ctx_init(&c, p);
    if (rc)
        return rc;
    float *tmp = lcae_malloc((size_t)p->det * p->det * sizeof *tmp);
    if (!tmp) {
        sim_ctx_free(&c);
        return LCAE_ENOMEM;
    }
    sim_detect(&c, expected, key, tmp, out);
    free(tmp);
    sim_ctx_free(&c);
    return LCAE_OK;
}
