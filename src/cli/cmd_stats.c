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

#include "lcae/mpi.h"

/* The quantile options (shared with lcae info) and the beam's, from the library's tables. */
static lcae_stats_options quantile;
static lcae_beam_options beam_opt;
cli_option cli_quantile_options[4];
static cli_option beam_table[4];
static cli_field quantile_fields[4], beam_fields[4];

void cli_stats_defaults(void)
{
    lcae_options_defaults(lcae_stats_option_table, &quantile);
    lcae_options_defaults(lcae_beam_option_table, &beam_opt);
    cli_options_from(lcae_stats_option_table, &quantile, 0, 0, NULL, cli_quantile_options,
                     quantile_fields, (int)(sizeof quantile_fields / sizeof *quantile_fields));
    cli_options_from(lcae_beam_option_table, &beam_opt, 0, 0, NULL, beam_table, beam_fields,
                     (int)(sizeof beam_fields / sizeof *beam_fields));
}

int cli_compute_stats(lcae_dataset *ds, int virtual_images, int refuse_nonfinite,
                      lcae_stats *st)
{
    memset(st, 0, sizeof *st);
    lcae_stats_options o = quantile;
    o.virtual_images = virtual_images;
    o.refuse_nonfinite = refuse_nonfinite;
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
static const char *center = "beam";

static const cli_option stats_options[] = {
    {"output", 'o', OPT_STRING, &out_dir, "DIR", "output folder (created if missing)"},
    {"ignore-nonfinite", 0, OPT_FLAG, &ignore_nonfinite, NULL,
     "use only the finite pixels of a scan with NaN or Inf values (default: refuse it)"},
    {"center", 0, OPT_STRING, &center, "MODE",
     "beam: find the direct beam in every pattern (default); none: skip it"},
    {0}};

static int run_stats(int npos, char **pos)
{
    (void)npos;
    if (!out_dir)
        return cli_error(LCAE_EUSAGE, "usage: lcae stats FILE -o DIR (the output folder is "
                         "missing)");
    if (strcmp(center, "beam") && strcmp(center, "none"))
        return cli_error(LCAE_EUSAGE, "option --center: expected beam or none, found '%s'",
                         center);
    int with_beam = !strcmp(center, "beam"), rc;
    lcae_beam_options bo = beam_opt;
    lcae_dataset *ds;
    if ((rc = cli_open_dataset(pos[0], &ds)))
        return rc;
    lcae_stats st;
    lcae_beam beam = {0};
    rc = cli_compute_stats(ds, 1, !ignore_nonfinite, &st);
    /* everything is computed before anything is written: a scan without a beam leaves
     * no output */
    /* Under MPI every rank holds the statistics; rank 0 alone finds the beam (not
     * partitioned: docs/mpi.md) and writes, and the others learn how that went. */
    int writer = lcae_mpi_rank() == 0;
    if (!rc && with_beam) {
        int status = writer ? lcae_beam_compute(ds, &bo, cli_progress(), &beam) : LCAE_OK;
        if ((status = lcae_mpi_check(status)))
            rc = cli_fail(status);
    }
    if (!rc) {
        /* every output or none (one output set, renamed when all are written) */
        lcae_output_set *set = NULL;
        int status = LCAE_OK, closed = LCAE_OK;
        if (writer) {
            status = lcae_make_dirs(out_dir);
            if (!status)
                status = lcae_output_set_new(&set);
            if (!status)
                status = lcae_stats_write_in(set, ds, &st, with_beam ? &beam : NULL, out_dir);
            if (!status && with_beam)
                status = lcae_beam_write_in(set, &beam, out_dir);
            closed = lcae_output_set_close(set, !status);
        }
        if ((status = lcae_mpi_check(status ? status : closed)))
            rc = cli_fail(status);
    }
    if (!rc && writer) { /* the beam is on rank 0 only */
        char m[160];
        cli_note("median %.7g, sigma68 %.7g (%s); wrote %s/{sum,variance,mean_pattern%s}.npy "
                 "and stats.json", st.median, st.sigma68, cli_quantile_method(&st, m, sizeof m),
                 out_dir, with_beam ? ",beam_position,beam_measured" : "");
        if (with_beam)
            cli_note("beam: radius %.3g px, fitted (y, x) from (%.2f, %.2f) at scan (0, 0) to "
                     "(%.2f, %.2f) at the last position, rms residual %.3g px, %lld not "
                     "found, %lld outliers", beam.radius, beam.fitted[0], beam.fitted[1],
                     beam.fitted[2 * (beam.ny * beam.nx) - 2],
                     beam.fitted[2 * (beam.ny * beam.nx) - 1], beam.rms_residual,
                     (long long)beam.not_found, (long long)beam.outliers);
    }
    lcae_beam_free(&beam);
    lcae_stats_free(&st);
    lcae_dataset_close(ds);
    return rc;
}

static const cli_option *const stats_groups[] = {stats_options, beam_table,
                                                 cli_quantile_options,
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
        "second. A scan with NaN or Inf pixels is refused unless --ignore-nonfinite.\n"
        "\n"
        "The direct beam (--center beam, the default): DIR/beam_position.npy (ny x nx x 2\n"
        "float32, (y, x) in detector pixels from the centre of pixel (0, 0)), a smooth\n"
        "surface fitted over the scan to the beam found in each pattern (the descan), and\n"
        "DIR/beam_measured.npy, the positions found (NaN where none); its summary goes into\n"
        "stats.json under \"beam\". A scan without a beam (a beam stop) is an error: use\n"
        "--center none. One more pass over the scan.",
    .option_groups = stats_groups,
    .min_positional = 1,
    .max_positional = 1,
    .run = run_stats,
};
