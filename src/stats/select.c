/* Exact percentiles by two-level radix selection (see select.h). */
#include "select.h"

#include <math.h>
#include <stdlib.h>

#include "lcae/stats.h"

static float key_to_f32(uint32_t k)
{
    uint32_t u = (k & 0x80000000u) ? (k & 0x7fffffffu) : ~k;
    float v;
    memcpy(&v, &u, 4);
    return v;
}

int64_t stats_select_plan_init(stats_select_plan *pl, int nq, const double *p,
                              const uint64_t *hist)
{
    memset(pl, 0, sizeof *pl);
    pl->nq = nq;
    for (int64_t b = 0; b < LCAE_SEL_BINS; b++)
        pl->n += (int64_t)hist[b];
    if (pl->n == 0)
        return 0;
    for (int i = 0; i < nq; i++) {
        pl->p[i] = p[i];
        /* numpy "linear": position (n - 1) p between order statistics lo and lo + 1 */
        double h = (double)(pl->n - 1) * p[i];
        int64_t lo = (int64_t)floor(h);
        if (lo > pl->n - 1)
            lo = pl->n - 1;
        pl->frac[i] = h - (double)lo;
        pl->rank[2 * i] = lo;
        pl->rank[2 * i + 1] = lo + 1 < pl->n ? lo + 1 : lo;
    }
    for (int r = 0; r < 2 * nq; r++) {
        int64_t below = 0, b = 0;
        while (below + (int64_t)hist[b] <= pl->rank[r])
            below += (int64_t)hist[b++];
        int s = pl->slot_of_hi[b];
        if (!s) {
            pl->bucket[pl->nbuckets] = (uint32_t)b;
            s = pl->slot_of_hi[b] = (uint8_t)(++pl->nbuckets);
        }
        pl->slot[r] = s - 1;
        pl->inner[r] = pl->rank[r] - below;
    }
    return pl->n;
}

void stats_select_finish(const stats_select_plan *pl, const uint64_t *hist2, double *q)
{
    double v[2 * LCAE_SEL_MAXQ];
    for (int r = 0; r < 2 * pl->nq; r++) {
        const uint64_t *h = hist2 + (size_t)pl->slot[r] * LCAE_SEL_BINS;
        int64_t below = 0;
        uint32_t lo = 0;
        while (below + (int64_t)h[lo] <= pl->inner[r])
            below += (int64_t)h[lo++];
        v[r] = key_to_f32((pl->bucket[pl->slot[r]] << 16) | lo);
    }
    for (int i = 0; i < pl->nq; i++) {
        double a = v[2 * i], b = v[2 * i + 1];
        q[i] = a + pl->frac[i] * (b - a);
    }
}

int lcae_percentiles_f32(const float *x, int64_t n, int nq, const double *p, double *q,
                         int64_t *nfinite)
{
    if (nq < 1 || nq > LCAE_SEL_MAXQ || n < 0)
        return lcae_fail(LCAE_EUSAGE, "percentiles: 1 to %d percentiles of n >= 0 values "
                         "(found %d of %lld)", LCAE_SEL_MAXQ, nq, (long long)n);
    for (int i = 0; i < nq; i++)
        if (!(p[i] >= 0 && p[i] <= 1))
            return lcae_fail(LCAE_EUSAGE, "percentiles: p must lie in [0, 1] (found %g)", p[i]);
    uint64_t *hist = lcae_calloc(LCAE_SEL_BINS, sizeof *hist);
    stats_select_plan *pl = lcae_malloc(sizeof *pl);
    if (!hist || !pl) {
        free(hist);
        free(pl);
        return LCAE_ENOMEM;
    }
    stats_select_count_hi(hist, x, n);
    int64_t nf = stats_select_plan_init(pl, nq, p, hist);
    if (nfinite)
        *nfinite = nf;
    free(hist);
    if (nf == 0) {
        for (int i = 0; i < nq; i++)
            q[i] = NAN;
        free(pl);
        return LCAE_OK;
    }
    uint64_t *hist2 = lcae_calloc((size_t)pl->nbuckets * LCAE_SEL_BINS, sizeof *hist2);
    if (!hist2) {
        free(pl);
        return LCAE_ENOMEM;
    }
    stats_select_count_lo(pl, hist2, x, n);
    stats_select_finish(pl, hist2, q);
    free(hist2);
    free(pl);
    return LCAE_OK;
}
