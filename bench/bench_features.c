/* Throughput and peak memory of `lcae features` (both methods) on a scan read from the
 * page cache, beside `cat FILE > /dev/null` (the page cache's read speed) in the same run.
 *
 * Usage: bench_features [LCAE] --scan FILE [--bin B] [--reps R] [--dir D]
 *   LCAE    the lcae program (default: $LCAE_BIN, else ./lcae)
 *   --scan  the scan (bench/bench_features.sh simulates a 256 x 256 one)
 *   --bin   binning (default 2: 64 x 64 prepared patterns from the 128 x 128 EMPAD)
 *   --reps  timed runs of each command, the best is reported (default 1: shared machine)
 * Each command runs as a child process: wall time, CPU time (user + system, all threads)
 * and peak memory (max RSS, from wait4). Patterns/s counts the scan's patterns once.
 * lcae reads the scan once per feature pass (2 for polar, 3 + 2 x power iterations for
 * pca; "feature passes", from FEATURES.json) and, by default, twice more to prepare it
 * (finding the beam, and the statistics of the normalization); "read GB/s" is
 * (feature passes + 2) x file size / wall time. Prints the processor's vector
 * extensions and OpenBLAS's kernel (lcae's products are OpenBLAS's dgemm/sgemm; its own
 * loops are compiled for x86-64-v2, SSE4.2). */
#define _DEFAULT_SOURCE /* wait4 */
#include <cblas.h>
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bench_util.h"

#include "lcae/io.h"

/* The flags of interest that /proc/cpuinfo lists for the first processor. */
static void cpu_flags(char *out, size_t n)
{
    static const char *const want[] = {"sse4_2", "avx", "avx2", "fma", "avx512f", "avx512bw",
                                       "avx512vl", "avx512_vnni"};
    out[0] = 0;
    FILE *f = fopen("/proc/cpuinfo", "r");
    char line[8192], model[256] = "?";
    int got_flags = 0;
    while (f && fgets(line, sizeof line, f)) {
        if (!strncmp(line, "model name", 10) && model[0] == '?') {
            char *c = strchr(line, ':');
            if (c)
                snprintf(model, sizeof model, "%s", c + 2);
            model[strcspn(model, "\n")] = 0;
        }
        if (!got_flags && !strncmp(line, "flags", 5)) {
            got_flags = 1;
            for (size_t w = 0; w < sizeof want / sizeof *want; w++) {
                char pat[64];
                snprintf(pat, sizeof pat, " %s ", want[w]);
                line[strcspn(line, "\n")] = ' ';
                if (strstr(line, pat))
                    snprintf(out + strlen(out), n - strlen(out), "%s%s", out[0] ? " " : "",
                             want[w]);
            }
        }
    }
    if (f)
        fclose(f);
    char tmp[512];
    snprintf(tmp, sizeof tmp, "%s; %s", model, out);
    snprintf(out, n, "%s", tmp);
}

/* A number from the JSON lcae features writes (key path "a" or "a.b"), or -1. */
static double json_number(const char *path, const char *a, const char *b)
{
    char *text;
    size_t len;
    if (lcae_read_text_file(path, 1 << 20, &text, &len))
        return -1;
    cJSON *j = cJSON_Parse(text);
    free(text);
    cJSON *o = cJSON_GetObjectItem(j, a);
    if (b)
        o = cJSON_GetObjectItem(o, b);
    double v = cJSON_IsNumber(o) ? o->valuedouble : -1;
    cJSON_Delete(j);
    return v;
}

int main(int argc, char **argv)
{
    const char *lcae = getenv("LCAE_BIN") ? getenv("LCAE_BIN") : "./lcae";
    const char *scan = NULL, *dir = "/tmp/lcae-bench-features", *bin = "2";
    int reps = 1;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--scan") && i + 1 < argc)
            scan = argv[++i];
        else if (!strcmp(argv[i], "--bin") && i + 1 < argc)
            bin = argv[++i];
        else if (!strcmp(argv[i], "--reps") && i + 1 < argc)
            reps = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--dir") && i + 1 < argc)
            dir = argv[++i];
        else if (argv[i][0] != '-')
            lcae = argv[i];
        else
            scan = NULL, i = argc;
    }
    if (!scan || reps < 1 || reps > 16) {
        fprintf(stderr, "usage: bench_features [LCAE] --scan FILE [--bin B] [--reps 1..16] "
                        "[--dir D]\n");
        return 2;
    }
    struct stat st;
    if (stat(scan, &st)) {
        fprintf(stderr, "bench_features: %s: no such file\n", scan);
        return 1;
    }
    mkdir(dir, 0777);
    char out[3][1024], json[3][1024];
    const char *methods[3] = {"polar", "pca", NULL};
    for (int m = 0; m < 2; m++) {
        snprintf(out[m], sizeof out[m], "%s/%s.npy", dir, methods[m]);
        snprintf(json[m], sizeof json[m], "%s/%s.json", dir, methods[m]);
    }
    bench_usage u;
    char *cat_argv[] = {"cat", (char *)scan, NULL};
    if (bench_run(cat_argv, 0, &u)) { /* warms the page cache */
        fprintf(stderr, "bench_features: cat %s failed\n", scan);
        return 1;
    }
    char *polar_argv[] = {(char *)lcae, "features", (char *)scan, "--method", "polar", "--bin",
                          (char *)bin, "-o", out[0], "-q", NULL};
    char *pca_argv[] = {(char *)lcae, "features", (char *)scan, "--method", "pca", "--bin",
                        (char *)bin, "-o", out[1], "-q", NULL};
    struct {
        const char *name;
        char *const *argv;
        bench_usage best;
        long rss;
    } jobs[] = {{"cat FILE > /dev/null", cat_argv, {1e30, 0, 0, 0}, 0},
                {"lcae features polar", polar_argv, {1e30, 0, 0, 0}, 0},
                {"lcae features pca", pca_argv, {1e30, 0, 0, 0}, 0}};
    for (int r = 0; r < reps; r++)
        for (int j = 0; j < 3; j++) {
            if (bench_run(jobs[j].argv, 0, &u)) {
                fprintf(stderr, "bench_features: %s failed\n", jobs[j].name);
                return 1;
            }
            if (u.wall < jobs[j].best.wall)
                jobs[j].best = u;
            if (u.rss_kib > jobs[j].rss)
                jobs[j].rss = u.rss_kib;
        }
    double n = json_number(json[0], "n", NULL);
    double passes[3] = {1, json_number(json[0], "pca", "passes"),
                        json_number(json[1], "pca", "passes")};
    char flags[1024];
    cpu_flags(flags, sizeof flags);
    double load[3] = {0};
    getloadavg(load, 3);
    printf("bench_features: %s, %.3f GB, %.0f patterns, bin %s, page cache, %ld cores, best "
           "of %d\n", scan, (double)st.st_size / 1e9, n, bin, sysconf(_SC_NPROCESSORS_ONLN),
           reps);
    printf("processor: %s\nOpenBLAS: %s (%s)\nload average %.2f (other users of the machine "
           "slow every figure)\n", flags, openblas_get_corename(), openblas_get_config(),
           load[0]);
    printf("%-22s %8s %8s %10s %15s %9s %12s\n", "command", "wall s", "CPU s", "patterns/s",
           "feature passes", "read GB/s", "max RSS MiB");
    for (int j = 0; j < 3; j++)
        printf("%-22s %8.2f %8.2f %10.0f %15.0f %9.2f %12.1f\n", jobs[j].name,
               jobs[j].best.wall, jobs[j].best.cpu, j ? n / jobs[j].best.wall : 0, passes[j],
               (passes[j] + (j ? 2 : 0)) * (double)st.st_size / jobs[j].best.wall / 1e9,
               jobs[j].rss / 1024.0);
    for (int m = 0; m < 2; m++) {
        unlink(out[m]);
        unlink(json[m]);
    }
    rmdir(dir);
    return 0;
}
