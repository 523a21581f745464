/* The microstructure over the scan: Voronoi grains with wavy boundaries, each with a phase
 * and an orientation, a bending gradient inside each grain, a smooth thickness field and
 * the descan drift of the pattern centre. Everything derives from the seed. */
#include "sim_internal.h"

#include <stdlib.h>
#include <string.h>

/* The first grains cover every case the method must handle: grains of one phase and zone
 * axis at different in-plane angles (Al [001] x 3, Fe [011] x 2), grains of one phase at
 * different zone axes (Al and Fe each at [001] [011] [111] [112]) and an amorphous region.
 * Grains beyond the template draw a case at random. */
static const struct {
    int phase;
    int zone[3];
} template_[] = {
    {LCAE_PHASE_AL, {0, 0, 1}}, {LCAE_PHASE_FE, {0, 1, 1}}, {LCAE_PHASE_AL, {0, 0, 1}},
    {LCAE_PHASE_FE, {1, 1, 1}}, {LCAE_PHASE_AL, {0, 1, 1}}, {LCAE_PHASE_AMORPHOUS, {0, 0, 1}},
    {LCAE_PHASE_FE, {0, 0, 1}}, {LCAE_PHASE_AL, {1, 1, 1}}, {LCAE_PHASE_FE, {0, 1, 1}},
    {LCAE_PHASE_AL, {1, 1, 2}}, {LCAE_PHASE_FE, {1, 1, 2}}, {LCAE_PHASE_AL, {0, 0, 1}},
};
#define NTEMPLATE ((int)(sizeof template_ / sizeof template_[0]))
static const int low_index[4][3] = {{0, 0, 1}, {0, 1, 1}, {1, 1, 1}, {1, 1, 2}};

static int same_class(const sim_grain *a, const sim_grain *b)
{
    if (a->general || b->general)
        return a == b;
    if (a->c.phase != b->c.phase)
        return 0;
    if (a->c.phase == LCAE_PHASE_AMORPHOUS)
        return 1;
    return a->c.zone[0] == b->c.zone[0] && a->c.zone[1] == b->c.zone[1] &&
           a->c.zone[2] == b->c.zone[2];
}

int sim_layout_init(sim_layout *l, const lcae_sim_params *p)
{
    memset(l, 0, sizeof *l);
    int K = p->grains;
    l->ngrains = K;
    l->grains = lcae_calloc((size_t)K, sizeof *l->grains);
    l->class_grain = lcae_calloc((size_t)K, sizeof *l->class_grain);
    int *order = lcae_malloc((size_t)K * sizeof *order);
    if (!l->grains || !l->class_grain || !order) {
        free(order);
        sim_layout_free(l);
        return LCAE_ENOMEM;
    }
    sim_rng r = sim_rng_key(p->seed, SIM_RNG_LAYOUT, 0);
    double W = (double)p->nx, H = (double)p->ny;
    l->spacing = sqrt(W * H / K);

    /* seeds by best-candidate sampling: even grain sizes without a regular lattice */
    for (int g = 0; g < K; g++) {
        double best = -1, bx = 0, by = 0;
        for (int c = 0; c < 12; c++) {
            double x = sim_uniform(&r) * W - 0.5, y = sim_uniform(&r) * H - 0.5, dmin = 1e300;
            for (int j = 0; j < g; j++) {
                double dx = x - l->grains[j].sx, dy = y - l->grains[j].sy;
                if (dx * dx + dy * dy < dmin)
                    dmin = dx * dx + dy * dy;
            }
            if (dmin > best) {
                best = dmin;
                bx = x;
                by = y;
            }
        }
        l->grains[g].sx = bx;
        l->grains[g].sy = by;
    }

    /* which cell gets which case: a random permutation of the grains */
    for (int i = 0; i < K; i++)
        order[i] = i;
    for (int i = K - 1; i > 0; i--) {
        int j = (int)(sim_uniform(&r) * (i + 1));
        int t = order[i];
        order[i] = order[j];
        order[j] = t;
    }
    for (int i = 0; i < K; i++) {
        sim_grain *gr = &l->grains[order[i]];
        int phase;
        const int *zone;
        if (i < NTEMPLATE) {
            phase = template_[i].phase;
            zone = template_[i].zone;
        } else {
            int pick = (int)(sim_uniform(&r) * 9);
            phase = pick == 8 ? LCAE_PHASE_AMORPHOUS : pick / 4;
            zone = low_index[pick % 4];
        }
        gr->c.phase = phase;
        for (int k = 0; k < 3; k++)
            gr->c.zone[k] = zone[k];
        gr->c.angle_deg = 360 * sim_uniform(&r);
        double rr = p->tilt_deg * sqrt(sim_uniform(&r)), ta = 2 * SIM_PI * sim_uniform(&r);
        gr->c.tilt_deg[0] = rr * cos(ta);
        gr->c.tilt_deg[1] = rr * sin(ta);
        gr->c.thickness_nm = p->thickness_nm;
        double ba = 2 * SIM_PI * sim_uniform(&r);
        gr->bend_dir[0] = cos(ba);
        gr->bend_dir[1] = sin(ba);
        gr->bend_rate = p->bend_deg * (0.5 + 0.5 * sim_uniform(&r)) / l->spacing;
        /* bending also tilts the lattice a little out of the zone (a tenth of the
         * in-plane rate), about a random in-plane axis */
        double tb = 2 * SIM_PI * sim_uniform(&r);
        gr->tilt_rate[0] = 0.1 * gr->bend_rate * cos(tb);
        gr->tilt_rate[1] = 0.1 * gr->bend_rate * sin(tb);
    }
    /* grains repeating a case get an in-plane angle 20-70 degrees away from the first
     * (so that they differ for every symmetry of the zone axis) */
    for (int i = 1; i < K && i < NTEMPLATE; i++) {
        sim_grain *gr = &l->grains[order[i]];
        for (int j = 0; j < i; j++)
            if (same_class(gr, &l->grains[order[j]])) {
                gr->c.angle_deg = fmod(l->grains[order[j]].c.angle_deg + 20 +
                                           50 * sim_uniform(&r),
                                       360);
                break;
            }
    }
    /* the last `general` crystalline grains of the order get a random orientation:
     * a zone direction uniform on the sphere */
    int left = p->general;
    for (int i = K - 1; i >= 0 && left > 0; i--) {
        sim_grain *gr = &l->grains[order[i]];
        if (gr->c.phase == LCAE_PHASE_AMORPHOUS)
            continue;
        double z = 2 * sim_uniform(&r) - 1, a = 2 * SIM_PI * sim_uniform(&r);
        gr->c.zone[0] = sqrt(1 - z * z) * cos(a);
        gr->c.zone[1] = sqrt(1 - z * z) * sin(a);
        gr->c.zone[2] = z;
        gr->general = 1;
        left--;
    }
    free(order);

    /* classes in grain order */
    for (int g = 0; g < K; g++) {
        int c = 0;
        while (c < l->nclasses && !same_class(&l->grains[g], &l->grains[l->class_grain[c]]))
            c++;
        if (c == l->nclasses)
            l->class_grain[l->nclasses++] = g;
        l->grains[g].cls = c;
    }

    /* wavy boundaries: a smooth displacement of the positions before the Voronoi test */
    for (int k = 0; k < 2; k++) {
        double a = 2 * SIM_PI * sim_uniform(&r);
        double wl = l->spacing * (1 + sim_uniform(&r));
        l->warp[k][0] = 0.08 * l->spacing;
        l->warp[k][1] = 2 * SIM_PI / wl * cos(a);
        l->warp[k][2] = 2 * SIM_PI / wl * sin(a);
        l->warp[k][3] = 2 * SIM_PI * sim_uniform(&r);
    }
    /* thickness: a wedge across the scan plus long-wavelength bumps */
    double a = 2 * SIM_PI * sim_uniform(&r);
    l->thick[0] = cos(a);
    l->thick[1] = sin(a);
    l->thick[2] = 2 * SIM_PI / (0.7 * sqrt(W * W + H * H) + 1) * (0.5 + sim_uniform(&r));
    l->thick[3] = 2 * SIM_PI / (0.7 * sqrt(W * W + H * H) + 1) * (0.5 + sim_uniform(&r));
    l->thick[4] = 2 * SIM_PI * sim_uniform(&r);
    l->thick[5] = 2 * SIM_PI * sim_uniform(&r);
    return LCAE_OK;
}

void sim_layout_free(sim_layout *l)
{
    free(l->grains);
    free(l->class_grain);
    memset(l, 0, sizeof *l);
}

void sim_layout_position(const sim_layout *l, const lcae_sim_params *p, int64_t y,
                         int64_t x, sim_position *out)
{
    double px = (double)x, py = (double)y;
    double wx = px + l->warp[0][0] * sin(l->warp[0][1] * px + l->warp[0][2] * py + l->warp[0][3]);
    double wy = py + l->warp[1][0] * sin(l->warp[1][1] * px + l->warp[1][2] * py + l->warp[1][3]);
    int a = -1, b = -1;
    double da = 1e300, db = 1e300;
    for (int g = 0; g < l->ngrains; g++) {
        double dx = wx - l->grains[g].sx, dy = wy - l->grains[g].sy, d = dx * dx + dy * dy;
        if (d < da) {
            db = da;
            b = a;
            da = d;
            a = g;
        } else if (d < db) {
            db = d;
            b = g;
        }
    }
    out->a = a;
    out->b = b;
    out->m = 0;
    out->disorder = 0;
    out->region = l->grains[a].c.phase == LCAE_PHASE_AMORPHOUS ? LCAE_REGION_AMORPHOUS
                                                               : LCAE_REGION_GRAIN;
    double half = p->boundary_width / 2;
    if (b >= 0 && half > 0) {
        /* distance to the bisector between the two nearest seeds */
        double ex = l->grains[b].sx - l->grains[a].sx, ey = l->grains[b].sy - l->grains[a].sy;
        double d = (db - da) / (2 * sqrt(ex * ex + ey * ey));
        if (d < half) {
            /* patterns mix both grains, half and half on the boundary, plus a
             * disordered core at most 30 % strong */
            double f = 1 - d / half;
            out->m = 0.5 * f;
            out->disorder = 0.3 * f;
            out->region = LCAE_REGION_BOUNDARY;
        }
    }
    double u = p->nx > 1 ? px / (double)(p->nx - 1) : 0.5;
    double v = p->ny > 1 ? py / (double)(p->ny - 1) : 0.5;
    double wedge = 2 * (l->thick[0] * (u - 0.5) + l->thick[1] * (v - 0.5)) / sqrt(2.0);
    double bump = sin(l->thick[2] * px + l->thick[4]) * sin(l->thick[3] * py + l->thick[5]);
    out->thickness = p->thickness_nm * (1 + p->thickness_var * (0.5 * wedge + 0.5 * bump));
    /* descan: a slow drift of the centre, at most drift_px across the scan */
    double c0 = (p->det - 1) / 2.0, D = p->drift_px;
    out->cx = c0 + D * (0.8 * (u - 0.5) + 0.2 * (v - 0.5));
    out->cy = c0 + D * (0.6 * (v - 0.5) + 0.2 * sin(SIM_PI * u) - 0.1);
}

void sim_layout_crystal(const sim_layout *l, int g, int64_t y, int64_t x, double thickness,
                        lcae_sim_crystal *out)
{
    const sim_grain *gr = &l->grains[g];
    *out = gr->c;
    double along = ((double)x - gr->sx) * gr->bend_dir[0] + ((double)y - gr->sy) * gr->bend_dir[1];
    out->angle_deg = gr->c.angle_deg + gr->bend_rate * along;
    out->tilt_deg[0] = gr->c.tilt_deg[0] + gr->tilt_rate[0] * along;
    out->tilt_deg[1] = gr->c.tilt_deg[1] + gr->tilt_rate[1] * along;
    out->thickness_nm = thickness;
}
