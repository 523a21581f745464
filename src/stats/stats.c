/* Dataset statistics in one streaming pass (two with exact quantiles): OpenMP over
 * batches of patterns, each thread reading its own batches; per-thread accumulators are
 * combined in thread order after the pass, and batches go to threads round-robin
 * (schedule(static, 1)), so a given thread count always gives the same numbers.
 * Under MPI (lcae/mpi.h) each rank reads its contiguous range of positions; what is kept
 * per pattern (moments, virtual images, sample slots) is gathered and merged in scan order
 * as one process does, counts and histograms are summed exactly, so every figure but the
 * mean pattern's double sums (added per rank, then over the ranks) is the single process's. */
#include "lcae/stats.h"

#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"
#include "lcae/mpi.h"
#include "select.h"

/* Percentiles taken from the sample: P16, P50, P84 and, for the density estimates
 * behind the standard errors, P(p -+ SE_DP) around each. */
#define SE_DP 0.02
static const double sample_p[] = {0.16, 0.5, 0.84, 0.16 - SE_DP, 0.16 + SE_DP,
                                  0.5 - SE_DP, 0.5 + SE_DP, 0.84 - SE_DP, 0.84 + SE_DP};
#define NQ_SAMPLE 9
#define NQ_EXACT 3

/* Batches of about 4 MiB of float32 per thread. */
#define BATCH_BYTES (4 << 20)

/* What one thread accumulates. */
typedef struct {
    float *raw;          /* batch * stored pixels, when the patterns are prepared */
    float *buf;          /* batch * px */
    double *acc;         /* px: sum over patterns, per detector pixel (virtual images) */
    int64_t *nf_at;      /* px: non-finite count per detector pixel, allocated on the first */
    uint64_t *hist;      /* 65536 (exact pass 1) or nbuckets * 65536 (exact pass 2) */
    double min, max;
    int64_t nonfinite, first_nonfinite;
} worker;

typedef struct {
    lcae_dataset *ds;
    const lcae_dataset_info *in;
    int64_t lo, hi;              /* this rank's patterns [lo, hi) (all of them: one rank) */
    int64_t px, batch, nbatches; /* px: values per (prepared) pattern */
    int64_t raw_px;              /* values per stored pattern */
    /* per pattern: finite values, their mean and population variance, merged in scan
     * order after the pass (so that the thread count does not change the figures) */
    double *pat_n, *pat_mean, *pat_var;
    const lcae_stats_options *opt;
    int virtual_images, exact;
    /* the sample: pattern i owns slots [slot_begin(i), slot_begin(i + 1)) */
    float *sample;
    int64_t nsample;
    int sample_all; /* every pixel is in the sample, in order */
    uint64_t seed;
    lcae_stats *st;
    const stats_select_plan *plan; /* exact pass 2 */
    const lcae_progress *progress;
} pass_ctx;

static int64_t slot_begin(const pass_ctx *c, int64_t i)
{
    /* nsample <= 2^26 and patterns <= 2^36: the product fits in int64 */
    return i * c->nsample / c->in->count;
}

/* A float's bits as a signed int that orders as the float does (negative floats get their
 * 31 low bits flipped); the map is its own inverse. Integer min/max vectorizes with every
 * compiler, float min/max only under fast-math flags. */
static inline int32_t ord_key(float v)
{
    int32_t i;
    memcpy(&i, &v, 4);
    return i ^ (int32_t)(((uint32_t)i >> 31) * 0x7fffffffu);
}

static inline float ord_value(int32_t k)
{
    int32_t i = k ^ (int32_t)(((uint32_t)k >> 31) * 0x7fffffffu);
    float v;
    memcpy(&v, &i, 4);
    return v;
}

/* Sum, min, max of one pattern in 8 independent lanes each (the compiler vectorizes them,
 * and the order of additions is fixed whatever it does). A NaN or Inf makes the sum
 * non-finite: the caller then takes the careful path. */
static double fast_sum(const float *x, int64_t n, float *mn, float *mx)
{
    double s[8] = {0};
    int32_t lo[8], hi[8];
    for (int k = 0; k < 8; k++)
        lo[k] = hi[k] = ord_key(x[0]);
    int64_t n8 = n - n % 8;
    for (int64_t j = 0; j < n8; j += 8)
        for (int k = 0; k < 8; k++) {
            int32_t v = ord_key(x[j + k]);
            lo[k] = v < lo[k] ? v : lo[k];
            hi[k] = v > hi[k] ? v : hi[k];
        }
    for (int64_t j = 0; j < n8; j += 8)
        for (int k = 0; k < 8; k++)
            s[k] += (double)x[j + k];
    for (int64_t j = n8; j < n; j++) {
        int32_t v = ord_key(x[j]);
        s[0] += x[j];
        lo[0] = v < lo[0] ? v : lo[0];
        hi[0] = v > hi[0] ? v : hi[0];
    }
    for (int k = 1; k < 8; k++) {
        lo[0] = lo[k] < lo[0] ? lo[k] : lo[0];
        hi[0] = hi[k] > hi[0] ? hi[k] : hi[0];
    }
    *mn = ord_value(lo[0]);
    *mx = ord_value(hi[0]);
    return ((s[0] + s[1]) + (s[2] + s[3])) + ((s[4] + s[5]) + (s[6] + s[7]));
}

/* Population variance about `mean` (two-pass: no cancellation), adding the pattern into
 * the per-pixel accumulator acc[n] on the way when acc is not NULL. */
static double fast_var_acc(const float *x, int64_t n, double mean, double *restrict acc)
{
    double s[8] = {0};
    int64_t j = 0;
    if (acc) {
        for (; j + 8 <= n; j += 8)
            for (int k = 0; k < 8; k++) {
                double d = (double)x[j + k] - mean;
                s[k] += d * d;
                acc[j + k] += (double)x[j + k];
            }
        for (; j < n; j++)
            acc[j] += x[j];
        j = n - n % 8;
    } else {
        for (; j + 8 <= n; j += 8)
            for (int k = 0; k < 8; k++) {
                double d = (double)x[j + k] - mean;
                s[k] += d * d;
            }
    }
    for (; j < n; j++) {
        double d = (double)x[j] - mean;
        s[0] += d * d;
    }
    return (((s[0] + s[1]) + (s[2] + s[3])) + ((s[4] + s[5]) + (s[6] + s[7]))) / (double)n;
}

/* Running count, mean and M2 (sum of squared deviations) of finite values. */
typedef struct {
    double count, mean, m2;
} moments;

/* Adds n values of mean m and population variance v (Chan et al.'s pairwise update: no
 * cancellation). */
static void merge_moments(moments *a, double n, double m, double v)
{
    if (n <= 0)
        return;
    double total = a->count + n, d = m - a->mean;
    a->mean += d * n / total;
    a->m2 += v * n + d * d * a->count * n / total;
    a->count = total;
}

/* A pattern with NaN or Inf: the same figures over its finite pixels, value by value. */
static int careful_pattern(pass_ctx *c, worker *w, const float *x, int64_t i, double *sum,
                           double *var, int64_t *nfinite)
{
    int64_t px = c->px, nf = 0;
    double s = 0;
    if (c->virtual_images && !w->nf_at) {
        w->nf_at = lcae_calloc((size_t)px, sizeof *w->nf_at);
        if (!w->nf_at)
            return LCAE_ENOMEM;
    }
    for (int64_t j = 0; j < px; j++) {
        if (!isfinite(x[j])) {
            nf++;
            if (w->nf_at)
                w->nf_at[j]++;
            continue;
        }
        s += x[j];
        w->min = fmin(w->min, x[j]);
        w->max = fmax(w->max, x[j]);
        if (w->acc)
            w->acc[j] += x[j];
    }
    int64_t n = px - nf;
    double mean = n ? s / (double)n : 0, ss = 0;
    for (int64_t j = 0; j < px; j++)
        if (isfinite(x[j]))
            ss += ((double)x[j] - mean) * ((double)x[j] - mean);
    if (w->nonfinite == 0)
        w->first_nonfinite = i; /* each thread sees its patterns in increasing order */
    w->nonfinite += nf;
    *sum = s;
    *var = n ? ss / (double)n : NAN;
    *nfinite = n;
    return LCAE_OK;
}

/* Pass 1 on one batch: virtual images, min/max/non-finite, the sample, and the high-bits
 * histogram when exact. */
static int pass1_batch(pass_ctx *c, worker *w, int64_t first, int64_t n)
{
    int64_t px = c->px;
    for (int64_t b = 0; b < n; b++) {
        const float *x = w->buf + b * px;
        int64_t i = first + b;
        float mn, mx;
        double sum = fast_sum(x, px, &mn, &mx), var;
        int64_t nfinite = px;
        if (isfinite(sum)) {
            w->min = fmin(w->min, mn);
            w->max = fmax(w->max, mx);
            var = fast_var_acc(x, px, sum / (double)px, w->acc);
        } else {
            int rc = careful_pattern(c, w, x, i, &sum, &var, &nfinite);
            if (rc)
                return rc;
        }
        c->pat_n[i] = (double)nfinite;
        c->pat_mean[i] = nfinite ? sum / (double)nfinite : 0;
        c->pat_var[i] = nfinite ? var : 0;
        if (c->virtual_images) {
            c->st->sum[i] = (float)sum;
            c->st->variance[i] = (float)var;
        }
        if (c->exact) {
            stats_select_count_hi(w->hist, x, px);
        } else {
            int64_t k0 = slot_begin(c, i), k1 = slot_begin(c, i + 1);
            for (int64_t k = k0; k < k1; k++) {
                /* one draw per sample slot, keyed by (seed, slot); multiply-shift maps
                 * 32 random bits onto [0, px) */
                uint64_t key = (uint64_t)k, draw = c->seed ^ core_splitmix64(&key);
                uint64_t j = c->sample_all ? (uint64_t)(k - k0)
                                           : ((core_splitmix64(&draw) >> 32) * (uint64_t)px) >> 32;
                c->sample[k] = x[j];
            }
        }
    }
    return LCAE_OK;
}

static int pass2_batch(pass_ctx *c, worker *w, int64_t first, int64_t n)
{
    (void)first;
    stats_select_count_lo(c->plan, w->hist, w->buf, n * c->px);
    return LCAE_OK;
}

typedef struct {
    pass_ctx *c;
    worker *ws;
    int (*fn)(pass_ctx *, worker *, int64_t, int64_t);
} stats_pass;

/* Job j: batch j read (and prepared, when asked) into the thread's buffer. */
static int stats_job(void *ctx, int thread, int64_t bi, int64_t *patterns)
{
    stats_pass *sp = ctx;
    pass_ctx *c = sp->c;
    worker *w = &sp->ws[thread];
    int64_t first = c->lo + bi * c->batch;
    int64_t n = c->hi - first < c->batch ? c->hi - first : c->batch;
    *patterns = n;
    int rc = lcae_dataset_read(c->ds, first, n, w->raw ? w->raw : w->buf);
    if (!rc && w->raw)
        rc = c->opt->prepare(c->opt->prepare_ctx, first, n, w->raw, w->buf);
    return rc ? rc : sp->fn(c, w, first, n);
}

/* One pass over the scan, `fn` on every batch, per-thread state in ws[nthreads]. */
static int run_pass(pass_ctx *c, worker *ws, int nthreads, const char *what,
                    int (*fn)(pass_ctx *, worker *, int64_t, int64_t))
{
    stats_pass sp = {c, ws, fn};
    int rc = lcae_parallel_jobs(nthreads, c->nbatches, c->hi - c->lo, what, c->progress,
                                stats_job, &sp);
    return lcae_mpi_check(rc); /* one rank's failure stops all */
}

/* After pass 1 under MPI: what each rank kept per pattern of its range (moments, virtual
 * images) and its sample slots, from every rank to every rank. */
static int gather_pass1(pass_ctx *c)
{
    int64_t lo = c->lo, hi = c->hi;
    int rc = lcae_mpi_gather_rows(c->pat_n, lo, hi, sizeof(double), -1);
    if (!rc)
        rc = lcae_mpi_gather_rows(c->pat_mean, lo, hi, sizeof(double), -1);
    if (!rc)
        rc = lcae_mpi_gather_rows(c->pat_var, lo, hi, sizeof(double), -1);
    if (!rc && c->virtual_images)
        rc = lcae_mpi_gather_rows(c->st->sum, lo, hi, sizeof(float), -1);
    if (!rc && c->virtual_images)
        rc = lcae_mpi_gather_rows(c->st->variance, lo, hi, sizeof(float), -1);
    if (!rc && c->nsample)
        rc = lcae_mpi_gather_rows(c->sample, slot_begin(c, lo), slot_begin(c, hi),
                                  sizeof(float), -1);
    return rc;
}

/* The mean pattern: the threads' sums in thread order, then over the ranks; divided by
 * the number of finite values at each detector pixel. */
static int mean_pattern(pass_ctx *c, worker *ws, int nthreads)
{
    int64_t px = c->px, count = c->in->count;
    double *s = lcae_calloc((size_t)px, sizeof *s);
    uint64_t *nf = lcae_calloc((size_t)px, sizeof *nf);
    int rc = s && nf ? LCAE_OK : LCAE_ENOMEM;
    for (int64_t j = 0; !rc && j < px; j++)
        for (int t = 0; t < nthreads; t++) {
            s[j] += ws[t].acc[j];
            nf[j] += ws[t].nf_at ? (uint64_t)ws[t].nf_at[j] : 0;
        }
    if (!rc)
        rc = lcae_mpi_sum_f64(s, px);
    if (!rc)
        rc = lcae_mpi_sum_u64(nf, px);
    for (int64_t j = 0; !rc && j < px; j++)
        c->st->mean_pattern[j] = (int64_t)nf[j] < count ? (float)(s[j] / (double)(count - (int64_t)nf[j]))
                                                        : NAN;
    free(s);
    free(nf);
    return rc;
}

void lcae_stats_free(lcae_stats *st)
{
    if (!st)
        return;
    free(st->sum);
    free(st->variance);
    free(st->mean_pattern);
    st->sum = st->variance = st->mean_pattern = NULL;
}

static void free_workers(worker *ws, int n)
{
    for (int t = 0; ws && t < n; t++) {
        free(ws[t].raw);
        free(ws[t].buf);
        free(ws[t].acc);
        free(ws[t].nf_at);
        free(ws[t].hist);
    }
    free(ws);
}

/* Quantiles and their standard errors from the sample (see lcae_stats). */
static int sample_quantiles(pass_ctx *c, lcae_stats *st)
{
    double q[NQ_SAMPLE];
    int64_t n;
    int rc = lcae_percentiles_f32(c->sample, c->nsample, NQ_SAMPLE, sample_p, q, &n);
    if (rc)
        return rc;
    st->p16 = q[0];
    st->median = q[1];
    st->p84 = q[2];
    st->sample_size = n;
    st->exact = c->sample_all;
    if (!c->sample_all && n > 0) {
        /* 1 / f(P_p) ~ (P(p + d) - P(p - d)) / 2d */
        double d16 = (q[4] - q[3]) / (2 * SE_DP), d50 = (q[6] - q[5]) / (2 * SE_DP),
               d84 = (q[8] - q[7]) / (2 * SE_DP);
        st->median_se = sqrt(0.25 / (double)n) * d50;
        /* Var(P84 - P16) = [p1(1-p1) D1^2 + p2(1-p2) D2^2 - 2 p1(1-p2) D1 D2] / n */
        double v = (0.16 * 0.84 * d16 * d16 + 0.84 * 0.16 * d84 * d84 -
                    2 * 0.16 * 0.16 * d16 * d84) / (double)n;
        st->sigma68_se = 0.5 * sqrt(v > 0 ? v : 0);
    }
    return LCAE_OK;
}

int lcae_stats_compute(lcae_dataset *ds, const lcae_stats_options *opt_in,
                       const lcae_progress *progress, lcae_stats *st)
{
    lcae_stats_options opt = {0};
    if (opt_in)
        opt = *opt_in;
    memset(st, 0, sizeof *st);
    const lcae_dataset_info *in = lcae_dataset_get_info(ds);
    const char *path = lcae_dataset_path(ds);
    if (!opt.sample_size)
        opt.sample_size = LCAE_STATS_DEFAULT_SAMPLE;
    int64_t S = opt.sample_size;
    if (lcae_options_check(lcae_stats_option_table, &opt))
        return LCAE_EUSAGE;
    if (opt.prepare && (opt.virtual_images || opt.prepared_px < 1))
        return lcae_fail(LCAE_EUSAGE, "statistics of prepared patterns: expected their size "
                         "and no virtual images");
    pass_ctx c = {.ds = ds, .in = in, .raw_px = in->h * in->w, .st = st, .opt = &opt,
                  .progress = progress, .virtual_images = opt.virtual_images,
                  .exact = opt.exact, .seed = opt.seed};
    c.px = opt.prepare ? opt.prepared_px : c.raw_px;
    if (in->count > INT64_MAX / c.px)
        return lcae_fail(LCAE_EFAIL, "%s: too many pixels to count", path);
    st->pixels = in->count * c.px;
    st->seed = opt.seed;
    st->first_nonfinite = -1;
    int nthreads = omp_get_max_threads();
    lcae_mpi_range(in->count, &c.lo, &c.hi);
    int64_t mine = c.hi - c.lo;
    /* about 4 MiB per batch, but at least 4 batches per thread when the range allows */
    c.batch = BATCH_BYTES / ((c.px > c.raw_px ? c.px : c.raw_px) * 4);
    int64_t even = (mine + 4 * nthreads - 1) / (4 * nthreads);
    if (c.batch > even)
        c.batch = even;
    if (c.batch < 1)
        c.batch = 1;
    c.nbatches = (mine + c.batch - 1) / c.batch;
    if (!c.exact) {
        c.sample_all = st->pixels <= S;
        c.nsample = c.sample_all ? st->pixels : S;
    }

    int rc = LCAE_ENOMEM;
    worker *ws = lcae_calloc((size_t)nthreads, sizeof *ws);
    uint64_t *hist = NULL;
    stats_select_plan *plan = NULL;
    if (!ws)
        goto done;
    if (c.virtual_images) {
        st->sum = lcae_malloc((size_t)in->count * sizeof(float));
        st->variance = lcae_malloc((size_t)in->count * sizeof(float));
        st->mean_pattern = lcae_malloc((size_t)c.px * sizeof(float));
        if (!st->sum || !st->variance || !st->mean_pattern)
            goto done;
    }
    if (c.nsample && !(c.sample = lcae_malloc((size_t)c.nsample * sizeof(float))))
        goto done;
    c.pat_n = lcae_malloc((size_t)in->count * sizeof(double));
    c.pat_mean = lcae_malloc((size_t)in->count * sizeof(double));
    c.pat_var = lcae_malloc((size_t)in->count * sizeof(double));
    if (!c.pat_n || !c.pat_mean || !c.pat_var)
        goto done;
    for (int t = 0; t < nthreads; t++) {
        worker *w = &ws[t];
        w->min = INFINITY;
        w->max = -INFINITY;
        w->first_nonfinite = -1;
        if (!(w->buf = lcae_malloc((size_t)(c.batch * c.px) * sizeof(float))))
            goto done;
        if (opt.prepare && !(w->raw = lcae_malloc((size_t)(c.batch * c.raw_px) * sizeof(float))))
            goto done;
        if (c.virtual_images && !(w->acc = lcae_calloc((size_t)c.px, sizeof(double))))
            goto done;
        if (c.exact && !(w->hist = lcae_calloc(LCAE_SEL_BINS, sizeof(uint64_t))))
            goto done;
    }

    rc = run_pass(&c, ws, nthreads, "statistics", pass1_batch);
    if (rc)
        goto done;
    if ((rc = gather_pass1(&c)))
        goto done;

    /* combine per-thread results in thread order, then over the ranks */
    double mn = INFINITY, mx = -INFINITY;
    moments all = {0};
    for (int64_t i = 0; i < in->count; i++)
        merge_moments(&all, c.pat_n[i], c.pat_mean[i], c.pat_var[i]);
    int64_t first_nf = INT64_MAX, nonfinite = 0;
    for (int t = 0; t < nthreads; t++) {
        mn = fmin(mn, ws[t].min);
        mx = fmax(mx, ws[t].max);
        nonfinite += ws[t].nonfinite;
        if (ws[t].first_nonfinite >= 0 && ws[t].first_nonfinite < first_nf)
            first_nf = ws[t].first_nonfinite;
    }
    if ((rc = lcae_mpi_min_f64(&mn, 1)) || (rc = lcae_mpi_max_f64(&mx, 1)) ||
        (rc = lcae_mpi_sum_u64((uint64_t *)&nonfinite, 1)) ||
        (rc = lcae_mpi_min_i64(&first_nf, 1)))
        goto done;
    st->nonfinite = nonfinite;
    st->first_nonfinite = first_nf == INT64_MAX ? -1 : first_nf;
    int any_finite = st->nonfinite < st->pixels;
    st->min = any_finite ? mn : NAN;
    st->max = any_finite ? mx : NAN;
    st->mean = any_finite ? all.mean : NAN;
    st->std = any_finite ? sqrt(all.m2 / all.count) : NAN;
    if (st->nonfinite && opt.refuse_nonfinite) {
        int64_t f = st->first_nonfinite;
        rc = lcae_fail(LCAE_EFAIL, "%s: %lld non-finite pixel values (NaN or Inf), the first "
                       "at scan position (%lld, %lld) (expected finite values; "
                       "--ignore-nonfinite uses the finite ones)", path,
                       (long long)st->nonfinite, (long long)(f / in->nx),
                       (long long)(f % in->nx));
        goto done;
    }
    if (c.virtual_images && (rc = mean_pattern(&c, ws, nthreads)))
        goto done;

    if (!c.exact) {
        rc = sample_quantiles(&c, st);
        if (rc)
            goto done;
    } else {
        rc = LCAE_ENOMEM;
        hist = lcae_calloc(LCAE_SEL_BINS, sizeof *hist);
        plan = lcae_malloc(sizeof *plan);
        if (!hist || !plan)
            goto done;
        for (int t = 0; t < nthreads; t++)
            for (int b = 0; b < LCAE_SEL_BINS; b++)
                hist[b] += ws[t].hist[b];
        if ((rc = lcae_mpi_sum_u64(hist, LCAE_SEL_BINS)))
            goto done;
        rc = LCAE_ENOMEM;
        static const double p3[NQ_EXACT] = {0.16, 0.5, 0.84};
        double q[NQ_EXACT] = {NAN, NAN, NAN};
        st->sample_size = stats_select_plan_init(plan, NQ_EXACT, p3, hist);
        if (st->sample_size > 0) {
            size_t bins = (size_t)plan->nbuckets * LCAE_SEL_BINS;
            for (int t = 0; t < nthreads; t++) {
                free(ws[t].hist);
                if (!(ws[t].hist = lcae_calloc(bins, sizeof(uint64_t))))
                    goto done;
            }
            c.plan = plan;
            rc = run_pass(&c, ws, nthreads, "exact quantiles", pass2_batch);
            if (rc)
                goto done;
            uint64_t *sum2 = lcae_calloc(bins, sizeof *sum2);
            rc = LCAE_ENOMEM;
            if (!sum2)
                goto done;
            for (int t = 0; t < nthreads; t++)
                for (size_t b = 0; b < bins; b++)
                    sum2[b] += ws[t].hist[b];
            rc = lcae_mpi_sum_u64(sum2, (int64_t)bins);
            if (!rc)
                stats_select_finish(plan, sum2, q);
            free(sum2);
            if (rc)
                goto done;
        }
        st->p16 = q[0];
        st->median = q[1];
        st->p84 = q[2];
        st->exact = 1;
    }
    st->sigma68 = (st->p84 - st->p16) / 2;
    /* the normalization's scale: sigma68, or where more than 68 % of the values are tied
     * (sparse counting data: P16 = P84 = 0) or nearly so (the same data through a float
     * pipeline: sigma68 of order 1e-5 from rounding) the standard deviation. The factor
     * 1e-3 leaves heavy-tailed data alone (untransformed Bragg spots: sigma68 ~ 1e-2 of
     * std) and catches only a spread of numerical dust. */
    st->norm = st->sigma68 > 1e-3 * st->std ? LCAE_NORM_SIGMA68 : LCAE_NORM_STD;
    st->scale = st->norm == LCAE_NORM_SIGMA68 ? st->sigma68 : st->std;
    rc = LCAE_OK;
done:
    if (rc)
        lcae_stats_free(st);
    free_workers(ws, nthreads);
    free(c.sample);
    free(c.pat_n);
    free(c.pat_mean);
    free(c.pat_var);
    free(hist);
    free(plan);
    return rc;
}
