/* The filled map (lcae_fill_map) and its grain map (lcae_grain_map) against numpy/scipy
 * (tests/fixtures/fill, tools/make_fill_fixture.py, tools/fill_reference.py) at radii 1,
 * 2 and 3, a map of thin bands only (no region: unchanged; noise stays noise in the grain
 * map), and the cluster stage writing both beside the labels
 * (equal to lcae_fill_map of the labels written, the summary's counts) and refusing a
 * scan shape that does not hold the map's rows, with nothing written. */
#include "test_util.h"

#include <stdint.h>

#include "lcae/cluster.h"
#include "lcae/io.h"

#define NY 40
#define NX 56

static void *load_fixture(const char *name, int64_t count, int i32)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/tests/fixtures/fill/%s", test_env("LCAE_SOURCE_DIR"),
             name);
    lcae_npy_header h;
    void *x;
    int rc = i32 ? lcae_npy_load_i32(path, &h, (int32_t **)&x)
                 : lcae_npy_load_f64(path, &h, (double **)&x);
    if (rc || h.count != count) {
        fprintf(stderr, "%s: %s\n", path, lcae_last_error());
        exit(1);
    }
    return x;
}

static void check_map(const char *what, const int32_t *got, const int32_t *want, int64_t n)
{
    int64_t wrong = 0;
    for (int64_t i = 0; i < n; i++)
        if (got[i] != want[i] && wrong++ < 5)
            fprintf(stderr, "%s: position %lld: %d, expected %d\n", what, (long long)i,
                    got[i], want[i]);
    CHECK_MSG(wrong == 0, "%s: %lld positions differ", what, (long long)wrong);
}

static void check_against_scipy(void)
{
    int32_t *map = load_fixture("map.npy", NY * NX, 1);
    double *regions = load_fixture("regions.npy", 3, 0);
    int32_t filled[NY * NX];
    for (int r = 1; r <= 3; r++) {
        char name[32];
        snprintf(name, sizeof name, "filled_r%d.npy", r);
        int32_t *want = load_fixture(name, NY * NX, 1);
        lcae_fill_summary sum;
        CHECK(lcae_fill_map(map, NY, NX, r, filled, &sum) == LCAE_OK);
        check_map(name, filled, want, NY * NX);
        CHECK_MSG(sum.regions == (int64_t)regions[r - 1], "radius %d: %lld regions, expected "
                  "%g", r, (long long)sum.regions, regions[r - 1]);
        int64_t changed = 0;
        for (int i = 0; i < NY * NX; i++)
            changed += want[i] != map[i];
        CHECK(sum.filled == changed && changed > 0);
        for (int i = 0; i < NY * NX; i++) /* every position in a region */
            CHECK_MSG(filled[i] >= 0, "radius %d: position %d left unlabelled", r, i);
        /* its grain map: scipy's pieces, numbered by their first positions */
        snprintf(name, sizeof name, "grains_r%d.npy", r);
        int32_t *want_grains = load_fixture(name, NY * NX, 1);
        int32_t grains[NY * NX];
        int64_t n_grains = 0;
        CHECK(lcae_grain_map(want, NY, NX, grains, &n_grains) == LCAE_OK);
        check_map(name, grains, want_grains, NY * NX);
        int32_t most = -1;
        for (int i = 0; i < NY * NX; i++)
            most = want_grains[i] > most ? want_grains[i] : most;
        CHECK_MSG(n_grains == most + 1, "radius %d: %lld grains, expected %d", r,
                  (long long)n_grains, most + 1);
        free(want_grains);
        free(want);
    }
    /* bands only: no region at radius 2, the map unchanged */
    int32_t *thin = load_fixture("thin.npy", NY * NX, 1);
    lcae_fill_summary sum;
    CHECK(lcae_fill_map(thin, NY, NX, 2, filled, &sum) == LCAE_OK);
    CHECK(sum.regions == 0 && sum.filled == 0);
    check_map("thin.npy", filled, thin, NY * NX);
    int32_t *thin_grains = load_fixture("thin_grains.npy", NY * NX, 1), grains[NY * NX];
    int64_t n_grains;
    CHECK(lcae_grain_map(thin, NY, NX, grains, &n_grains) == LCAE_OK); /* noise stays */
    check_map("thin_grains.npy", grains, thin_grains, NY * NX);
    free(thin_grains);
    CHECK(lcae_fill_map(map, NY, NX, 0, filled, &sum) == LCAE_EUSAGE);
    free(thin);
    free(map);
    free(regions);
}

/* The cluster stage: a map of two grains split by a band, in 2-D feature space. */
static void check_cluster_stage(void)
{
    enum { H = 30, W = 40, N = H * W };
    char in[4096], labels[4096], filled_path[4096], grains_path[4096], summary[4096];
    snprintf(in, sizeof in, "%s/features.npy", test_tmpdir());
    snprintf(labels, sizeof labels, "%s/labels.npy", test_tmpdir());
    snprintf(filled_path, sizeof filled_path, "%s/labels_filled.npy", test_tmpdir());
    snprintf(grains_path, sizeof grains_path, "%s/labels_grains.npy", test_tmpdir());
    snprintf(summary, sizeof summary, "%s/cluster.json", test_tmpdir());
    /* grains at features (0, 0) and (4, 0), the band (columns 18-21) at (2, 3), with a
     * deterministic jitter */
    double x[N * 2];
    for (int i = 0; i < N; i++) {
        int col = i % W;
        double jx = ((i * 37) % 17 - 8) * 0.02, jy = ((i * 53) % 19 - 9) * 0.02;
        x[2 * i] = (col < 18 ? 0 : col < 22 ? 2 : 4) + jx;
        x[2 * i + 1] = (col >= 18 && col < 22 ? 3 : 0) + jy;
    }
    int64_t shape[2] = {N, 2};
    CHECK(lcae_npy_write(in, LCAE_DT_F64, 2, shape, x) == LCAE_OK);
    lcae_hdbscan_params p = lcae_hdbscan_defaults();
    p.min_cluster_size = 20;
    lcae_smooth_params sm = {.mode = LCAE_SMOOTH_OFF, .ny = H, .nx = W, .size = 3,
                             .fill_radius = 2};
    lcae_cluster_outputs out = {.labels = labels, .labels_filled = filled_path,
                                .labels_grains = grains_path, .summary = summary};
    lcae_cluster_summary sum;
    CHECK(lcae_cluster_file(in, 0, &p, &sm, &out, NULL, &sum) == LCAE_OK);
    lcae_npy_header h;
    int32_t *lab = NULL, *got = NULL, *got_grains = NULL;
    CHECK(lcae_npy_load_i32(labels, &h, &lab) == LCAE_OK && h.count == N);
    CHECK(lcae_npy_load_i32(filled_path, &h, &got) == LCAE_OK && h.count == N);
    CHECK(lcae_npy_load_i32(grains_path, &h, &got_grains) == LCAE_OK && h.count == N);
    CHECK(sum.n_clusters == 3 && sum.fill_radius == 2 && sum.fill.regions == 2);
    if (lab && got) {
        int32_t want[N];
        lcae_fill_summary fs;
        CHECK(lcae_fill_map(lab, H, W, 2, want, &fs) == LCAE_OK);
        check_map("labels_filled.npy", got, want, N);
        CHECK(fs.filled == sum.fill.filled && fs.filled >= 4 * H);
        /* the band went to the grains on either side: columns 18-19 left, 20-21 right */
        CHECK(got[5 * W + 18] == lab[5 * W + 10] && got[5 * W + 21] == lab[5 * W + 30]);
        /* two grains, the left one first in scan order */
        for (int i = 0; got_grains && i < N; i++)
            CHECK_MSG(got_grains[i] == (got[i] != got[0]), "grain map at %d: %d", i,
                      got_grains[i]);
        CHECK(sum.grains == 2);
    }
    char *text = NULL;
    size_t len;
    CHECK(lcae_read_text_file(summary, 1 << 16, &text, &len) == LCAE_OK && text &&
          strstr(text, "\"fill\": {\"radius\": 2, \"regions\": 2"));
    free(text);
    free(lab);
    free(got);
    free(got_grains);
    /* a scan shape that does not hold the rows: refused before clustering, nothing written */
    unlink(labels);
    unlink(filled_path);
    unlink(grains_path);
    unlink(summary);
    sm.ny = H + 1;
    CHECK(lcae_cluster_file(in, 0, &p, &sm, &out, NULL, NULL) == LCAE_EFAIL);
    CHECK(strstr(lcae_last_error(), "features.npy") && strstr(lcae_last_error(), "to fill"));
    CHECK(access(labels, F_OK) != 0 && access(filled_path, F_OK) != 0 &&
          access(grains_path, F_OK) != 0 && access(summary, F_OK) != 0);
}

int main(void)
{
    check_against_scipy();
    check_cluster_stage();
    return test_done("test_cluster_fill");
}
