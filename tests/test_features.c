/* Features: the polar magnitudes and the PCA against numpy/scipy
 * (tests/fixtures/features, tools/make_features_fixtures.py), rotation invariance
 * (exact for the grid's own symmetries, approximate for any angle), an analytic angular
 * Fourier series, PCA of data of known rank with both solvers, determinism, the whole
 * scan-to-features path against numpy, and bad input. */
#include "test_util.h"

#include <cjson/cJSON.h>
#include <omp.h>
#include <stdint.h>

#include "lcae/features.h"
#include "lcae/io.h"

#define PI 3.14159265358979323846

static char *fixture(const char *name)
{
    static char path[4096];
    snprintf(path, sizeof path, "%s/tests/fixtures/features/%s",
             test_env("LCAE_SOURCE_DIR"), name);
    return path;
}

static float *load_f32(const char *name, lcae_npy_header *h)
{
    float *x;
    if (lcae_npy_load_f32(fixture(name), h, &x)) {
        fprintf(stderr, "%s\n", lcae_last_error());
        exit(1);
    }
    return x;
}

static double *load_f64(const char *name, lcae_npy_header *h)
{
    double *x;
    if (lcae_npy_load_f64(fixture(name), h, &x)) {
        fprintf(stderr, "%s\n", lcae_last_error());
        exit(1);
    }
    return x;
}

static double max_abs_f64(const double *x, size_t n)
{
    double m = 0;
    for (size_t i = 0; i < n; i++)
        m = fmax(m, fabs(x[i]));
    return m;
}

/* ---- 1. polar magnitudes against scipy's map_coordinates + numpy's sums ----------------
 * lcae sums in float32 (64-88 terms of O(1) values) where numpy sums in double: the
 * difference is float rounding, a few 1e-7 of the largest feature; tolerance 2e-6. */
static void check_polar_fixture(void)
{
    lcae_npy_header hp, ha, hb;
    float *pats = load_f32("polar_patterns.npy", &hp);
    double *ra = load_f64("polar_a.npy", &ha), *rb = load_f64("polar_b.npy", &hb);
    int size = (int)hp.shape[1], n = (int)hp.shape[0];
    struct {
        lcae_polar_params p, expect;
        const double *ref;
        int64_t count;
    } cases[] = {{{0, 15, 8, 64}, {0, 15, 8, 64}, ra, ha.count},
                 {{-1, -1, -1, 0}, {2, 13, 6, 88}, rb, hb.count}};
    for (int c = 0; c < 2; c++) {
        lcae_polar_plan *pl;
        CHECK(lcae_polar_plan_create(size, &cases[c].p, &pl) == LCAE_OK);
        const lcae_polar_params *u = lcae_polar_plan_params(pl);
        CHECK_MSG(u->r0 == cases[c].expect.r0 && u->r1 == cases[c].expect.r1 &&
                      u->orders == cases[c].expect.orders &&
                      u->n_theta == cases[c].expect.n_theta,
                  "case %d: resolved r %d..%d K %d n_theta %d", c, u->r0, u->r1, u->orders,
                  u->n_theta);
        int dims = lcae_polar_plan_dims(pl);
        CHECK(dims * n == cases[c].count);
        float *out = malloc((size_t)n * dims * sizeof *out);
        CHECK(lcae_polar_apply(pl, pats, n, out) == LCAE_OK);
        double scale = max_abs_f64(cases[c].ref, (size_t)n * dims), worst = 0;
        for (int i = 0; i < n * dims; i++)
            worst = fmax(worst, fabs(out[i] - cases[c].ref[i]));
        CHECK_MSG(worst <= 2e-6 * scale, "case %d: worst difference %.3g of %.3g", c, worst,
                  scale);
        /* a pattern's features must not depend on the group it is computed in (the
         * chunks of a pass, the ranks' ranges under MPI): each alone, bit for bit */
        float *alone = malloc((size_t)dims * sizeof *alone);
        int differ = 0;
        for (int i = 0; i < n; i++) {
            CHECK(lcae_polar_apply(pl, pats + (size_t)i * size * size, 1, alone) == LCAE_OK);
            differ += memcmp(alone, out + (size_t)i * dims, (size_t)dims * sizeof *alone) != 0;
        }
        CHECK_MSG(differ == 0, "case %d: %d of %d patterns differ computed alone", c, differ,
                  n);
        free(alone);
        free(out);
        lcae_polar_plan_free(pl);
    }
    free(pats);
    free(ra);
    free(rb);
}

/* ---- 2. rotation invariance -------------------------------------------------------- */
/* Gaussian spots in 6- and 4-fold rings turned by `angle`, a direct beam and a ring, on a
 * size x size grid centred at (size - 1) / 2. */
static void spots(int size, double angle, float *img)
{
    double c = (size - 1) / 2.0;
    for (int y = 0; y < size; y++)
        for (int x = 0; x < size; x++) {
            double v = 3 * exp(-((y - c) * (y - c) + (x - c) * (x - c)) / (2 * 1.5 * 1.5));
            double r = hypot(y - c, x - c);
            v += 0.3 * exp(-(r - 0.6 * c) * (r - 0.6 * c) / 2);
            for (int ring = 0; ring < 2; ring++) {
                int order = ring ? 4 : 6;
                double rad = (ring ? 0.75 : 0.45) * c, amp = ring ? 0.6 : 1.0;
                for (int j = 0; j < order; j++) {
                    double a = angle + 2 * PI * j / order + (ring ? 0.3 : 0);
                    double sy = c + rad * sin(a), sx = c + rad * cos(a);
                    v += amp * exp(-((y - sy) * (y - sy) + (x - sx) * (x - sx)) /
                                   (2 * 1.2 * 1.2));
                }
            }
            img[y * size + x] = (float)v;
        }
}

/* The 8 symmetries of the square pixel grid: out(y, x) = in(map(y, x)). */
static void grid_symmetry(const float *in, int s, int which, float *out)
{
    for (int y = 0; y < s; y++)
        for (int x = 0; x < s; x++) {
            int a = y, b = x, t;
            if (which & 1) { /* transpose */
                t = a;
                a = b;
                b = t;
            }
            if (which & 2)
                a = s - 1 - a; /* flip rows */
            if (which & 4)
                b = s - 1 - b; /* flip columns */
            out[y * s + x] = in[a * s + b];
        }
}

static void check_rotation(void)
{
    int sizes[2] = {40, 41};
    for (int si = 0; si < 2; si++) {
        int s = sizes[si];
        lcae_polar_plan *pl;
        lcae_polar_params p = {-1, -1, -1, 0};
        CHECK(lcae_polar_plan_create(s, &p, &pl) == LCAE_OK);
        CHECK(lcae_polar_plan_params(pl)->n_theta % 8 == 0);
        int d = lcae_polar_plan_dims(pl);
        float *img = malloc((size_t)s * s * sizeof *img), *sym = malloc((size_t)s * s * 4);
        float *f0 = malloc((size_t)d * 4), *f1 = malloc((size_t)d * 4);
        spots(s, 0.2, img);
        lcae_polar_apply(pl, img, 1, f0);
        double scale = 0;
        for (int i = 0; i < d; i++)
            scale = fmax(scale, fabs(f0[i]));
        /* rotations by 90, 180, 270 degrees and the mirrors map the polar grid onto itself
         * (n_theta a multiple of 8): a cyclic shift or reversal of every ring, so equal
         * magnitudes up to float rounding (the bilinear weights of mirrored points are
         * rounded separately) */
        for (int w = 1; w < 8; w++) {
            grid_symmetry(img, s, w, sym);
            lcae_polar_apply(pl, sym, 1, f1);
            double worst = 0;
            for (int i = 0; i < d; i++)
                worst = fmax(worst, fabs(f1[i] - f0[i]));
            CHECK_MSG(worst <= 1e-6 * scale, "size %d, symmetry %d: %.3g of %.3g", s, w,
                      worst, scale);
        }
        /* any angle: the same pattern drawn turned, so only the interpolation differs;
         * the features move by at most 1.5% of the largest, while the pixels themselves
         * (not invariant) change by more than a fifth of the largest */
        double angles[3] = {17, 33.3, 71};
        for (int a = 0; a < 3; a++) {
            spots(s, 0.2 + angles[a] * PI / 180, sym);
            lcae_polar_apply(pl, sym, 1, f1);
            double worst = 0, pix = 0, pmax = 0;
            for (int i = 0; i < d; i++)
                worst = fmax(worst, fabs(f1[i] - f0[i]));
            for (int i = 0; i < s * s; i++) {
                pix = fmax(pix, fabs(sym[i] - img[i]));
                pmax = fmax(pmax, fabs(img[i]));
            }
            CHECK_MSG(worst <= 0.015 * scale, "size %d, %g degrees: %.3g of %.3g", s,
                      angles[a], worst, scale);
            CHECK(pix > 0.2 * pmax);
        }
        free(img);
        free(sym);
        free(f0);
        free(f1);
        lcae_polar_plan_free(pl);
    }
}

/* ---- 3. an analytic angular Fourier series: I = g(r) cos(3 phi + 0.4) --------------
 * gives F_3(r) = g(r) / 2 and F_k = 0 for k != 3, up to the bilinear interpolation's
 * error (h^2 / 8) |f''| <= 0.04 here (|g''| <= 0.25, 9 g / r^2 <= 0.09 on the peak ring),
 * less once averaged round a ring: within 0.02. */
static void check_analytic(void)
{
    int s = 41;
    double c = 20;
    float *img = malloc((size_t)s * s * sizeof *img);
    for (int y = 0; y < s; y++)
        for (int x = 0; x < s; x++) {
            double r = hypot(y - c, x - c), phi = atan2(y - c, x - c);
            img[y * s + x] = (float)(exp(-(r - 10) * (r - 10) / 8) * cos(3 * phi + 0.4));
        }
    lcae_polar_params p = {1, 18, 5, 0};
    lcae_polar_plan *pl;
    CHECK(lcae_polar_plan_create(s, &p, &pl) == LCAE_OK);
    int d = lcae_polar_plan_dims(pl), nk = 6;
    float *f = malloc((size_t)d * sizeof *f);
    lcae_polar_apply(pl, img, 1, f);
    double worst = 0;
    for (int r = 1; r <= 18; r++)
        for (int k = 0; k < nk; k++) {
            double g = exp(-(r - 10.0) * (r - 10.0) / 8), want = k == 3 ? g / 2 : 0;
            worst = fmax(worst, fabs(f[(r - 1) * nk + k] - want));
        }
    CHECK_MSG(worst <= 0.02, "analytic series: worst %.3g", worst);
    free(f);
    free(img);
    lcae_polar_plan_free(pl);
}

static void check_polar_bad(void)
{
    lcae_polar_plan *pl = (lcae_polar_plan *)1;
    lcae_polar_params bad[] = {{0, 16, 6, 0},   /* 2 r1 > size - 1 for 32 */
                               {5, 4, 6, 0},    /* r1 < r0 */
                               {0, 10, 6, 12},  /* 12 angles cannot resolve order 6 */
                               {-1, -1, 2000, 0}};
    for (int i = 0; i < 4; i++) {
        CHECK(lcae_polar_plan_create(32, &bad[i], &pl) == LCAE_EUSAGE);
        CHECK(pl == NULL && strlen(lcae_last_error()) > 10);
    }
    lcae_polar_params edge = {0, 15, 6, 13}; /* 2 * 15 = 31 = size - 1: allowed */
    CHECK(lcae_polar_plan_create(32, &edge, &pl) == LCAE_OK);
    lcae_polar_plan_free(pl);
    lcae_polar_params tiny = {-1, -1, -1, 0}; /* defaults r 0..1 for 6 x 6: allowed */
    CHECK(lcae_polar_plan_create(6, &tiny, &pl) == LCAE_OK);
    lcae_polar_plan_free(pl);
    tiny.r0 = 2; /* r 2..1 */
    CHECK(lcae_polar_plan_create(6, &tiny, &pl) == LCAE_EUSAGE);
}

/* ---- 4. PCA ------------------------------------------------------------------------ */
typedef struct {
    const float *m;
    int d;
    int calls;
} mem_rows;

static int rows_from_memory(void *ctx, int64_t first, int n, float *out)
{
    mem_rows *r = ctx;
    r->calls++;
    memcpy(out, r->m + (size_t)first * r->d, (size_t)n * r->d * sizeof *out);
    return LCAE_OK;
}

/* Scores, components and explained variance against numpy's, up to each component's
 * sign. A component's error grows as rounding over its eigenvalue gap (Davis-Kahan):
 * the tolerance on component j is tol / min(1, relative gap to its nearest neighbour),
 * capped at 0.05 (the fixture's gaps are 1.3% to 6000%). */
static void compare_pca(const char *what, const lcae_pca_result *r, const char *prefix,
                        double tol)
{
    char name[128];
    lcae_npy_header hs, hc, he, hr, hg;
    snprintf(name, sizeof name, "%s_scores.npy", prefix);
    double *sc = load_f64(name, &hs);
    snprintf(name, sizeof name, "%s_components.npy", prefix);
    double *co = load_f64(name, &hc);
    snprintf(name, sizeof name, "%s_ev.npy", prefix);
    double *ev = load_f64(name, &he);
    snprintf(name, sizeof name, "%s_ratio.npy", prefix);
    double *ra = load_f64(name, &hr);
    snprintf(name, sizeof name, "%s_gap.npy", prefix);
    double *gp = load_f64(name, &hg);
    int D = (int)hs.shape[1], d = (int)hc.shape[1];
    int64_t n = hs.shape[0];
    CHECK(r->dims == D && r->d == d && r->n == n);
    for (int j = 0; j < D && r->dims == D; j++) {
        double t = fmin(tol / fmin(gp[j], 1), 0.05);
        double dot = 0, smax = 0, worst = 0, cworst = 0;
        for (int64_t i = 0; i < n; i++)
            dot += r->scores[i * D + j] * sc[i * D + j];
        double sg = dot < 0 ? -1 : 1;
        for (int64_t i = 0; i < n; i++) {
            smax = fmax(smax, fabs(sc[i * D + j]));
            worst = fmax(worst, fabs(sg * r->scores[i * D + j] - sc[i * D + j]));
        }
        int m = 0;
        for (int i = 0; i < d; i++) {
            cworst = fmax(cworst, fabs(sg * r->components[(size_t)j * d + i] -
                                       co[(size_t)j * d + i]));
            if (fabs(r->components[(size_t)j * d + i]) > fabs(r->components[(size_t)j * d + m]))
                m = i;
        }
        CHECK_MSG(worst <= t * smax, "%s: component %d scores: %.3g of %.3g (tol %.2g)", what,
                  j, worst, smax, t);
        CHECK_MSG(cworst <= t, "%s: component %d axis: %.3g (tol %.2g)", what, j, cworst, t);
        CHECK_MSG(r->components[(size_t)j * d + m] > 0,
                  "%s: component %d: largest loading negative", what, j);
        CHECK_MSG(fabs(r->explained_variance[j] / ev[j] - 1) <= t,
                  "%s: explained variance %d: %.9g vs %.9g", what, j, r->explained_variance[j],
                  ev[j]);
        CHECK_MSG(fabs(r->explained_variance_ratio[j] / ra[j] - 1) <= t,
                  "%s: ratio %d: %.9g vs %.9g", what, j, r->explained_variance_ratio[j], ra[j]);
    }
    free(sc);
    free(co);
    free(ev);
    free(ra);
    free(gp);
}

static void check_pca_fixtures(void)
{
    struct {
        const char *rows, *ref;
        lcae_pca_solver solver;
        int standardize, dims, power_iters;
    } cases[] = {{"rows.npy", "rows_pca", LCAE_PCA_COVARIANCE, 0, 8, 2},
                 /* 12 directions and noise: the sketch of 18 columns holds them all */
                 {"rows.npy", "rows_pca", LCAE_PCA_RANDOMIZED, 0, 8, 2},
                 {"small.npy", "small_pca", LCAE_PCA_AUTO, 0, 6, 2},
                 /* no gap in the spectrum at the sketch's 16 columns: the subspace
                  * iteration converges to numpy's answer as the iterations grow */
                 {"small.npy", "small_pca", LCAE_PCA_RANDOMIZED, 0, 6, 12},
                 {"small.npy", "small_std", LCAE_PCA_COVARIANCE, 1, 6, 2}};
    for (int c = 0; c < 5; c++) {
        lcae_npy_header h;
        float *m = load_f32(cases[c].rows, &h);
        mem_rows mr = {m, (int)h.shape[1], 0};
        lcae_pca_options o = lcae_pca_defaults(cases[c].dims);
        o.solver = cases[c].solver;
        o.standardize = cases[c].standardize;
        o.power_iters = cases[c].power_iters;
        lcae_pca_result r;
        char what[64];
        snprintf(what, sizeof what, "%s %s %s", cases[c].ref, lcae_pca_solver_name(o.solver),
                 cases[c].standardize ? "standardized" : "");
        int rc = lcae_pca(rows_from_memory, &mr, h.shape[0], (int)h.shape[1], &o, what, NULL,
                          &r);
        CHECK_MSG(rc == LCAE_OK, "%s: %s", what, lcae_last_error());
        if (rc) {
            free(m);
            continue;
        }
        CHECK(r.solver == (cases[c].solver == LCAE_PCA_RANDOMIZED ? LCAE_PCA_RANDOMIZED
                                                                  : LCAE_PCA_COVARIANCE));
        CHECK(r.passes == (r.solver == LCAE_PCA_COVARIANCE ? 2 : 3 + 2 * o.power_iters));
        CHECK(mr.calls == r.passes); /* one batch a pass for these small matrices */
        /* float32 rows, double arithmetic: 1e-6 over the gap */
        compare_pca(what, &r, cases[c].ref, 1e-6);
        lcae_pca_free(&r);
        free(m);
    }
}

/* Rows of exact rank 4 about a mean of 50: m + sum_j a_ij s_j v_j, v orthonormal. */
static float *low_rank(int n, int d, double *v)
{
    uint64_t st = 12345;
    for (int j = 0; j < 4; j++) {
        for (int i = 0; i < d; i++) {
            st = st * 6364136223846793005ull + 1442695040888963407ull;
            v[(size_t)j * d + i] = (double)(st >> 11) * 0x1p-53 - 0.5;
        }
        for (int k = 0; k < j; k++) { /* Gram-Schmidt, twice */
            for (int rep = 0; rep < 2; rep++) {
                double dot = 0;
                for (int i = 0; i < d; i++)
                    dot += v[(size_t)j * d + i] * v[(size_t)k * d + i];
                for (int i = 0; i < d; i++)
                    v[(size_t)j * d + i] -= dot * v[(size_t)k * d + i];
            }
        }
        double nn = 0;
        for (int i = 0; i < d; i++)
            nn += v[(size_t)j * d + i] * v[(size_t)j * d + i];
        for (int i = 0; i < d; i++)
            v[(size_t)j * d + i] /= sqrt(nn);
    }
    float *m = malloc((size_t)n * d * sizeof *m);
    double s[4] = {8, 4, 2, 1};
    for (int r = 0; r < n; r++)
        for (int i = 0; i < d; i++) {
            double x = 50 + 0.01 * i;
            for (int j = 0; j < 4; j++)
                x += s[j] * sin(1.3 * r * (j + 1) + j) * v[(size_t)j * d + i];
            m[(size_t)r * d + i] = (float)x;
        }
    return m;
}

static void check_pca_low_rank(void)
{
    int dims_list[2] = {1024, 1100};
    for (int di = 0; di < 2; di++) {
        int n = 500, d = dims_list[di];
        double *v = malloc((size_t)4 * d * sizeof *v);
        float *m = low_rank(n, d, v);
        mem_rows mr = {m, d, 0};
        lcae_pca_options o = lcae_pca_defaults(6);
        lcae_pca_result r;
        CHECK(lcae_pca(rows_from_memory, &mr, n, d, &o, "low rank", NULL, &r) == LCAE_OK);
        /* auto: covariance up to 1024 values a row, randomized above */
        CHECK(r.solver == (d <= LCAE_PCA_COVARIANCE_MAX_DIMS ? LCAE_PCA_COVARIANCE
                                                             : LCAE_PCA_RANDOMIZED));
        double sum = 0;
        for (int j = 0; j < 4; j++)
            sum += r.explained_variance_ratio[j];
        /* rank 4 in float32 rows: the rest is rounding, ~1e-7 relative */
        CHECK_MSG(fabs(sum - 1) < 1e-5, "d %d: four components explain %.9f", d, sum);
        CHECK(r.explained_variance[4] < 1e-6 * r.explained_variance[0]);
        CHECK(r.explained_variance[5] < 1e-6 * r.explained_variance[0]);
        /* the four axes lie in span(v) */
        for (int j = 0; j < 4; j++) {
            double res = 0;
            double *a = r.components + (size_t)j * d;
            for (int i = 0; i < d; i++) {
                double x = a[i];
                for (int k = 0; k < 4; k++) {
                    double dot = 0;
                    for (int q = 0; q < d; q++)
                        dot += a[q] * v[(size_t)k * d + q];
                    x -= dot * v[(size_t)k * d + i];
                }
                res += x * x;
            }
            CHECK_MSG(sqrt(res) < 1e-4, "d %d: axis %d leaves span(v) by %.3g", d, j,
                      sqrt(res));
        }
        /* the mean */
        double mworst = 0;
        for (int i = 0; i < d; i++) {
            double mu = 0;
            for (int q = 0; q < n; q++)
                mu += m[(size_t)q * d + i];
            mworst = fmax(mworst, fabs(r.mean[i] - mu / n));
        }
        CHECK(mworst < 1e-9 * 50);
        lcae_pca_free(&r);
        free(m);
        free(v);
    }
}

/* The same seed and thread count: the same bits; another seed: the same answer to the
 * randomized solver's accuracy. */
static void check_pca_determinism(void)
{
    lcae_npy_header h;
    float *m = load_f32("rows.npy", &h);
    mem_rows mr = {m, (int)h.shape[1], 0};
    lcae_pca_options o = lcae_pca_defaults(8);
    o.solver = LCAE_PCA_RANDOMIZED;
    lcae_pca_result a, b, c;
    CHECK(lcae_pca(rows_from_memory, &mr, h.shape[0], mr.d, &o, "a", NULL, &a) == LCAE_OK);
    CHECK(lcae_pca(rows_from_memory, &mr, h.shape[0], mr.d, &o, "b", NULL, &b) == LCAE_OK);
    o.seed = 99;
    CHECK(lcae_pca(rows_from_memory, &mr, h.shape[0], mr.d, &o, "c", NULL, &c) == LCAE_OK);
    size_t bytes = (size_t)a.n * a.dims * sizeof(float);
    CHECK(!memcmp(a.scores, b.scores, bytes));
    CHECK(memcmp(a.scores, c.scores, bytes)); /* another sketch ... */
    double worst = 0, smax = 0;
    for (size_t i = 0; i < (size_t)a.n * a.dims; i++) {
        worst = fmax(worst, fabs(a.scores[i] - c.scores[i]));
        smax = fmax(smax, fabs(a.scores[i]));
    }
    CHECK_MSG(worst < 1e-4 * smax, "seeds 0 and 99: %.3g of %.3g", worst, smax); /* same axes */
    lcae_pca_free(&a);
    lcae_pca_free(&b);
    lcae_pca_free(&c);
    free(m);
}

static int failing_rows(void *ctx, int64_t first, int n, float *out)
{
    (void)ctx;
    (void)n;
    (void)out;
    return first > 0 ? lcae_fail(LCAE_EFAIL, "rows: failed at %lld", (long long)first)
                     : LCAE_OK;
}

static void check_pca_bad(void)
{
    lcae_npy_header h;
    float *m = load_f32("small.npy", &h);
    mem_rows mr = {m, (int)h.shape[1], 0};
    lcae_pca_result r;
    lcae_pca_options o = lcae_pca_defaults(41); /* more than the 40 values of a row */
    CHECK(lcae_pca(rows_from_memory, &mr, 300, 40, &o, "x", NULL, &r) == LCAE_EUSAGE);
    CHECK(r.scores == NULL);
    o.dims = 0;
    CHECK(lcae_pca(rows_from_memory, &mr, 300, 40, &o, "x", NULL, &r) == LCAE_EUSAGE);
    o.dims = 3;
    CHECK(lcae_pca(rows_from_memory, &mr, 3, 40, &o, "x", NULL, &r) == LCAE_EUSAGE); /* n-1 */
    CHECK(lcae_pca(rows_from_memory, &mr, 1, 40, &o, "x", NULL, &r) == LCAE_EUSAGE);
    o.solver = LCAE_PCA_RANDOMIZED;
    o.standardize = 1;
    CHECK(lcae_pca(rows_from_memory, &mr, 300, 40, &o, "x", NULL, &r) == LCAE_EUSAGE);
    o.standardize = 0;
    o.power_iters = -1;
    CHECK(lcae_pca(rows_from_memory, &mr, 300, 40, &o, "x", NULL, &r) == LCAE_EUSAGE);
    /* a failing callback: its message, nothing left to free */
    o = lcae_pca_defaults(3);
    float *big = calloc((size_t)5000 * 40, sizeof *big);
    CHECK(lcae_pca(failing_rows, NULL, 5000, 40, &o, "x", NULL, &r) == LCAE_EFAIL);
    CHECK(strstr(lcae_last_error(), "rows: failed at 4096") != NULL);
    CHECK(r.scores == NULL && r.components == NULL);
    free(big);
    free(m);
    CHECK(lcae_pca_solver_from_name("randomized") == LCAE_PCA_RANDOMIZED);
    CHECK(lcae_pca_solver_from_name("svd") == -1);
}

/* ---- 5. a scan to features, against numpy's preparation, polar transform and PCA ---- */
static void check_scan(void)
{
    lcae_dataset *ds;
    CHECK(lcae_dataset_open(fixture("scan.npy"), NULL, &ds) == LCAE_OK);
    lcae_npy_header h;
    double *norm = load_f64("scan_norm.npy", &h);
    double *mags = load_f64("scan_polar.npy", &h);
    int64_t n = lcae_dataset_get_info(ds)->count;

    /* the magnitudes themselves (dims 0): float rounding through binning, log and sums */
    lcae_features_options o = lcae_features_defaults(LCAE_FEATURES_POLAR);
    o.prep.bin = 2;
    o.dims = 0;
    lcae_features f;
    CHECK(lcae_features_compute(ds, &o, NULL, NULL, &f) == LCAE_OK);
    CHECK(f.n == n && f.dims == 42 && f.row_dims == 42 && f.size == 16 && !f.has_pca);
    CHECK_CLOSE(f.used.prep.median, norm[0], 1e-12);
    CHECK_CLOSE(f.used.prep.scale, norm[1], 1e-12);
    CHECK(f.used.polar.r0 == 1 && f.used.polar.r1 == 6 && f.used.polar.orders == 6 &&
          f.used.polar.n_theta == 40);
    double scale = max_abs_f64(mags, (size_t)n * 42), worst = 0;
    for (int64_t i = 0; i < n * 42; i++)
        worst = fmax(worst, fabs(f.x[i] - mags[i]));
    CHECK_MSG(worst <= 2e-6 * scale, "scan magnitudes: %.3g of %.3g", worst, scale);
    lcae_features_free(&f);

    /* centring on a beam map that puts every beam at the frame centre changes nothing,
     * to the bit (the shift is 0); without a map it is refused */
    float *beam = malloc((size_t)n * 2 * sizeof *beam);
    for (int64_t i = 0; i < 2 * n; i++)
        beam[i] = 15.5f;
    o.dims = 5;
    lcae_features a, b;
    CHECK(lcae_features_compute(ds, &o, NULL, NULL, &a) == LCAE_OK);
    o.prep.center = LCAE_CENTER_BEAM;
    CHECK(lcae_features_compute(ds, &o, beam, NULL, &b) == LCAE_OK);
    CHECK(!memcmp(a.x, b.x, (size_t)n * 5 * sizeof(float)));
    CHECK(lcae_features_compute(ds, &o, NULL, NULL, &f) == LCAE_EUSAGE);
    CHECK(strstr(lcae_last_error(), "beam map") != NULL);
    CHECK(a.has_pca && a.pca.solver == LCAE_PCA_COVARIANCE);
    /* rounding of the magnitudes (2e-6) over the gaps */
    compare_pca("scan polar", &a.pca, "scan_polar_pca", 1e-5);
    lcae_features_free(&a);
    lcae_features_free(&b);

    /* pca of the prepared pixels: the covariance solver (auto for 256 values a row); the
     * randomized one converged (20 power iterations: the spectrum of 80 patterns has no
     * gap at its 16 sketch columns) and, at the default 2 iterations, each component's
     * explained variance within 3% (measured: 1.3%) */
    int iters[3] = {2, 20, 2};
    for (int s = 0; s < 3; s++) {
        o = lcae_features_defaults(LCAE_FEATURES_PCA);
        o.prep.bin = 2;
        o.dims = 6;
        o.solver = s ? LCAE_PCA_RANDOMIZED : LCAE_PCA_AUTO;
        o.power_iters = iters[s];
        CHECK(lcae_features_compute(ds, &o, NULL, NULL, &f) == LCAE_OK);
        CHECK(f.dims == 6 && f.row_dims == 256 && f.has_pca);
        if (s < 2) {
            compare_pca(s ? "scan pca randomized" : "scan pca", &f.pca, "scan_pca", 1e-5);
        } else {
            double *ev = load_f64("scan_pca_ev.npy", &h);
            for (int j = 0; j < 6; j++)
                CHECK_MSG(fabs(f.pca.explained_variance[j] / ev[j] - 1) < 0.03,
                          "default randomized: component %d: %.6g vs %.6g", j,
                          f.pca.explained_variance[j], ev[j]);
            free(ev);
        }
        lcae_features_free(&f);
    }
    /* options that make no sense */
    o = lcae_features_defaults(LCAE_FEATURES_PCA);
    o.dims = 0;
    CHECK(lcae_features_compute(ds, &o, NULL, NULL, &f) == LCAE_EUSAGE);
    o.dims = 4;
    o.standardize = 1;
    CHECK(lcae_features_compute(ds, &o, NULL, NULL, &f) == LCAE_EUSAGE);
    o = lcae_features_defaults(LCAE_FEATURES_POLAR);
    o.prep.bin = 3; /* 32 is not a multiple of 3 */
    CHECK(lcae_features_compute(ds, &o, NULL, NULL, &f) == LCAE_EUSAGE);
    o.prep.bin = 2;
    o.polar.r1 = 8; /* 16 x 16: at most 7 */
    CHECK(lcae_features_compute(ds, &o, NULL, NULL, &f) == LCAE_EUSAGE);
    CHECK(f.x == NULL);
    free(beam);
    free(norm);
    free(mags);
    lcae_dataset_close(ds);
}

/* A NaN pixel: an error naming its scan position, no output. */
static void check_nonfinite(void)
{
    int64_t shape[4] = {3, 4, 8, 8};
    float *x = malloc(3 * 4 * 64 * sizeof *x);
    for (int i = 0; i < 3 * 4 * 64; i++)
        x[i] = (float)(i % 7);
    x[(1 * 4 + 2) * 64 + 9] = NAN;
    char path[512];
    snprintf(path, sizeof path, "%s/nan.npy", test_tmpdir());
    CHECK(lcae_npy_write(path, LCAE_DT_F32, 4, shape, x) == LCAE_OK);
    lcae_dataset *ds;
    CHECK(lcae_dataset_open(path, NULL, &ds) == LCAE_OK);
    lcae_features_options o = lcae_features_defaults(LCAE_FEATURES_PCA);
    o.dims = 3;
    lcae_features f;
    CHECK(lcae_features_compute(ds, &o, NULL, NULL, &f) == LCAE_EFAIL);
    CHECK_MSG(strstr(lcae_last_error(), "scan position (1, 2) has NaN") != NULL, "%s",
              lcae_last_error());
    CHECK(f.x == NULL);
    lcae_dataset_close(ds);
    free(x);
}

/* File to file: the .npy and its JSON. */
static void check_file(void)
{
    char *p = lcae_features_json_path("a/b.npy");
    CHECK(p && !strcmp(p, "a/b.json"));
    free(p);
    p = lcae_features_json_path("feat");
    CHECK(p && !strcmp(p, "feat.json"));
    free(p);
    char out[512];
    snprintf(out, sizeof out, "%s/f.npy", test_tmpdir());
    lcae_features_options o = lcae_features_defaults(LCAE_FEATURES_POLAR);
    o.prep.bin = 2;
    lcae_dataset *ds;
    CHECK(lcae_dataset_open(fixture("scan.npy"), NULL, &ds) == LCAE_OK);
    CHECK(lcae_features_file(ds, &o, NULL, NULL, out, NULL, NULL) == LCAE_OK);
    lcae_npy_header h;
    CHECK(lcae_npy_read_header(out, &h) == LCAE_OK);
    CHECK(h.ndim == 2 && h.shape[0] == 80 && h.shape[1] == 10 && h.dtype == LCAE_DT_F32);
    char *text;
    size_t len;
    snprintf(out, sizeof out, "%s/f.json", test_tmpdir());
    CHECK(lcae_read_text_file(out, 1 << 20, &text, &len) == LCAE_OK);
    cJSON *j = cJSON_Parse(text);
    CHECK(j != NULL);
    cJSON *pca = cJSON_GetObjectItem(j, "pca");
    cJSON *ratio = cJSON_GetObjectItem(pca, "explained_variance_ratio");
    CHECK(cJSON_GetArraySize(ratio) == 10);
    CHECK(!strcmp(cJSON_GetStringValue(cJSON_GetObjectItem(j, "method")), "polar"));
    CHECK(cJSON_GetObjectItem(cJSON_GetObjectItem(j, "polar"), "n_theta")->valueint == 40);
    CHECK(!strcmp(cJSON_GetStringValue(cJSON_GetObjectItem(
                      cJSON_GetObjectItem(j, "prep"), "transform")), "log"));
    cJSON_Delete(j);
    free(text);
    /* an output that cannot be written: an error, and no file */
    snprintf(out, sizeof out, "%s/missing/f.npy", test_tmpdir());
    CHECK(lcae_features_file(ds, &o, NULL, NULL, out, NULL, NULL) == LCAE_EFAIL);
    CHECK(access(out, F_OK) != 0);
    lcae_dataset_close(ds);
}

int main(void)
{
    check_polar_fixture();
    check_rotation();
    check_analytic();
    check_polar_bad();
    check_pca_fixtures();
    check_pca_low_rank();
    check_pca_determinism();
    check_pca_bad();
    check_scan();
    check_nonfinite();
    check_file();
    return test_done("test_features");
}
