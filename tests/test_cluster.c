/* HDBSCAN against the hdbscan library's answers (tests/fixtures/shared/fixtures/hdbscan,
 * made by the library itself) and hand-checked small cases. */
#include <cjson/cJSON.h>
#include <omp.h>
#include <stdint.h>
#include <sys/wait.h>

#include "lcae/cluster.h"
#include "lcae/io.h"
#include "test_util.h"

#ifdef SANITIZED
#define MAX_FIXTURE_POINTS 5000 /* the 16k set takes minutes under ASan */
#else
#define MAX_FIXTURE_POINTS 20000 /* the 65k set is checked by bench/bench_cluster.sh */
#endif

/* ---- adjusted Rand index (Hubert & Arabie), labels >= -1, -1 an ordinary label ---- */
static double comb2(double x) { return x * (x - 1) / 2; }

static double ari(const int32_t *a, const int32_t *b, int64_t n)
{
    int32_t ka = 0, kb = 0;
    for (int64_t i = 0; i < n; i++) {
        ka = a[i] + 2 > ka ? a[i] + 2 : ka;
        kb = b[i] + 2 > kb ? b[i] + 2 : kb;
    }
    double *t = calloc((size_t)ka * (size_t)kb, sizeof *t);
    double *ra = calloc((size_t)ka, sizeof *ra), *rb = calloc((size_t)kb, sizeof *rb);
    for (int64_t i = 0; i < n; i++) {
        t[(a[i] + 1) * kb + b[i] + 1]++;
        ra[a[i] + 1]++;
        rb[b[i] + 1]++;
    }
    double sij = 0, sa = 0, sb = 0;
    for (int64_t i = 0; i < (int64_t)ka * kb; i++)
        sij += comb2(t[i]);
    for (int32_t i = 0; i < ka; i++)
        sa += comb2(ra[i]);
    for (int32_t j = 0; j < kb; j++)
        sb += comb2(rb[j]);
    free(t);
    free(ra);
    free(rb);
    double expected = sa * sb / comb2((double)n), maxi = (sa + sb) / 2;
    return maxi == expected ? 1.0 : (sij - expected) / (maxi - expected);
}

/* The assignment of rows to columns of an m x m cost matrix (row-major) with the least
 * total cost: the Hungarian algorithm with potentials, O(m^3). col[r] for each row. */
static void least_cost_assignment(const int64_t *cost, int m, int *col)
{
    /* 1-based with a virtual column 0, as in the classical formulation */
    int64_t *u = calloc((size_t)m + 1, sizeof *u), *v = calloc((size_t)m + 1, sizeof *v);
    int64_t *minv = malloc(((size_t)m + 1) * sizeof *minv);
    int *row = calloc((size_t)m + 1, sizeof *row), *way = calloc((size_t)m + 1, sizeof *way);
    char *used = malloc((size_t)m + 1);
    for (int i = 1; i <= m; i++) {
        row[0] = i;
        int j0 = 0;
        for (int j = 0; j <= m; j++) {
            minv[j] = INT64_MAX;
            used[j] = 0;
        }
        do { /* grow an alternating tree from row i until it reaches a free column */
            used[j0] = 1;
            int i0 = row[j0], j1 = 0;
            int64_t delta = INT64_MAX;
            for (int j = 1; j <= m; j++) {
                if (used[j])
                    continue;
                int64_t cur = cost[(size_t)(i0 - 1) * m + j - 1] - u[i0] - v[j];
                if (cur < minv[j]) {
                    minv[j] = cur;
                    way[j] = j0;
                }
                if (minv[j] < delta) {
                    delta = minv[j];
                    j1 = j;
                }
            }
            for (int j = 0; j <= m; j++) {
                if (used[j]) {
                    u[row[j]] += delta;
                    v[j] -= delta;
                } else {
                    minv[j] -= delta;
                }
            }
            j0 = j1;
        } while (row[j0] != 0);
        do { /* flip the augmenting path */
            int j1 = way[j0];
            row[j0] = row[j1];
            j0 = j1;
        } while (j0);
    }
    for (int j = 1; j <= m; j++)
        col[row[j] - 1] = j - 1;
    free(u);
    free(v);
    free(minv);
    free(row);
    free(way);
    free(used);
}

/* Points whose label differs under the one-to-one matching of a's clusters to b's that
 * agrees on the most points (noise matches only noise), labels -1..k-1: 0 exactly when
 * the partitions are the same. A split cluster's smaller part, a cluster made of b's
 * noise points and a merge all count (a matching by each cluster's majority partner
 * would not see the first two). map[label + 1] is b's label for a's (-2: matched to
 * no b cluster it shares a point with). */
static int64_t mismatches(const int32_t *a, const int32_t *b, int64_t n, int32_t *map, int k)
{
    int64_t *table = calloc((size_t)(k + 1) * (size_t)(k + 1), sizeof *table);
    for (int64_t i = 0; i < n; i++)
        if (a[i] < k && b[i] < k)
            table[(size_t)(a[i] + 1) * (k + 1) + b[i] + 1]++;
    /* the clusters of both sides, as a k x k assignment of least cost = most shared points */
    int64_t *cost = malloc((size_t)k * (size_t)k * sizeof *cost);
    int *col = malloc((size_t)k * sizeof *col);
    for (int i = 0; i < k; i++)
        for (int j = 0; j < k; j++)
            cost[(size_t)i * k + j] = -table[(size_t)(i + 1) * (k + 1) + j + 1];
    least_cost_assignment(cost, k, col);
    map[0] = -1;
    for (int i = 0; i < k; i++)
        map[i + 1] = table[(size_t)(i + 1) * (k + 1) + col[i] + 1] > 0 ? col[i] : -2;
    free(cost);
    free(col);
    free(table);
    int64_t bad = 0;
    for (int64_t i = 0; i < n; i++)
        bad += a[i] >= k || b[i] >= k || map[a[i] + 1] != b[i];
    return bad;
}

/* Clusters (labels other than -1) in a labelling. */
static int count_clusters(const int32_t *l, int64_t n, int k)
{
    char *seen = calloc((size_t)k + 1, 1);
    int c = 0;
    for (int64_t i = 0; i < n; i++)
        if (l[i] >= 0 && l[i] < k && !seen[l[i]]) {
            seen[l[i]] = 1;
            c++;
        }
    free(seen);
    return c;
}

/* The comparison itself, on crafted labels: a renaming is no difference; a split
 * cluster, a cluster made of the other's noise, a merge and one moved point are. */
static void check_mismatches(void)
{
    static const struct {
        const char *what;
        int n;
        int32_t a[12], b[12];
        int64_t bad;
    } c[] = {
        {"renamed", 7, {1, 1, 0, 0, 0, -1, 2}, {0, 0, 2, 2, 2, -1, 1}, 0},
        {"split cluster", 10, {0, 0, 0, 2, 2, 2, 1, 1, 1, 1}, {0, 0, 0, 0, 0, 0, 1, 1, 1, 1}, 3},
        {"cluster of noise", 9, {0, 0, 0, 0, 0, 1, 1, 1, 1}, {0, 0, 0, 0, 0, -1, -1, -1, -1}, 4},
        {"noise of a cluster", 9, {0, 0, 0, 0, 0, -1, -1, -1, -1}, {1, 1, 1, 1, 1, 0, 0, 0, 0}, 4},
        {"merged", 6, {0, 0, 0, 0, 0, 0}, {0, 0, 0, 1, 1, 1}, 3},
        {"one point moved", 6, {0, 0, 1, 1, 1, 1}, {0, 0, 0, 1, 1, 1}, 1},
        /* the larger part of a split cluster is matched, whatever its number */
        {"split, larger part second", 8, {1, 1, 1, 0, 0, 0, 0, 0}, {0, 0, 0, 0, 0, 0, 0, 0}, 3},
    };
    for (size_t t = 0; t < sizeof c / sizeof *c; t++) {
        int32_t map[4];
        int64_t bad = mismatches(c[t].a, c[t].b, c[t].n, map, 3);
        CHECK_MSG(bad == c[t].bad, "%s: %lld points differ, expected %lld", c[t].what,
                  (long long)bad, (long long)c[t].bad);
    }
    CHECK(count_clusters(c[1].a, c[1].n, 3) == 3 && count_clusters(c[1].b, c[1].n, 3) == 2);
    CHECK(count_clusters(c[2].b, c[2].n, 3) == 1);
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Brute-force core distance (min_samples-th nearest other point) of every point. */
static double *brute_core(const double *x, int64_t n, int64_t d, int64_t ms)
{
    double *core = malloc((size_t)n * sizeof *core), *dist = malloc((size_t)n * sizeof *dist);
    for (int64_t i = 0; i < n; i++) {
        for (int64_t j = 0; j < n; j++) {
            double s = 0;
            for (int64_t k = 0; k < d; k++)
                s += (x[i * d + k] - x[j * d + k]) * (x[i * d + k] - x[j * d + k]);
            dist[j] = sqrt(s);
        }
        qsort(dist, (size_t)n, sizeof *dist, cmp_double);
        core[i] = dist[ms]; /* dist[0] is the point itself */
    }
    free(dist);
    return core;
}

/* A point is tie-ambiguous when its core distance is the mutual-reachability distance
 * to points that the library puts in different clusters: it joins both at the same
 * level, and which it joins first depends only on the order of equal-weight edges. */
static int tie_ambiguous(const double *x, int64_t d, int64_t n, const double *core,
                         const int32_t *lib, int64_t p)
{
    int32_t first = -2;
    for (int64_t q = 0; q < n; q++) {
        if (q == p)
            continue;
        double s = 0;
        for (int64_t k = 0; k < d; k++)
            s += (x[p * d + k] - x[q * d + k]) * (x[p * d + k] - x[q * d + k]);
        double mr = fmax(fmax(core[p], core[q]), sqrt(s));
        if (fabs(mr - core[p]) > 1e-12 * core[p])
            continue;
        if (first == -2)
            first = lib[q];
        else if (lib[q] != first)
            return 1;
    }
    return 0;
}

static char *path_join(const char *dir, const char *name)
{
    size_t len = strlen(dir) + strlen(name) + 2;
    char *p = malloc(len);
    snprintf(p, len, "%s/%s", dir, name);
    return p;
}

static void check_fixtures(void)
{
    const char *dir0 = test_env("LCAE_SHARED_DIR");
    char *dir = path_join(dir0, "fixtures/hdbscan");
    char *ip = path_join(dir, "index.json");
    size_t len;
    char *text = test_slurp(ip, &len);
    CHECK_MSG(text != NULL, "%s missing", ip);
    if (!text)
        return;
    cJSON *index = cJSON_Parse(text);
    free(text);
    CHECK(cJSON_IsArray(index));
    int entries = 0;
    cJSON *e;
    cJSON_ArrayForEach(e, index)
    {
        cJSON *prm = cJSON_GetObjectItem(e, "params");
        const char *feat = cJSON_GetObjectItem(e, "features")->valuestring;
        char *fp = path_join(dir, feat);
        lcae_npy_header h;
        double *x;
        CHECK_MSG(lcae_npy_load_f64(fp, &h, &x) == LCAE_OK, "%s", lcae_last_error());
        free(fp);
        int64_t n = h.shape[0], d = h.shape[1];
        if (n > MAX_FIXTURE_POINTS) {
            free(x);
            continue;
        }
        lcae_hdbscan_params p = lcae_hdbscan_defaults();
        cJSON *v;
        p.min_cluster_size = (int64_t)cJSON_GetObjectItem(prm, "min_cluster_size")->valuedouble;
        if ((v = cJSON_GetObjectItem(prm, "min_samples")))
            p.min_samples = (int64_t)v->valuedouble;
        if ((v = cJSON_GetObjectItem(prm, "cluster_selection_method")))
            p.method = strcmp(v->valuestring, "leaf") ? LCAE_SELECT_EOM : LCAE_SELECT_LEAF;
        if ((v = cJSON_GetObjectItem(prm, "cluster_selection_epsilon")))
            p.epsilon = v->valuedouble;
        if ((v = cJSON_GetObjectItem(prm, "allow_single_cluster")))
            p.allow_single_cluster = cJSON_IsTrue(v);
        lcae_hdbscan_result r;
        int rc = lcae_hdbscan(x, n, d, &p, feat, NULL, &r);
        CHECK_MSG(rc == LCAE_OK, "%s: %s", feat, lcae_last_error());
        if (rc) {
            free(x);
            continue;
        }
        const char *kinds[2] = {"exact", "default"};
        for (int kind = 0; kind < 2; kind++) {
            cJSON *ans = cJSON_GetObjectItem(e, kinds[kind]);
            char *lp = path_join(dir, cJSON_GetObjectItem(ans, "labels")->valuestring);
            char *pp = path_join(dir, cJSON_GetObjectItem(ans, "probabilities")->valuestring);
            int32_t *lib;
            double *libp;
            lcae_npy_header lh, ph;
            CHECK(lcae_npy_load_i32(lp, &lh, &lib) == LCAE_OK);
            CHECK(lcae_npy_load_f64(pp, &ph, &libp) == LCAE_OK);
            int k = 1;
            for (int64_t i = 0; i < n; i++) {
                k = lib[i] + 1 > k ? lib[i] + 1 : k;
                k = r.labels[i] + 1 > k ? r.labels[i] + 1 : k;
            }
            int32_t *map = calloc((size_t)k + 1, sizeof *map);
            char *ptext = cJSON_PrintUnformatted(prm);
            int64_t bad = mismatches(r.labels, lib, n, map, k);
            double a = ari(r.labels, lib, n);
            if (kind == 1) {
                printf("  %-22s %-46s vs library default: ARI %.6f (%lld points differ)\n",
                       feat, ptext, a, (long long)bad);
                CHECK_MSG(a > 0.9, "%s: ARI %.4f vs the library's default", feat, a);
            } else {
                /* exact: the same partition, except points whose side is decided by
                 * the order of equal-weight edges (checked one by one, brute force) */
                int64_t ambiguous = 0;
                if (bad > 0 && n <= 5000) {
                    double *core = brute_core(x, n, d, p.min_samples ? p.min_samples
                                                                     : p.min_cluster_size);
                    for (int64_t i = 0; i < n; i++)
                        if (map[r.labels[i] + 1] != lib[i])
                            ambiguous += tie_ambiguous(x, d, n, core, lib, i);
                    free(core);
                }
                printf("  %-22s %-46s vs library exact:   %s (%lld points differ, %lld of "
                       "them tie-ambiguous), ARI %.6f\n", feat, ptext,
                       bad ? "DIFFERENT" : "same partition", (long long)bad,
                       (long long)ambiguous, a);
                CHECK_MSG(bad == ambiguous && bad <= n / 500,
                          "%s: %lld points differ from the library's exact answer", feat,
                          (long long)bad);
                /* as many clusters as the library's (as index.json records them) */
                int ours = count_clusters(r.labels, n, k), theirs = count_clusters(lib, n, k);
                cJSON *nc = cJSON_GetObjectItem(ans, "clusters");
                CHECK_MSG(ours == theirs && ours == r.n_clusters &&
                          (!nc || theirs == (int)nc->valuedouble),
                          "%s: %d clusters (reported %lld), the library's exact answer %d "
                          "(index.json: %d)", feat, ours, (long long)r.n_clusters, theirs,
                          nc ? (int)nc->valuedouble : -1);
                /* probabilities within 1e-6; where they differ, only the cluster's
                 * largest lambda (again tie-dependent) may: ours = min(1, lib * ratio)
                 * with one ratio per cluster */
                double *ratio = calloc((size_t)k + 1, sizeof *ratio);
                int64_t pbad = 0, scaled = 0;
                for (int64_t i = 0; i < n; i++) {
                    if (map[r.labels[i] + 1] != lib[i])
                        continue;
                    double ours = r.probabilities[i], theirs = libp[i];
                    if (fabs(ours - theirs) <= 1e-6)
                        continue;
                    int c = r.labels[i] + 1;
                    if (ratio[c] == 0 && ours < 1 && theirs > 0)
                        ratio[c] = ours / theirs;
                    if (ratio[c] > 0 && fabs(fmin(1.0, theirs * ratio[c]) - ours) <= 1e-6)
                        scaled++;
                    else
                        pbad++;
                }
                if (scaled)
                    printf("  %-22s probabilities of %lld points scaled by a tie-dependent "
                           "cluster death\n", feat, (long long)scaled);
                CHECK_MSG(pbad == 0, "%s: %lld probabilities differ by more than 1e-6",
                          feat, (long long)pbad);
                free(ratio);
            }
            free(ptext);
            free(map);
            free(lib);
            free(libp);
            free(lp);
            free(pp);
        }
        entries++;
        lcae_hdbscan_result_free(&r);
        free(x);
    }
    CHECK(entries >= 6);
    cJSON_Delete(index);
    free(ip);
    free(dir);
}

/* ---- hand-checked cases ---------------------------------------------------------------
 * Two groups of ten points on a line, x = 0..9 and 100..109, min_samples 2, min cluster
 * size 5. Core distances: 1 inside, 2 at the ends. Each group is born at distance 91 and
 * loses its ends at distance 2 (lambda 0.5), the rest at distance 1 (lambda 1). */
static double *line_groups(int groups)
{
    double *x = calloc(20 * 2, sizeof *x);
    for (int i = 0; i < 10 * groups; i++)
        x[2 * i] = (i < 10 ? 0 : 90) + i;
    return x;
}

static lcae_hdbscan_params line_params(void)
{
    lcae_hdbscan_params p = lcae_hdbscan_defaults();
    p.min_cluster_size = 5;
    p.min_samples = 2;
    return p;
}

/* lcae_cluster_file: the first `dims` columns of a (20, 3) file give lcae_hdbscan's answer
 * on those columns (the third column, noise, would split the groups), the outputs asked
 * for are written (probabilities as float32) and the NULL ones are not; a file that is
 * not 2-D is refused. */
static void check_cluster_file(void)
{
    double *x2 = line_groups(2), x3[20 * 3];
    for (int i = 0; i < 20; i++) {
        x3[3 * i] = x2[2 * i];
        x3[3 * i + 1] = x2[2 * i + 1];
        x3[3 * i + 2] = 1000.0 * (i % 2); /* a column that alone would split every group */
    }
    char in[512], labels[512], probs[512], flat[512];
    snprintf(in, sizeof in, "%s/cf_x.npy", test_tmpdir());
    snprintf(labels, sizeof labels, "%s/cf_labels.npy", test_tmpdir());
    snprintf(probs, sizeof probs, "%s/cf_probs.npy", test_tmpdir());
    snprintf(flat, sizeof flat, "%s/cf_flat.npy", test_tmpdir());
    int64_t shape[2] = {20, 3};
    CHECK(lcae_npy_write(in, LCAE_DT_F64, 2, shape, x3) == LCAE_OK);
    lcae_hdbscan_params p = line_params();
    lcae_cluster_outputs out = {.labels = labels, .probabilities = probs};
    lcae_cluster_summary sum;
    CHECK(lcae_cluster_file(in, 2, &p, NULL, &out, NULL, &sum) == LCAE_OK);
    lcae_hdbscan_result r;
    CHECK(lcae_hdbscan(x2, 20, 2, &p, "x", NULL, &r) == LCAE_OK);
    CHECK(sum.n == 20 && sum.d == 2 && sum.n_clusters == r.n_clusters && r.n_clusters == 2);
    lcae_npy_header h;
    int32_t *lab = NULL;
    float *pr = NULL;
    CHECK(lcae_npy_load_i32(labels, &h, &lab) == LCAE_OK && h.count == 20);
    CHECK(lcae_npy_read_header(probs, &h) == LCAE_OK && h.dtype == LCAE_DT_F32);
    CHECK(lcae_npy_load_f32(probs, &h, &pr) == LCAE_OK && h.count == 20);
    int64_t noise = 0;
    for (int i = 0; lab && pr && i < 20; i++) {
        CHECK(lab[i] == r.labels[i] && pr[i] == (float)r.probabilities[i]);
        noise += lab[i] < 0;
    }
    CHECK(sum.n_noise == noise);
    free(lab);
    free(pr);
    lcae_hdbscan_result_free(&r);
    /* a 1-D file: refused, nothing written */
    int64_t n = 20;
    CHECK(lcae_npy_write(flat, LCAE_DT_F64, 1, &n, x2) == LCAE_OK);
    unlink(labels);
    CHECK(lcae_cluster_file(flat, 0, &p, NULL, &out, NULL, NULL) == LCAE_EFAIL);
    CHECK(access(labels, F_OK) != 0);
    free(x2);
}

static void check_hand_cases(void)
{
    lcae_hdbscan_result r;
    double *x = line_groups(2);
    lcae_hdbscan_params p = line_params();
    for (int method = 0; method < 2; method++)
        for (int single = 0; single < 2; single++) {
            p.method = method ? LCAE_SELECT_LEAF : LCAE_SELECT_EOM;
            p.allow_single_cluster = single;
            CHECK(lcae_hdbscan(x, 20, 2, &p, "line", NULL, &r) == LCAE_OK);
            CHECK(r.n_clusters == 2);
            for (int i = 0; i < 20; i++) {
                int end = i % 10 == 0 || i % 10 == 9;
                CHECK_MSG(r.labels[i] == i / 10, "point %d label %d", i, r.labels[i]);
                CHECK_CLOSE(r.probabilities[i], end ? 0.5 : 1.0, 1e-12);
                CHECK_CLOSE(r.outlier_scores[i], end ? 0.5 : 0.0, 1e-12);
            }
            lcae_hdbscan_result_free(&r);
        }
    /* epsilon: below the gap nothing changes; above it with allow_single_cluster the
     * root is selected and every point (lambda >= 1/epsilon) is in it with probability 1 */
    p = line_params();
    p.epsilon = 50;
    CHECK(lcae_hdbscan(x, 20, 2, &p, "line", NULL, &r) == LCAE_OK);
    CHECK(r.n_clusters == 2);
    lcae_hdbscan_result_free(&r);
    p.epsilon = 100;
    CHECK(lcae_hdbscan(x, 20, 2, &p, "line", NULL, &r) == LCAE_OK);
    CHECK(r.n_clusters == 2); /* without allow_single_cluster the leaves stay */
    lcae_hdbscan_result_free(&r);
    p.allow_single_cluster = 1;
    CHECK(lcae_hdbscan(x, 20, 2, &p, "line", NULL, &r) == LCAE_OK);
    CHECK(r.n_clusters == 1);
    for (int i = 0; i < 20; i++) {
        CHECK(r.labels[i] == 0);
        CHECK_CLOSE(r.probabilities[i], 1.0, 1e-12);
    }
    lcae_hdbscan_result_free(&r);
    /* the same answer at any scale, also beyond float's range (no float prefilter) */
    p = line_params();
    for (int e = 0; e < 2; e++) {
        double scale = e ? 1e150 : 1e-30, y[40];
        for (int i = 0; i < 40; i++)
            y[i] = x[i] * scale;
        CHECK(lcae_hdbscan(y, 20, 2, &p, "scaled", NULL, &r) == LCAE_OK);
        CHECK(r.n_clusters == 2);
        for (int i = 0; i < 20; i++) {
            CHECK(r.labels[i] == i / 10);
            CHECK_CLOSE(r.probabilities[i], i % 10 == 0 || i % 10 == 9 ? 0.5 : 1.0, 1e-12);
        }
        lcae_hdbscan_result_free(&r);
    }
    /* the condensed tree: root 20 splits into 21 and 22 at lambda 1/91 */
    p = line_params();
    CHECK(lcae_hdbscan(x, 20, 2, &p, "line", NULL, &r) == LCAE_OK);
    CHECK(r.tree.rows == 22);
    CHECK(r.tree.parent[0] == 20 && r.tree.child[0] == 21 && r.tree.child_size[0] == 10);
    CHECK(r.tree.parent[1] == 20 && r.tree.child[1] == 22 && r.tree.child_size[1] == 10);
    CHECK_CLOSE(r.tree.lambda[0], 1.0 / 91, 1e-15);
    lcae_hdbscan_result_free(&r);
    free(x);

    /* one group: no cluster by default; with allow_single_cluster the root, holding the
     * points that stay to its largest lambda (the library's rule): the ends are noise */
    x = line_groups(1);
    CHECK(lcae_hdbscan(x, 10, 2, &p, "line", NULL, &r) == LCAE_OK);
    CHECK(r.n_clusters == 0);
    for (int i = 0; i < 10; i++)
        CHECK(r.labels[i] == -1 && r.probabilities[i] == 0);
    lcae_hdbscan_result_free(&r);
    p.allow_single_cluster = 1;
    CHECK(lcae_hdbscan(x, 10, 2, &p, "line", NULL, &r) == LCAE_OK);
    CHECK(r.n_clusters == 1);
    for (int i = 0; i < 10; i++) {
        int end = i == 0 || i == 9;
        CHECK_MSG(r.labels[i] == (end ? -1 : 0), "point %d label %d", i, r.labels[i]);
        CHECK_CLOSE(r.probabilities[i], end ? 0.0 : 1.0, 1e-12);
    }
    lcae_hdbscan_result_free(&r);
    free(x);

    /* all points identical: every distance is 0, no cluster can form (only single points
     * split off at lambda = inf); with allow_single_cluster all are one cluster, p = 1 */
    double same[60 * 3];
    for (int i = 0; i < 180; i++)
        same[i] = 1.5;
    p = line_params();
    CHECK(lcae_hdbscan(same, 60, 3, &p, "same", NULL, &r) == LCAE_OK);
    CHECK(r.n_clusters == 0);
    lcae_hdbscan_result_free(&r);
    p.allow_single_cluster = 1;
    CHECK(lcae_hdbscan(same, 60, 3, &p, "same", NULL, &r) == LCAE_OK);
    CHECK(r.n_clusters == 1);
    for (int i = 0; i < 60; i++)
        CHECK(r.labels[i] == 0 && r.probabilities[i] == 1.0 && r.outlier_scores[i] == 0.0);
    lcae_hdbscan_result_free(&r);
}

/* NaN/Inf rows: an error by default; set aside they are noise (probability 0, score 1)
 * and the other rows get exactly the answer they get without them. */
static void check_nonfinite(void)
{
    double *x = line_groups(2);
    double y[22 * 2];
    memcpy(y, x, 3 * 2 * sizeof *x);
    y[6] = NAN;
    y[7] = 0;
    memcpy(y + 8, x + 6, 17 * 2 * sizeof *x);
    y[42] = 5;
    y[43] = INFINITY;
    lcae_hdbscan_params p = line_params();
    lcae_hdbscan_result r, ref;
    CHECK(lcae_hdbscan(y, 21, 2, &p, "nan.npy", NULL, &r) == LCAE_EFAIL);
    CHECK_MSG(strstr(lcae_last_error(), "nan.npy: row 3") != NULL, "%s", lcae_last_error());
    p.nonfinite_noise = 1;
    CHECK(lcae_hdbscan(y, 21, 2, &p, "nan.npy", NULL, &r) == LCAE_OK);
    CHECK(lcae_hdbscan(x, 20, 2, &p, "line", NULL, &ref) == LCAE_OK);
    CHECK(r.n_nonfinite == 1 && r.n == 21);
    CHECK(r.labels[3] == -1 && r.probabilities[3] == 0 && r.outlier_scores[3] == 1);
    for (int i = 0; i < 20; i++) {
        int j = i < 3 ? i : i + 1;
        CHECK(r.labels[j] == ref.labels[i]);
        CHECK(r.probabilities[j] == ref.probabilities[i]);
    }
    /* the tree names input rows, and clusters from n = 21 on */
    for (int64_t t = 0; t < r.tree.rows; t++) {
        CHECK(r.tree.child[t] != 3);
        CHECK(r.tree.parent[t] >= 21);
    }
    lcae_hdbscan_result_free(&r);
    lcae_hdbscan_result_free(&ref);
    CHECK(lcae_hdbscan(y, 22, 2, &p, "inf", NULL, &r) == LCAE_OK);
    CHECK(r.labels[3] == -1 && r.labels[21] == -1 && r.n_nonfinite == 2);
    lcae_hdbscan_result_free(&r);
    free(x);
}

static void check_bad_input(void)
{
    double x[10 * 2] = {0};
    for (int i = 0; i < 10; i++)
        x[2 * i] = i;
    lcae_hdbscan_result r;
    lcae_hdbscan_params p = lcae_hdbscan_defaults(); /* min_samples = 60 > 10 points */
    CHECK(lcae_hdbscan(x, 10, 2, &p, "few.npy", NULL, &r) == LCAE_EFAIL);
    CHECK_MSG(strstr(lcae_last_error(), "few.npy: too few points") != NULL, "%s",
              lcae_last_error());
    p.min_cluster_size = 5;
    p.min_samples = 10; /* 10 points: the 10th other point does not exist */
    CHECK(lcae_hdbscan(x, 10, 2, &p, "few.npy", NULL, &r) == LCAE_EFAIL);
    p.min_samples = 9;
    CHECK(lcae_hdbscan(x, 10, 2, &p, "few.npy", NULL, &r) == LCAE_OK);
    lcae_hdbscan_result_free(&r);
    CHECK(lcae_hdbscan(x, 0, 2, &p, "empty.npy", NULL, &r) == LCAE_EFAIL);
    CHECK(lcae_hdbscan(x, 10, 0, &p, "empty.npy", NULL, &r) == LCAE_EFAIL);
    p.min_cluster_size = 1;
    CHECK(lcae_hdbscan(x, 10, 2, &p, "x", NULL, &r) == LCAE_EUSAGE);
    p.min_cluster_size = 5;
    p.epsilon = -1;
    CHECK(lcae_hdbscan(x, 10, 2, &p, "x", NULL, &r) == LCAE_EUSAGE);
}

/* The same labels whatever the thread count (ties are broken by index, not by timing). */
static void check_threads(void)
{
    int n = 3000, d = 4;
    double *x = malloc((size_t)n * d * sizeof *x);
    uint64_t s = 12345;
    for (int i = 0; i < n * d; i++) {
        s = s * 6364136223846793005ULL + 1442695040888963407ULL;
        /* coarse grid values: many exactly equal distances */
        x[i] = (double)((s >> 33) % 7) + (i / d % 3) * 10;
    }
    lcae_hdbscan_params p = lcae_hdbscan_defaults();
    p.min_cluster_size = 15;
    lcae_hdbscan_result a, b;
    omp_set_num_threads(1);
    CHECK(lcae_hdbscan(x, n, d, &p, "grid", NULL, &a) == LCAE_OK);
    omp_set_num_threads(2);
    CHECK(lcae_hdbscan(x, n, d, &p, "grid", NULL, &b) == LCAE_OK);
    CHECK(a.n_clusters == b.n_clusters);
    CHECK(memcmp(a.labels, b.labels, (size_t)n * sizeof *a.labels) == 0);
    CHECK(memcmp(a.probabilities, b.probabilities, (size_t)n * sizeof(double)) == 0);
    /* clusters numbered by decreasing size */
    int64_t *size = calloc((size_t)a.n_clusters + 1, sizeof *size);
    for (int i = 0; i < n; i++)
        if (a.labels[i] >= 0)
            size[a.labels[i]]++;
    for (int64_t c = 1; c < a.n_clusters; c++)
        CHECK(size[c - 1] >= size[c]);
    free(size);
    lcae_hdbscan_result_free(&a);
    lcae_hdbscan_result_free(&b);
    free(x);
}

/* The command line: outputs, and one-line errors for unusable input. */
static int run(const char *args)
{
    char cmd[4096];
    snprintf(cmd, sizeof cmd, "%s cluster %s 2>%s/err.txt >/dev/null", test_env("LCAE_BIN"),
             args, test_tmpdir());
    int st = system(cmd);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static int err_has(const char *s)
{
    char path[512], buf[1024] = {0};
    snprintf(path, sizeof path, "%s/err.txt", test_tmpdir());
    FILE *f = fopen(path, "r");
    if (!f)
        return 0;
    size_t len = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[len] = 0;
    return strstr(buf, s) != NULL;
}

static void check_cli(void)
{
    const char *dir = test_tmpdir();
    char a[512], o[512], args[2048];
    double *x = line_groups(2);
    int64_t shape[2] = {20, 2};
    snprintf(a, sizeof a, "%s/line.npy", dir);
    snprintf(o, sizeof o, "%s/labels.npy", dir);
    CHECK(lcae_npy_write(a, LCAE_DT_F64, 2, shape, x) == LCAE_OK);
    snprintf(args, sizeof args, "%s -o %s --min-cluster-size 5 --min-samples 2 -q "
             "--probabilities %s/p.npy --outlier-scores %s/s.npy --tree %s/t.csv", a, o, dir,
             dir, dir);
    CHECK(run(args) == 0);
    lcae_npy_header h;
    int32_t *lab;
    CHECK(lcae_npy_load_i32(o, &h, &lab) == LCAE_OK);
    CHECK(h.dtype == LCAE_DT_I32 && h.ndim == 1 && h.shape[0] == 20);
    for (int i = 0; i < 20; i++)
        CHECK(lab[i] == i / 10);
    free(lab);
    float *pr;
    snprintf(a, sizeof a, "%s/p.npy", dir);
    CHECK(lcae_npy_load_f32(a, &h, &pr) == LCAE_OK);
    CHECK(h.dtype == LCAE_DT_F32 && pr[0] == 0.5f && pr[1] == 1.0f);
    free(pr);
    /* 1-D, non-numeric, NaN, bad options */
    snprintf(a, sizeof a, "%s/flat.npy", dir);
    int64_t n1 = 40;
    CHECK(lcae_npy_write(a, LCAE_DT_F64, 1, &n1, x) == LCAE_OK);
    snprintf(args, sizeof args, "%s -o %s", a, o);
    CHECK(run(args) == 1 && err_has("flat.npy: expected a 2-D array"));
    snprintf(a, sizeof a, "%s/text.npy", dir);
    FILE *f = fopen(a, "wb");
    const char hdr[] = "\x93NUMPY\x01\x00\x76\x00{'descr': '<U5', 'fortran_order': False, "
                       "'shape': (2, 2), }";
    fwrite(hdr, 1, sizeof hdr - 1, f);
    for (size_t i = sizeof hdr - 1; i < 127; i++)
        fputc(' ', f);
    fputc('\n', f);
    for (int i = 0; i < 80; i++)
        fputc('a', f);
    fclose(f);
    snprintf(args, sizeof args, "%s -o %s", a, o);
    CHECK(run(args) == 1 && err_has("text.npy") && err_has("dtype"));
    x[6] = NAN;
    snprintf(a, sizeof a, "%s/nan.npy", dir);
    CHECK(lcae_npy_write(a, LCAE_DT_F64, 2, shape, x) == LCAE_OK);
    snprintf(args, sizeof args, "%s -o %s --min-cluster-size 5 --min-samples 2", a, o);
    CHECK(run(args) == 1 && err_has("nan.npy: row 3 has a NaN"));
    snprintf(args, sizeof args, "%s -o %s --min-cluster-size 5 --min-samples 2 --nonfinite "
             "noise -q", a, o);
    CHECK(run(args) == 0);
    snprintf(args, sizeof args, "%s -o %s --method best", a, o);
    CHECK(run(args) == 2 && err_has("--method"));
    snprintf(args, sizeof args, "%s", a);
    CHECK(run(args) == 2);
    snprintf(args, sizeof args, "%s/missing.npy -o %s", dir, o);
    CHECK(run(args) == 1 && err_has("missing.npy"));
    free(x);
}

int main(void)
{
    check_mismatches();
    check_hand_cases();
    check_cluster_file();
    check_nonfinite();
    check_bad_input();
    check_threads();
    check_cli();
    /* the hdbscan library's answers (tests/fixtures/shared, a copy of ../shared) */
    if (test_shared_missing("the hdbscan library's answers (shared/fixtures/hdbscan)"))
        return test_done("test_cluster") ? 1 : test_skip_status();
    check_fixtures();
    return test_done("test_cluster");
}
