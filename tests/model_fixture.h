/* The PyTorch reference of a model test: one safetensors file of expected tensors and
 * metadata (tools/make_model_fixture.py, tools/make_polar_fixture.py), opened by the test
 * into exp_file, and per-tensor comparisons with it. */
#ifndef LCAE_MODEL_FIXTURE_H
#define LCAE_MODEL_FIXTURE_H

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model/safetensors.h"
#include "test_util.h"

static model_st_file *exp_file;
static double worst_ratio; /* the largest error / scale compared so far */

/* Opens tests/fixtures/<name>/expected.safetensors into exp_file, the folder's path in
 * dir; 0, or 1 with the message printed. */
static int open_expected(const char *name, char *dir, size_t size)
{
    char path[1200];
    snprintf(dir, size, "%s/tests/fixtures/%s", test_env("LCAE_SOURCE_DIR"), name);
    snprintf(path, sizeof path, "%s/expected.safetensors", dir);
    if (model_st_open(path, &exp_file)) {
        fprintf(stderr, "%s\n", lcae_last_error());
        return 1;
    }
    return 0;
}

/* The expected tensor `name` as floats (malloc'd), its count in *n; exits if missing. */
static float *read_expected(const char *name, int64_t *n)
{
    const model_st_tensor *t = model_st_find(exp_file, name);
    if (!t) {
        fprintf(stderr, "fixture lacks %s\n", name);
        exit(1);
    }
    float *v = malloc((size_t)t->count * sizeof *v);
    if (model_st_read_f32(exp_file, t, v)) {
        fprintf(stderr, "%s\n", lcae_last_error());
        exit(1);
    }
    *n = t->count;
    return v;
}

/* max |got - ref| <= tol * max |scale_name's values| (scale_name NULL: ref's): relative
 * to the tensor's scale, as element-wise relative error is meaningless where values
 * cross 0. */
static void compare(const char *name, const float *got, int64_t n, const char *scale_name,
                    double tol)
{
    int64_t nr, ns;
    float *ref = read_expected(name, &nr);
    float *sc = scale_name ? read_expected(scale_name, &ns) : ref;
    if (!scale_name)
        ns = nr;
    CHECK_MSG(nr == n, "%s: %lld values, expected %lld", name, (long long)n, (long long)nr);
    double scale = 0, err = 0;
    int64_t at = 0;
    for (int64_t i = 0; i < ns; i++)
        scale = fmax(scale, fabs(sc[i]));
    for (int64_t i = 0; i < n && i < nr; i++) {
        double e = fabs((double)got[i] - ref[i]);
        if (!(e <= err)) {
            err = e;
            at = i;
        }
    }
    double ratio = err / fmax(scale, 1e-30);
    worst_ratio = fmax(worst_ratio, ratio);
    CHECK_MSG(ratio <= tol, "%s: max error %.3g at %lld (%.9g vs %.9g), scale %.3g, tol %g",
              name, err, (long long)at, got[at], ref[at], scale, tol);
    free(ref);
    if (scale_name)
        free(sc);
}

/* "grad.<the weight beside bias `bias_name`>" ("enc.0.conv.bias" -> "grad.enc.0.conv.weight"):
 * the scale of a pre-BatchNorm bias's gradient, which is 0 in exact arithmetic. */
static void weight_grad_name(char *buf, size_t size, const char *bias_name)
{
    snprintf(buf, size, "grad.%.*sweight", (int)strlen(bias_name) - 4, bias_name);
}

/* A number of the fixture's metadata (NaN and a failed check if missing). */
static double meta_value(const char *key)
{
    const char *v = model_st_meta(exp_file, key);
    CHECK_MSG(v != NULL, "fixture lacks metadata %s", key);
    return v ? atof(v) : NAN;
}

#endif
