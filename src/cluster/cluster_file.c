/* The cluster stage from file to files: lcae cluster and lcae run's cluster stages. */
#include "lcae/cluster.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lcae/io.h"

static int ends_with(const char *s, const char *suffix)
{
    size_t a = strlen(s), b = strlen(suffix);
    return a >= b && !strcmp(s + a - b, suffix);
}

/* n doubles as float32 (probabilities and outlier scores lie in [0, 1]: float32 keeps
 * them to 6e-8, and they are the same dtype as the latent vectors). */
static int write_f32(lcae_output_set *set, const char *path, const double *v, int64_t n)
{
    float *f = lcae_malloc((size_t)(n ? n : 1) * sizeof *f);
    if (!f)
        return LCAE_ENOMEM;
    for (int64_t i = 0; i < n; i++)
        f[i] = (float)v[i];
    int rc = lcae_npy_write_in(set, path, LCAE_DT_F32, 1, &n, f);
    free(f);
    return rc;
}

static int write_tree(lcae_output_set *set, const char *path, const lcae_condensed_tree *t)
{
    if (ends_with(path, ".csv")) {
        lcae_atomic_file af;
        int rc = lcae_atomic_open_in(&af, set, path);
        if (rc)
            return rc;
        fprintf(af.fp, "parent,child,lambda_val,child_size\n");
        for (int64_t r = 0; r < t->rows; r++)
            fprintf(af.fp, "%lld,%lld,%.17g,%lld\n", (long long)t->parent[r],
                    (long long)t->child[r], t->lambda[r], (long long)t->child_size[r]);
        return lcae_atomic_commit(&af);
    }
    double *a = lcae_malloc((size_t)(t->rows * 4 + 1) * sizeof *a);
    if (!a)
        return LCAE_ENOMEM;
    for (int64_t r = 0; r < t->rows; r++) {
        a[4 * r] = (double)t->parent[r];
        a[4 * r + 1] = (double)t->child[r];
        a[4 * r + 2] = t->lambda[r];
        a[4 * r + 3] = (double)t->child_size[r];
    }
    int64_t shape[2] = {t->rows, 4};
    int rc = lcae_npy_write_in(set, path, LCAE_DT_F64, 2, shape, a);
    free(a);
    return rc;
}

static int write_summary(lcae_output_set *set, const char *path, const lcae_cluster_summary *s)
{
    lcae_atomic_file af;
    int rc = lcae_atomic_open_in(&af, set, path);
    if (rc)
        return rc;
    fprintf(af.fp, "{\n  \"points\": %lld,\n  \"features\": %lld,\n  \"min_cluster_size\": %lld,\n"
            "  \"min_samples\": %lld,\n  \"clusters\": %lld,\n  \"noise\": %lld,\n"
            "  \"nonfinite\": %lld,\n  \"noise_share\": ", (long long)s->n, (long long)s->d,
            (long long)s->min_cluster_size, (long long)s->min_samples,
            (long long)s->n_clusters, (long long)s->n_noise, (long long)s->n_nonfinite);
    if (s->noise_share >= 0)
        fprintf(af.fp, "%.9g", s->noise_share);
    else
        fprintf(af.fp, "null");
    fprintf(af.fp, ",\n  \"smoothed\": %d", s->smoothed);
    if (s->fill_radius)
        fprintf(af.fp, ",\n  \"fill\": {\"radius\": %d, \"regions\": %lld, \"filled\": %lld, "
                "\"grains\": %lld}", s->fill_radius, (long long)s->fill.regions,
                (long long)s->fill.filled, (long long)s->grains);
    fprintf(af.fp, "\n}\n");
    return lcae_atomic_commit(&af);
}

static int write_outputs(const lcae_hdbscan_result *r, const int32_t *filled,
                         const int32_t *grains, const lcae_cluster_summary *sum,
                         const lcae_cluster_outputs *out)
{
    int64_t n = r->n;
    lcae_output_set *set = NULL;
    int rc = lcae_output_set_new(&set);
    if (!rc && out->labels)
        rc = lcae_npy_write_in(set, out->labels, LCAE_DT_I32, 1, &n, r->labels);
    if (!rc && out->labels_full && r->labels_full)
        rc = lcae_npy_write_in(set, out->labels_full, LCAE_DT_I32, 1, &n, r->labels_full);
    if (!rc && out->labels_filled && filled)
        rc = lcae_npy_write_in(set, out->labels_filled, LCAE_DT_I32, 1, &n, filled);
    if (!rc && out->labels_grains && grains)
        rc = lcae_npy_write_in(set, out->labels_grains, LCAE_DT_I32, 1, &n, grains);
    if (!rc && out->probabilities)
        rc = write_f32(set, out->probabilities, r->probabilities, n);
    if (!rc && out->outlier_scores)
        rc = write_f32(set, out->outlier_scores, r->outlier_scores, n);
    if (!rc && out->tree)
        rc = write_tree(set, out->tree, &r->tree);
    if (!rc && out->summary)
        rc = write_summary(set, out->summary, sum);
    int closed = lcae_output_set_close(set, !rc);
    return rc ? rc : closed;
}

/* The map in in_npy has a row per position of the scan sm describes. */
static int check_scan_rows(const char *in_npy, int64_t n, const lcae_smooth_params *sm,
                           const char *what)
{
    if (sm->ny * sm->nx == n)
        return LCAE_OK;
    return lcae_fail(LCAE_EFAIL, "%s: expected %lld rows (a %lld x %lld scan) to %s, found "
                     "%lld", in_npy, (long long)(sm->ny * sm->nx), (long long)sm->ny,
                     (long long)sm->nx, what, (long long)n);
}

/* The smoothing `sm` asks for, of the (n, d) map x read from in_npy: its noise share
 * (-1 when off) and the window it was smoothed with (0: not smoothed). */
static int smooth_map(const char *in_npy, double *x, int64_t n, int64_t d,
                      const lcae_smooth_params *sm, double *share, int *smoothed)
{
    *share = -1;
    *smoothed = 0;
    if (!sm || sm->mode == LCAE_SMOOTH_OFF)
        return LCAE_OK;
    if (sm->size < 3 || sm->size % 2 == 0)
        return lcae_fail(LCAE_EUSAGE, "smoothing window: expected an odd size of 3 or more, "
                         "found %d", sm->size);
    int rc = check_scan_rows(in_npy, n, sm, "smooth");
    if (rc)
        return rc;
    rc = lcae_feature_noise_share(x, sm->ny, sm->nx, d, share);
    double threshold = sm->auto_threshold > 0 ? sm->auto_threshold : LCAE_SMOOTH_AUTO_THRESHOLD;
    if (rc || (sm->mode == LCAE_SMOOTH_AUTO && !(*share > threshold)))
        return rc;
    rc = lcae_smooth_features(x, sm->ny, sm->nx, d, sm->size);
    *smoothed = rc ? 0 : sm->size;
    return rc;
}

int lcae_cluster_file(const char *in_npy, int64_t dims, const lcae_hdbscan_params *p,
                      const lcae_smooth_params *smooth, const lcae_cluster_outputs *out,
                      const lcae_progress *progress, lcae_cluster_summary *summary)
{
    lcae_npy_header h;
    double *x;
    int rc = lcae_npy_load_f64(in_npy, &h, &x);
    if (rc)
        return rc;
    if (h.ndim != 2) {
        free(x);
        return lcae_fail(LCAE_EFAIL, "%s: expected a 2-D array (points x features), found %d "
                         "dimensions", in_npy, h.ndim);
    }
    int64_t n = h.shape[0], d = h.shape[1], use = dims > 0 && dims < d ? dims : d;
    int fill_radius = smooth && out->labels_filled ? smooth->fill_radius : 0;
    if (fill_radius) { /* refused before the clustering's work */
        rc = check_scan_rows(in_npy, n, smooth, "fill");
        if (rc) {
            free(x);
            return rc;
        }
    }
    for (int64_t i = 0; use < d && i < n; i++) /* the first `use` columns, packed */
        memmove(x + i * use, x + i * d, (size_t)use * sizeof *x);
    double share;
    int smoothed;
    rc = smooth_map(in_npy, x, n, use, smooth, &share, &smoothed);
    if (rc) {
        free(x);
        return rc;
    }
    lcae_hdbscan_result r;
    rc = lcae_hdbscan(x, n, use, p, in_npy, progress, &r);
    free(x);
    if (rc)
        return rc;
    lcae_cluster_summary sum = {.n = n, .d = use, .min_cluster_size = r.min_cluster_size,
                                .min_samples = r.min_samples, .n_clusters = r.n_clusters,
                                .n_nonfinite = r.n_nonfinite, .noise_share = share,
                                .smoothed = smoothed, .fill_radius = fill_radius};
    for (int64_t i = 0; i < n; i++)
        sum.n_noise += r.labels[i] < 0;
    int32_t *filled = NULL, *grains = NULL;
    if (fill_radius) {
        filled = lcae_malloc((size_t)n * sizeof *filled + 1);
        rc = filled ? lcae_fill_map(r.labels, smooth->ny, smooth->nx, fill_radius, filled,
                                    &sum.fill)
                    : LCAE_ENOMEM;
    }
    if (!rc && filled && out->labels_grains) {
        grains = lcae_malloc((size_t)n * sizeof *grains + 1);
        rc = grains ? lcae_grain_map(filled, smooth->ny, smooth->nx, grains, &sum.grains)
                    : LCAE_ENOMEM;
    }
    if (!rc)
        rc = write_outputs(&r, filled, grains, &sum, out);
    if (!rc && summary)
        *summary = sum;
    free(filled);
    free(grains);
    lcae_hdbscan_result_free(&r);
    return rc;
}
