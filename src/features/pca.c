/* Streaming PCA (include/lcae/features.h): the rows come from a callback, batch by batch,
 * once per pass; nothing of size n x d is held. Products are CBLAS dgemm calls in double,
 * split over OpenMP threads by fixed slices (rows of the batch, or columns of an
 * accumulator), each slice always added in the same order: the same thread count gives
 * the same numbers. The first pass shifts the rows by the mean of the first batch (a
 * pilot mean, so that second moments accumulate without cancellation) and corrects for
 * the shift once the exact mean is known; later passes centre on the exact mean. */
#include "core/util.h"
#include "lcae/features.h"

#include <cblas.h>
#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* LAPACK (part of OpenBLAS), Fortran calling convention: arguments by reference, the
 * hidden lengths of character arguments last. */
extern void dsyevr_(const char *jobz, const char *range, const char *uplo, const int *n,
                    double *a, const int *lda, const double *vl, const double *vu,
                    const int *il, const int *iu, const double *abstol, int *m, double *w,
                    double *z, const int *ldz, int *isuppz, double *work, const int *lwork,
                    int *iwork, const int *liwork, int *info, size_t, size_t, size_t);
extern void dgeqrf_(const int *m, const int *n, double *a, const int *lda, double *tau,
                    double *work, const int *lwork, int *info);
extern void dorgqr_(const int *m, const int *n, const int *k, double *a, const int *lda,
                    const double *tau, double *work, const int *lwork, int *info);

/* The covariance solver's d x d doubles: at most 512 MiB. */
#define COVARIANCE_HARD_MAX 8192
/* Rows per batch: about 8 MiB of doubles, 64 to 4096 rows. */
#define BATCH_BYTES (8 << 20)

const char *const lcae_pca_solver_names[] = {"auto", "covariance", "randomized", NULL};

const char *lcae_pca_solver_name(lcae_pca_solver s)
{
    return core_name_of(lcae_pca_solver_names, (int)s);
}

int lcae_pca_solver_from_name(const char *name)
{
    return core_name_index(lcae_pca_solver_names, name);
}

lcae_pca_options lcae_pca_defaults(int dims)
{
    return (lcae_pca_options){.dims = dims, .solver = LCAE_PCA_AUTO,
                              .power_iters = LCAE_PCA_POWER_ITERS, .oversample = 10};
}

void lcae_pca_free(lcae_pca_result *r)
{
    if (!r)
        return;
    free(r->scores);
    free(r->mean);
    free(r->scale);
    free(r->components);
    free(r->explained_variance);
    free(r->explained_variance_ratio);
    memset(r, 0, sizeof *r);
}

/* ---- passes over the rows --------------------------------------------------------- */
typedef struct stream stream;
/* What a pass does with one batch: x holds rows b0 .. b0 + nb - 1, shifted and scaled. */
typedef void (*batch_fn)(stream *s, int64_t b0, int nb, void *arg);

struct stream {
    lcae_rows_fn rows;
    void *ctx;
    int64_t n;
    int d, batch, threads;
    float *buf;   /* (batch, d) as the callback gives them */
    double *x;    /* (batch, d): (row - shift) * inv */
    double *shift, *inv; /* (d) each */
    const char *what;
    const lcae_progress *progress;
    int pass, passes;
};

/* Rows [t nb / T, (t + 1) nb / T) of a batch are thread t's. */
static int slice(int nb, int t, int T) { return (int)((int64_t)nb * t / T); }

/* One pass: every batch read, converted and handed to fn. With pilot, shift is first set
 * to the mean of the first batch. */
static int run_pass(stream *s, int pilot, batch_fn fn, void *arg)
{
    char what[160];
    snprintf(what, sizeof what, "%s: pass %d of %d", s->what, ++s->pass, s->passes);
    lcae_progress_begin(s->progress, what, s->n, "patterns");
    int d = s->d;
    for (int64_t b0 = 0; b0 < s->n; b0 += s->batch) {
        int nb = (int)(s->n - b0 < s->batch ? s->n - b0 : s->batch);
        int rc = s->rows(s->ctx, b0, nb, s->buf);
        if (rc) {
            lcae_progress_end(s->progress, "stopped by an error");
            return rc;
        }
        if (pilot && b0 == 0)
            for (int j = 0; j < d; j++) {
                double m = 0;
                for (int i = 0; i < nb; i++)
                    m += s->buf[(size_t)i * d + j];
                s->shift[j] = m / nb;
            }
#pragma omp parallel for num_threads(s->threads) schedule(static)
        for (int i = 0; i < nb; i++) {
            const float *r = s->buf + (size_t)i * d;
            double *x = s->x + (size_t)i * d;
            for (int j = 0; j < d; j++)
                x[j] = ((double)r[j] - s->shift[j]) * s->inv[j];
        }
        fn(s, b0, nb, arg);
        lcae_progress_update(s->progress, b0 + nb, NULL);
    }
    lcae_progress_end(s->progress, NULL);
    return LCAE_OK;
}

/* Column sums (and sums of squares) of x into acc[0..d) (and acc[d..2d)), each thread
 * owning a slice of columns. */
static void column_sums(stream *s, int nb, double *acc, int squares)
{
    int d = s->d;
#pragma omp parallel num_threads(s->threads)
    {
        int T = omp_get_num_threads(), t = omp_get_thread_num();
        for (int j = slice(d, t, T); j < slice(d, t + 1, T); j++) {
            double a = 0, q = 0;
            for (int i = 0; i < nb; i++) {
                double v = s->x[(size_t)i * d + j];
                a += v;
                q += v * v;
            }
            acc[j] += a;
            if (squares)
                acc[d + j] += q;
        }
    }
}

/* ---- covariance solver -------------------------------------------------------------- */
typedef struct {
    double *cov;    /* (d, d) column-major, upper triangle: sum of x x^T */
    double *colsum; /* (d) */
} cov_acc;

static void cov_batch(stream *s, int64_t b0, int nb, void *arg)
{
    (void)b0;
    cov_acc *a = arg;
    int d = s->d;
    column_sums(s, nb, a->colsum, 0);
    /* x is (d, nb) column-major with leading dimension d. Thread t adds the block of
     * columns [j0, j1) of sum x x^T, rows 0 .. j1 - 1 (the upper triangle and the lower
     * part of the diagonal block); column j costs about j, so slices split d^2 evenly. */
#pragma omp parallel num_threads(s->threads)
    {
        int T = omp_get_num_threads(), t = omp_get_thread_num();
        int j0 = (int)(d * sqrt((double)t / T)), j1 = (int)(d * sqrt((double)(t + 1) / T));
        if (t == T - 1)
            j1 = d;
        if (j1 > j0)
            cblas_dgemm(CblasColMajor, CblasNoTrans, CblasTrans, j1, j1 - j0, nb, 1.0, s->x,
                        d, s->x + j0, d, 1.0, a->cov + (size_t)j0 * d, d);
    }
}

/* The top `dims` eigenpairs of the symmetric (d, d) column-major a (upper triangle used,
 * a destroyed), in decreasing order: val (dims), vec (dims, d) row-major. */
static int top_eigen(double *a, int d, int dims, double *val, double *vec)
{
    int il = d - dims + 1, iu = d, m = 0, info = 0, lwork = -1, liwork = -1, iwq = 0;
    double vl = 0, vu = 0, abstol = 0, wq = 0;
    double *w = lcae_malloc((size_t)d * sizeof *w);
    double *z = lcae_malloc((size_t)d * (size_t)dims * sizeof *z);
    int *isuppz = lcae_malloc(2 * (size_t)dims * sizeof *isuppz);
    if (!w || !z || !isuppz) {
        free(w);
        free(z);
        free(isuppz);
        return LCAE_ENOMEM;
    }
    dsyevr_("V", "I", "U", &d, a, &d, &vl, &vu, &il, &iu, &abstol, &m, w, z, &d, isuppz, &wq,
            &lwork, &iwq, &liwork, &info, 1, 1, 1);
    lwork = (int)wq;
    liwork = iwq;
    double *work = info ? NULL : lcae_malloc((size_t)lwork * sizeof *work);
    int *iwork = info ? NULL : lcae_malloc((size_t)liwork * sizeof *iwork);
    int rc = LCAE_OK;
    if (!info && (!work || !iwork))
        rc = LCAE_ENOMEM;
    else if (!info)
        dsyevr_("V", "I", "U", &d, a, &d, &vl, &vu, &il, &iu, &abstol, &m, w, z, &d, isuppz,
                work, &lwork, iwork, &liwork, &info, 1, 1, 1);
    if (!rc && (info || m != dims))
        rc = lcae_fail(LCAE_EFAIL, "PCA: the eigendecomposition failed (LAPACK dsyevr info "
                       "%d, %d of %d eigenvalues)", info, m, dims);
    if (!rc)
        for (int j = 0; j < dims; j++) { /* ascending -> decreasing */
            val[j] = w[dims - 1 - j];
            memcpy(vec + (size_t)j * d, z + (size_t)(dims - 1 - j) * d, (size_t)d * sizeof *z);
        }
    free(w);
    free(z);
    free(isuppz);
    free(work);
    free(iwork);
    return rc;
}

/* ---- randomized solver -------------------------------------------------------------- */
typedef struct {
    int k;
    double *y;      /* (n, k) column-major: the sketch x m, then its orthonormal basis */
    const double *m; /* (d, k) column-major: the matrix the rows are multiplied by */
    double *z;      /* (d, k) column-major: sum of x^T y (the z pass) */
    double *colsum; /* (2 d): sums and sums of squares (the sketch pass) */
} rand_acc;

/* y[b0 .. b0 + nb) = x m, and the moments on the sketch pass (colsum set). */
static void sketch_batch(stream *s, int64_t b0, int nb, void *arg)
{
    rand_acc *a = arg;
    int d = s->d;
    if (a->colsum)
        column_sums(s, nb, a->colsum, 1);
#pragma omp parallel num_threads(s->threads)
    {
        int T = omp_get_num_threads(), t = omp_get_thread_num();
        int r0 = slice(nb, t, T), r1 = slice(nb, t + 1, T);
        if (r1 > r0)
            cblas_dgemm(CblasColMajor, CblasTrans, CblasNoTrans, r1 - r0, a->k, d, 1.0,
                        s->x + (size_t)r0 * d, d, a->m, d, 0.0, a->y + b0 + r0, (int)s->n);
    }
}

/* z += x^T y[b0 .. b0 + nb), each thread owning a slice of z's rows. */
static void z_batch(stream *s, int64_t b0, int nb, void *arg)
{
    rand_acc *a = arg;
    int d = s->d;
#pragma omp parallel num_threads(s->threads)
    {
        int T = omp_get_num_threads(), t = omp_get_thread_num();
        int j0 = slice(d, t, T), j1 = slice(d, t + 1, T);
        if (j1 > j0)
            cblas_dgemm(CblasColMajor, CblasNoTrans, CblasNoTrans, j1 - j0, a->k, nb, 1.0,
                        s->x + j0, d, a->y + b0, (int)s->n, 1.0, a->z + j0, d);
    }
}

/* In place: the (rows, k) column-major a (leading dimension rows) replaced by an
 * orthonormal basis of its columns (Householder QR). */
static int orthonormalize(double *a, int rows, int k)
{
    int info = 0, lwork = -1;
    double wq = 0;
    double *tau = lcae_malloc((size_t)k * sizeof *tau);
    if (!tau)
        return LCAE_ENOMEM;
    dgeqrf_(&rows, &k, a, &rows, tau, &wq, &lwork, &info);
    double wq2 = 0;
    if (!info)
        dorgqr_(&rows, &k, &k, a, &rows, tau, &wq2, &lwork, &info);
    lwork = (int)fmax(wq, wq2);
    double *work = info ? NULL : lcae_malloc((size_t)(lwork > 1 ? lwork : 1) * sizeof *work);
    int rc = LCAE_OK;
    if (!info && !work)
        rc = LCAE_ENOMEM;
    if (!rc && !info)
        dgeqrf_(&rows, &k, a, &rows, tau, work, &lwork, &info);
    if (!rc && !info)
        dorgqr_(&rows, &k, &k, a, &rows, tau, work, &lwork, &info);
    if (!rc && info)
        rc = lcae_fail(LCAE_EFAIL, "PCA: the QR factorization failed (LAPACK info %d)", info);
    free(tau);
    free(work);
    return rc;
}

/* Standard normal deviates from a seeded splitmix64 stream (Box-Muller). */
static void gaussian_fill(double *v, size_t n, uint64_t seed)
{
    uint64_t st = seed ^ 0x5ca1ab1e0ddba11ull;
    for (size_t i = 0; i < n; i += 2) {
        double u = ((double)(core_splitmix64(&st) >> 11) + 0.5) * 0x1p-53;
        double w = (double)(core_splitmix64(&st) >> 11) * 0x1p-53;
        double r = sqrt(-2 * log(u));
        v[i] = r * cos(6.283185307179586 * w);
        if (i + 1 < n)
            v[i + 1] = r * sin(6.283185307179586 * w);
    }
}

/* The randomized range finder: on return comp (dims, d) holds the top axes. The first
 * pass's moments are in colsum (2 d), its pilot shift in s->shift. */
static int randomized_axes(stream *s, int dims, const lcae_pca_options *o, double *colsum,
                           double *comp)
{
    int64_t n = s->n;
    int d = s->d, k = dims + o->oversample;
    k = k > d ? d : k;
    k = (int64_t)k > n ? (int)n : k;
    rand_acc a = {.k = k};
    a.y = lcae_malloc((size_t)n * (size_t)k * sizeof *a.y);
    double *omega = lcae_malloc((size_t)d * (size_t)k * sizeof *omega);
    a.z = lcae_malloc((size_t)d * (size_t)k * sizeof *a.z);
    double *g = lcae_malloc((size_t)k * (size_t)k * sizeof *g);
    double *gval = lcae_malloc((size_t)k * sizeof *gval);
    double *gvec = lcae_malloc((size_t)k * (size_t)k * sizeof *gvec);
    int rc = LCAE_OK;
    if (!a.y || !omega || !a.z || !g || !gval || !gvec) {
        rc = LCAE_ENOMEM;
        goto done;
    }
    gaussian_fill(omega, (size_t)d * (size_t)k, o->seed);
    a.m = omega;
    a.colsum = colsum;
    if ((rc = run_pass(s, 1, sketch_batch, &a)))
        goto done;
    a.colsum = NULL;
    /* exact centring of the sketch: y -= 1 (delta^T omega), delta = mean - shift */
    for (int c = 0; c < k; c++) {
        double corr = 0;
        for (int j = 0; j < d; j++)
            corr += colsum[j] / (double)n * omega[(size_t)c * d + j];
        for (int64_t i = 0; i < n; i++)
            a.y[(size_t)c * n + i] -= corr;
    }
    for (int j = 0; j < d; j++)
        s->shift[j] += colsum[j] / (double)n; /* the exact mean from here on */
    if ((rc = orthonormalize(a.y, (int)n, k)))
        goto done;
    for (int it = 0; it <= o->power_iters; it++) {
        memset(a.z, 0, (size_t)d * (size_t)k * sizeof *a.z);
        if ((rc = run_pass(s, 0, z_batch, &a)))
            goto done;
        if (it == o->power_iters)
            break; /* z = x^T q: the small SVD below */
        if ((rc = orthonormalize(a.z, d, k)))
            goto done;
        a.m = a.z;
        if ((rc = run_pass(s, 0, sketch_batch, &a)) || (rc = orthonormalize(a.y, (int)n, k)))
            goto done;
    }
    /* x ~ q b with b = z^T (k x d): the right singular vectors of b are z u_j / sigma_j,
     * u_j the eigenvectors of z^T z */
    cblas_dgemm(CblasColMajor, CblasTrans, CblasNoTrans, k, k, d, 1.0, a.z, d, a.z, d, 0.0, g,
                k);
    if ((rc = top_eigen(g, k, dims, gval, gvec)))
        goto done;
    for (int j = 0; j < dims; j++) {
        double *v = comp + (size_t)j * d, nn = 0;
        cblas_dgemv(CblasColMajor, CblasNoTrans, d, k, 1.0, a.z, d, gvec + (size_t)j * k, 1,
                    0.0, v, 1);
        for (int i = 0; i < d; i++)
            nn += v[i] * v[i];
        /* an axis past the data's rank stays a zero vector (its variance is 0) */
        if (nn > 0)
            for (int i = 0; i < d; i++)
                v[i] /= sqrt(nn);
    }
done:
    free(a.y);
    free(omega);
    free(a.z);
    free(g);
    free(gval);
    free(gvec);
    return rc;
}

/* ---- projection ------------------------------------------------------------------- */
typedef struct {
    const double *comp; /* (dims, d) */
    int dims;
    float *scores;      /* (n, dims) */
    double *tmp;        /* (batch, dims) */
    double *sq;         /* (threads, dims): each thread's sum of squared scores */
} proj_acc;

static void proj_batch(stream *s, int64_t b0, int nb, void *arg)
{
    proj_acc *a = arg;
    int d = s->d, D = a->dims;
#pragma omp parallel num_threads(s->threads)
    {
        int T = omp_get_num_threads(), t = omp_get_thread_num();
        int r0 = slice(nb, t, T), r1 = slice(nb, t + 1, T);
        if (r1 > r0)
            cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, r1 - r0, D, d, 1.0,
                        s->x + (size_t)r0 * d, d, a->comp, d, 0.0, a->tmp + (size_t)r0 * D, D);
        for (int i = r0; i < r1; i++)
            for (int j = 0; j < D; j++) {
                double v = a->tmp[(size_t)i * D + j];
                a->sq[(size_t)t * D + j] += v * v;
                a->scores[(size_t)(b0 + i) * D + j] = (float)v;
            }
    }
}

/* Each axis's largest-magnitude entry made positive (the first on a tie). */
static void fix_signs(double *comp, int dims, int d)
{
    for (int j = 0; j < dims; j++) {
        double *v = comp + (size_t)j * d;
        int m = 0;
        for (int i = 1; i < d; i++)
            if (fabs(v[i]) > fabs(v[m]))
                m = i;
        if (v[m] < 0)
            for (int i = 0; i < d; i++)
                v[i] = -v[i];
    }
}

int lcae_pca(lcae_rows_fn rows, void *ctx, int64_t n, int d, const lcae_pca_options *o,
             const char *what, const lcae_progress *progress, lcae_pca_result *res)
{
    memset(res, 0, sizeof *res);
    int dims = o->dims;
    if (n < 2 || d < 1)
        return lcae_fail(LCAE_EUSAGE, "%s: PCA needs at least 2 rows of at least 1 value "
                         "(found %lld rows of %d)", what, (long long)n, d);
    if (n > INT32_MAX)
        return lcae_fail(LCAE_EUSAGE, "%s: PCA of %lld rows (at most %d)", what,
                         (long long)n, INT32_MAX);
    int64_t maxd = n - 1 < d ? n - 1 : d;
    if (dims < 1 || dims > maxd)
        return lcae_fail(LCAE_EUSAGE, "%s: PCA dimensions: expected 1 to %lld (rows - 1 "
                         "and values per row bound it), found %d", what, (long long)maxd,
                         dims);
    lcae_pca_solver solver = o->solver;
    if (solver == LCAE_PCA_AUTO)
        solver = d <= LCAE_PCA_COVARIANCE_MAX_DIMS ? LCAE_PCA_COVARIANCE : LCAE_PCA_RANDOMIZED;
    if (solver != LCAE_PCA_COVARIANCE && solver != LCAE_PCA_RANDOMIZED)
        return lcae_fail(LCAE_EUSAGE, "%s: unknown PCA solver %d", what, (int)solver);
    if (solver == LCAE_PCA_COVARIANCE && d > COVARIANCE_HARD_MAX)
        return lcae_fail(LCAE_EUSAGE, "%s: rows of %d values are too long for the covariance "
                         "solver (at most %d; use the randomized one)", what, d,
                         COVARIANCE_HARD_MAX);
    if (solver == LCAE_PCA_RANDOMIZED && o->standardize)
        return lcae_fail(LCAE_EUSAGE, "%s: standardized PCA needs the covariance solver "
                         "(rows of at most %d values)", what, COVARIANCE_HARD_MAX);
    if (solver == LCAE_PCA_RANDOMIZED &&
        (o->power_iters < 0 || o->power_iters > 20 || o->oversample < 0 ||
         o->oversample > 1000))
        return lcae_fail(LCAE_EUSAGE, "%s: randomized PCA: expected 0 to 20 power iterations "
                         "and 0 to 1000 oversampling columns, found %d and %d", what,
                         o->power_iters, o->oversample);
    openblas_set_num_threads(1); /* lcae's threads are OpenMP's (as src/nn) */
    stream s = {.rows = rows, .ctx = ctx, .n = n, .d = d, .what = what, .progress = progress,
                .threads = omp_get_max_threads()};
    int64_t b = BATCH_BYTES / ((int64_t)d * 8);
    b = b < 64 ? 64 : b > 4096 ? 4096 : b;
    s.batch = (int)(b < n ? b : n);
    s.passes = solver == LCAE_PCA_COVARIANCE ? 2 : 3 + 2 * o->power_iters;
    s.buf = lcae_malloc((size_t)s.batch * (size_t)d * sizeof *s.buf);
    s.x = lcae_malloc((size_t)s.batch * (size_t)d * sizeof *s.x);
    s.shift = lcae_calloc((size_t)d, sizeof *s.shift);
    s.inv = lcae_malloc((size_t)d * sizeof *s.inv);
    double *colsum = lcae_calloc(2 * (size_t)d, sizeof *colsum);
    res->mean = lcae_malloc((size_t)d * sizeof *res->mean);
    res->scale = lcae_malloc((size_t)d * sizeof *res->scale);
    res->components = lcae_malloc((size_t)dims * (size_t)d * sizeof *res->components);
    res->explained_variance = lcae_calloc((size_t)dims, sizeof(double));
    res->explained_variance_ratio = lcae_calloc((size_t)dims, sizeof(double));
    res->scores = lcae_malloc((size_t)n * (size_t)dims * sizeof *res->scores);
    proj_acc pa = {.dims = dims, .scores = res->scores};
    pa.tmp = lcae_malloc((size_t)s.batch * (size_t)dims * sizeof *pa.tmp);
    pa.sq = lcae_calloc((size_t)s.threads * (size_t)dims, sizeof *pa.sq);
    cov_acc ca = {.colsum = colsum};
    int rc = LCAE_OK;
    if (!s.buf || !s.x || !s.shift || !s.inv || !colsum || !res->mean || !res->scale ||
        !res->components || !res->explained_variance || !res->explained_variance_ratio ||
        !res->scores || !pa.tmp || !pa.sq) {
        rc = LCAE_ENOMEM;
        goto done;
    }
    for (int j = 0; j < d; j++)
        s.inv[j] = res->scale[j] = 1;
    double total = 0;
    if (solver == LCAE_PCA_COVARIANCE) {
        if (!(ca.cov = lcae_calloc((size_t)d * (size_t)d, sizeof *ca.cov))) {
            rc = LCAE_ENOMEM;
            goto done;
        }
        if ((rc = run_pass(&s, 1, cov_batch, &ca)))
            goto done;
        /* covariance = (sum x x^T - n delta delta^T) / (n - 1), delta = mean - shift */
        for (int j = 0; j < d; j++) {
            double dj = colsum[j] / (double)n;
            for (int i = 0; i <= j; i++)
                ca.cov[(size_t)j * d + i] =
                    (ca.cov[(size_t)j * d + i] - (double)n * (colsum[i] / (double)n) * dj) /
                    (double)(n - 1);
            s.shift[j] += dj;
        }
        if (o->standardize) {
            for (int j = 0; j < d; j++) {
                double v = ca.cov[(size_t)j * d + j];
                res->scale[j] = v > 0 ? sqrt(v) : 1;
                s.inv[j] = 1 / res->scale[j];
            }
            for (int j = 0; j < d; j++)
                for (int i = 0; i <= j; i++)
                    ca.cov[(size_t)j * d + i] *= s.inv[i] * s.inv[j];
        }
        for (int j = 0; j < d; j++)
            total += ca.cov[(size_t)j * d + j];
        double *val = lcae_malloc((size_t)dims * sizeof *val);
        rc = val ? top_eigen(ca.cov, d, dims, val, res->components) : LCAE_ENOMEM;
        free(val);
        if (rc)
            goto done;
    } else {
        if ((rc = randomized_axes(&s, dims, o, colsum, res->components)))
            goto done;
        /* total variance from the first pass's moments about its pilot shift */
        for (int j = 0; j < d; j++)
            total += (colsum[d + j] - colsum[j] * colsum[j] / (double)n) / (double)(n - 1);
    }
    fix_signs(res->components, dims, d);
    pa.comp = res->components;
    if ((rc = run_pass(&s, 0, proj_batch, &pa)))
        goto done;
    for (int j = 0; j < dims; j++) {
        double q = 0;
        for (int t = 0; t < s.threads; t++)
            q += pa.sq[(size_t)t * dims + j];
        res->explained_variance[j] = q / (double)(n - 1);
        res->explained_variance_ratio[j] = total > 0 ? res->explained_variance[j] / total : 0;
    }
    memcpy(res->mean, s.shift, (size_t)d * sizeof *res->mean);
    res->n = n;
    res->d = d;
    res->dims = dims;
    res->solver = solver;
    res->passes = s.passes;
    res->total_variance = total;
done:
    free(s.buf);
    free(s.x);
    free(s.shift);
    free(s.inv);
    free(colsum);
    free(ca.cov);
    free(pa.tmp);
    free(pa.sq);
    if (rc)
        lcae_pca_free(res);
    return rc;
}
