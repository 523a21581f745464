/* The polar transform and its angular Fourier magnitudes (include/lcae/features.h).
 * Sampling is a table of four pixel indices and four bilinear weights per polar point;
 * the Fourier sums of a group of patterns are one matrix product of their polar samples
 * (rows: pattern and radius; columns: angle) with a table of cos(k theta), sin(k theta). */
#include "lcae/features.h"

#include <cblas.h>
#include <math.h>
#include <omp.h>
#include <stdlib.h>

#define PI 3.14159265358979323846
/* patterns per matrix product (and per thread's share of a call) */
#define GROUP 16

struct lcae_polar_plan {
    lcae_polar_params p;
    int size, nr, nk, dims;
    int32_t *idx;  /* (nr * n_theta, 4): pixels (y0, x0), (y0, x1), (y1, x0), (y1, x1) */
    float *wt;     /* (nr * n_theta, 4): their bilinear weights */
    float *basis;  /* (n_theta, 2 nk): cos(k theta_t), sin(k theta_t) */
};

int lcae_polar_plan_create(int size, const lcae_polar_params *in, lcae_polar_plan **out)
{
    *out = NULL;
    lcae_polar_params p = *in;
    if (size < 1 || (int64_t)size * size > INT32_MAX)
        return lcae_fail(LCAE_EUSAGE, "polar features: patterns of %d x %d pixels (expected "
                         "1 to 46340 a side)", size, size);
    if (p.r0 < 0)
        p.r0 = 3 * size / 32;
    if (p.r1 < 0)
        p.r1 = size / 2 - 2;
    if (p.orders < 0)
        p.orders = 6;
    if (p.r1 < p.r0 || 2.0 * p.r1 > size - 1)
        return lcae_fail(LCAE_EUSAGE, "polar features: radii %d to %d do not fit %d x %d "
                         "patterns (expected 0 <= r0 <= r1 <= %d, the largest radius whose "
                         "ring stays inside the frame)", p.r0, p.r1, size, size,
                         (size - 1) / 2);
    if (p.orders > 1000)
        return lcae_fail(LCAE_EUSAGE, "polar features: orders: expected at most 1000, "
                         "found %d", p.orders);
    if (p.n_theta == 0) {
        int n = (int)ceil(2 * PI * p.r1 / 8) * 8;
        n = n < 8 ? 8 : n;
        while (n <= 2 * p.orders)
            n += 8;
        p.n_theta = n;
    }
    if (p.n_theta <= 2 * p.orders || p.n_theta > 65536)
        return lcae_fail(LCAE_EUSAGE, "polar features: %d angles cannot resolve order %d "
                         "(expected %d to 65536 angles)", p.n_theta, p.orders,
                         2 * p.orders + 1);
    lcae_polar_plan *pl = lcae_calloc(1, sizeof *pl);
    if (!pl)
        return LCAE_ENOMEM;
    pl->p = p;
    pl->size = size;
    pl->nr = p.r1 - p.r0 + 1;
    pl->nk = p.orders + 1;
    pl->dims = pl->nr * pl->nk;
    size_t pts = (size_t)pl->nr * (size_t)p.n_theta;
    pl->idx = lcae_malloc(pts * 4 * sizeof *pl->idx);
    pl->wt = lcae_malloc(pts * 4 * sizeof *pl->wt);
    pl->basis = lcae_malloc((size_t)p.n_theta * 2 * (size_t)pl->nk * sizeof *pl->basis);
    if (!pl->idx || !pl->wt || !pl->basis) {
        lcae_polar_plan_free(pl);
        return LCAE_ENOMEM;
    }
    double c = (size - 1) / 2.0;
    for (int r = 0; r < pl->nr; r++)
        for (int t = 0; t < p.n_theta; t++) {
            double th = 2 * PI * t / p.n_theta, rad = p.r0 + r;
            double y = c + rad * sin(th), x = c + rad * cos(th);
            /* inside [0, size - 1] by the radius check; the far neighbour of a point on
             * the last row or column has weight 0 and is clamped onto the frame */
            int y0 = (int)floor(y), x0 = (int)floor(x);
            double fy = y - y0, fx = x - x0;
            int y1 = y0 + 1 < size ? y0 + 1 : y0, x1 = x0 + 1 < size ? x0 + 1 : x0;
            size_t s = ((size_t)r * (size_t)p.n_theta + (size_t)t) * 4;
            pl->idx[s] = y0 * size + x0;
            pl->idx[s + 1] = y0 * size + x1;
            pl->idx[s + 2] = y1 * size + x0;
            pl->idx[s + 3] = y1 * size + x1;
            pl->wt[s] = (float)((1 - fy) * (1 - fx));
            pl->wt[s + 1] = (float)((1 - fy) * fx);
            pl->wt[s + 2] = (float)(fy * (1 - fx));
            pl->wt[s + 3] = (float)(fy * fx);
        }
    for (int t = 0; t < p.n_theta; t++)
        for (int k = 0; k < pl->nk; k++) {
            /* k t reduced mod n_theta first: the angle stays in [0, 2 pi) exactly */
            double a = 2 * PI * (double)(((int64_t)k * t) % p.n_theta) / p.n_theta;
            pl->basis[(size_t)t * 2 * pl->nk + 2 * k] = (float)cos(a);
            pl->basis[(size_t)t * 2 * pl->nk + 2 * k + 1] = (float)sin(a);
        }
    /* one-threaded products inside lcae's own OpenMP regions (as src/nn does) */
    openblas_set_num_threads(1);
    *out = pl;
    return LCAE_OK;
}

void lcae_polar_plan_free(lcae_polar_plan *pl)
{
    if (!pl)
        return;
    free(pl->idx);
    free(pl->wt);
    free(pl->basis);
    free(pl);
}

const lcae_polar_params *lcae_polar_plan_params(const lcae_polar_plan *pl) { return &pl->p; }

int lcae_polar_plan_dims(const lcae_polar_plan *pl) { return pl->dims; }

/* n <= GROUP patterns; samples (n nr, n_theta) and sums (n nr, 2 nk) are scratch. */
static void polar_group(const lcae_polar_plan *pl, const float *patterns, int n,
                        float *samples, float *sums, float *out)
{
    int nt = pl->p.n_theta, nk = pl->nk, S = pl->size * pl->size;
    size_t pts = (size_t)pl->nr * (size_t)nt;
    for (int i = 0; i < n; i++) {
        const float *img = patterns + (size_t)i * (size_t)S;
        float *s = samples + (size_t)i * pts;
        for (size_t j = 0; j < pts; j++) {
            const int32_t *ix = pl->idx + 4 * j;
            const float *w = pl->wt + 4 * j;
            s[j] = w[0] * img[ix[0]] + w[1] * img[ix[1]] + w[2] * img[ix[2]] +
                   w[3] * img[ix[3]];
        }
    }
    int rows = n * pl->nr;
    /* One product per pattern, never one over the group: sgemm's kernels round a row
     * differently by its place in M, so a pattern's bits would depend on which group (and,
     * under MPI, which rank's range) it fell in; with M = nr always they do not. */
    for (int i = 0; i < n; i++)
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, pl->nr, 2 * nk, nt, 1.0f,
                    samples + (size_t)i * pts, nt, pl->basis, 2 * nk, 0.0f,
                    sums + (size_t)i * (size_t)pl->nr * 2 * (size_t)nk, 2 * nk);
    float inv = 1.0f / (float)nt;
    for (int q = 0; q < rows; q++) {
        const float *f = sums + (size_t)q * 2 * (size_t)nk;
        float *o = out + (size_t)q * (size_t)nk;
        o[0] = f[0] * inv; /* the ring mean, signed (see the header) */
        for (int k = 1; k < nk; k++)
            o[k] = hypotf(f[2 * k], f[2 * k + 1]) * inv;
    }
}

int lcae_polar_apply(const lcae_polar_plan *pl, const float *patterns, int n, float *out)
{
    int groups = (n + GROUP - 1) / GROUP;
    int threads = groups > 1 ? omp_get_max_threads() : 1;
    threads = threads > groups ? groups : threads;
    size_t pts = (size_t)pl->nr * (size_t)pl->p.n_theta;
    size_t per = GROUP * (pts + (size_t)pl->nr * 2 * (size_t)pl->nk);
    float *scratch = lcae_malloc((size_t)(threads ? threads : 1) * per * sizeof *scratch);
    if (!scratch)
        return LCAE_ENOMEM;
#pragma omp parallel for num_threads(threads) schedule(static)
    for (int g = 0; g < groups; g++) {
        float *samples = scratch + (size_t)omp_get_thread_num() * per;
        int i0 = g * GROUP, m = n - i0 < GROUP ? n - i0 : GROUP;
        polar_group(pl, patterns + (size_t)i0 * (size_t)pl->size * (size_t)pl->size, m,
                    samples, samples + GROUP * pts, out + (size_t)i0 * (size_t)pl->dims);
    }
    free(scratch);
    return LCAE_OK;
}
