/* Features of a scan (include/lcae/features.h): the rows PCA sees are recomputed from the
 * scan on every pass (read, prepared and, for polar, transformed in groups of patterns
 * over all cores), so memory does not grow with the scan beyond the output.
 * Under MPI (lcae/mpi.h) each rank computes the rows of its range of positions once; the
 * rows are gathered on every rank, and each runs the same PCA on them in memory (the rows
 * one process would have streamed, so the same numbers), at the cost of holding all rows. */
#include "lcae/features.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lcae/mpi.h"

/* patterns read and prepared together by one thread */
#define CHUNK 16
/* patterns per call of the row callback when no PCA follows (polar, dims 0) */
#define PLAIN_BATCH 1024

/* ---- the rows: prepared patterns, or their polar magnitudes ------------------------- */
typedef struct {
    lcae_dataset *ds;
    const lcae_prep *prep;
    int size, row_dims, threads;
    int64_t hw, nx;
    const float *beam;            /* (count, 2), or NULL */
    const lcae_polar_plan *polar; /* NULL: the rows are the prepared patterns */
    float *raw;                   /* (threads, CHUNK, h w) */
    float *prepared;              /* (threads, CHUNK, size^2), polar only */
    int64_t *idx;                 /* (threads, CHUNK) */
    /* the failure of the lowest-numbered chunk (messages are per thread) */
    int rc;
    int64_t rc_chunk;
    char msg[512];
} rows_ctx;

static int check_finite(const rows_ctx *c, const float *raw, int64_t first, int m)
{
    for (int i = 0; i < m; i++) {
        const float *r = raw + (size_t)i * (size_t)c->hw;
        /* NaN and Inf are the floats whose exponent bits are all set; an integer OR over
         * the pattern vectorizes (a float sum would not, without reassociation) */
        uint32_t bad = 0;
        for (int64_t j = 0; j < c->hw; j++) {
            uint32_t u;
            memcpy(&u, r + j, 4);
            bad |= (u & 0x7f800000u) == 0x7f800000u;
        }
        if (bad) {
            int64_t p = first + i;
            return lcae_fail(LCAE_EFAIL, "%s: the pattern at scan position (%lld, %lld) has "
                             "NaN or infinite pixels (expected finite values)",
                             lcae_dataset_path(c->ds), (long long)(p / c->nx),
                             (long long)(p % c->nx));
        }
    }
    return LCAE_OK;
}

static int scan_rows(void *vctx, int64_t first, int n, float *out)
{
    rows_ctx *c = vctx;
    int chunks = (n + CHUNK - 1) / CHUNK;
    c->rc = LCAE_OK;
    c->rc_chunk = INT64_MAX;
#pragma omp parallel for num_threads(c->threads) schedule(dynamic, 1)
    for (int g = 0; g < chunks; g++) {
        int t = omp_get_thread_num();
        int64_t i0 = first + (int64_t)g * CHUNK;
        int m = n - g * CHUNK < CHUNK ? n - g * CHUNK : CHUNK;
        int64_t *idx = c->idx + (size_t)t * CHUNK;
        float *raw = c->raw + (size_t)t * CHUNK * (size_t)c->hw;
        float *rows = out + (size_t)g * CHUNK * (size_t)c->row_dims;
        float *prep = c->polar ? c->prepared + (size_t)t * CHUNK * (size_t)c->size * c->size
                               : rows;
        for (int i = 0; i < m; i++)
            idx[i] = i0 + i;
        int rc = lcae_prep_read(c->ds, c->prep, c->size, c->beam, idx, m, raw, prep);
        if (!rc)
            rc = check_finite(c, raw, i0, m);
        if (!rc && c->polar)
            rc = lcae_polar_apply(c->polar, prep, m, rows);
        if (rc) {
#pragma omp critical(lcae_features_rows)
            if (g < c->rc_chunk) {
                c->rc = rc;
                c->rc_chunk = g;
                snprintf(c->msg, sizeof c->msg, "%s", lcae_last_error());
            }
        }
    }
    return c->rc ? lcae_fail(c->rc, "%s", c->msg) : LCAE_OK;
}

/* Rows [lo, hi) into x (n, row_dims) in one pass: the polar magnitudes themselves (dims
 * 0), or this rank's rows under MPI. */
static int plain_rows(rows_ctx *c, int64_t lo, int64_t hi, const char *what,
                      const lcae_progress *p, float *x)
{
    lcae_progress_begin(p, what, hi - lo, "patterns");
    int rc = LCAE_OK;
    for (int64_t b0 = lo; b0 < hi && !rc; b0 += PLAIN_BATCH) {
        int nb = (int)(hi - b0 < PLAIN_BATCH ? hi - b0 : PLAIN_BATCH);
        rc = scan_rows(c, b0, nb, x + (size_t)b0 * (size_t)c->row_dims);
        lcae_progress_update(p, b0 + nb - lo, NULL);
    }
    lcae_progress_end(p, rc ? "stopped by an error" : NULL);
    return rc;
}

/* Under MPI: every row, each rank computing its range, gathered on every rank. */
static int all_rows(rows_ctx *c, int64_t n, const char *what, const lcae_progress *p,
                    float *x)
{
    int64_t lo, hi;
    lcae_mpi_range(n, &lo, &hi);
    int rc = lcae_mpi_check(plain_rows(c, lo, hi, what, p, x));
    return rc ? rc : lcae_mpi_gather_rows(x, lo, hi, (size_t)c->row_dims * sizeof *x, -1);
}

/* The PCA's row callback over rows held in memory: ctx is a memory_rows. */
typedef struct {
    const float *x;
    int d;
} memory_rows;

static int memory_row_copy(void *vctx, int64_t first, int n, float *out)
{
    const memory_rows *m = vctx;
    memcpy(out, m->x + (size_t)first * (size_t)m->d, (size_t)n * (size_t)m->d * sizeof *out);
    return LCAE_OK;
}

void lcae_features_free(lcae_features *f)
{
    if (!f)
        return;
    if (f->has_pca)
        lcae_pca_free(&f->pca); /* its scores are f->x */
    else
        free(f->x);
    memset(f, 0, sizeof *f);
}

int lcae_features_compute(lcae_dataset *ds, const lcae_features_options *o,
                          const float *beam_map, const lcae_progress *progress,
                          lcae_features *out)
{
    memset(out, 0, sizeof *out);
    const lcae_dataset_info *in = lcae_dataset_get_info(ds);
    const char *path = lcae_dataset_path(ds);
    lcae_features f = {.n = in->count, .used = *o};
    int rc = lcae_features_resolve(&f.used);
    if (rc)
        return rc;
    o = &f.used; /* resolved: what follows reads these */
    int polar = o->method == LCAE_FEATURES_POLAR;
    if (o->prep.center == LCAE_CENTER_BEAM && !beam_map)
        return lcae_fail(LCAE_EUSAGE, "%s: centring on the direct beam needs a beam map",
                         path);
    if ((rc = lcae_prep_size(in->h, in->w, o->prep.crop, o->prep.bin, &f.size)))
        return rc;
    const float *beam = o->prep.center == LCAE_CENTER_BEAM ? beam_map : NULL;
    lcae_stats_options so = {.seed = o->seed};
    if ((rc = lcae_prep_fit(ds, &f.used.prep, beam, &so, progress, NULL)))
        return rc;
    lcae_polar_plan *plan = NULL;
    if (polar) {
        if ((rc = lcae_polar_plan_create(f.size, &o->polar, &plan)))
            return rc;
        f.used.polar = *lcae_polar_plan_params(plan);
        f.row_dims = lcae_polar_plan_dims(plan);
    } else {
        f.row_dims = f.size * f.size;
        f.used.polar = (lcae_polar_params){0};
    }
    rows_ctx c = {.ds = ds, .prep = &f.used.prep, .size = f.size, .row_dims = f.row_dims,
                  .threads = omp_get_max_threads(), .hw = in->h * in->w, .nx = in->nx,
                  .beam = beam, .polar = plan};
    size_t T = (size_t)c.threads;
    c.raw = lcae_malloc(T * CHUNK * (size_t)c.hw * sizeof *c.raw);
    c.idx = lcae_malloc(T * CHUNK * sizeof *c.idx);
    if (polar)
        c.prepared = lcae_malloc(T * CHUNK * (size_t)f.size * (size_t)f.size * sizeof(float));
    if (!c.raw || !c.idx || (polar && !c.prepared)) {
        rc = LCAE_ENOMEM;
    } else if (polar && o->dims == 0) {
        f.dims = f.row_dims;
        f.x = lcae_malloc((size_t)f.n * (size_t)f.dims * sizeof *f.x);
        rc = !f.x ? LCAE_ENOMEM
             : lcae_mpi_size() > 1 ? all_rows(&c, f.n, "polar features", progress, f.x)
                                   : plain_rows(&c, 0, f.n, "polar features", progress, f.x);
    } else {
        lcae_pca_options po = lcae_pca_defaults(o->dims);
        po.solver = o->solver;
        po.power_iters = o->power_iters;
        po.standardize = o->standardize;
        po.seed = o->seed;
        char what[32];
        snprintf(what, sizeof what, "%s features", lcae_features_method_name(o->method));
        if (lcae_mpi_size() == 1) {
            rc = lcae_pca(scan_rows, &c, f.n, f.row_dims, &po, what, progress, &f.pca);
        } else {
            memory_rows mr = {lcae_malloc((size_t)f.n * (size_t)f.row_dims * sizeof(float)),
                              f.row_dims};
            rc = !mr.x ? LCAE_ENOMEM : all_rows(&c, f.n, what, progress, (float *)mr.x);
            if (!rc)
                rc = lcae_pca(memory_row_copy, &mr, f.n, f.row_dims, &po, what, progress,
                              &f.pca);
            free((float *)mr.x);
        }
        if (!rc) {
            f.has_pca = 1;
            f.dims = o->dims;
            f.x = f.pca.scores;
            f.used.solver = f.pca.solver;
        }
    }
    free(c.raw);
    free(c.idx);
    free(c.prepared);
    lcae_polar_plan_free(plan);
    if (rc) {
        lcae_features_free(&f);
        return rc;
    }
    *out = f;
    return LCAE_OK;
}

/* ---- outputs ------------------------------------------------------------------------ */
static cJSON *number_array(const double *v, int n)
{
    cJSON *a = cJSON_CreateArray();
    for (int i = 0; i < n; i++)
        cJSON_AddItemToArray(a, cJSON_CreateNumber(v[i]));
    return a;
}

cJSON *lcae_features_json(const lcae_features *f)
{
    const lcae_features_options *u = &f->used;
    cJSON *j = cJSON_CreateObject();
    cJSON_AddStringToObject(j, "method", lcae_features_method_name(u->method));
    cJSON_AddNumberToObject(j, "n", (double)f->n);
    cJSON_AddNumberToObject(j, "dims", f->dims);
    cJSON_AddNumberToObject(j, "row_dims", f->row_dims);
    cJSON_AddNumberToObject(j, "size", f->size);
    cJSON_AddNumberToObject(j, "threads", omp_get_max_threads());
    cJSON_AddItemToObject(j, "prep", lcae_prep_json(&u->prep));
    if (u->method == LCAE_FEATURES_POLAR) {
        /* the polar rows of the table, resolved by the plan */
        cJSON *p = cJSON_AddObjectToObject(j, "polar");
        lcae_options_json_add(lcae_features_option_table, u, LCAE_FEATURES_POLAR_ONLY, p);
        cJSON_AddStringToObject(p, "layout", "radius-major, order fastest; order 0 is the "
                                "signed ring mean, orders >= 1 magnitudes");
    }
    if (f->has_pca) {
        const lcae_pca_result *r = &f->pca;
        cJSON *p = cJSON_AddObjectToObject(j, "pca");
        cJSON_AddStringToObject(p, "solver", lcae_pca_solver_name(r->solver));
        cJSON_AddNumberToObject(p, "passes", r->passes);
        if (r->solver == LCAE_PCA_RANDOMIZED) {
            cJSON_AddNumberToObject(p, "power_iterations", u->power_iters);
            cJSON_AddNumberToObject(p, "oversample", lcae_pca_defaults(0).oversample);
            cJSON_AddNumberToObject(p, "seed", (double)u->seed);
        }
        cJSON_AddNumberToObject(p, "total_variance", r->total_variance);
        cJSON_AddItemToObject(p, "explained_variance",
                              number_array(r->explained_variance, r->dims));
        cJSON_AddItemToObject(p, "explained_variance_ratio",
                              number_array(r->explained_variance_ratio, r->dims));
        cJSON_AddStringToObject(p, "signs", "each axis's largest-magnitude loading positive");
    }
    return j;
}

char *lcae_features_json_path(const char *npy_path)
{
    size_t n = strlen(npy_path);
    if (n > 4 && !strcmp(npy_path + n - 4, ".npy"))
        n -= 4;
    char *p = lcae_malloc(n + 6);
    if (p) {
        memcpy(p, npy_path, n);
        memcpy(p + n, ".json", 6);
    }
    return p;
}

int lcae_features_write(const lcae_features *f, const char *out_npy)
{
    char *json_path = lcae_features_json_path(out_npy);
    if (!json_path)
        return LCAE_ENOMEM;
    cJSON *j = lcae_features_json(f);
    char *text = j ? cJSON_Print(j) : NULL;
    cJSON_Delete(j);
    int rc = LCAE_OK;
    if (!text)
        rc = lcae_fail(LCAE_ENOMEM, "%s: out of memory", json_path);
    int64_t shape[2] = {f->n, f->dims};
    /* under MPI every rank holds the features, rank 0 writes them */
    int writer = lcae_mpi_rank() == 0;
    if (!rc && writer)
        rc = lcae_npy_write(out_npy, LCAE_DT_F32, 2, shape, f->x);
    if (!rc && writer) {
        size_t len = strlen(text);
        text[len] = '\n'; /* cJSON_Print leaves no final newline; its NUL is ours */
        rc = lcae_write_file_atomic(json_path, text, len + 1);
    }
    free(text);
    free(json_path);
    return rc;
}

int lcae_features_file(lcae_dataset *ds, const lcae_features_options *o,
                       const float *beam_map, const char *beam_npy, const char *out_npy,
                       const lcae_progress *progress, lcae_features *kept)
{
    float *found = NULL;
    int rc = LCAE_OK;
    if (!beam_map && o->prep.center == LCAE_CENTER_BEAM) {
        rc = lcae_prep_beam_map(ds, beam_npy, progress, &found);
        beam_map = found;
    }
    lcae_features f = {0};
    if (!rc)
        rc = lcae_features_compute(ds, o, beam_map, progress, &f);
    if (!rc) /* rank 0 writes, the others learn how that went */
        rc = lcae_mpi_check(lcae_features_write(&f, out_npy));
    if (!rc && kept)
        *kept = f;
    else
        lcae_features_free(&f);
    free(found);
    return rc;
}
