/* lcae cluster LATENT.npy -o LABELS.npy: HDBSCAN of the latent features. */
#include "cli.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lcae/cluster.h"
#include "core/util.h"

static struct {
    const char *output, *probabilities, *outlier_scores, *tree;
    int64_t scan[2];
} args;

/* The HDBSCAN and smoothing parameters, shared with lcae run, from the library's tables;
 * min_cluster_size 0 (the command line's default): scaled with the points. lcae cluster
 * smooths only when asked (it needs --scan); lcae run's CPU preset: auto. */
lcae_hdbscan_params cli_hdbscan;
lcae_smooth_params cli_smooth;
cli_option cli_hdbscan_options[12], cli_smooth_options[6];
static cli_field hdbscan_fields[12], smooth_fields[6];

void cli_hdbscan_defaults(void)
{
    cli_hdbscan = lcae_hdbscan_defaults();
    cli_hdbscan.min_cluster_size = 0;
    lcae_smooth_defaults(&cli_smooth);
    cli_options_from(lcae_hdbscan_option_table, &cli_hdbscan, 0, 0, NULL, cli_hdbscan_options,
                     hdbscan_fields, (int)(sizeof hdbscan_fields / sizeof *hdbscan_fields));
    cli_options_from(lcae_smooth_option_table, &cli_smooth, 0, 0, NULL, cli_smooth_options,
                     smooth_fields, (int)(sizeof smooth_fields / sizeof *smooth_fields));
}

int cli_hdbscan_params(lcae_hdbscan_params *p)
{
    *p = cli_hdbscan;
    /* 0 is the library's "scaled with n", the default: not a size to give */
    if (cli_field_given(hdbscan_fields, "min-cluster-size") && p->min_cluster_size < 2)
        return cli_error(LCAE_EUSAGE, "option --min-cluster-size: expected 2 or more, found "
                         "%lld", (long long)p->min_cluster_size);
    return 0;
}

int cli_smooth_params(lcae_smooth_params *sp)
{
    if (cli_smooth.size % 2 == 0)
        return cli_error(LCAE_EUSAGE, "option --smooth-size: expected an odd number of 3 or "
                         "more, found %d", cli_smooth.size);
    *sp = cli_smooth;
    return 0;
}

static const cli_option cluster_options[] = {
    {"output", 'o', OPT_STRING, &args.output, "LABELS.npy",
     "cluster labels, int32 (n,), -1 = noise (required)"},
    {"probabilities", 0, OPT_STRING, &args.probabilities, "FILE.npy",
     "membership strengths, float32 (n,)"},
    {"outlier-scores", 0, OPT_STRING, &args.outlier_scores, "FILE.npy",
     "GLOSH outlier scores, float32 (n,) (1 for rows set aside)"},
    {"tree", 0, OPT_STRING, &args.tree, "FILE",
     "condensed tree: parent, child, lambda, child_size; .csv or .npy (rows, 4) float64"},
    {"scan", 0, OPT_SHAPE, args.scan, "NYxNX",
     "the scan's shape, rows of LATENT.npy in scan order (x fastest): needed by --smooth "
     "and --fill-radius"},
    {0}};

static int ends_with(const char *s, const char *suffix)
{
    size_t a = strlen(s), b = strlen(suffix);
    return a >= b && !strcmp(s + a - b, suffix);
}

/* A map beside LABELS.npy: its path with "_" SUFFIX before ".npy" (appended to a name
 * without it): LABELS_full.npy, LABELS_filled.npy, LABELS_grains.npy. */
static char *labels_path_beside(const char *labels, const char *suffix)
{
    size_t stem = strlen(labels) - (ends_with(labels, ".npy") ? 4 : 0);
    size_t size = stem + strlen(suffix) + sizeof "_.npy";
    char *path = malloc(size);
    if (path)
        snprintf(path, size, "%.*s_%s.npy", (int)stem, labels, suffix);
    return path;
}

static int run_cluster(int npos, char **pos)
{
    (void)npos;
    if (!args.output)
        return cli_error(LCAE_EUSAGE, "option -o LABELS.npy is required (see 'lcae cluster "
                         "--help')");
    lcae_hdbscan_params p;
    lcae_smooth_params sm;
    int rc = cli_hdbscan_params(&p);
    if (!rc)
        rc = cli_smooth_params(&sm);
    if (rc)
        return rc;
    if (sm.mode != LCAE_SMOOTH_OFF && !cli_given(args.scan))
        return cli_error(LCAE_EUSAGE, "option --smooth %s: needs the scan's shape (--scan "
                         "NYxNX)", lcae_smooth_option_table[0].choices[sm.mode]);
    if (sm.fill_radius && !cli_given(args.scan))
        return cli_error(LCAE_EUSAGE, "option --fill-radius %d: needs the scan's shape (--scan "
                         "NYxNX)", sm.fill_radius);
    sm.ny = args.scan[0];
    sm.nx = args.scan[1];
    char *full = p.assign_noise ? labels_path_beside(args.output, "full") : NULL;
    char *filled = sm.fill_radius ? labels_path_beside(args.output, "filled") : NULL;
    char *grains = sm.fill_radius ? labels_path_beside(args.output, "grains") : NULL;
    if ((p.assign_noise && !full) || (sm.fill_radius && (!filled || !grains))) {
        free(full);
        free(filled);
        free(grains);
        return cli_error(LCAE_ENOMEM, "out of memory");
    }
    lcae_cluster_outputs out = {.labels = args.output, .labels_full = full,
                                .labels_filled = filled, .labels_grains = grains,
                                .probabilities = args.probabilities,
                                .outlier_scores = args.outlier_scores, .tree = args.tree};
    lcae_cluster_summary sum;
    double t0 = core_now_s();
    rc = lcae_cluster_file(pos[0], 0, &p, &sm, &out, cli_progress(), &sum);
    if (rc)
        rc = cli_fail(rc);
    else {
        if (sum.noise_share >= 0)
        {
            if (sum.smoothed)
                cli_note("feature noise share %.4f: features smoothed %d x %d",
                         sum.noise_share, sum.smoothed, sum.smoothed);
            else
                cli_note("feature noise share %.4f: features not smoothed", sum.noise_share);
        }
        cli_note("%lld points, min_cluster_size %lld (%s), %lld clusters, %lld noise%s%s%s, "
                 "%.2f s", (long long)sum.n, (long long)sum.min_cluster_size,
                 p.min_cluster_size ? "given" : "scaled with the points",
                 (long long)sum.n_clusters, (long long)sum.n_noise,
                 sum.n_nonfinite ? " (including rows with NaN/Inf)" : "",
                 full ? "; full map " : "", full ? full : "", core_now_s() - t0);
        if (filled)
            cli_note("filled map %s: %lld regions kept, %lld positions filled (radius %d)",
                     filled, (long long)sum.fill.regions, (long long)sum.fill.filled,
                     sm.fill_radius);
        if (grains)
            cli_note("grain map %s: %lld grains (the filled map's connected pieces)", grains,
                     (long long)sum.grains);
    }
    free(full);
    free(filled);
    free(grains);
    return rc;
}

static const cli_option *const cluster_groups[] = {cluster_options, cli_hdbscan_options,
                                                   cli_smooth_options, cli_common_options,
                                                   NULL};

const cli_command cmd_cluster = {
    .name = "cluster",
    .usage = "LATENT.npy -o LABELS.npy [options]",
    .summary = "HDBSCAN of the latent features: labels, probabilities, outlier scores",
    .description =
        "HDBSCAN* with the hdbscan library's conventions (Euclidean, exact minimum spanning\n"
        "tree): same partition as hdbscan.HDBSCAN(approx_min_span_tree=False) with the same\n"
        "parameters. LATENT.npy is an (n, d) array of any numeric dtype, computed in double.\n"
        "Cluster numbers: 0 is the largest cluster, then by decreasing size, ties by the\n"
        "smallest point index (the library numbers them in condensed-tree order instead).\n"
        "Ties between equal distances are broken by point index, so the same input always\n"
        "gives the same labels, whatever the thread count.\n\n"
        "min_cluster_size: --min-cluster-size N, else scaled with the number of points n,\n"
        "round(60 sqrt(n / 65536)) and at least 5: 60 at 65,536 points (the paper's\n"
        "256 x 256 scan), 30 at 16,384 (128 x 128), 15 at 4,096, 8 at 1,024 (32 x 32);\n"
        "a fixed 60 merges or drops whole grains of a small scan (docs/clustering.md).\n"
        "min_samples defaults to min_cluster_size either way.\n\n"
        "--assign-noise also writes the full map LABELS_full.npy (\"_full\" before \".npy\"):\n"
        "every noise point takes the cluster of its nearest clustered point in mutual\n"
        "reachability max(core(a), core(b), |a - b|), ties to the nearer point, then the\n"
        "smaller index; the neighbour the library's approximate_predict takes, searched\n"
        "over all clustered points. LABELS.npy keeps HDBSCAN's noise (-1).",
    .option_groups = cluster_groups,
    .min_positional = 1,
    .max_positional = 1,
    .run = run_cluster,
};
