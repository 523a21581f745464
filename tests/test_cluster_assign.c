/* HDBSCAN's full map (assign_noise) against brute force, and the rule for the default
 * min_cluster_size. The brute force computes the core distances and, for every noise
 * point, the nearest clustered point in mutual reachability (ties to the nearer point,
 * then to the smaller index) over all pairs, in the same double arithmetic as
 * src/cluster (squared differences summed in feature order, then the square root). */
#include <omp.h>
#include <stdint.h>

#include "lcae/cluster.h"
#include "lcae/io.h"
#include "test_util.h"

static double dist(const double *a, const double *b, int64_t d)
{
    double s = 0;
    for (int64_t k = 0; k < d; k++) {
        double t = a[k] - b[k];
        s += t * t;
    }
    return sqrt(s);
}

/* The full map by brute force from HDBSCAN's labels (rows all finite). */
static int32_t *brute_full(const double *x, int64_t n, int64_t d, int64_t ms,
                           const int32_t *labels)
{
    double *core = malloc((size_t)n * sizeof *core), *row = malloc((size_t)(ms + 1) * sizeof *row);
    int32_t *full = malloc((size_t)n * sizeof *full);
    for (int64_t i = 0; i < n; i++) { /* the ms + 1 smallest distances, sorted */
        int64_t k = 0;
        for (int64_t j = 0; j < n; j++) {
            double v = dist(x + i * d, x + j * d, d);
            if (k == ms + 1 && v >= row[ms])
                continue;
            int64_t at = k < ms + 1 ? k++ : ms;
            for (; at > 0 && row[at - 1] > v; at--)
                row[at] = row[at - 1];
            row[at] = v;
        }
        core[i] = row[ms]; /* row[0] is the point itself */
    }
    for (int64_t i = 0; i < n; i++) {
        full[i] = labels[i];
        if (labels[i] >= 0)
            continue;
        double best_mr = INFINITY, best_d = INFINITY;
        for (int64_t j = 0; j < n; j++) {
            if (labels[j] < 0)
                continue;
            double dd = dist(x + i * d, x + j * d, d);
            double mr = fmax(fmax(core[i], core[j]), dd);
            if (mr < best_mr || (mr == best_mr && dd < best_d)) { /* j ascending: ties keep the first */
                best_mr = mr;
                best_d = dd;
                full[i] = labels[j];
            }
        }
    }
    free(core);
    free(row);
    return full;
}

/* HDBSCAN with and without assign_noise: the same labels; the full map equals the brute
 * force's, keeps every cluster's points and has no noise. Returns the noise count. */
static int64_t check_against_brute(const char *name, const double *x, int64_t n, int64_t d,
                                   const lcae_hdbscan_params *p0)
{
    lcae_hdbscan_params p = *p0;
    lcae_hdbscan_result plain, full;
    CHECK_MSG(lcae_hdbscan(x, n, d, &p, name, NULL, &plain) == LCAE_OK, "%s", lcae_last_error());
    CHECK(plain.labels_full == NULL);
    p.assign_noise = 1;
    CHECK_MSG(lcae_hdbscan(x, n, d, &p, name, NULL, &full) == LCAE_OK, "%s", lcae_last_error());
    CHECK(full.labels_full != NULL);
    CHECK(memcmp(plain.labels, full.labels, (size_t)n * sizeof *plain.labels) == 0);
    int32_t *want = brute_full(x, n, d, full.min_samples, full.labels);
    int64_t differ = 0, noise = 0, first = -1;
    for (int64_t i = 0; i < n; i++) {
        noise += full.labels[i] < 0;
        if (full.labels_full[i] != want[i] && differ++ == 0)
            first = i;
    }
    CHECK_MSG(differ == 0, "%s: %lld of %lld noise points differ from brute force (first: "
              "point %lld, %d against %d)", name, (long long)differ, (long long)noise,
              (long long)first, first >= 0 ? full.labels_full[first] : 0,
              first >= 0 ? want[first] : 0);
    for (int64_t i = 0; i < n && full.n_clusters > 0; i++)
        CHECK(full.labels_full[i] >= 0 && full.labels_full[i] < full.n_clusters);
    printf("%s: %lld points, %lld clusters, %lld noise points assigned\n", name, (long long)n,
           (long long)full.n_clusters, (long long)noise);
    free(want);
    lcae_hdbscan_result_free(&plain);
    lcae_hdbscan_result_free(&full);
    return noise;
}

static uint64_t rng_state = 12345;
static double uniform(void)
{
    rng_state = rng_state * 6364136223846793005ULL + 1442695040888963407ULL;
    return (double)(rng_state >> 11) * 0x1.0p-53;
}

/* Gaussian blobs over uniform background noise (d dimensions), and a coarse grid where
 * many distances are equal (the tie rule decides). */
static void check_synthetic(void)
{
    int64_t n = 3000, d = 5;
    double *x = malloc((size_t)(n * d) * sizeof *x);
    for (int64_t i = 0; i < n; i++)
        for (int64_t k = 0; k < d; k++) {
            if (i < 2400) { /* 6 blobs 8 apart along the first axis, Box-Muller */
                double u = uniform() + 1e-300, v = uniform();
                x[i * d + k] = (k == 0 ? 8.0 * (double)(i % 6) : 0.0) +
                               sqrt(-2 * log(u)) * cos(6.283185307179586 * v);
            } else {
                x[i * d + k] = uniform() * 56 - 8;
            }
        }
    lcae_hdbscan_params p = lcae_hdbscan_defaults();
    p.min_cluster_size = 25;
    p.min_samples = 10;
    CHECK(check_against_brute("blobs over noise", x, n, d, &p) > 300);
    d = 4;
    for (int64_t i = 0; i < n * d; i++) /* three groups of small integers, integer noise */
        x[i] = i < 2700 * d ? (double)(int)(uniform() * 6) + (double)(i / d % 3) * 8
                            : (double)(int)(uniform() * 40) - 10;
    p.min_cluster_size = 15;
    p.min_samples = 0;
    CHECK(check_against_brute("grid", x, n, d, &p) > 0);
    /* the same full map on one thread and on two */
    p.assign_noise = 1;
    lcae_hdbscan_result a, b;
    omp_set_num_threads(1);
    CHECK(lcae_hdbscan(x, n, d, &p, "grid", NULL, &a) == LCAE_OK);
    omp_set_num_threads(2);
    CHECK(lcae_hdbscan(x, n, d, &p, "grid", NULL, &b) == LCAE_OK);
    CHECK(memcmp(a.labels_full, b.labels_full, (size_t)n * sizeof *a.labels_full) == 0);
    lcae_hdbscan_result_free(&a);
    lcae_hdbscan_result_free(&b);
    free(x);
}

/* Rows set aside (NaN) stay -1 in the full map; without any cluster every point is -1. */
static void check_edges(void)
{
    int64_t n = 40, d = 2;
    double x[80];
    for (int64_t i = 0; i < n; i++) { /* two groups on a line, a far point beyond each */
        x[2 * i] = i < 20 ? (double)i : 100.0 + i;
        x[2 * i + 1] = 0;
    }
    x[0] = -300;
    x[2 * 39] = 400;
    x[2 * 5 + 1] = NAN;
    lcae_hdbscan_params p = lcae_hdbscan_defaults();
    p.min_cluster_size = 5;
    p.min_samples = 2;
    p.nonfinite_noise = 1;
    p.assign_noise = 1;
    lcae_hdbscan_result r;
    CHECK(lcae_hdbscan(x, n, d, &p, "line", NULL, &r) == LCAE_OK);
    CHECK(r.n_clusters == 2);
    CHECK(r.labels[5] == -1 && r.labels_full[5] == -1);
    CHECK(r.labels[0] == -1 && r.labels_full[0] == r.labels[1]);
    CHECK(r.labels[39] == -1 && r.labels_full[39] == r.labels[20]);
    for (int64_t i = 0; i < n; i++)
        if (i != 5)
            CHECK(r.labels_full[i] == (r.labels[i] >= 0 ? r.labels[i] : r.labels_full[i]) &&
                  r.labels_full[i] >= 0);
    lcae_hdbscan_result_free(&r);
    /* one group: no cluster unless allow_single_cluster */
    for (int64_t i = 0; i < n; i++) {
        x[2 * i] = (double)i;
        x[2 * i + 1] = 0;
    }
    p.nonfinite_noise = 0;
    CHECK(lcae_hdbscan(x, 20, d, &p, "one", NULL, &r) == LCAE_OK);
    CHECK(r.n_clusters == 0);
    for (int64_t i = 0; i < 20; i++)
        CHECK(r.labels_full[i] == -1);
    lcae_hdbscan_result_free(&r);
}

/* The hdbscan library's feature sets and answers: the full map against brute force,
 * and, where the library gives a cluster, the same partition as the library's but for
 * `ties` points (test_cluster: points whose side only the order of equal edges decides). */
static void check_fixture(const char *features, const char *labels, int64_t mcs, int leaf,
                          int64_t ties)
{
    char fp[1024], lp[1024];
    const char *dir = test_env("LCAE_SHARED_DIR");
    snprintf(fp, sizeof fp, "%s/fixtures/hdbscan/%s", dir, features);
    snprintf(lp, sizeof lp, "%s/fixtures/hdbscan/%s", dir, labels);
    lcae_npy_header h, hl;
    double *x;
    int32_t *lib;
    CHECK_MSG(lcae_npy_load_f64(fp, &h, &x) == LCAE_OK, "%s", lcae_last_error());
    CHECK_MSG(lcae_npy_load_i32(lp, &hl, &lib) == LCAE_OK, "%s", lcae_last_error());
    int64_t n = h.shape[0], d = h.shape[1];
    lcae_hdbscan_params p = lcae_hdbscan_defaults();
    p.min_cluster_size = mcs;
    p.method = leaf ? LCAE_SELECT_LEAF : LCAE_SELECT_EOM;
    check_against_brute(features, x, n, d, &p);
    p.assign_noise = 1;
    lcae_hdbscan_result r;
    CHECK(lcae_hdbscan(x, n, d, &p, features, NULL, &r) == LCAE_OK);
    /* lcae's cluster c is the library's map[c] on every point both cluster */
    int32_t map[64];
    for (int c = 0; c < 64; c++)
        map[c] = -2;
    int64_t agree = 0, both = 0;
    for (int64_t i = 0; i < n; i++) {
        if (r.labels[i] < 0 || lib[i] < 0 || r.labels[i] >= 64)
            continue;
        both++;
        if (map[r.labels[i]] == -2)
            map[r.labels[i]] = lib[i];
        agree += map[r.labels[i]] == lib[i];
    }
    for (int64_t i = 0; i < n; i++)
        CHECK(r.labels[i] < 0 || r.labels_full[i] == r.labels[i]);
    CHECK_MSG(agree >= both - ties, "%s: %lld of %lld clustered points in another library cluster",
              features, (long long)(both - agree), (long long)both);
    lcae_hdbscan_result_free(&r);
    free(x);
    free(lib);
}

/* The rule's values at given n: round(60 sqrt(n / 65536)), at least 5. */
static void check_rule(void)
{
    const int64_t n[] = {1, 2, 455, 1024, 4096, 16384, 65536, 100000, 262144, 1048576};
    const int64_t size[] = {5, 5, 5, 8, 15, 30, 60, 74, 120, 240};
    for (size_t i = 0; i < sizeof n / sizeof *n; i++)
        CHECK_MSG(lcae_min_cluster_size_for(n[i]) == size[i], "n = %lld: %lld, expected %lld",
                  (long long)n[i], (long long)lcae_min_cluster_size_for(n[i]),
                  (long long)size[i]);
    /* 0 in the parameters is the rule's size, reported in the result */
    double x[40];
    for (int i = 0; i < 40; i++)
        x[i] = i < 20 ? i : 100 + i;
    lcae_hdbscan_params p = lcae_hdbscan_defaults();
    p.min_cluster_size = 0;
    p.min_samples = 2;
    lcae_hdbscan_result r;
    CHECK(lcae_hdbscan(x, 40, 1, &p, "line", NULL, &r) == LCAE_OK);
    CHECK(r.min_cluster_size == 5 && r.min_samples == 2 && r.n_clusters == 2);
    lcae_hdbscan_result_free(&r);
    p.min_samples = 0;
    CHECK(lcae_hdbscan(x, 40, 1, &p, "line", NULL, &r) == LCAE_OK);
    CHECK(r.min_cluster_size == 5 && r.min_samples == 5);
    lcae_hdbscan_result_free(&r);
    p.min_cluster_size = 1;
    CHECK(lcae_hdbscan(x, 40, 1, &p, "line", NULL, &r) == LCAE_EUSAGE);
    p.min_cluster_size = -1;
    CHECK(lcae_hdbscan(x, 40, 1, &p, "line", NULL, &r) == LCAE_EUSAGE);
}

int main(void)
{
    check_rule();
    check_edges();
    check_synthetic();
    if (test_shared_missing("the hdbscan library's answers (shared/fixtures/hdbscan)"))
        return test_done("test_cluster_assign") ? 1 : test_skip_status();
    check_fixture("moons_2k_d2.npy", "moons_2k_d2.p1.exact.labels.npy", 15, 1, 2);
    check_fixture("blobs_4k_d5.npy", "blobs_4k_d5.p0.exact.labels.npy", 60, 0, 0);
#ifndef SANITIZED /* 16,384^2 distances take minutes under ASan */
    check_fixture("blobs_16k_d16.npy", "blobs_16k_d16.p0.exact.labels.npy", 60, 0, 0);
#endif
    return test_done("test_cluster_assign");
}
