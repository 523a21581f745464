/* Time and peak memory of `lcae cluster` (min_cluster_size 60) on the 16-dimensional
 * feature sets of ../shared/fixtures/hdbscan (16,384 and 65,536 points) and a 262,144-
 * point set made by the fixtures' own script, beside the hdbscan library's times on this
 * machine as recorded in the fixtures' index.json. The library itself cannot run here (it
 * is not installed and cannot be), so its figures are the recorded ones, not re-measured.
 *
 * Usage: bench_cluster [LCAE] [--reps R] [--dir D] [--no-big]
 * (LCAE_SIMD=avx2 or base in the environment times the narrower kernels.)
 *   LCAE   the lcae program (default: $LCAE_BIN, else ./lcae)
 *   --reps timed runs per set, the best is reported (default 1: the machine is shared)
 *   --dir  scratch folder (default /tmp/lcae-bench-cluster); the 262k set is written
 *          there by `python3 make_fixtures.py D 0 --features-only --big` (numpy only)
 * For the sets with a library answer it checks that lcae's partition is the exact one,
 * except at points whose side is decided only by the order of equal-weight edges (their
 * core distance is their mutual-reachability distance to points the library puts in
 * different clusters; checked by brute force, see the README).
 * Exits 1 if another point differs or a bar is missed (65,536 points under 21 s, i.e. 5x
 * the library's default; 262,144 points under 60 s). */
#define _DEFAULT_SOURCE /* wait4 */
#include <cjson/cJSON.h>
#include <fcntl.h>
#include <libgen.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bench_util.h"
#include "lcae/io.h"

/* Brute force: distances from p to every point (dist, n) and the distance to its k-th
 * nearest other point (the (k+1)-th smallest, p itself included), kept in a sorted list. */
static double brute_core(const double *x, int64_t n, int64_t d, int64_t p, int64_t k,
                         double *dist)
{
    double small[256];
    int64_t m = 0;
    for (int64_t j = 0; j < n; j++) {
        double s = 0;
        for (int64_t c = 0; c < d; c++)
            s += (x[p * d + c] - x[j * d + c]) * (x[p * d + c] - x[j * d + c]);
        double v = dist[j] = sqrt(s);
        if (m == k + 1 && v >= small[k])
            continue;
        int64_t at = m < k + 1 ? m++ : k;
        while (at > 0 && small[at - 1] > v) {
            small[at] = small[at - 1];
            at--;
        }
        small[at] = v;
    }
    return small[k];
}

/* Whether point p joins clusters of the library's answer `lib` at its own core distance
 * through points of at least two different labels (a tie the edge order decides). */
static int tie_ambiguous(const double *x, int64_t n, int64_t d, int64_t p, int64_t k,
                         const int32_t *lib)
{
    double *dist = malloc((size_t)n * sizeof *dist), *dq = malloc((size_t)n * sizeof *dq);
    double cp = brute_core(x, n, d, p, k, dist);
    int32_t first = -2;
    int amb = 0;
    for (int64_t q = 0; q < n && !amb; q++) {
        if (q == p || dist[q] > cp)
            continue;
        double cq = brute_core(x, n, d, q, k, dq);
        if (cq > cp * (1 + 1e-12))
            continue;
        if (first == -2)
            first = lib[q];
        else if (lib[q] != first)
            amb = 1;
    }
    free(dist);
    free(dq);
    return amb;
}

/* Points whose label disagrees with the best one-to-one renaming of a's clusters to b's;
 * their indices in bad[] (up to max). */
static long mismatches(const int32_t *a, const int32_t *b, int64_t n, int64_t *bad_idx,
                       long max)
{
    int k = 1;
    for (int64_t i = 0; i < n; i++) {
        k = a[i] + 1 > k ? a[i] + 1 : k;
        k = b[i] + 1 > k ? b[i] + 1 : k;
    }
    long *votes = calloc((size_t)(k + 1) * (k + 1), sizeof *votes);
    for (int64_t i = 0; i < n; i++)
        votes[(a[i] + 1) * (k + 1) + b[i] + 1]++;
    long bad = 0;
    for (int i = 0; i <= k; i++) {
        long best = 0, sum = 0;
        for (int j = 0; j <= k; j++) {
            sum += votes[i * (k + 1) + j];
            if (votes[i * (k + 1) + j] > best && (i == 0) == (j == 0))
                best = votes[i * (k + 1) + j];
        }
        bad += sum - best;
    }
    long found = 0;
    for (int64_t i = 0; i < n && found < max; i++) { /* which points: a's label's best */
        int u = a[i] + 1, bestj = 0;
        long bv = -1;
        for (int j = 0; j <= k; j++)
            if (votes[u * (k + 1) + j] > bv && (u == 0) == (j == 0)) {
                bv = votes[u * (k + 1) + j];
                bestj = j;
            }
        if (bestj != b[i] + 1)
            bad_idx[found++] = i;
    }
    free(votes);
    return bad;
}

typedef struct {
    const char *name;    /* features file */
    const char *exact;   /* the library's exact labels, or NULL */
    double lib_default, lib_exact; /* seconds, from index.json (0: not measured) */
    double bar;          /* seconds, 0: none */
} set;

int main(int argc, char **argv)
{
    const char *lcae = getenv("LCAE_BIN") ? getenv("LCAE_BIN") : "./lcae";
    const char *dir = "/tmp/lcae-bench-cluster";
    int reps = 1, big = 1;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--reps") && i + 1 < argc)
            reps = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--dir") && i + 1 < argc)
            dir = argv[++i];
        else if (!strcmp(argv[i], "--no-big"))
            big = 0;
        else if (argv[i][0] != '-')
            lcae = argv[i];
        else {
            fprintf(stderr, "usage: bench_cluster [LCAE] [--reps R] [--dir D] [--no-big]\n");
            return 2;
        }
    }
    if (reps < 1)
        reps = 1;
    /* ../shared next to the source tree this file was compiled from */
    char src[1024], fix[1200];
    snprintf(src, sizeof src, "%s", __FILE__);
    char *root = dirname(dirname(src));
    const char *env = getenv("LCAE_SHARED_DIR");
    if (env)
        snprintf(fix, sizeof fix, "%s/fixtures/hdbscan", env);
    else
        snprintf(fix, sizeof fix, "%s/../shared/fixtures/hdbscan", root);
    mkdir(dir, 0777);

    set sets[3] = {
        {"blobs_16k_d16.npy", "blobs_16k_d16.p0.exact.labels.npy", 0, 0, 0},
        {"blobs_65k_d16.npy", "blobs_65k_d16.p0.exact.labels.npy", 0, 0, 21},
        {"blobs_262k_d16.npy", NULL, 0, 0, 60}};
    /* the library's recorded times */
    char path[1400], out[1400];
    snprintf(path, sizeof path, "%s/index.json", fix);
    char *text;
    size_t len;
    if (lcae_read_text_file(path, 1 << 20, &text, &len)) {
        fprintf(stderr, "bench_cluster: %s (set LCAE_SHARED_DIR)\n", lcae_last_error());
        return 2;
    }
    cJSON *index = cJSON_Parse(text), *e;
    free(text);
    cJSON_ArrayForEach(e, index)
    {
        const char *feat = cJSON_GetObjectItem(e, "features")->valuestring;
        for (int s = 0; s < 3; s++)
            if (!strcmp(feat, sets[s].name)) {
                sets[s].lib_default = cJSON_GetObjectItem(
                    cJSON_GetObjectItem(e, "default"), "seconds")->valuedouble;
                sets[s].lib_exact = cJSON_GetObjectItem(
                    cJSON_GetObjectItem(e, "exact"), "seconds")->valuedouble;
            }
    }
    cJSON_Delete(index);

    if (big) {
        snprintf(path, sizeof path, "%s/blobs_262k_d16.npy", dir);
        struct stat st;
        if (stat(path, &st) != 0) {
            char cmd[4096];
            snprintf(cmd, sizeof cmd, "/usr/bin/python3 %s/make_fixtures.py %s 0 --features-only --big "
                     ">/dev/null", fix, dir);
            fprintf(stderr, "bench_cluster: making the 262,144-point set (numpy)...\n");
            if (system(cmd) != 0 || stat(path, &st) != 0) {
                fprintf(stderr, "bench_cluster: could not make %s; skipping it\n", path);
                big = 0;
            }
        }
    }
    int nproc = (int)sysconf(_SC_NPROCESSORS_ONLN);
    const char *simd = getenv("LCAE_SIMD");
    printf("lcae cluster, min_cluster_size 60, 16 dimensions, %d cores (shared machine), "
           "vector kernels: %s\n"
           "library: hdbscan 0.8 on this machine's type, recorded in index.json (it cannot "
           "run here)\n\n", nproc, simd ? simd : "the widest the processor has");
    printf("%-9s %9s %9s %9s %11s %13s %13s %9s %s\n", "points", "lcae s", "user s",
           "peak MiB", "lib dflt s", "lib exact s", "x lib dflt", "bar s", "partition");
    int status = 0;
    for (int s = 0; s < 3; s++) {
        if (s == 2 && !big)
            continue;
        if (s < 2)
            snprintf(path, sizeof path, "%s/%s", fix, sets[s].name);
        else
            snprintf(path, sizeof path, "%s/%s", dir, sets[s].name);
        snprintf(out, sizeof out, "%s/labels.npy", dir);
        char *av[] = {(char *)lcae, "cluster", path, "-o", out, "--min-cluster-size", "60",
                      "-q", NULL};
        double best = 1e30, user = 0;
        long rss = 0;
        for (int r = 0; r < reps; r++) {
            bench_usage usage;
            int rc = bench_run(av, 1, &usage);
            double sec = usage.wall, u = usage.user;
            long kib = usage.rss_kib;
            if (rc != 0) {
                fprintf(stderr, "bench_cluster: lcae cluster %s failed (%d)\n", path, rc);
                return 1;
            }
            if (sec < best) {
                best = sec;
                user = u;
                rss = kib;
            }
        }
        lcae_npy_header h;
        int32_t *ours = NULL, *lib = NULL;
        char verdict[64] = "(no library answer)";
        if (lcae_npy_load_i32(out, &h, &ours) == LCAE_OK && sets[s].exact) {
            char lp[1400];
            snprintf(lp, sizeof lp, "%s/%s", fix, sets[s].exact);
            lcae_npy_header lh;
            if (lcae_npy_load_i32(lp, &lh, &lib) == LCAE_OK && lh.shape[0] == h.shape[0]) {
                int64_t idx[16];
                long bad = mismatches(ours, lib, h.shape[0], idx, 16), amb = 0;
                double *x;
                lcae_npy_header xh;
                if (bad > 0 && bad <= 16 && lcae_npy_load_f64(path, &xh, &x) == LCAE_OK) {
                    for (long b = 0; b < bad; b++)
                        amb += tie_ambiguous(x, xh.shape[0], xh.shape[1], idx[b], 60, lib);
                    free(x);
                }
                if (bad)
                    snprintf(verdict, sizeof verdict, "%ld points differ, %ld tie-ambiguous",
                             bad, amb);
                else
                    snprintf(verdict, sizeof verdict, "same as library exact");
                status |= bad != amb;
            }
        }
        free(ours);
        free(lib);
        char ld[16] = "n/a", le[16] = "n/a", ratio[16] = "n/a", bar[16] = "-";
        if (sets[s].lib_default > 0) {
            snprintf(ld, sizeof ld, "%.1f", sets[s].lib_default);
            snprintf(le, sizeof le, "%.1f", sets[s].lib_exact);
            snprintf(ratio, sizeof ratio, "%.1f", sets[s].lib_default / best);
        }
        if (sets[s].bar > 0) {
            snprintf(bar, sizeof bar, "%.0f %s", sets[s].bar, best < sets[s].bar ? "ok" : "MISS");
            status |= best >= sets[s].bar;
        }
        printf("%-9lld %9.2f %9.2f %9.0f %11s %13s %13s %9s %s\n", (long long)h.shape[0],
               best, user, rss / 1024.0, ld, le, ratio, bar, verdict);
        fflush(stdout);
    }
    return status;
}
