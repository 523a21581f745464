/* The direct-beam position in every pattern of a scan (descan), in five steps:
 *
 * 1. The mean of a sample of patterns spread evenly over the scan, with the per-pixel
 *    sums of squares that the hot-pixel test needs (OpenMP over the sample patterns).
 * 2. The beam in that mean pattern (mean_beam): the brightest pixel after a Gaussian
 *    smoothing of 1 px, then, in turn, the radius where the azimuthal profile about the
 *    current centre falls most steeply and the centre of mass over a disk of that radius,
 *    until the centre settles. The disk must stand out from its surroundings, or the
 *    scan has no beam (a beam stop) and lcae says so.
 * 3. One streaming pass over the scan (OpenMP over batches, as src/stats/stats.c): in
 *    each pattern, inside a window around the mean beam, the NCAND brightest blobs of the
 *    box-filtered pattern (Bragg spots brighter than the beam may be among them), each
 *    refined by the centre of mass.
 * 4. The robust surface fit (beam_fit.c) to each pattern's blob nearest the mean beam
 *    (of the strong ones); each pattern then takes its blob nearest that surface, and the
 *    surface is fitted again. Most patterns must agree with it, or the disk of step 2 was
 *    not the direct beam.
 * 5. The radius, from the sample patterns averaged with their beams brought to the same
 *    pixel by the fitted positions (the plain mean pattern's disk is widened by the
 *    descan itself).
 *
 * Positions are in detector pixels, (y, x), origin at the centre of pixel (0, 0): the
 * centre of mass of pixel values at their pixel centres is already in that frame.
 */
#include "lcae/stats.h"

#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>

#include "beam_internal.h"

/* Batches of about 4 MiB of float32 per thread (as src/stats/stats.c). */
#define BATCH_BYTES (4 << 20)
/* Blobs kept per pattern for step 4. Three cover the beam plus the two brightest
 * rivals inside the window (Bragg spots of a thick crystal, or noise at low dose). */
#define NCAND 3
/* The radial profile: bins of 0.25 px, each pixel split into 4 x 4 sub-pixels so that
 * the bins near the centre are not empty. */
#define PSTEP 0.25
#define PSUB 4
/* The centre-of-mass disk is the beam radius plus 1.5 px (the disk's antialiased edge and
 * the detector blur), the background ring around it 2 px wide. */
#define COM_MARGIN 1.5
#define RING 2.0
#define COM_ROUNDS 30
#define COM_TOL 1e-3
/* A pixel of the mean pattern is hot if it is 5 times as bright as each of its
 * neighbours and steady (mean^2 > variance over the sample: a random count is not). */
#define HOT_RATIO 5.0
/* The search window: 3 beam radii plus an eighth of the detector (the largest descan
 * expected) about the mean beam, in each direction. */
#define WINDOW_RADII 3.0
#define WINDOW_DESCAN 0.125
/* The mean beam's plateau above the median pixel must be this many times the level just
 * outside its edge above the median, or there is no beam disk. A saturated beam with a
 * bright halo (the real Merlin and NanoMegas files) has about 3. */
#define CONTRAST 1.5
/* A beam spans more than one pixel: a lone bright pixel gives a half-level radius of
 * about 0.5 px (hot or noisy pixels that the hot-pixel test let through), the
 * simulator's beam binned to a 32 x 32 detector 0.84 px. */
#define MIN_RADIUS 0.6
/* Step 4 starts from the blob nearest the mean beam among those at least a tenth as
 * strong as the pattern's brightest (noise blobs at low dose are weaker still). */
#define PICK_FLOOR 0.1
/* Step 4: at least half the patterns with a blob must be inliers of the surface, and
 * their scatter about it under max(1 px, half a radius), or the disk of step 2 is not in
 * every pattern at one place (a Bragg spot of one grain, a beam stop). */
#define MIN_INLIERS 0.5

typedef struct {
    float y, x, s; /* s: strength (background-subtracted sum over the disk); 0: none */
} beam_cand;

typedef struct {
    float *buf;   /* batch * px */
    double *acc;  /* step 1: px sums; step 5: aligned window sums */
    double *acc2; /* step 1: px sums of squares; step 5: aligned window counts */
    double *ii;   /* step 3: (wh + 1) * (ww + 1) integral image of the window */
    float *resp;  /* step 3: wh * ww box-filter response */
} worker;

typedef struct {
    lcae_dataset *ds;
    const char *path;
    int64_t h, w, px, count;
    uint8_t *hot;     /* px: 1 for a hot pixel */
    int64_t *hot_at;  /* the hot pixels' indices */
    int64_t nhot;
    double r;         /* beam radius for the search, px */
    int box;          /* half side of the box filter: a square of the disk's area */
    int64_t wy0, wy1, wx0, wx1; /* search window, inclusive */
    beam_cand *cand;  /* count * NCAND */
    int64_t nsample;
    const float *fitted; /* step 5 */
    int64_t arad;        /* step 5: half side of the aligned window */
    /* the parallel driver */
    int64_t batch;
    int sample_jobs; /* jobs are sample patterns (one each), not batches */
    const lcae_progress *progress;
} beam_ctx;

static int64_t min64(int64_t a, int64_t b) { return a < b ? a : b; }
static int64_t max64(int64_t a, int64_t b) { return a > b ? a : b; }

/* Sample pattern k of n: the middle of the k-th of n equal stretches of the scan
 * (count <= 2^36 and n <= 2^20: no overflow). */
static int64_t sample_index(const beam_ctx *c, int64_t k)
{
    return (2 * k + 1) * c->count / (2 * c->nsample);
}

/* ---- the parallel driver -------------------------------------------------------- */
typedef struct {
    beam_ctx *c;
    worker *ws;
    int (*fn)(beam_ctx *, worker *, int64_t, int64_t);
} beam_pass;

/* Job j: sample pattern j, or batch j of the scan, read into the thread's buffer. */
static int beam_job(void *ctx, int thread, int64_t j, int64_t *patterns)
{
    beam_pass *bp = ctx;
    beam_ctx *c = bp->c;
    worker *w = &bp->ws[thread];
    int64_t first = c->sample_jobs ? sample_index(c, j) : j * c->batch;
    int64_t n = c->sample_jobs ? 1 : min64(c->batch, c->count - first);
    *patterns = n;
    int rc = lcae_dataset_read(c->ds, first, n, w->buf);
    return rc ? rc : bp->fn(c, w, first, n);
}

static int run_jobs(beam_ctx *c, worker *ws, int nthreads, const char *what, int64_t njobs,
                    int (*fn)(beam_ctx *, worker *, int64_t, int64_t))
{
    beam_pass bp = {c, ws, fn};
    return lcae_parallel_jobs(nthreads, njobs, c->sample_jobs ? njobs : c->count, what,
                              c->progress, beam_job, &bp);
}

/* ---- image helpers ----------------------------------------------------------------- */
/* NaN and Inf count as 0; hot pixels take the mean of their other neighbours. */
static void clean_pattern(const beam_ctx *c, float *x)
{
    for (int64_t j = 0; j < c->px; j++)
        if (!isfinite(x[j]))
            x[j] = 0;
    for (int64_t k = 0; k < c->nhot; k++) {
        int64_t j = c->hot_at[k], y = j / c->w, xx = j % c->w;
        double s = 0;
        int n = 0;
        for (int64_t a = max64(y - 1, 0); a <= min64(y + 1, c->h - 1); a++)
            for (int64_t b = max64(xx - 1, 0); b <= min64(xx + 1, c->w - 1); b++)
                if (!c->hot[a * c->w + b]) {
                    s += x[a * c->w + b];
                    n++;
                }
        x[j] = n ? (float)(s / n) : 0;
    }
}

/* Centre of mass of img - b over the disk of radius R about (*cy, *cx), b the mean of
 * the ring R..R+RING around it (so that a flat background pulls no way), iterated from
 * the new centre until it moves less than COM_TOL. NaN pixels (outside the aligned mean
 * of step 5) are skipped. Returns 0 and the strength sum(img - b) over the disk, or -1
 * if that is not positive or the centre leaves the image. */
static int com_refine(const float *img, int64_t h, int64_t w, double R, double *cy,
                      double *cx, double *strength)
{
    double y = *cy, x = *cx, s = 0, R2 = R * R, O2 = (R + RING) * (R + RING);
    for (int it = 0; it < COM_ROUNDS; it++) {
        int64_t y0 = max64((int64_t)floor(y - R - RING), 0),
                y1 = min64((int64_t)ceil(y + R + RING), h - 1),
                x0 = max64((int64_t)floor(x - R - RING), 0),
                x1 = min64((int64_t)ceil(x + R + RING), w - 1);
        double sv = 0, sy = 0, sx = 0, n = 0, ssy = 0, ssx = 0, bs = 0, bn = 0;
        for (int64_t i = y0; i <= y1; i++)
            for (int64_t j = x0; j <= x1; j++) {
                double v = img[i * w + j], d2 = (i - y) * (i - y) + (j - x) * (j - x);
                if (isnan(v) || d2 > O2)
                    continue;
                if (d2 <= R2) {
                    sv += v;
                    sy += v * (double)i;
                    sx += v * (double)j;
                    ssy += (double)i;
                    ssx += (double)j;
                    n++;
                } else {
                    bs += v;
                    bn++;
                }
            }
        double b = bn > 0 ? bs / bn : 0;
        s = sv - b * n;
        if (!(s > 0))
            return -1;
        double ny = (sy - b * ssy) / s, nx = (sx - b * ssx) / s;
        if (!(ny >= -0.5 && ny <= h - 0.5 && nx >= -0.5 && nx <= w - 0.5))
            return -1;
        int settled = fabs(ny - y) < COM_TOL && fabs(nx - x) < COM_TOL;
        y = ny;
        x = nx;
        if (settled)
            break;
    }
    *cy = y;
    *cx = x;
    *strength = s;
    return 0;
}

/* Azimuthal mean profile of img about (cy, cx) out to nb bins of PSTEP px: P[k] is the
 * mean of the sub-pixels whose distance falls in [k, k + 1) PSTEP (NaN if none). */
static void profile(const float *img, int64_t h, int64_t w, double cy, double cx, int nb,
                    double *P, double *N)
{
    double rmax = nb * PSTEP;
    for (int k = 0; k < nb; k++)
        P[k] = N[k] = 0;
    int64_t y0 = max64((int64_t)floor(cy - rmax - 1), 0),
            y1 = min64((int64_t)ceil(cy + rmax + 1), h - 1),
            x0 = max64((int64_t)floor(cx - rmax - 1), 0),
            x1 = min64((int64_t)ceil(cx + rmax + 1), w - 1);
    for (int64_t i = y0; i <= y1; i++)
        for (int64_t j = x0; j <= x1; j++) {
            double v = img[i * w + j];
            if (isnan(v))
                continue;
            for (int a = 0; a < PSUB; a++)
                for (int b = 0; b < PSUB; b++) {
                    double dy = (double)i + (a + 0.5) / PSUB - 0.5 - cy,
                           dx = (double)j + (b + 0.5) / PSUB - 0.5 - cx;
                    int k = (int)(sqrt(dy * dy + dx * dx) / PSTEP);
                    if (k < nb) {
                        P[k] += v;
                        N[k]++;
                    }
                }
        }
    for (int k = 0; k < nb; k++)
        P[k] = N[k] > 0 ? P[k] / N[k] : NAN;
}

/* Mean of P over the bins [a, b) px that have values (NaN if none). */
static double band(const double *P, int nb, double a, double b)
{
    double s = 0;
    int n = 0;
    for (int k = (int)(a / PSTEP); k < nb && k * PSTEP < b; k++)
        if (k >= 0 && !isnan(P[k])) {
            s += P[k];
            n++;
        }
    return n ? s / n : NAN;
}

/* Where the profile falls most steeply: the bin boundary with the largest drop between
 * the means of the half pixel before and the half pixel after it. The edge of a disk,
 * even a saturated one in a bright halo; 0 if the profile never falls. */
static double edge_radius(const double *P, int nb)
{
    int half = (int)(0.5 / PSTEP);
    double best = 0, r = 0;
    for (int k = half; k + half < nb; k++) {
        double d = band(P, nb, (k + 1 - half) * PSTEP, (k + 1) * PSTEP) -
                   band(P, nb, (k + 1) * PSTEP, (k + 1 + half) * PSTEP);
        if (d > best) {
            best = d;
            r = (k + 1) * PSTEP;
        }
    }
    return r;
}

/* The plateau inside the edge re (the profile within max(0.5, re / 2) px of the centre),
 * the level just outside it (re + 1 to re + 1 + max(2, re / 2) px), and the radius
 * where the profile crosses halfway between the two, interpolated between bin centres
 * (a disk's edge blurred symmetrically crosses there at its radius). */
static double half_radius(const double *P, int nb, double re, double *in, double *out)
{
    *in = band(P, nb, 0, fmax(0.5, re / 2));
    *out = band(P, nb, re + 1, re + 1 + fmax(2, re / 2));
    double level = (*in + *out) / 2, prev = NAN;
    int kprev = -1;
    for (int k = (int)(re / 2 / PSTEP); k < nb; k++) {
        if (isnan(P[k]))
            continue;
        if (kprev >= 0 && prev >= level && P[k] < level) {
            double t = (prev - level) / (prev - P[k]);
            return ((kprev + 0.5) + t * (k - kprev)) * PSTEP;
        }
        prev = P[k];
        kprev = k;
    }
    return re;
}

/* Separable Gaussian of sd 1 px, truncated at 3 sd, weights renormalised at the edges. */
static void smooth(const float *m, int64_t h, int64_t w, float *tmp, float *out)
{
    double g[7];
    for (int k = -3; k <= 3; k++)
        g[k + 3] = exp(-0.5 * k * k);
    for (int pass = 0; pass < 2; pass++) {
        const float *src = pass ? tmp : m;
        float *dst = pass ? out : tmp;
        for (int64_t i = 0; i < h; i++)
            for (int64_t j = 0; j < w; j++) {
                double s = 0, n = 0;
                for (int k = -3; k <= 3; k++) {
                    int64_t a = pass ? i + k : i, b = pass ? j : j + k;
                    if (a >= 0 && a < h && b >= 0 && b < w) {
                        s += g[k + 3] * src[a * w + b];
                        n += g[k + 3];
                    }
                }
                dst[i * w + j] = (float)(s / n);
            }
    }
}

/* ---- step 1: the sample's mean pattern ------------------------------------------- */
static int sample_job(beam_ctx *c, worker *w, int64_t first, int64_t n)
{
    (void)first;
    (void)n;
    for (int64_t j = 0; j < c->px; j++) {
        double v = isfinite(w->buf[j]) ? w->buf[j] : 0;
        w->acc[j] += v;
        w->acc2[j] += v * v;
    }
    return LCAE_OK;
}

/* ---- step 2: the beam in the mean pattern ----------------------------------------- */
/* Hot pixels of the mean m (var: per-pixel variance over the sample); they are replaced
 * in m as in every pattern. */
static int find_hot(beam_ctx *c, float *m, const double *var)
{
    int64_t h = c->h, w = c->w;
    c->hot = lcae_calloc((size_t)c->px, 1);
    if (!c->hot)
        return LCAE_ENOMEM;
    for (int64_t i = 0; i < h; i++)
        for (int64_t j = 0; j < w; j++) {
            double v = m[i * w + j], nb = 0;
            for (int64_t a = max64(i - 1, 0); a <= min64(i + 1, h - 1); a++)
                for (int64_t b = max64(j - 1, 0); b <= min64(j + 1, w - 1); b++)
                    if (a != i || b != j)
                        nb = fmax(nb, m[a * w + b]);
            if (v > 0 && v > HOT_RATIO * nb && v * v > var[i * w + j]) {
                c->hot[i * w + j] = 1;
                c->nhot++;
            }
        }
    if (c->nhot && !(c->hot_at = lcae_malloc((size_t)c->nhot * sizeof *c->hot_at)))
        return LCAE_ENOMEM;
    for (int64_t j = 0, k = 0; j < c->px; j++)
        if (c->hot[j])
            c->hot_at[k++] = j;
    clean_pattern(c, m);
    return LCAE_OK;
}

static const char *no_beam_hint = "a beam stop? --center none skips beam centring";

static int mean_beam(beam_ctx *c, float *m, int radius_px, lcae_beam *out)
{
    int64_t h = c->h, w = c->w;
    int nb = (int)(fmax(4, (double)min64(h, w) / 4) / PSTEP);
    float *g = lcae_malloc((size_t)c->px * sizeof *g);
    float *tmp = lcae_malloc((size_t)c->px * sizeof *tmp);
    double *P = lcae_malloc((size_t)nb * sizeof *P), *N = lcae_malloc((size_t)nb * sizeof *N);
    int rc = LCAE_ENOMEM;
    if (!g || !tmp || !P || !N)
        goto done;
    double bg;
    lcae_percentiles_f32(m, c->px, 1, (const double[]){0.5}, &bg, NULL);
    smooth(m, h, w, tmp, g);
    int64_t at = 0;
    for (int64_t j = 1; j < c->px; j++)
        if (g[j] > g[at])
            at = j;
    rc = LCAE_EFAIL;
    if (!(g[at] > bg)) {
        lcae_fail(rc, "%s: no direct beam: the mean pattern of %lld patterns is flat "
                  "(expected a bright disk, found no pixel above the median %.4g); %s",
                  c->path, (long long)c->nsample, bg, no_beam_hint);
        goto done;
    }
    double cy = (double)(at / w), cx = (double)(at % w), re = radius_px, s;
    for (int it = 0; it < 20; it++) {
        if (!radius_px) {
            profile(m, h, w, cy, cx, nb, P, N);
            re = edge_radius(P, nb);
            if (re <= 0)
                break;
        }
        double py = cy, px = cx;
        if (com_refine(m, h, w, re + COM_MARGIN, &cy, &cx, &s))
            break;
        if (fabs(cy - py) < 0.01 && fabs(cx - px) < 0.01)
            break;
    }
    double in = NAN, outside = NAN; /* no disk edge (re <= 0): not measured */
    profile(m, h, w, cy, cx, nb, P, N);
    if (!radius_px)
        re = edge_radius(P, nb);
    double r = re > 0 ? half_radius(P, nb, re, &in, &outside) : 0;
    if (!(re > 0 && in - bg > CONTRAST * (outside - bg))) {
        lcae_fail(rc, "%s: no direct beam: the mean pattern of %lld patterns has no disk "
                  "brighter than its surroundings (expected a level %g times that around "
                  "it above the median %.4g, found %.4g inside and %.4g around the "
                  "brightest spot, at (%.1f, %.1f)); %s", c->path, (long long)c->nsample,
                  CONTRAST, bg, in, outside, cy, cx, no_beam_hint);
        goto done;
    }
    if (!radius_px && r < MIN_RADIUS) {
        lcae_fail(rc, "%s: no direct beam: the brightest spot of the mean pattern of %lld "
                  "patterns, at (%.1f, %.1f), is a single pixel (expected a disk of more than "
                  "%g px radius, found %.2g px: a hot or noisy pixel); %s", c->path,
                  (long long)c->nsample, cy, cx, MIN_RADIUS, r, no_beam_hint);
        goto done;
    }
    c->r = radius_px ? radius_px : r;
    out->mean_beam[0] = cy;
    out->mean_beam[1] = cx;
    rc = LCAE_OK;
done:
    free(g);
    free(tmp);
    free(P);
    free(N);
    return rc;
}

/* ---- step 3: the blobs of each pattern --------------------------------------------- */
/* The NCAND brightest maxima of the box-filtered window, at least 2 radii + 1 px apart,
 * each refined by the centre of mass; sorted by strength, zero strength where none. */
static void find_blobs(const beam_ctx *c, worker *wk, const float *x, beam_cand *out)
{
    int64_t wh = c->wy1 - c->wy0 + 1, ww = c->wx1 - c->wx0 + 1, w = c->w;
    double *ii = wk->ii, top = 0;
    float *resp = wk->resp;
    memset(out, 0, NCAND * sizeof *out);
    for (int64_t j = 0; j <= ww; j++)
        ii[j] = 0;
    for (int64_t i = 0; i < wh; i++) {
        const float *row = x + (c->wy0 + i) * w + c->wx0;
        double run = 0;
        ii[(i + 1) * (ww + 1)] = 0;
        for (int64_t j = 0; j < ww; j++) {
            run += row[j];
            top = fmax(top, row[j]);
            ii[(i + 1) * (ww + 1) + j + 1] = ii[i * (ww + 1) + j + 1] + run;
        }
    }
    if (!(top > 0))
        return; /* nothing near the beam: an empty (all-zero) pattern */
    int k = c->box;
    for (int64_t i = 0; i < wh; i++)
        for (int64_t j = 0; j < ww; j++) {
            int64_t a = max64(i - k, 0), b = min64(i + k, wh - 1) + 1, l = max64(j - k, 0),
                    r = min64(j + k, ww - 1) + 1;
            resp[i * ww + j] = (float)(ii[b * (ww + 1) + r] - ii[a * (ww + 1) + r] -
                                       ii[b * (ww + 1) + l] + ii[a * (ww + 1) + l]);
        }
    double sup = 2 * c->r + 1, R = c->r + COM_MARGIN;
    int found = 0;
    for (int q = 0; q < NCAND; q++) {
        int64_t best = 0;
        for (int64_t j = 1; j < wh * ww; j++)
            if (resp[j] > resp[best])
                best = j;
        if (!(resp[best] > 0))
            break;
        int64_t bi = best / ww, bj = best % ww, s = (int64_t)ceil(sup);
        for (int64_t i = max64(bi - s, 0); i <= min64(bi + s, wh - 1); i++)
            for (int64_t j = max64(bj - s, 0); j <= min64(bj + s, ww - 1); j++)
                if ((double)((i - bi) * (i - bi) + (j - bj) * (j - bj)) <= sup * sup)
                    resp[i * ww + j] = -INFINITY;
        double cy = (double)(c->wy0 + bi), cx = (double)(c->wx0 + bj), st;
        if (com_refine(x, c->h, w, R, &cy, &cx, &st))
            continue;
        int dup = 0;
        for (int p = 0; p < found; p++)
            dup |= hypot(out[p].y - cy, out[p].x - cx) < 1;
        if (!dup)
            out[found++] = (beam_cand){(float)cy, (float)cx, (float)st};
    }
    for (int p = 1; p < found; p++)
        for (int q = p; q > 0 && out[q].s > out[q - 1].s; q--) {
            beam_cand t = out[q];
            out[q] = out[q - 1];
            out[q - 1] = t;
        }
}

static int find_job(beam_ctx *c, worker *w, int64_t first, int64_t n)
{
    for (int64_t b = 0; b < n; b++) {
        float *x = w->buf + b * c->px;
        clean_pattern(c, x);
        find_blobs(c, w, x, c->cand + (first + b) * NCAND);
    }
    return LCAE_OK;
}

/* ---- step 4: the surface ---------------------------------------------------------- */
static int fit_positions(beam_ctx *c, int fit, int64_t ny, int64_t nx, lcae_beam *b)
{
    int64_t n = c->count;
    uint8_t *inlier = lcae_malloc((size_t)n);
    if (!inlier)
        return LCAE_ENOMEM;
    float *pos = b->measured;
    int kind = fit == LCAE_BEAM_FIT_NONE ? LCAE_BEAM_FIT_QUADRATIC : fit;
    /* first guess: of the blobs at least PICK_FLOOR as strong as the brightest, the one
     * nearest the mean pattern's beam (the descan moves the beam by a few pixels, Bragg
     * spots sit farther away and may be brighter) */
    for (int64_t i = 0; i < n; i++) {
        const beam_cand *k = c->cand + i * NCAND;
        double best = INFINITY;
        pos[2 * i] = pos[2 * i + 1] = NAN;
        for (int q = 0; q < NCAND && k[q].s >= PICK_FLOOR * k[0].s && k[q].s > 0; q++) {
            double d = hypot(k[q].y - b->mean_beam[0], k[q].x - b->mean_beam[1]);
            if (d < best) {
                best = d;
                pos[2 * i] = k[q].y;
                pos[2 * i + 1] = k[q].x;
            }
        }
        b->not_found += !(k->s > 0);
    }
    int rc = LCAE_EFAIL;
    if (b->not_found == n) {
        lcae_fail(rc, "%s: no direct beam: none of the %lld patterns has any signal near "
                  "(%.1f, %.1f), where the mean pattern's beam is (expected a bright disk; "
                  "all-zero patterns?); %s", c->path, (long long)n, b->mean_beam[0],
                  b->mean_beam[1], no_beam_hint);
        goto done;
    }
    beam_surface s;
    if ((rc = beam_fit_robust(ny, nx, pos, kind, inlier, &s)))
        goto done;
    /* each pattern's blob nearest the first surface, then the final fit */
    for (int64_t i = 0; i < n; i++) {
        const beam_cand *k = c->cand + i * NCAND;
        if (!(k->s > 0))
            continue;
        double f[2], best = INFINITY;
        beam_surface_eval(&s, ny, nx, i / nx, i % nx, f);
        for (int q = 0; q < NCAND && k[q].s > 0; q++) {
            double d = hypot(k[q].y - f[0], k[q].x - f[1]);
            if (d < best) {
                best = d;
                pos[2 * i] = k[q].y;
                pos[2 * i + 1] = k[q].x;
            }
        }
    }
    if ((rc = beam_fit_robust(ny, nx, pos, kind, inlier, &s)))
        goto done;
    int64_t found = n - b->not_found;
    b->outliers = found - s.inliers;
    b->rms_residual = s.rms;
    b->scatter = s.scatter;
    memcpy(b->coef, s.coef, sizeof b->coef);
    rc = LCAE_EFAIL;
    double most = fmax(1, c->r / 2);
    if ((double)s.inliers < MIN_INLIERS * (double)found || s.scatter > most) {
        lcae_fail(rc, "%s: no direct beam: the disk of the mean pattern at (%.1f, %.1f) is "
                  "not at one place in most patterns (expected at least half the patterns "
                  "on a smooth surface with a scatter under %.2g px, found %lld of %lld with "
                  "a scatter of %.2g px); %s", c->path, b->mean_beam[0], b->mean_beam[1],
                  most, (long long)s.inliers, (long long)found, s.scatter, no_beam_hint);
        goto done;
    }
    if (fit == LCAE_BEAM_FIT_NONE) {
        memcpy(b->fitted, pos, (size_t)n * 2 * sizeof *pos);
        rc = beam_fill_gaps(ny, nx, b->fitted, inlier);
    } else {
        for (int64_t i = 0; i < n; i++) {
            double f[2];
            beam_surface_eval(&s, ny, nx, i / nx, i % nx, f);
            b->fitted[2 * i] = (float)f[0];
            b->fitted[2 * i + 1] = (float)f[1];
        }
        rc = LCAE_OK;
    }
done:
    free(inlier);
    return rc;
}

/* ---- step 5: the radius from the aligned sample ---------------------------------- */
static int align_job(beam_ctx *c, worker *w, int64_t first, int64_t n)
{
    (void)n;
    int64_t side = 2 * c->arad + 1;
    int64_t iy = (int64_t)lround(c->fitted[2 * first]),
            ix = (int64_t)lround(c->fitted[2 * first + 1]);
    clean_pattern(c, w->buf);
    for (int64_t a = -c->arad; a <= c->arad; a++)
        for (int64_t b = -c->arad; b <= c->arad; b++) {
            int64_t y = iy + a, x = ix + b;
            if (y < 0 || y >= c->h || x < 0 || x >= c->w)
                continue;
            w->acc[(a + c->arad) * side + b + c->arad] += w->buf[y * c->w + x];
            w->acc2[(a + c->arad) * side + b + c->arad] += 1;
        }
    return LCAE_OK;
}

static int aligned_radius(beam_ctx *c, worker *ws, int nthreads, double *radius)
{
    int64_t side = 2 * c->arad + 1, n = side * side;
    int nb = (int)((double)c->arad / PSTEP);
    float *img = lcae_malloc((size_t)n * sizeof *img);
    double *P = lcae_malloc((size_t)nb * sizeof *P), *N = lcae_malloc((size_t)nb * sizeof *N);
    int rc = LCAE_ENOMEM;
    if (!img || !P || !N)
        goto done;
    for (int t = 0; t < nthreads; t++) {
        memset(ws[t].acc, 0, (size_t)n * sizeof(double));
        memset(ws[t].acc2, 0, (size_t)n * sizeof(double));
    }
    c->sample_jobs = 1;
    if ((rc = run_jobs(c, ws, nthreads, "beam radius", c->nsample, align_job)))
        goto done;
    for (int64_t j = 0; j < n; j++) {
        double s = 0, k = 0;
        for (int t = 0; t < nthreads; t++) {
            s += ws[t].acc[j];
            k += ws[t].acc2[j];
        }
        img[j] = k > 0 ? (float)(s / k) : NAN;
    }
    /* the beams sit within half a pixel of the window's centre; the centre of mass finds
     * their mean place, the profile about it the edge and the half-level radius */
    double cy = (double)c->arad, cx = cy, s, in, out;
    if (!com_refine(img, side, side, c->r + COM_MARGIN, &cy, &cx, &s)) {
        profile(img, side, side, cy, cx, nb, P, N);
        double re = edge_radius(P, nb);
        if (re > 0)
            *radius = half_radius(P, nb, re, &in, &out);
    }
    rc = LCAE_OK;
done:
    free(img);
    free(P);
    free(N);
    return rc;
}

/* ---- the whole ---------------------------------------------------------------------- */
void lcae_beam_free(lcae_beam *b)
{
    if (!b)
        return;
    free(b->measured);
    free(b->fitted);
    b->measured = b->fitted = NULL;
}

static void free_workers(worker *ws, int n)
{
    for (int t = 0; ws && t < n; t++) {
        free(ws[t].buf);
        free(ws[t].acc);
        free(ws[t].acc2);
        free(ws[t].ii);
        free(ws[t].resp);
    }
    free(ws);
}

int lcae_beam_compute(lcae_dataset *ds, const lcae_beam_options *opt_in,
                      const lcae_progress *progress, lcae_beam *out)
{
    lcae_beam_options opt = {0};
    if (opt_in)
        opt = *opt_in;
    memset(out, 0, sizeof *out);
    const lcae_dataset_info *in = lcae_dataset_get_info(ds);
    beam_ctx c = {.ds = ds, .path = lcae_dataset_path(ds), .h = in->h, .w = in->w,
                  .px = in->h * in->w, .count = in->count, .progress = progress};
    if (!opt.sample)
        opt.sample = LCAE_BEAM_DEFAULT_SAMPLE;
    int64_t S = opt.sample;
    if (lcae_options_check(lcae_beam_option_table, &opt))
        return LCAE_EUSAGE;
    if (opt.radius_px > min64(in->h, in->w) / 4)
        return lcae_fail(LCAE_EUSAGE, "beam radius: expected 0 (estimated) to a quarter of "
                         "the detector (%lld px), found %d", (long long)min64(in->h, in->w) / 4,
                         opt.radius_px);
    if (in->h < 4 || in->w < 4)
        return lcae_fail(LCAE_EFAIL, "%s: detector too small to find the beam (expected at "
                         "least 4 x 4 pixels, found %lld x %lld)", c.path, (long long)in->h,
                         (long long)in->w);
    c.nsample = min64(S, in->count);
    out->ny = in->ny;
    out->nx = in->nx;
    out->h = in->h;
    out->w = in->w;
    out->fit = opt.fit;
    out->sample = c.nsample;
    int nthreads = omp_get_max_threads();
    c.batch = max64(1, min64(BATCH_BYTES / (c.px * 4),
                             (in->count + 4 * nthreads - 1) / (4 * nthreads)));

    int rc = LCAE_ENOMEM;
    float *m = NULL;
    worker *ws = lcae_calloc((size_t)nthreads, sizeof *ws);
    if (!ws)
        goto done;
    for (int t = 0; t < nthreads; t++)
        if (!(ws[t].buf = lcae_malloc((size_t)(c.batch * c.px) * sizeof(float))) ||
            !(ws[t].acc = lcae_calloc((size_t)c.px, sizeof(double))) ||
            !(ws[t].acc2 = lcae_calloc((size_t)c.px, sizeof(double))))
            goto done;

    /* 1 */
    c.sample_jobs = 1;
    if ((rc = run_jobs(&c, ws, nthreads, "beam: mean pattern", c.nsample, sample_job)))
        goto done;
    rc = LCAE_ENOMEM;
    m = lcae_malloc((size_t)c.px * sizeof *m);
    double *var = ws[0].acc2; /* overwritten in place: sums of squares become variances */
    if (!m)
        goto done;
    for (int64_t j = 0; j < c.px; j++) {
        double s = 0, s2 = 0;
        for (int t = 0; t < nthreads; t++) {
            s += ws[t].acc[j];
            s2 += ws[t].acc2[j];
        }
        double mean = s / (double)c.nsample;
        m[j] = (float)mean;
        var[j] = s2 / (double)c.nsample - mean * mean;
    }
    /* 2 */
    if ((rc = find_hot(&c, m, var)) || (rc = mean_beam(&c, m, opt.radius_px, out)))
        goto done;
    /* 3 */
    double reach = WINDOW_RADII * c.r + WINDOW_DESCAN * (double)max64(in->h, in->w);
    c.wy0 = max64((int64_t)floor(out->mean_beam[0] - reach), 0);
    c.wy1 = min64((int64_t)ceil(out->mean_beam[0] + reach), in->h - 1);
    c.wx0 = max64((int64_t)floor(out->mean_beam[1] - reach), 0);
    c.wx1 = min64((int64_t)ceil(out->mean_beam[1] + reach), in->w - 1);
    /* a square of the disk's area, sqrt(pi) r on a side */
    c.box = (int)fmax(1, floor(0.886 * c.r));
    int64_t wh = c.wy1 - c.wy0 + 1, ww = c.wx1 - c.wx0 + 1;
    rc = LCAE_ENOMEM;
    c.cand = lcae_malloc((size_t)(in->count * NCAND) * sizeof *c.cand);
    out->measured = lcae_malloc((size_t)in->count * 2 * sizeof(float));
    out->fitted = lcae_malloc((size_t)in->count * 2 * sizeof(float));
    if (!c.cand || !out->measured || !out->fitted)
        goto done;
    for (int t = 0; t < nthreads; t++)
        if (!(ws[t].ii = lcae_malloc((size_t)((wh + 1) * (ww + 1)) * sizeof(double))) ||
            !(ws[t].resp = lcae_malloc((size_t)(wh * ww) * sizeof(float))))
            goto done;
    c.sample_jobs = 0;
    if ((rc = run_jobs(&c, ws, nthreads, "beam centre", (in->count + c.batch - 1) / c.batch,
                       find_job)))
        goto done;
    /* 4 */
    if ((rc = fit_positions(&c, opt.fit, in->ny, in->nx, out)))
        goto done;
    /* 5 */
    out->radius = c.r;
    if (!opt.radius_px) {
        c.fitted = out->fitted;
        c.arad = (int64_t)ceil(3 * c.r) + 3;
        rc = LCAE_ENOMEM;
        int64_t side = 2 * c.arad + 1;
        for (int t = 0; t < nthreads; t++) {
            free(ws[t].acc);
            free(ws[t].acc2);
            ws[t].acc2 = NULL;
            if (!(ws[t].acc = lcae_malloc((size_t)(side * side) * sizeof(double))) ||
                !(ws[t].acc2 = lcae_malloc((size_t)(side * side) * sizeof(double))))
                goto done;
        }
        if ((rc = aligned_radius(&c, ws, nthreads, &out->radius)))
            goto done;
    }
    rc = LCAE_OK;
done:
    if (rc)
        lcae_beam_free(out);
    free_workers(ws, nthreads);
    free(m);
    free(c.hot);
    free(c.hot_at);
    free(c.cand);
    return rc;
}
