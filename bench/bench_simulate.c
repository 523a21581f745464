/* Time and peak memory of `lcae simulate` for the default sample (128 x 128 scan of
 * 128 x 128 patterns, 1.09 GB) and the paper-sized one (256 x 256, 4.36 GB), beside the
 * peer `dd if=/dev/zero bs=1M` writing the same number of bytes into the same folder (the
 * floor set by the file system), measured in the same run.
 *
 * Usage: bench_simulate [LCAE] [--reps R] [--dir D] [--small]
 *   LCAE     the lcae program (default: $LCAE_BIN, else ./lcae)
 *   --reps   timed runs of each command, the best reported (default 1)
 *   --small  only the default sample
 * Outputs go to D (default /tmp/lcae-bench-simulate), deleted after each run. Wall time,
 * CPU time (user + system of all threads: what the work costs when the machine is shared)
 * and peak memory = the child's max RSS (wait4). Exits 1 if lcae's peak memory reaches 512 MiB
 * or the default sample takes 30 s or more. */
#define _DEFAULT_SOURCE /* wait4 */
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

/* Runs argv with stdout and stderr to /dev/null; wall seconds, CPU seconds (user +
 * system, all threads) and max RSS (KiB). */
static void clean(const char *dir)
{
    char cmd[1200];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'/out", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "bench_simulate: cannot clean %s\n", dir);
}

int main(int argc, char **argv)
{
    const char *lcae = getenv("LCAE_BIN") ? getenv("LCAE_BIN") : "./lcae";
    const char *dir = "/tmp/lcae-bench-simulate";
    int reps = 1, small = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--reps") && i + 1 < argc)
            reps = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--dir") && i + 1 < argc)
            dir = argv[++i];
        else if (!strcmp(argv[i], "--small"))
            small = 1;
        else if (argv[i][0] != '-')
            lcae = argv[i];
        else {
            fprintf(stderr, "usage: bench_simulate [LCAE] [--reps R] [--dir D] [--small]\n");
            return 2;
        }
    }
    if (reps < 1 || reps > 16) {
        fprintf(stderr, "bench_simulate: --reps 1..16\n");
        return 2;
    }
    mkdir(dir, 0777);
    char out[1100], of[1200], count[2][32];
    snprintf(out, sizeof out, "%s/out", dir);
    snprintf(of, sizeof of, "of=%s/out/peer.raw", dir);
    const int sides[2] = {128, 256};
    int nsizes = small ? 1 : 2;
    long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    printf("bench_simulate: %s, %ld cores, best of %d run%s\n", dir, ncpu, reps,
           reps > 1 ? "s" : "");
    printf("%-34s %8s %8s %9s %8s %12s\n", "command", "best s", "GB/s", "vs dd", "CPU s",
           "max RSS MiB");
    int status = 0;
    for (int s = 0; s < nsizes; s++) {
        int n = sides[s];
        double bytes = (double)n * n * 128 * 130 * 4;
        char scan[16];
        snprintf(scan, sizeof scan, "%d", n);
        snprintf(count[s], sizeof count[s], "count=%.0f", ceil(bytes / 1048576));
        char *sim_argv[] = {(char *)lcae, "simulate", "-o", out, "--scan", scan, "-q", NULL};
        char *dd_argv[] = {"dd", "if=/dev/zero", of, "bs=1M", count[s], NULL};
        char *const *jobs[2] = {dd_argv, sim_argv};
        double best[2] = {1e30, 1e30}, cpu_best[2] = {0, 0};
        long rss[2] = {0, 0};
        for (int r = 0; r < reps; r++)
            for (int j = 0; j < 2; j++) {
                bench_usage u;
                mkdir(out, 0777);
                int rc = bench_run(jobs[j], 1, &u);
                double sec = u.wall, cpu = u.cpu;
                long kib = u.rss_kib;
                clean(dir);
                if (rc) {
                    fprintf(stderr, "bench_simulate: %s exited with %d\n", jobs[j][0], rc);
                    return 1;
                }
                if (sec < best[j])
                    cpu_best[j] = cpu;
                best[j] = fmin(best[j], sec);
                rss[j] = kib > rss[j] ? kib : rss[j];
            }
        char name[2][64];
        snprintf(name[0], sizeof name[0], "dd, same bytes (%.2f GB)", bytes / 1e9);
        snprintf(name[1], sizeof name[1], "lcae simulate --scan %d", n);
        for (int j = 0; j < 2; j++)
            printf("%-34s %8.2f %8.3f %9.2f %8.2f %12.1f\n", name[j], best[j],
                   bytes / best[j] / 1e9, best[0] / best[j], cpu_best[j], rss[j] / 1024.0);
        if (rss[1] >= 512 * 1024)
            status = 1;
        if (n == 128 && best[1] >= 30)
            status = 1;
        printf("lcae simulate --scan %d: %.1f s, peak memory %.1f MiB (%s 512 MiB)\n", n,
               best[1], rss[1] / 1024.0, rss[1] < 512 * 1024 ? "under" : "NOT under");
    }
    rmdir(dir);
    return status;
}
