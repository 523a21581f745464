/* lcae score LABELS.npy TRUTH.npy [--region REGION.npy] [--json]: a clustering against
 * the ground truth of the built-in sample (or any labelled scan). */
#include "cli.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include <cjson/cJSON.h>

#include "lcae/score.h"

static int json;
static const char *region_path;

static const cli_option score_options[] = {
    {"region", 0, OPT_STRING, &region_path, "FILE",
     "region map (0 grain, 1 boundary, 2 amorphous) for boundary recovery (default: "
     "truth_region.npy beside TRUTH, if present)"},
    {"json", 0, OPT_FLAG, &json, NULL, "one JSON object on stdout"},
    {0}};

static int run_score(int npos, char **pos)
{
    (void)npos;
    lcae_score_result s;
    int rc = lcae_score_file(pos[0], pos[1], region_path, &s);
    if (rc)
        return cli_fail(rc);
    if (json) {
        cJSON *j = lcae_score_json(&s);
        char *text = cJSON_PrintUnformatted(j);
        cJSON_Delete(j);
        if (text)
            printf("%s\n", text);
        else
            rc = cli_error(LCAE_ENOMEM, "out of memory");
        free(text);
    } else {
        printf("positions            %lld\n", (long long)s.n);
        printf("clusters             %d (true classes %d)\n", s.clusters, s.classes);
        printf("noise fraction       %.4f\n", s.noise_fraction);
        printf("ARI                  %.4f (noise left out: %.4f)\n", s.ari, s.ari_no_noise);
        printf("AMI (arithmetic)     %.4f (noise left out: %.4f)\n", s.ami, s.ami_no_noise);
        printf("fragmentation        %.3f clusters per true class\n", s.fragmentation);
        printf("purity               %.4f\n", s.purity);
        if (isnan(s.boundary_recovery))
            printf("boundary recovery    n/a (%s)\n", s.has_region ? "no boundary positions"
                                                               : "no region map: --region");
        else
            printf("boundary recovery    %.4f\n", s.boundary_recovery);
    }
    return rc;
}

static const cli_option *const score_groups[] = {score_options, cli_common_options, NULL};

const cli_command cmd_score = {
    .name = "score",
    .usage = "LABELS.npy TRUTH.npy [--region REGION.npy] [--json]",
    .summary = "scores a clustering against a ground truth (ARI, AMI, purity, boundaries)",
    .description =
        "LABELS and TRUTH hold one integer label per scan position (any shape, same count;\n"
        "-1 in LABELS is noise). ARI and AMI (arithmetic-mean normalisation, as\n"
        "scikit-learn's default) are given with noise as a label of its own and with noise\n"
        "positions left out. Fragmentation is clusters / true classes; purity the share of\n"
        "clustered positions in their cluster's majority class; boundary recovery the share\n"
        "of true boundary positions (region 1) in clusters made mostly of boundary\n"
        "positions.",
    .option_groups = score_groups,
    .min_positional = 2,
    .max_positional = 2,
    .run = run_score,
};
