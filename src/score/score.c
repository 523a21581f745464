/* Clustering scores against a ground truth: ARI and AMI as scikit-learn computes them
 * (adjusted_rand_score; adjusted_mutual_info_score with average_method="arithmetic"),
 * the summary of lcae score, and that summary from files. Contingency tables are kept
 * sparse (sorted pairs), so any number of distinct labels is fine. */
#define _DEFAULT_SOURCE /* lgamma_r: lgamma writes the global signgam */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lcae/io.h"
#include "lcae/score.h"

static int cmp_i32(const void *a, const void *b)
{
    int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;
    return (x > y) - (x < y);
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

/* Labels to 0..k-1 in increasing order of value; *values (may be NULL) gets the k
 * distinct values. */
static int compact(const int32_t *labels, int64_t n, int32_t *ids, int *k, int32_t **values)
{
    int32_t *u = lcae_malloc((size_t)n * sizeof *u);
    if (!u)
        return LCAE_ENOMEM;
    memcpy(u, labels, (size_t)n * sizeof *u);
    qsort(u, (size_t)n, sizeof *u, cmp_i32);
    int64_t m = 0;
    for (int64_t i = 0; i < n; i++)
        if (!m || u[i] != u[m - 1])
            u[m++] = u[i];
    for (int64_t i = 0; i < n; i++) {
        int32_t *at = bsearch(&labels[i], u, (size_t)m, sizeof *u, cmp_i32);
        ids[i] = (int32_t)(at - u);
    }
    *k = (int)m;
    if (values)
        *values = u;
    else
        free(u);
    return LCAE_OK;
}

/* The contingency table of two labellings: row sums a (R), column sums b (C) and the
 * nonzero cells (row, column, count). */
typedef struct {
    int R, C;
    int64_t *a, *b;
    int64_t ncells;
    int32_t *ci, *cj;
    int64_t *cn;
} contingency;

static void contingency_free(contingency *t)
{
    free(t->a);
    free(t->b);
    free(t->ci);
    free(t->cj);
    free(t->cn);
}

static int contingency_build(const int32_t *truth, const int32_t *pred, int64_t n,
                             contingency *t)
{
    memset(t, 0, sizeof *t);
    int32_t *ti = lcae_malloc((size_t)n * sizeof *ti), *pi = lcae_malloc((size_t)n * sizeof *pi);
    int64_t *keys = lcae_malloc((size_t)n * sizeof *keys);
    int rc = LCAE_ENOMEM;
    if (!ti || !pi || !keys || (rc = compact(truth, n, ti, &t->R, NULL)) ||
        (rc = compact(pred, n, pi, &t->C, NULL)))
        goto done;
    rc = LCAE_ENOMEM;
    t->a = lcae_calloc((size_t)t->R, sizeof *t->a);
    t->b = lcae_calloc((size_t)t->C, sizeof *t->b);
    if (!t->a || !t->b)
        goto done;
    for (int64_t i = 0; i < n; i++) {
        t->a[ti[i]]++;
        t->b[pi[i]]++;
        keys[i] = (int64_t)ti[i] * t->C + pi[i];
    }
    qsort(keys, (size_t)n, sizeof *keys, cmp_i64);
    int64_t cells = 0;
    for (int64_t i = 0; i < n; i++)
        if (!i || keys[i] != keys[i - 1])
            cells++;
    t->ci = lcae_malloc((size_t)cells * sizeof *t->ci);
    t->cj = lcae_malloc((size_t)cells * sizeof *t->cj);
    t->cn = lcae_malloc((size_t)cells * sizeof *t->cn);
    if (!t->ci || !t->cj || !t->cn)
        goto done;
    for (int64_t i = 0; i < n; i++) {
        if (!i || keys[i] != keys[i - 1]) {
            t->ci[t->ncells] = (int32_t)(keys[i] / t->C);
            t->cj[t->ncells] = (int32_t)(keys[i] % t->C);
            t->cn[t->ncells++] = 0;
        }
        t->cn[t->ncells - 1]++;
    }
    rc = LCAE_OK;
done:
    free(ti);
    free(pi);
    free(keys);
    if (rc)
        contingency_free(t);
    return rc;
}

static int check_n(int64_t n)
{
    if (n <= 0 || n > INT32_MAX)
        return lcae_fail(LCAE_EUSAGE, "scores need 1 to 2^31-1 labels (found %lld)",
                         (long long)n);
    return LCAE_OK;
}

int lcae_adjusted_rand_index(const int32_t *truth, const int32_t *pred, int64_t n, double *ari)
{
    contingency t;
    int rc = check_n(n);
    if (rc || (rc = contingency_build(truth, pred, n, &t)))
        return rc;
    /* pair confusion matrix as scikit-learn: pairs counted twice, in long double so that
     * products of counts near n^2 ~ 4e9 stay exact enough */
    long double ss = 0, sa = 0, sb = 0;
    for (int64_t c = 0; c < t.ncells; c++)
        ss += (long double)t.cn[c] * t.cn[c];
    for (int i = 0; i < t.R; i++)
        sa += (long double)t.a[i] * t.a[i];
    for (int j = 0; j < t.C; j++)
        sb += (long double)t.b[j] * t.b[j];
    long double tp = ss - n, fp = sb - ss, fn = sa - ss;
    long double tn = (long double)n * n - fp - fn - ss;
    if (fn == 0 && fp == 0)
        *ari = 1.0;
    else
        *ari = (double)(2 * (tp * tn - fn * fp) / ((tp + fn) * (fn + tn) + (tp + fp) * (fp + tn)));
    contingency_free(&t);
    return LCAE_OK;
}

static double entropy(const int64_t *counts, int k, int64_t n)
{
    if (k == 1)
        return 0;
    double h = 0;
    for (int i = 0; i < k; i++)
        h -= (double)counts[i] / n * (log((double)counts[i]) - log((double)n));
    return h;
}

static double lgam(double x)
{
    int sign;
    return lgamma_r(x, &sign);
}

int lcae_adjusted_mutual_info(const int32_t *truth, const int32_t *pred, int64_t n, double *ami)
{
    contingency t;
    int rc = check_n(n);
    if (rc || (rc = contingency_build(truth, pred, n, &t)))
        return rc;
    if (t.R == 1 && t.C == 1) { /* neither labelling splits the data: a perfect match */
        *ami = 1.0;
        contingency_free(&t);
        return LCAE_OK;
    }
    double N = (double)n;
    /* mutual information, term by term as sklearn's mutual_info_score */
    double mi = 0;
    if (t.R > 1 && t.C > 1) {
        for (int64_t c = 0; c < t.ncells; c++) {
            double nij = (double)t.cn[c], pm = nij / N;
            double outer = (double)t.a[t.ci[c]] * (double)t.b[t.cj[c]];
            double term = pm * (log(nij) - log(N)) + pm * (-log(outer) + log(N) + log(N));
            mi += fabs(term) < 2.220446049250313e-16 ? 0 : term;
        }
        if (mi < 0)
            mi = 0;
    }
    /* expected mutual information under the hypergeometric model, summed exactly as
     * sklearn's expected_mutual_information (log-gamma terms, nij from
     * max(1, a + b - N) to min(a, b)) */
    double emi = 0;
    if (t.R > 1 && t.C > 1) {
        /* lgamma(k + 1) and log(k) for k = 0..n: every log-factorial and logarithm the
         * sum needs (the table's log(k) is the call's, bit for bit) */
        double *lf = lcae_malloc((size_t)(n + 1) * sizeof *lf);
        double *lk = lcae_malloc((size_t)(n + 1) * sizeof *lk);
        if (!lf || !lk) {
            free(lf);
            free(lk);
            contingency_free(&t);
            return LCAE_ENOMEM;
        }
        for (int64_t k = 0; k <= n; k++) {
            lf[k] = lgam((double)k + 1);
            lk[k] = log((double)k);
        }
        double logN = log(N);
        for (int i = 0; i < t.R; i++) {
            int64_t ai = t.a[i];
            double log_a = log((double)ai);
            for (int j = 0; j < t.C; j++) {
                int64_t bj = t.b[j];
                double log_b = log((double)bj);
                int64_t start = ai - n + bj > 1 ? ai - n + bj : 1;
                int64_t end = (ai < bj ? ai : bj) + 1;
                double fixed = lf[ai] + lf[bj] + lf[n - ai] + lf[n - bj] - lf[n];
                for (int64_t nij = start; nij < end; nij++) {
                    double gln = fixed - lf[nij] - lf[ai - nij] - lf[bj - nij] -
                                 lf[n - ai - bj + nij];
                    /* exp is exactly 0 below -745.13 (half the least subnormal), so the
                     * term adds a zero: skipped, the sum unchanged. At a million
                     * positions most terms are, and exp's underflow path was a fifth of
                     * lcae score's time. */
                    if (gln < -746)
                        continue;
                    double term1 = (double)nij / N;
                    double term2 = logN + lk[nij] - log_a - log_b;
                    emi += term1 * term2 * exp(gln);
                }
            }
        }
        free(lf);
        free(lk);
    }
    double ht = entropy(t.a, t.R, n), hp = entropy(t.b, t.C, n);
    double denom = (ht + hp) / 2 - emi;
    /* as sklearn: keep the sign, avoid 0/0 when the expectation equals the maximum */
    const double eps = 2.220446049250313e-16;
    if (denom < 0)
        denom = denom < -eps ? denom : -eps;
    else
        denom = denom > eps ? denom : eps;
    *ami = (mi - emi) / denom;
    contingency_free(&t);
    return LCAE_OK;
}

int lcae_score(const int32_t *labels, const int32_t *truth, const int32_t *region, int64_t n,
               lcae_score_result *out)
{
    memset(out, 0, sizeof *out);
    int rc = check_n(n);
    if (rc)
        return rc;
    out->n = n;
    out->has_region = region != NULL;
    int32_t *li = lcae_malloc((size_t)n * sizeof *li), *ti = lcae_malloc((size_t)n * sizeof *ti);
    int32_t *lv = NULL, *sub_l = NULL, *sub_t = NULL;
    int64_t *cells = NULL, *bnd = NULL, *size = NULL;
    int K = 0, C = 0;
    rc = LCAE_ENOMEM;
    if (!li || !ti || (rc = compact(labels, n, li, &K, &lv)) || (rc = compact(truth, n, ti, &C, NULL)))
        goto done;
    rc = LCAE_ENOMEM;
    out->classes = C;
    int noise_id = -1;
    for (int k = 0; k < K; k++)
        if (lv[k] == -1)
            noise_id = k;
    out->clusters = K - (noise_id >= 0);
    int64_t nnoise = 0;
    for (int64_t i = 0; i < n; i++)
        nnoise += li[i] == noise_id;
    out->noise_fraction = (double)nnoise / n;
    if ((rc = lcae_adjusted_rand_index(truth, labels, n, &out->ari)) ||
        (rc = lcae_adjusted_mutual_info(truth, labels, n, &out->ami)))
        goto done;
    int64_t m = n - nnoise;
    out->ari_no_noise = out->ami_no_noise = out->purity = NAN;
    out->fragmentation = 0;
    out->boundary_recovery = NAN;
    if (m > 0) {
        rc = LCAE_ENOMEM;
        sub_l = lcae_malloc((size_t)m * sizeof *sub_l);
        sub_t = lcae_malloc((size_t)m * sizeof *sub_t);
        if (!sub_l || !sub_t)
            goto done;
        int64_t j = 0;
        for (int64_t i = 0; i < n; i++)
            if (li[i] != noise_id) {
                sub_l[j] = labels[i];
                sub_t[j++] = truth[i];
            }
        if ((rc = lcae_adjusted_rand_index(sub_t, sub_l, m, &out->ari_no_noise)) ||
            (rc = lcae_adjusted_mutual_info(sub_t, sub_l, m, &out->ami_no_noise)))
            goto done;
    }
    /* per cluster: counts per true class (K x C, dense: both are small in practice, and
     * bounded by n) and boundary counts */
    rc = LCAE_ENOMEM;
    if ((double)K * C > 1e8) {
        rc = lcae_fail(LCAE_EUSAGE, "too many labels to score (%d clusters x %d classes)", K, C);
        goto done;
    }
    cells = lcae_calloc((size_t)K * C, sizeof *cells);
    bnd = lcae_calloc((size_t)K, sizeof *bnd);
    size = lcae_calloc((size_t)K, sizeof *size);
    if (!cells || !bnd || !size)
        goto done;
    int64_t nbnd = 0;
    for (int64_t i = 0; i < n; i++) {
        cells[(size_t)li[i] * C + ti[i]]++;
        size[li[i]]++;
        if (region && region[i] == LCAE_REGION_BOUNDARY) {
            bnd[li[i]]++;
            nbnd++;
        }
    }
    int64_t majority_sum = 0, recovered = 0;
    for (int k = 0; k < K; k++) {
        if (k == noise_id)
            continue;
        int64_t best = 0;
        for (int c = 0; c < C; c++)
            if (cells[(size_t)k * C + c] > best)
                best = cells[(size_t)k * C + c];
        majority_sum += best;
        if (2 * bnd[k] > size[k])
            recovered += bnd[k];
    }
    /* every cluster has exactly one majority class, so the mean over classes of the
     * clusters each one holds the majority of is clusters / classes */
    out->fragmentation = (double)out->clusters / C;
    if (m > 0)
        out->purity = (double)majority_sum / m;
    if (region && nbnd > 0)
        out->boundary_recovery = (double)recovered / nbnd;
    rc = LCAE_OK;
done:
    free(li);
    free(ti);
    free(lv);
    free(sub_l);
    free(sub_t);
    free(cells);
    free(bnd);
    free(size);
    return rc;
}

/* One integer per position from an .npy file (any shape); *n its count. */
static int load_labels(const char *path, int64_t *n, int32_t **out)
{
    lcae_npy_header h;
    int rc = lcae_npy_load_i32(path, &h, out);
    *n = rc ? 0 : h.count;
    return rc;
}

/* *path: truth_region.npy in truth's folder if it is there, else NULL. */
static int region_beside(const char *truth, char **path)
{
    const char *slash = strrchr(truth, '/');
    size_t dl = slash ? (size_t)(slash - truth + 1) : 0;
    *path = lcae_malloc(dl + sizeof "truth_region.npy");
    if (!*path)
        return LCAE_ENOMEM;
    snprintf(*path, dl + sizeof "truth_region.npy", "%.*struth_region.npy", (int)dl, truth);
    if (access(*path, R_OK) != 0) {
        free(*path);
        *path = NULL;
    }
    return LCAE_OK;
}

int lcae_score_file(const char *labels_npy, const char *truth_npy, const char *region_npy,
                    lcae_score_result *out)
{
    int32_t *labels = NULL, *truth = NULL, *region = NULL;
    int64_t nl = 0, nt = 0, nr = 0;
    char *beside = NULL;
    int rc = region_npy ? LCAE_OK : region_beside(truth_npy, &beside);
    const char *rpath = region_npy ? region_npy : beside;
    if (!rc)
        rc = load_labels(labels_npy, &nl, &labels);
    if (!rc)
        rc = load_labels(truth_npy, &nt, &truth);
    if (!rc && nl != nt)
        rc = lcae_fail(LCAE_EFAIL, "%s: %lld labels, but %s has %lld (expected one label per "
                       "scan position)", labels_npy, (long long)nl, truth_npy, (long long)nt);
    if (!rc && rpath) {
        rc = load_labels(rpath, &nr, &region);
        if (!rc && nr != nt)
            rc = lcae_fail(LCAE_EFAIL, "%s: %lld positions, but %s has %lld (expected the "
                           "same scan)", rpath, (long long)nr, truth_npy, (long long)nt);
    }
    if (!rc)
        rc = lcae_score(labels, truth, region, nt, out);
    free(labels);
    free(truth);
    free(region);
    free(beside);
    return rc;
}
