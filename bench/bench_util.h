/* Shared by the benchmarks: a monotonic clock and a child process timed with its peak
 * memory (wait4), so that each benchmark measures lcae and its peer the same way. */
#ifndef LCAE_BENCH_UTIL_H
#define LCAE_BENCH_UTIL_H

#include <fcntl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static inline double bench_now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

typedef struct {
    double wall;   /* seconds */
    double user;   /* user CPU seconds, all threads */
    double cpu;    /* user + system CPU seconds, all threads: the cost on a shared machine */
    long rss_kib;  /* the child's peak resident memory */
} bench_usage;

/* Runs argv with stdout (and stderr too if `quiet_stderr`) to /dev/null. Returns the
 * child's exit status (-1 if it could not run or died of a signal). */
static inline int bench_run(char *const argv[], int quiet_stderr, bench_usage *u)
{
    double t0 = bench_now();
    pid_t pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0) {
        int fd = open("/dev/null", O_WRONLY);
        dup2(fd, STDOUT_FILENO);
        if (quiet_stderr)
            dup2(fd, STDERR_FILENO);
        execvp(argv[0], argv);
        _exit(127);
    }
    int status;
    struct rusage ru;
    if (wait4(pid, &status, 0, &ru) < 0)
        return -1;
    u->wall = bench_now() - t0;
    u->user = (double)ru.ru_utime.tv_sec + 1e-6 * (double)ru.ru_utime.tv_usec;
    u->cpu = u->user + (double)ru.ru_stime.tv_sec + 1e-6 * (double)ru.ru_stime.tv_usec;
    u->rss_kib = ru.ru_maxrss;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

#endif
