/* lcae info FILE [--json]: what a scan file holds. */
#include "cli.h"

#include <stdio.h>

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
    if (json) {
        printf("{\"format\": \"%s\", \"scan\": [%lld, %lld], \"detector\": [%lld, %lld], "
               "\"dtype\": \"%s\", \"bytes\": %lld}\n",
               lcae_format_name(in->format), (long long)in->ny, (long long)in->nx,
               (long long)in->h, (long long)in->w, lcae_dtype_name(in->dtype),
               (long long)in->file_bytes);
    } else {
        printf("file      %s\nformat    %s\nscan      %lld x %lld (ny x nx)\n"
               "detector  %lld x %lld (h x w)\ndtype     %s\nbytes     %lld\n",
               lcae_dataset_path(ds), lcae_format_name(in->format), (long long)in->ny,
               (long long)in->nx, (long long)in->h, (long long)in->w,
               lcae_dtype_name(in->dtype), (long long)in->file_bytes);
    }
    lcae_dataset_close(ds);
    return 0;
}

static const cli_option *const info_groups[] = {info_options, cli_dataset_options,
                                                cli_common_options, NULL};

const cli_command cmd_info = {
    .name = "info",
    .usage = "FILE [--json] [options]",
    .summary = "what a scan file holds: format, shapes, dtype, statistics",
    .option_groups = info_groups,
    .min_positional = 1,
    .max_positional = 1,
    .run = run_info,
};
