/* Throughput and peak memory of `lcae stats` on a generated 4 GiB EMPAD file read from the
 * page cache, beside `cat FILE > /dev/null` (the page cache's read speed) in the same run.
 *
 * Usage: bench_stats [LCAE] [--gib G] [--reps R] [--keep] [--dir D]
 *   LCAE  the lcae program (default: $LCAE_BIN, else ./lcae)
 *   --gib file size in GiB (default 4: 256 x 252 patterns of 128 x 130 float32)
 *   --reps timed runs of each command; the best is reported (default 3, shared machine)
 * Writes D/scan_x256_yNY.raw (default D = /tmp/lcae-bench-stats), reads it once to warm
 * the page cache, times each command as a child process (wall time; CPU time and peak
 * memory = the child's max RSS, from wait4), and deletes the folder unless --keep.
 * Exits 1 if lcae's peak memory reaches 512 MiB. */
#define _DEFAULT_SOURCE /* wait4 */
#include <errno.h>
#include <fcntl.h>
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

#define FRAME_BYTES (128 * 130 * 4)

/* Synthetic diffraction-like frames: a central disk, a ring, noise; every frame differs. */
static int generate(const char *path, int ny, int nx)
{
    lcae_empad_writer *wr;
    if (lcae_empad_writer_open(&wr, path, 128, 128)) {
        fprintf(stderr, "bench_stats: %s\n", lcae_last_error());
        return 1;
    }
    enum { CHUNK = 64 };
    float *f = malloc(sizeof(float) * CHUNK * 128 * 128);
    float *base = malloc(sizeof(float) * 128 * 128);
    for (int r = 0; r < 128; r++)
        for (int c = 0; c < 128; c++) {
            double d = hypot(r - 63.5, c - 63.5);
            base[r * 128 + c] = (float)(3000 * exp(-d / 20) + (d < 8 ? 2e5 : 0) +
                                        4000 * exp(-(d - 30) * (d - 30) / 10));
        }
    uint64_t s = 0x9e3779b97f4a7c15ull;
    int64_t n = (int64_t)ny * nx;
    int rc = 0;
    for (int64_t i = 0; i < n && !rc; i += CHUNK) {
        int64_t m = n - i < CHUNK ? n - i : CHUNK;
        for (int64_t k = 0; k < m * 128 * 128; k++) {
            s ^= s << 13, s ^= s >> 7, s ^= s << 17;
            /* about +-60 counts of noise and a per-frame scale */
            f[k] = base[k % (128 * 128)] * (1 + 0.001f * (float)((i + k / 16384) % 97)) +
                   (float)((int64_t)(s >> 57) - 64);
        }
        rc = lcae_empad_writer_write(wr, f, m);
    }
    free(f);
    free(base);
    if (rc || lcae_empad_writer_close(wr, 1)) {
        fprintf(stderr, "bench_stats: %s\n", lcae_last_error());
        return 1;
    }
    return 0;
}

/* Runs argv with stdout to /dev/null; wall seconds, CPU seconds (user + system) and max
 * RSS (KiB) of the child. */
typedef struct {
    const char *name;
    char *const *argv;
    double best, all[16], cpu; /* cpu: of the best run */
    long rss;
} job;

int main(int argc, char **argv)
{
    const char *lcae = getenv("LCAE_BIN") ? getenv("LCAE_BIN") : "./lcae";
    const char *dir = "/tmp/lcae-bench-stats";
    double gib = 4;
    int reps = 3, keep = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--gib") && i + 1 < argc)
            gib = atof(argv[++i]);
        else if (!strcmp(argv[i], "--reps") && i + 1 < argc)
            reps = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--dir") && i + 1 < argc)
            dir = argv[++i];
        else if (!strcmp(argv[i], "--keep"))
            keep = 1;
        else if (argv[i][0] != '-')
            lcae = argv[i];
        else {
            fprintf(stderr, "usage: bench_stats [LCAE] [--gib G] [--reps R] [--keep] [--dir D]\n");
            return 2;
        }
    }
    if (reps < 1 || reps > 16 || !(gib > 0)) {
        fprintf(stderr, "bench_stats: --reps 1..16, --gib > 0\n");
        return 2;
    }
    int nx = 256, ny = (int)(gib * 1073741824.0 / FRAME_BYTES / nx);
    if (ny < 1)
        ny = 1;
    char path[1024], out[1024], cmd[2048];
    snprintf(path, sizeof path, "%s/scan_x%d_y%d.raw", dir, nx, ny);
    snprintf(out, sizeof out, "%s/out", dir);
    mkdir(dir, 0777);
    struct stat st;
    double t0 = bench_now();
    if ((stat(path, &st) != 0 || st.st_size != (off_t)ny * nx * FRAME_BYTES) &&
        generate(path, ny, nx))
        return 1;
    double gen = bench_now() - t0;
    double bytes = (double)ny * nx * FRAME_BYTES;
    bench_usage u;
    char *cat_argv[] = {"cat", path, NULL}; /* bench_run sends stdout to /dev/null */
    /* warm the page cache */
    if (bench_run(cat_argv, 0, &u)) {
        fprintf(stderr, "bench_stats: cat %s failed\n", path);
        return 1;
    }
    char *stats_argv[] = {(char *)lcae, "stats", path, "-o", out, "-q", NULL};
    char *exact_argv[] = {(char *)lcae, "stats", path, "-o", out, "-q", "--exact", NULL};
    char *info_argv[] = {(char *)lcae, "info", path, "-q", NULL};
    job jobs[] = {{"cat FILE > /dev/null", cat_argv, 1e30, {0}, 0, 0},
                  {"lcae stats", stats_argv, 1e30, {0}, 0, 0},
                  {"lcae stats --exact", exact_argv, 1e30, {0}, 0, 0},
                  {"lcae info", info_argv, 1e30, {0}, 0, 0}};
    int njobs = (int)(sizeof jobs / sizeof *jobs);
    /* interleaved, so that load from other users of the machine hits every job alike */
    for (int r = 0; r < reps; r++)
        for (int j = 0; j < njobs; j++) {
            int rc = bench_run(jobs[j].argv, 0, &u);
            double sec = u.wall, cpu = u.cpu;
            long rss = u.rss_kib;
            if (rc) {
                fprintf(stderr, "bench_stats: %s exited with %d\n", jobs[j].name, rc);
                return 1;
            }
            jobs[j].all[r] = sec;
            if (sec < jobs[j].best) {
                jobs[j].best = sec;
                jobs[j].cpu = cpu;
            }
            if (rss > jobs[j].rss)
                jobs[j].rss = rss;
        }
    long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    printf("bench_stats: %s, %.3f GB (%d x %d patterns of 128 x 130 float32), page cache, "
           "%ld cores; generated in %.1f s; best of %d runs\n",
           path, bytes / 1e9, ny, nx, ncpu, gen, reps);
    double load[3] = {0};
    if (getloadavg(load, 3) > 0)
        printf("load average %.2f (other users of the machine slow every figure alike)\n",
               load[0]);
    printf("%-22s %8s %8s %7s %7s %12s  %s\n", "command", "best s", "GB/s", "vs cat", "CPU s",
           "max RSS MiB", "all runs s");
    long peak = 0;
    for (int j = 0; j < njobs; j++) {
        printf("%-22s %8.3f %8.2f %7.2f %7.2f %12.1f ", jobs[j].name, jobs[j].best,
               bytes / jobs[j].best / 1e9, jobs[0].best / jobs[j].best, jobs[j].cpu,
               jobs[j].rss / 1024.0);
        for (int r = 0; r < reps; r++)
            printf(" %.3f", jobs[j].all[r]);
        printf("\n");
        if (j > 0 && jobs[j].rss > peak)
            peak = jobs[j].rss;
    }
    printf("lcae peak memory %.1f MiB: %s 512 MiB\n", peak / 1024.0,
           peak < 512 * 1024 ? "under" : "NOT under");
    if (!keep) {
        const char *files[] = {"sum.npy", "variance.npy", "mean_pattern.npy", "stats.json"};
        for (int i = 0; i < 4; i++) {
            snprintf(cmd, sizeof cmd, "%s/%s", out, files[i]);
            unlink(cmd);
        }
        rmdir(out);
        unlink(path);
        rmdir(dir);
    }
    return peak < 512 * 1024 ? 0 : 1;
}
