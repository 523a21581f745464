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

static cJSON *pair(int64_t a, int64_t b)
{
    cJSON *arr = cJSON_CreateArray();
    cJSON_AddItemToArray(arr, cJSON_CreateNumber((double)a));
    cJSON_AddItemToArray(arr, cJSON_CreateNumber((double)b));
    return arr;
}

cJSON *cli_stats_json(const lcae_dataset *ds, const lcae_stats *st)
{
    const lcae_dataset_info *in = lcae_dataset_get_info(ds);
    cJSON *j = cJSON_CreateObject();
    cJSON_AddStringToObject(j, "format", lcae_format_name(in->format));
    cJSON_AddItemToObject(j, "scan", pair(in->ny, in->nx));
    cJSON_AddItemToObject(j, "detector", pair(in->h, in->w));
    cJSON_AddStringToObject(j, "dtype", lcae_dtype_name(in->dtype));
    cJSON_AddNumberToObject(j, "bytes", (double)in->file_bytes);
    /* cJSON writes NaN (no finite pixel) as null */
    cJSON_AddNumberToObject(j, "median", st->median);
    cJSON_AddNumberToObject(j, "sigma68", st->sigma68);
    cJSON_AddNumberToObject(j, "min", st->min);
    cJSON_AddNumberToObject(j, "max", st->max);
    cJSON_AddNumberToObject(j, "nonfinite", (double)st->nonfinite);
    return j;
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

/* mkdir -p */
static int make_dir(const char *dir)
{
    char *p = strdup(dir);
    if (!p)
        return cli_error(LCAE_ENOMEM, "out of memory");
    for (char *s = p + 1;; s++) {
        if (*s && *s != '/')
            continue;
        char c = *s;
        *s = 0;
        struct stat sb;
        if (mkdir(p, 0777) != 0 && errno != EEXIST) {
            int e = errno;
            free(p);
            return cli_error(LCAE_EFAIL, "%s: cannot create the output folder (%s)", dir,
                             strerror(e));
        }
        if (stat(p, &sb) != 0 || !S_ISDIR(sb.st_mode)) {
            free(p);
            return cli_error(LCAE_EFAIL, "%s: not a folder (expected an output folder)", dir);
        }
        if (!c)
            break;
        *s = c;
    }
    free(p);
    return 0;
}

static int write_outputs(const lcae_dataset *ds, const lcae_stats *st)
{
    const lcae_dataset_info *in = lcae_dataset_get_info(ds);
    char path[4096];
    int64_t scan[2] = {in->ny, in->nx}, det[2] = {in->h, in->w};
    struct {
        const char *name;
        const int64_t *shape;
        const float *data;
    } arrays[] = {{"sum.npy", scan, st->sum},
                  {"variance.npy", scan, st->variance},
                  {"mean_pattern.npy", det, st->mean_pattern}};
    for (int a = 0; a < 3; a++) {
        snprintf(path, sizeof path, "%s/%s", out_dir, arrays[a].name);
        int rc = lcae_npy_write(path, LCAE_DT_F32, 2, arrays[a].shape, arrays[a].data);
        if (rc)
            return cli_fail(rc);
    }
    cJSON *j = cli_stats_json(ds, st);
    cJSON_AddStringToObject(j, "file", lcae_dataset_path(ds));
    cJSON_AddNumberToObject(j, "p16", st->p16);
    cJSON_AddNumberToObject(j, "p84", st->p84);
    cJSON_AddNumberToObject(j, "pixels", (double)st->pixels);
    cJSON *q = cJSON_AddObjectToObject(j, "quantiles");
    cJSON_AddStringToObject(q, "method", st->exact ? "exact" : "sampled");
    cJSON_AddStringToObject(q, "percentile", "linear interpolation between order statistics "
                            "(numpy's default), over the finite pixels");
    cJSON_AddNumberToObject(q, "sample_size", (double)st->sample_size);
    cJSON_AddNumberToObject(q, "seed", (double)st->seed);
    cJSON_AddNumberToObject(q, "median_se", st->median_se);
    cJSON_AddNumberToObject(q, "sigma68_se", st->sigma68_se);
    cJSON_AddStringToObject(j, "variance", "population variance (divided by the number of "
                            "finite pixels) of each pattern's pixel values");
    char *text = cJSON_Print(j);
    cJSON_Delete(j);
    if (!text)
        return cli_error(LCAE_ENOMEM, "out of memory");
    size_t len = strlen(text);
    text[len] = '\n'; /* replaces the terminator: written with its length */
    snprintf(path, sizeof path, "%s/stats.json", out_dir);
    int rc = lcae_write_file_atomic(path, text, len + 1);
    free(text);
    return rc ? cli_fail(rc) : 0;
}

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
    if (!rc)
        rc = make_dir(out_dir);
    if (!rc)
        rc = write_outputs(ds, &st);
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
