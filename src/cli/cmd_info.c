/* lcae info FILE [--json]: what a scan file holds, and its statistics (one pass over it). */
#include "cli.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>

static int json;

static const cli_option info_options[] = {
    {"json", 0, OPT_FLAG, &json, NULL, "one JSON object on stdout"},
    {0}};

static int run_info(int npos, char **pos)
{
    (void)npos;
    lcae_dataset *ds;
    int rc = cli_open_dataset(pos[0], &ds);
    if (rc)
        return rc;
    const lcae_dataset_info *in = lcae_dataset_get_info(ds);
    lcae_stats st;
    rc = cli_compute_stats(ds, 0, 0, &st);
    if (rc) {
        lcae_dataset_close(ds);
        return rc;
    }
    if (json) {
        cJSON *j = lcae_stats_json(ds, &st);
        char *text = cJSON_PrintUnformatted(j);
        cJSON_Delete(j);
        if (!text) {
            lcae_dataset_close(ds);
            return cli_error(LCAE_ENOMEM, "out of memory");
        }
        printf("%s\n", text);
        free(text);
    } else {
        char m[160];
        printf("file      %s\nformat    %s\nscan      %lld x %lld (ny x nx)\n"
               "detector  %lld x %lld (h x w)\ndtype     %s\nbytes     %lld\n"
               "median    %.7g\nsigma68   %.7g (%s)\nscale     %.7g (%s)\n"
               "min       %.7g\nmax       %.7g\n"
               "nonfinite %lld (NaN or Inf pixel values)\n",
               lcae_dataset_path(ds), lcae_format_name(in->format), (long long)in->ny,
               (long long)in->nx, (long long)in->h, (long long)in->w,
               lcae_dtype_name(in->dtype), (long long)in->file_bytes, st.median, st.sigma68,
               cli_quantile_method(&st, m, sizeof m), st.scale,
               st.norm == LCAE_NORM_SIGMA68 ? "sigma68"
                                            : "standard deviation: sigma68 is 0, sparse data",
               st.min, st.max, (long long)st.nonfinite);
    }
    lcae_stats_free(&st);
    lcae_dataset_close(ds);
    return 0;
}

static const cli_option *const info_groups[] = {info_options, cli_quantile_options,
                                                cli_dataset_options, cli_common_options, NULL};

const cli_command cmd_info = {
    .name = "info",
    .usage = "FILE [--json] [options]",
    .summary = "what a scan file holds: format, shapes, dtype, statistics",
    .description =
        "Reads the scan once (twice with --exact): median and sigma68 = (P84 - P16) / 2 of\n"
        "the finite pixel values (from a sample of pixels of every pattern unless --exact),\n"
        "min, max and the number of NaN/Inf pixel values. --json prints one object with the\n"
        "keys format, scan, detector, dtype, bytes, median, sigma68, scale, norm, min, max,\n"
        "nonfinite (scale: the normalization's, sigma68 or, where that is 0, the\n"
        "standard deviation; norm: which).",
    .option_groups = info_groups,
    .min_positional = 1,
    .max_positional = 1,
    .run = run_info,
};
