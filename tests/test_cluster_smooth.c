/* Smoothing of the feature map before clustering: the window means and the noise share
 * against numpy/scipy (tests/fixtures/smooth, tools/make_smooth_fixture.py), and the
 * cluster stage with it: smoothing on, auto on each side of the threshold (labels equal
 * to HDBSCAN of the fixture's smoothed or raw map), the summary file, and a map whose
 * rows are not the scan's positions (refused, nothing written). */
#include "test_util.h"

#include <stdint.h>

#include "lcae/cluster.h"
#include "lcae/io.h"

#define NY 7
#define NX 9
#define D 3

static double *load_fixture(const char *name, int64_t count)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/tests/fixtures/smooth/%s", test_env("LCAE_SOURCE_DIR"),
             name);
    lcae_npy_header h;
    double *x;
    if (lcae_npy_load_f64(path, &h, &x) || h.count != count) {
        fprintf(stderr, "%s: %s\n", path, lcae_last_error());
        exit(1);
    }
    return x;
}

/* equal within tol, NaN where the reference has NaN */
static void check_map(const double *got, const double *want, int64_t n, double tol)
{
    for (int64_t i = 0; i < n; i++)
        if (isnan(want[i]))
            CHECK_MSG(isnan(got[i]), "[%lld]: %g, expected NaN", (long long)i, got[i]);
        else
            CHECK_CLOSE(got[i], want[i], tol);
}

static void check_against_scipy(void)
{
    double *map = load_fixture("map.npy", NY * NX * D);
    double *want_share = load_fixture("noise_share.npy", 1);
    double share = -1;
    CHECK(lcae_feature_noise_share(map, NY, NX, D, &share) == LCAE_OK);
    CHECK_CLOSE(share, want_share[0], 1e-12);
    const struct {
        const char *file;
        int size;
    } cases[] = {{"smooth3.npy", 3}, {"smooth5.npy", 5}};
    for (int c = 0; c < 2; c++) {
        double *want = load_fixture(cases[c].file, NY * NX * D);
        double *x = load_fixture("map.npy", NY * NX * D);
        CHECK(lcae_smooth_features(x, NY, NX, D, cases[c].size) == LCAE_OK);
        check_map(x, want, NY * NX * D, 1e-12);
        free(want);
        free(x);
    }
    /* a constant map: share 0, nothing to smooth */
    double flat[NY * NX * D];
    for (int i = 0; i < NY * NX * D; i++)
        flat[i] = 2.5;
    CHECK(lcae_feature_noise_share(flat, NY, NX, D, &share) == LCAE_OK && share == 0);
    free(map);
    free(want_share);
}

/* HDBSCAN's labels of the fixture file `name` (NaN rows as noise) */
static int32_t *reference_labels(const char *name, const lcae_hdbscan_params *p)
{
    double *x = load_fixture(name, NY * NX * D);
    lcae_hdbscan_result r;
    int32_t *lab = NULL;
    if (lcae_hdbscan(x, NY * NX, D, p, name, NULL, &r) == LCAE_OK) {
        lab = malloc(NY * NX * sizeof *lab);
        memcpy(lab, r.labels, NY * NX * sizeof *lab);
        lcae_hdbscan_result_free(&r);
    }
    free(x);
    return lab;
}

static void check_cluster_stage(void)
{
    char in[4096], labels[4096], summary[4096];
    snprintf(in, sizeof in, "%s/tests/fixtures/smooth/map.npy", test_env("LCAE_SOURCE_DIR"));
    snprintf(labels, sizeof labels, "%s/labels.npy", test_tmpdir());
    snprintf(summary, sizeof summary, "%s/cluster.json", test_tmpdir());
    lcae_hdbscan_params p = lcae_hdbscan_defaults();
    p.min_cluster_size = 5;
    p.nonfinite_noise = 1;
    int32_t *raw = reference_labels("map.npy", &p);
    int32_t *smoothed = reference_labels("smooth3.npy", &p);
    CHECK(raw && smoothed);
    double *want_share = load_fixture("noise_share.npy", 1);
    lcae_cluster_outputs out = {.labels = labels, .summary = summary};
    const struct {
        lcae_smooth_mode mode;
        double threshold;
        int smoothed;
    } cases[] = {{LCAE_SMOOTH_ON, 0, 3},
                 {LCAE_SMOOTH_AUTO, want_share[0] * 0.9, 3},
                 {LCAE_SMOOTH_AUTO, want_share[0] * 1.1, 0}};
    for (int c = 0; c < 3 && raw && smoothed; c++) {
        lcae_smooth_params sm = {.mode = cases[c].mode, .ny = NY, .nx = NX, .size = 3,
                                 .auto_threshold = cases[c].threshold};
        lcae_cluster_summary sum;
        CHECK(lcae_cluster_file(in, 0, &p, &sm, &out, NULL, &sum) == LCAE_OK);
        CHECK(sum.smoothed == cases[c].smoothed);
        CHECK_CLOSE(sum.noise_share, want_share[0], 1e-12);
        lcae_npy_header h;
        int32_t *lab = NULL;
        CHECK(lcae_npy_load_i32(labels, &h, &lab) == LCAE_OK && h.count == NY * NX);
        const int32_t *want = cases[c].smoothed ? smoothed : raw;
        for (int i = 0; lab && i < NY * NX; i++)
            CHECK_MSG(lab[i] == want[i], "case %d, position %d: %d, expected %d", c, i,
                      lab[i], want[i]);
        free(lab);
        char *text = NULL;
        size_t len;
        char expect[64];
        snprintf(expect, sizeof expect, "\"smoothed\": %d", cases[c].smoothed);
        CHECK(lcae_read_text_file(summary, 1 << 16, &text, &len) == LCAE_OK && text &&
              strstr(text, expect) && strstr(text, "\"points\": 63"));
        free(text);
    }
    /* smoothing off: no share computed, recorded as null */
    lcae_cluster_summary sum;
    CHECK(lcae_cluster_file(in, 0, &p, NULL, &out, NULL, &sum) == LCAE_OK);
    CHECK(sum.noise_share < 0 && sum.smoothed == 0);
    /* a scan shape that does not hold the map's rows: refused, naming the file */
    unlink(labels);
    unlink(summary);
    lcae_smooth_params wrong = {.mode = LCAE_SMOOTH_ON, .ny = NX, .nx = NX, .size = 3};
    CHECK(lcae_cluster_file(in, 0, &p, &wrong, &out, NULL, NULL) == LCAE_EFAIL);
    CHECK(strstr(lcae_last_error(), "map.npy") && strstr(lcae_last_error(), "81 rows"));
    CHECK(access(labels, F_OK) != 0 && access(summary, F_OK) != 0);
    free(raw);
    free(smoothed);
    free(want_share);
}

int main(void)
{
    check_against_scipy();
    check_cluster_stage();
    return test_done("test_cluster_smooth");
}
