/* Pattern preparation (include/lcae/prep.h) against numpy/scipy's computation of the same
 * definitions (tools/make_prep_fixture.py: centring by scipy's bilinear map_coordinates
 * with the edge repeated, crop, binning, offset, transform, normalization), and the
 * normalization's rules against brute force: sigma68, the standard deviation for sparse
 * data, and the errors for constant and non-finite data. */
#include <cjson/cJSON.h>

#include "lcae/prep.h"
#include "test_util.h"

static char fixture[512];

static float *load(const char *name, lcae_npy_header *h)
{
    char p[700];
    snprintf(p, sizeof p, "%s/%s", fixture, name);
    float *v = NULL;
    CHECK_MSG(lcae_npy_load_f32(p, h, &v) == LCAE_OK, "%s", lcae_last_error());
    return v;
}

static void test_against_numpy(void)
{
    lcae_npy_header hr, hb, hc;
    float *raw = load("raw.npy", &hr), *beam = load("beam.npy", &hb);
    char p[700], *text = NULL;
    size_t len;
    snprintf(p, sizeof p, "%s/cases.json", fixture);
    CHECK(lcae_read_text_file(p, 1 << 16, &text, &len) == LCAE_OK);
    cJSON *cases = cJSON_Parse(text), *c;
    int k = 0, n = (int)hr.shape[0];
    cJSON_ArrayForEach(c, cases) {
        lcae_prep pr = {
            .crop = cJSON_GetObjectItem(c, "crop")->valueint,
            .bin = cJSON_GetObjectItem(c, "bin")->valueint,
            .transform = lcae_transform_from_name(cJSON_GetObjectItem(c, "transform")->valuestring),
            .offset = cJSON_GetObjectItem(c, "offset")->valuedouble,
            .median = cJSON_GetObjectItem(c, "median")->valuedouble,
            .scale = cJSON_GetObjectItem(c, "scale")->valuedouble,
            .center = cJSON_IsTrue(cJSON_GetObjectItem(c, "center")) ? LCAE_CENTER_BEAM
                                                                     : LCAE_CENTER_NONE};
        int size;
        CHECK(lcae_prep_size(hr.shape[1], hr.shape[2], pr.crop, pr.bin, &size) == LCAE_OK);
        char name[32];
        snprintf(name, sizeof name, "case%d.npy", k);
        float *want = load(name, &hc);
        CHECK(want && hc.count == (int64_t)n * size * size);
        float *got = malloc((size_t)n * size * size * sizeof *got);
        CHECK(lcae_prep_patterns(&pr, hr.shape[1], hr.shape[2], size, raw,
                                 pr.center ? beam : NULL, got, n) == LCAE_OK);
        double worst = 0;
        for (int64_t i = 0; want && i < hc.count; i++)
            worst = fmax(worst, fabs(got[i] - want[i]) / fmax(1.0, fabs(want[i])));
        /* float32 arithmetic against numpy's float64: a few roundings of the sums */
        CHECK_MSG(worst < 2e-5, "case %d: worst relative difference %.3g", k, worst);
        free(got);
        free(want);
        k++;
    }
    CHECK(k == 4);
    cJSON_Delete(cases);
    free(text);
    free(raw);
    free(beam);
}

/* A (n, 8, 8) float32 .npy written from v. */
static lcae_dataset *scan_of(const char *name, const float *v, int64_t n)
{
    char p[700];
    snprintf(p, sizeof p, "%s/%s", test_tmpdir(), name);
    int64_t shape[4] = {1, n, 8, 8};
    CHECK(lcae_npy_write(p, LCAE_DT_F32, 4, shape, v) == LCAE_OK);
    lcae_dataset *ds = NULL;
    CHECK_MSG(lcae_dataset_open(p, NULL, &ds) == LCAE_OK, "%s", lcae_last_error());
    return ds;
}

static void test_fit_rules(void)
{
    enum { N = 20, P = 64 };
    static float v[N * P];
    /* sparse counts: 9 of 10 pixels zero, so P16 = P84 = 0: the standard deviation */
    double sum = 0, sum2 = 0;
    for (int i = 0; i < N * P; i++) {
        v[i] = i % 10 == 3 ? (float)(1 + i % 7) : 0;
        double t = log1p(v[i]);
        sum += t;
        sum2 += t * t;
    }
    lcae_dataset *ds = scan_of("sparse.npy", v, N);
    lcae_prep pr = {.bin = 1, .transform = LCAE_TRANSFORM_LOG};
    CHECK_MSG(lcae_prep_fit(ds, &pr, NULL, NULL, NULL, NULL) == LCAE_OK, "%s", lcae_last_error());
    double mean = sum / (N * P), sd = sqrt(sum2 / (N * P) - mean * mean);
    CHECK(pr.norm == LCAE_NORM_STD && pr.median == 0);
    CHECK_CLOSE(pr.scale, sd, 1e-6);
    lcae_dataset_close(ds);

    /* constant data has nothing to normalize: an error naming the value */
    for (int i = 0; i < N * P; i++)
        v[i] = 3;
    ds = scan_of("constant.npy", v, N);
    pr = (lcae_prep){.bin = 1};
    CHECK(lcae_prep_fit(ds, &pr, NULL, NULL, NULL, NULL) == LCAE_EFAIL &&
          strstr(lcae_last_error(), "has the value 3"));
    lcae_dataset_close(ds);

    /* no finite value */
    for (int i = 0; i < N * P; i++)
        v[i] = NAN;
    ds = scan_of("nan.npy", v, N);
    CHECK(lcae_prep_fit(ds, &pr, NULL, NULL, NULL, NULL) == LCAE_EFAIL &&
          strstr(lcae_last_error(), "no finite value"));
    lcae_dataset_close(ds);

    /* a beam map of the wrong shape is refused, naming the file */
    for (int i = 0; i < N * P; i++)
        v[i] = (float)(i % 5);
    ds = scan_of("five.npy", v, N);
    char p[700];
    snprintf(p, sizeof p, "%s/beam.npy", fixture);
    float *map;
    CHECK(lcae_prep_beam_map(ds, p, NULL, &map) == LCAE_EFAIL &&
          strstr(lcae_last_error(), "expected a beam map of shape (1, 20, 2)"));
    lcae_dataset_close(ds);
}

static int cmp_float(const void *a, const void *b)
{
    float x = *(const float *)a, y = *(const float *)b;
    return (x > y) - (x < y);
}

static double linear_percentile(const float *sorted, int64_t n, double p)
{
    double at = (double)(n - 1) * p;
    int64_t k = (int64_t)floor(at);
    return k + 1 < n ? sorted[k] + (at - (double)k) * (sorted[k + 1] - sorted[k]) : sorted[k];
}

/* The fit is the statistics module's estimator over the prepared patterns: exact equals a
 * sort of every prepared pixel (centred by a beam map, cropped, binned, log), and the
 * sampled figures lie within a few of their estimated standard errors of it. */
static void test_fit_is_the_stats_estimator(void)
{
    enum { N = 48, D = 24, C = 20, B = 2, S = C / B };
    static float v[N * D * D], beam[2 * N], prepared[N * S * S];
    uint64_t x = 12345;
    for (int i = 0; i < N * D * D; i++) {
        x = x * 6364136223846793005ULL + 1442695040888963407ULL;
        double u = (double)(x >> 11) * 0x1.0p-53;
        v[i] = (float)(i % 7 == 0 ? 200 * u * u : 3 * u); /* heavy tail: bright pixels */
    }
    for (int i = 0; i < N; i++) {
        beam[2 * i] = 11.5f + 0.03f * (float)i;
        beam[2 * i + 1] = 11.2f - 0.02f * (float)i;
    }
    char p[700];
    snprintf(p, sizeof p, "%s/fit.npy", test_tmpdir());
    int64_t shape[4] = {6, 8, D, D};
    CHECK(lcae_npy_write(p, LCAE_DT_F32, 4, shape, v) == LCAE_OK);
    lcae_dataset *ds = NULL;
    CHECK(lcae_dataset_open(p, NULL, &ds) == LCAE_OK);
    lcae_prep pr = {.crop = C, .bin = B, .transform = LCAE_TRANSFORM_LOG,
                    .center = LCAE_CENTER_BEAM, .median = 0, .scale = 1};
    CHECK(lcae_prep_patterns(&pr, D, D, S, v, beam, prepared, N) == LCAE_OK);
    qsort(prepared, N * S * S, sizeof *prepared, cmp_float);
    double med = linear_percentile(prepared, N * S * S, 0.5);
    double sig = (linear_percentile(prepared, N * S * S, 0.84) -
                  linear_percentile(prepared, N * S * S, 0.16)) / 2;
    lcae_stats_options exact = {.exact = 1};
    lcae_stats st;
    CHECK_MSG(lcae_prep_fit(ds, &pr, beam, &exact, NULL, &st) == LCAE_OK, "%s",
              lcae_last_error());
    CHECK(st.exact && pr.norm == LCAE_NORM_SIGMA68);
    CHECK_CLOSE(pr.median, med, 1e-6);
    CHECK_CLOSE(pr.scale, sig, 1e-6);
    lcae_stats_options sampled = {.sample_size = 1024, .seed = 9};
    lcae_prep ps = pr;
    CHECK(lcae_prep_fit(ds, &ps, beam, &sampled, NULL, &st) == LCAE_OK);
    CHECK(!st.exact && st.sample_size == 1024 && st.sigma68_se > 0);
    CHECK_MSG(fabs(ps.scale - sig) < 5 * st.sigma68_se, "sampled %g, exact %g, se %g",
              ps.scale, sig, st.sigma68_se);
    CHECK_MSG(fabs(ps.median - med) < 5 * st.median_se, "sampled %g, exact %g, se %g",
              ps.median, med, st.median_se);
    lcae_dataset_close(ds);
}

int main(void)
{
    snprintf(fixture, sizeof fixture, "%s/tests/fixtures/prep", test_env("LCAE_SOURCE_DIR"));
    test_against_numpy();
    test_fit_rules();
    test_fit_is_the_stats_estimator();
    return test_done("test_prep");
}
