/* Loading tests/fixtures/nn/<name>.npy (written by tools/make_nn_fixtures.py from
 * PyTorch) and comparing arrays with it. */
#ifndef LCAE_NN_FIXTURE_H
#define LCAE_NN_FIXTURE_H

#include <stdarg.h>
#include <stdint.h>

#include "lcae/io.h"
#include "lcae/nn.h"
#include "test_util.h"

/* The array tests/fixtures/nn/<name>.npy as float32 (f64 0) or float64 (f64 1),
 * malloc'd, its element count in *count if not NULL; exits the test if it is missing
 * (the fixture is committed). */
static inline void *fx_load_as(const char *name, int64_t *count, int f64)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/tests/fixtures/nn/%s.npy", test_env("LCAE_SOURCE_DIR"),
             name);
    lcae_npy_header h;
    float *x32 = NULL;
    double *x64 = NULL;
    if ((f64 ? lcae_npy_load_f64(path, &h, &x64) : lcae_npy_load_f32(path, &h, &x32)) != 0) {
        fprintf(stderr, "%s\n", lcae_last_error());
        exit(1);
    }
    if (count)
        *count = h.count;
    return f64 ? (void *)x64 : (void *)x32;
}

static inline float *fx_load(const char *name, int64_t *count)
{
    return fx_load_as(name, count, 0);
}

static inline double *fx_load64(const char *name, int64_t *count)
{
    return fx_load_as(name, count, 1);
}

/* Integer parameters of a case (its `meta` array) into v[0..n-1]. */
static inline void fx_meta(const char *name, int *v, int n)
{
    int64_t count;
    float *m = fx_load(name, &count);
    if (count != n) {
        fprintf(stderr, "%s: expected %d values, found %lld\n", name, n, (long long)count);
        exit(1);
    }
    for (int i = 0; i < n; i++)
        v[i] = (int)m[i];
    free(m);
}

/* Checks got[i] against the fixture `name` within tol relative: |got - want| <=
 * tol * max(|want|, rms(want)). The floor at the array's RMS keeps entries that are
 * near-zero sums of cancelling terms (whose float rounding is set by the terms, not by
 * the sum) from failing on rounding alone. Returns the worst ratio of error to bound. */
static inline double fx_compare(const char *name, const float *got, int64_t n, double tol)
{
    int64_t count;
    float *want = fx_load(name, &count);
    CHECK_MSG(count == n, "%s: %lld values in the fixture, %lld computed", name,
              (long long)count, (long long)n);
    if (count != n) {
        free(want);
        return INFINITY;
    }
    double ss = 0;
    for (int64_t i = 0; i < n; i++)
        ss += (double)want[i] * want[i];
    double rms = sqrt(ss / (n ? n : 1)), worst = 0;
    int64_t worst_i = 0;
    for (int64_t i = 0; i < n; i++) {
        double bound = tol * fmax(fabs(want[i]), rms);
        double r = fabs((double)got[i] - want[i]) / (bound > 0 ? bound : 1e-30);
        if (!(r <= worst)) { /* also catches NaN */
            worst = isnan(r) ? INFINITY : r;
            worst_i = i;
        }
    }
    CHECK_MSG(worst <= 1, "%s[%lld]: %.9g vs PyTorch %.9g (tol %g relative)", name,
              (long long)worst_i, got[worst_i], want[worst_i], tol);
    free(want);
    return worst;
}

/* fx_load, fx_meta and fx_compare with the fixture's name given as printf's format and
 * arguments ("%s_din", case): a case's arrays are its name and a suffix. The name is
 * formatted into one static buffer, used before the next. */
static inline const char *fx_vname(const char *fmt, va_list ap)
{
    static char name[160];
    vsnprintf(name, sizeof name, fmt, ap);
    return name;
}

static inline float *fx_loadf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static inline float *fx_loadf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    const char *name = fx_vname(fmt, ap);
    va_end(ap);
    return fx_load(name, NULL);
}

static inline void fx_metaf(int *v, int n, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static inline void fx_metaf(int *v, int n, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    const char *name = fx_vname(fmt, ap);
    va_end(ap);
    fx_meta(name, v, n);
}

static inline double fx_comparef(const float *got, int64_t n, double tol, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static inline double fx_comparef(const float *got, int64_t n, double tol, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    const char *name = fx_vname(fmt, ap);
    va_end(ap);
    return fx_compare(name, got, n, tol);
}

#endif
