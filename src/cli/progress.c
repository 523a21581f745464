/* Progress on stderr: on a terminal a bar with count, rate and ETA redrawn at most
 * 10 times a second; otherwise (pipes, CI) one line when each step ends. */
#include "cli.h"
#include "core/util.h"
#include "lcae/mpi.h"

#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

typedef struct {
    char what[96], unit[24];
    int64_t total, done;
    double start, last_draw;
    int tty;
} bar_state;

static bar_state bar;

static void fmt_duration(char *buf, size_t n, double s)
{
    if (s < 0 || s > 1e7)
        snprintf(buf, n, "--:--");
    else if (s >= 3600)
        snprintf(buf, n, "%d:%02d:%02d", (int)s / 3600, ((int)s / 60) % 60, (int)s % 60);
    else
        snprintf(buf, n, "%02d:%02d", (int)s / 60, (int)s % 60);
}

static void p_begin(void *ctx, const char *what, int64_t total, const char *unit)
{
    (void)ctx;
    snprintf(bar.what, sizeof bar.what, "%s", what);
    snprintf(bar.unit, sizeof bar.unit, "%s", unit ? unit : "");
    bar.total = total;
    bar.done = 0;
    bar.start = core_now_s();
    bar.last_draw = 0;
    bar.tty = isatty(STDERR_FILENO);
}

static void p_update(void *ctx, int64_t done, const char *extra)
{
    (void)ctx;
    bar.done = done;
    if (!bar.tty)
        return;
    double t = core_now_s();
    if (t - bar.last_draw < 0.1 && done < bar.total)
        return;
    bar.last_draw = t;
    double el = t - bar.start, rate = el > 0 ? (double)done / el : 0;
    char eta[16];
    fmt_duration(eta, sizeof eta, rate > 0 ? (double)(bar.total - done) / rate : -1);
    int width = 24, fill = bar.total > 0 ? (int)(width * done / bar.total) : 0;
    char b[32];
    for (int i = 0; i < width; i++)
        b[i] = i < fill ? '#' : '.';
    b[width] = 0;
    fprintf(stderr, "\r\033[K%s [%s] %lld/%lld %s  %.1f %s/s  ETA %s%s%s", bar.what, b,
            (long long)done, (long long)bar.total, bar.unit, rate, bar.unit, eta,
            extra ? "  " : "", extra ? extra : "");
    fflush(stderr);
}

static void p_end(void *ctx, const char *summary)
{
    (void)ctx;
    double el = core_now_s() - bar.start;
    if (bar.tty)
        fputs("\r\033[K", stderr);
    if (bar.total == 0 && bar.done == 0) { /* a step with nothing counted: "up to date" */
        fprintf(stderr, "lcae: %s%s%s\n", bar.what, summary ? ": " : "", summary ? summary : "");
        return;
    }
    fprintf(stderr, "lcae: %s: %lld %s in %.*f s (%.1f %s/s)%s%s\n", bar.what,
            (long long)bar.done, bar.unit, el < 10 ? 2 : 1, el, /* 3 digits: benchmarks read it */
            el > 0 ? (double)bar.done / el : 0.0, bar.unit,
            summary ? ", " : "", summary ? summary : "");
}

static const lcae_progress stderr_progress = {p_begin, p_update, p_end, NULL};

const lcae_progress *cli_progress(void)
{
    return cli_quiet || lcae_mpi_rank() ? NULL : &stderr_progress; /* rank 0 speaks for all */
}
