/* The report's one streaming pass over the scan: OpenMP over batches of patterns, each
 * thread reading its own batches (round-robin, schedule(static, 1)) into its own
 * accumulators, combined in thread order afterwards, so a given thread count always gives
 * the same numbers. Memory: a batch and the shown clusters' binned mean patterns per
 * thread, the BF/ADF images and the thumbnails; never the scan. Non-finite pixels count
 * as 0 everywhere here. */
#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>

#include "report_internal.h"

#define BATCH_BYTES (4 << 20)

typedef struct {
    float *buf;     /* batch * h * w */
    double *acc;    /* sum over clusterings of nshown * ph * pw */
    double *binned; /* ph * pw */
} worker;

/* Block boundaries of a side of n pixels cut into m blocks. */
static inline int64_t edge(int64_t i, int64_t n, int64_t m)
{
    return i * n / m;
}

static void one_pattern(report_ctx *r, worker *wk, const float *x, int64_t i,
                        const int32_t *bf_idx, const int32_t *adf_idx, const int32_t *bin_of)
{
    int64_t h = r->h, w = r->w;
    double s = 0;
    for (int64_t k = 0; k < r->bf_pixels; k++)
        s += isfinite(x[bf_idx[k]]) ? x[bf_idx[k]] : 0;
    r->bf[i] = (float)s;
    s = 0;
    for (int64_t k = 0; k < r->adf_pixels; k++)
        s += isfinite(x[adf_idx[k]]) ? x[adf_idx[k]] : 0;
    r->adf[i] = (float)s;

    /* mean patterns: bin once, add to the pattern's cluster in each clustering */
    int binned = 0;
    double *acc = wk->acc;
    size_t pp = (size_t)r->ph * r->pw;
    for (int c = 0; c < r->ncl; c++) {
        const report_clustering *cl = &r->cl[c];
        int32_t lab = cl->in->labels[i];
        int sl = lab >= 0 ? cl->slot[lab] : -1;
        if (sl >= 0) {
            if (!binned) {
                memset(wk->binned, 0, pp * sizeof(double));
                for (int64_t k = 0; k < h * w; k++)
                    wk->binned[bin_of[k]] += isfinite(x[k]) ? x[k] : 0;
                binned = 1;
            }
            double *a = acc + (size_t)sl * pp;
            for (size_t k = 0; k < pp; k++)
                a[k] += wk->binned[k];
        }
        acc += (size_t)cl->nshown * pp;
    }

    /* thumbnail: block means */
    int64_t row = i / r->nx, col = i % r->nx;
    if (row % r->stride || col % r->stride)
        return;
    float *t = r->thumbs + ((row / r->stride) * r->tnx + col / r->stride) * r->th * r->tw;
    for (int a = 0; a < r->th; a++)
        for (int b = 0; b < r->tw; b++) {
            int64_t y0 = edge(a, h, r->th), y1 = edge(a + 1, h, r->th);
            int64_t x0 = edge(b, w, r->tw), x1 = edge(b + 1, w, r->tw);
            double sum = 0;
            for (int64_t y = y0; y < y1; y++)
                for (int64_t xx = x0; xx < x1; xx++) {
                    float v = x[y * w + xx];
                    sum += isfinite(v) ? v : 0;
                }
            t[a * r->tw + b] = (float)(sum / (double)((y1 - y0) * (x1 - x0)));
        }
}

typedef struct {
    report_ctx *r;
    worker *ws;
    const int32_t *bf_idx, *adf_idx, *bin_of;
    int64_t batch, px;
} scan_job_ctx;

/* Job j: batch j of the scan read into the thread's buffer, each pattern accumulated. */
static int scan_job(void *ctx, int thread, int64_t bi, int64_t *patterns)
{
    scan_job_ctx *jc = ctx;
    report_ctx *r = jc->r;
    worker *wk = &jc->ws[thread];
    int64_t first = bi * jc->batch, cnt = r->n - first < jc->batch ? r->n - first : jc->batch;
    *patterns = cnt;
    int st = lcae_dataset_read(r->in->ds, first, cnt, wk->buf);
    if (!st)
        for (int64_t k = 0; k < cnt; k++)
            one_pattern(r, wk, wk->buf + k * jc->px, first + k, jc->bf_idx, jc->adf_idx,
                        jc->bin_of);
    return st;
}

int report_scan_pass(report_ctx *r, const lcae_progress *p)
{
    int64_t px = r->h * r->w, n = r->n;
    int64_t batch = BATCH_BYTES / (px * 4);
    if (batch < 1)
        batch = 1;
    int64_t nbatches = (n + batch - 1) / batch;
    int nthreads = omp_get_max_threads();
    if (nthreads > nbatches)
        nthreads = (int)nbatches;
    size_t pp = (size_t)r->ph * r->pw, nacc = 0;
    for (int c = 0; c < r->ncl; c++)
        nacc += (size_t)r->cl[c].nshown * pp;

    /* which detector pixels each virtual detector sums; the display bin of each pixel */
    int32_t *bf_idx = lcae_malloc((size_t)px * sizeof *bf_idx);
    int32_t *adf_idx = lcae_malloc((size_t)px * sizeof *adf_idx);
    int32_t *bin_of = lcae_malloc((size_t)px * sizeof *bin_of);
    worker *ws = lcae_calloc((size_t)nthreads, sizeof *ws);
    int rc = bf_idx && adf_idx && bin_of && ws ? LCAE_OK : LCAE_ENOMEM;
    for (int t = 0; !rc && t < nthreads; t++) {
        ws[t].buf = lcae_malloc((size_t)(batch * px) * sizeof(float));
        ws[t].acc = lcae_calloc(nacc ? nacc : 1, sizeof(double));
        ws[t].binned = lcae_malloc(pp * sizeof(double));
        if (!ws[t].buf || !ws[t].acc || !ws[t].binned)
            rc = LCAE_ENOMEM;
    }
    if (rc)
        goto done;
    r->bf_pixels = r->adf_pixels = 0;
    for (int64_t y = 0; y < r->h; y++)
        for (int64_t x = 0; x < r->w; x++) {
            bin_of[y * r->w + x] = (int32_t)((y / r->pbin) * r->pw + x / r->pbin);
            double d = hypot((double)x - r->cx, (double)y - r->cy);
            if (d <= r->r_half)
                bf_idx[r->bf_pixels++] = (int32_t)(y * r->w + x);
            else if (d >= 2 * r->r_half && d <= 4 * r->r_half)
                adf_idx[r->adf_pixels++] = (int32_t)(y * r->w + x);
        }

    scan_job_ctx jc = {r, ws, bf_idx, adf_idx, bin_of, batch, px};
    rc = lcae_parallel_jobs(nthreads, nbatches, n, "report: reading the scan", p, scan_job,
                            &jc);
    if (rc)
        goto done;

    /* combine in thread order, then divide by the positions and the pixels per bin */
    size_t off = 0;
    for (int c = 0; c < r->ncl; c++) {
        report_clustering *cl = &r->cl[c];
        for (int s = 0; s < cl->nshown; s++) {
            double *m = cl->mean + (size_t)s * pp;
            for (size_t k = 0; k < pp; k++) {
                double sum = 0;
                for (int t = 0; t < nthreads; t++)
                    sum += ws[t].acc[off + (size_t)s * pp + k];
                int64_t by = (int64_t)(k / r->pw) * r->pbin, bx = (int64_t)(k % r->pw) * r->pbin;
                int64_t ey = by + r->pbin < r->h ? by + r->pbin : r->h;
                int64_t ex = bx + r->pbin < r->w ? bx + r->pbin : r->w;
                m[k] = sum / ((double)cl->sizes[cl->shown[s]] * (double)((ey - by) * (ex - bx)));
            }
        }
        off += (size_t)cl->nshown * pp;
    }
done:
    for (int t = 0; ws && t < nthreads; t++) {
        free(ws[t].buf);
        free(ws[t].acc);
        free(ws[t].binned);
    }
    free(ws);
    free(bf_idx);
    free(adf_idx);
    free(bin_of);
    return rc;
}
