/* lcae stats FILE -o DIR: virtual images (sum, variance over reciprocal space), the mean
 * pattern, and median / sigma68 of a scan; and the pieces lcae info shares with it. */
#include "cli.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static struct {
    int exact;
    int64_t sample, seed;
} qargs = {.sample = LCAE_STATS_DEFAULT_SAMPLE};

const cli_option cli_quantile_options[] = {
    {"exact", 0, OPT_FLAG, &qargs.exact, NULL,
     "exact median and sigma68 (radix selection, a second pass over the scan)"},
    {"sample", 0, OPT_I64, &qargs.sample, "N",
     "pixels sampled for median and sigma68 (default 8388608)"},
    {"seed", 0, OPT_I64, &qargs.seed, "S", "which pixels are sampled (default 0)"},
    {0}};

int cli_compute_stats(lcae_dataset *ds, int virtual_images, int refuse_nonfinite,
                      lcae_stats *st)
{
    memset(st, 0, sizeof *st);
    if (qargs.sample < 1 || qargs.sample > LCAE_STATS_MAX_SAMPLE)
        return cli_error(LCAE_EUSAGE, "option --sample: expected 1 to %lld pixels, found %lld",
                         (long long)LCAE_STATS_MAX_SAMPLE, (long long)qargs.sample);
    lcae_stats_options o = {.exact = qargs.exact, .sample_size = qargs.sample,
                            .seed = (uint64_t)qargs.seed, .virtual_images = virtual_images,
                            .refuse_nonfinite = refuse_nonfinite};
    int rc = lcae_stats_compute(ds, &o, cli_progress(), st);
    if (rc)
        return cli_fail(rc);
    /* 0.1% keeps the 0.5% bound on sigma68 at 5 standard errors */
    if (!st->exact && st->sigma68_se > 0.001 * st->sigma68)
        cli_note("warning: the sampled sigma68 has an estimated standard error of %.2g%%; "
                 "--exact or a larger --sample for a better figure",
                 100 * st->sigma68_se / st->sigma68);
    return 0;
}

/* "exact" or "sampled: N pixels, seed S" */
const char *cli_quantile_method(const lcae_stats *st, char *buf, size_t n)
{
    if (st->exact)
        snprintf(buf, n, "exact, %lld finite pixels", (long long)st->sample_size);
    else
        snprintf(buf, n, "sampled, %lld pixels, seed %llu, standard error %.3g",
                 (long long)st->sample_size, (unsigned long long)st->seed, st->sigma68_se);
    return buf;
}

static const char *out_dir;
static int ignore_nonfinite;

static const cli_option stats_options[] = {
    {"output", 'o', OPT_STRING, &out_dir, "DIR", "output folder (created if missing)"},
    {"ignore-nonfinite", 0, OPT_FLAG, &ignore_nonfinite, NULL,
     "use only the finite pixels of a scan with NaN or Inf values (default: refuse it)"},
    {0}};

static int run_stats(int npos, char **pos)
{
    (void)npos;
    if (!out_dir)
        return cli_error(LCAE_EUSAGE, "usage: lcae stats FILE -o DIR (the output folder is "
                         "missing)");
    lcae_dataset *ds;
    int rc = cli_open_dataset(pos[0], &ds);
    if (rc)
        return rc;
    lcae_stats st;
    rc = cli_compute_stats(ds, 1, !ignore_nonfinite, &st);
    if (!rc) {
        int status = lcae_make_dirs(out_dir);
        if (!status)
            status = lcae_stats_write(ds, &st, out_dir);
        if (status)
            rc = cli_fail(status);
    }
    if (!rc) {
        char m[160];
        cli_note("median %.7g, sigma68 %.7g (%s); wrote %s/{sum,variance,mean_pattern}.npy "
                 "and stats.json", st.median, st.sigma68, cli_quantile_method(&st, m, sizeof m),
                 out_dir);
    }
    lcae_stats_free(&st);
    lcae_dataset_close(ds);
    return rc;
}

static const cli_option *const stats_groups[] = {stats_options, cli_quantile_options,
                                                 cli_dataset_options, cli_common_options, NULL};

const cli_command cmd_stats = {
    .name = "stats",
    .usage = "FILE -o DIR [options]",
    .summary = "virtual images (sum, variance over reciprocal space), mean pattern, median "
               "and sigma68",
    .description =
        "Writes DIR/sum.npy and DIR/variance.npy (ny x nx float32: each pattern's sum and\n"
        "population variance), DIR/mean_pattern.npy (h x w float32) and DIR/stats.json\n"
        "(what 'lcae info' reports, p16, p84, and how the quantiles were obtained).\n"
        "sigma68 = (P84 - P16) / 2; percentiles interpolate linearly between order\n"
        "statistics (numpy's default). One pass over the scan on all cores; --exact adds a\n"
        "second. A scan with NaN or Inf pixels is refused unless --ignore-nonfinite.",
    .option_groups = stats_groups,
    .min_positional = 1,
    .max_positional = 1,
    .run = run_stats,
};
