/* lcae cluster LATENT.npy -o LABELS.npy: HDBSCAN of the latent features. */
#include "cli.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lcae/cluster.h"

static struct {
    const char *output, *probabilities, *outlier_scores, *tree;
} args;

/* The HDBSCAN parameters, shared with lcae run. */
static struct {
    const char *method, *nonfinite;
    int64_t min_samples;
    double epsilon;
    int allow_single_cluster;
} hargs = {.method = "eom", .nonfinite = "error"};
int64_t cli_min_cluster_size; /* 0: scaled with the number of points */
int cli_assign_noise;

const cli_option cli_hdbscan_options[] = {
    {"min-cluster-size", 0, OPT_I64, &cli_min_cluster_size, "N",
     "smallest cluster (default: scaled with the number of points n, 60 sqrt(n / 65536) "
     "rounded, at least 5: 60 at 65,536 points, the paper's; the library's default is 5)"},
    {"min-samples", 0, OPT_I64, &hargs.min_samples, "K",
     "core distance = distance to the K-th nearest other point (default: min-cluster-size)"},
    {"method", 0, OPT_STRING, &hargs.method, "eom|leaf",
     "cluster selection: excess of mass (default) or the leaves of the condensed tree"},
    {"epsilon", 0, OPT_DOUBLE, &hargs.epsilon, "E",
     "cluster_selection_epsilon: do not split clusters below distance E (default 0)"},
    {"allow-single-cluster", 0, OPT_FLAG, &hargs.allow_single_cluster, NULL,
     "let selection return the whole data set as one cluster"},
    {"nonfinite", 0, OPT_STRING, &hargs.nonfinite, "error|noise",
     "rows with NaN/Inf: an error (default) or noise with probability 0, as the library"},
    {"assign-noise", 0, OPT_FLAG, &cli_assign_noise, NULL,
     "also a full map, every noise point in the cluster of its nearest clustered point in "
     "mutual reachability, beside the map with noise (lcae cluster: LABELS_full.npy; lcae "
     "run: labels_full.npy) (default off)"},
    {0}};

int cli_hdbscan_params(lcae_hdbscan_params *p)
{
    *p = lcae_hdbscan_defaults();
    /* 0 is the library's "scaled with n", the default: not a size to give */
    if (cli_given(&cli_min_cluster_size) && cli_min_cluster_size < 2)
        return cli_error(LCAE_EUSAGE, "option --min-cluster-size: expected 2 or more, found "
                         "%lld", (long long)cli_min_cluster_size);
    p->min_cluster_size = cli_min_cluster_size;
    p->assign_noise = cli_assign_noise;
    p->min_samples = hargs.min_samples;
    p->epsilon = hargs.epsilon;
    p->allow_single_cluster = hargs.allow_single_cluster;
    if (!strcmp(hargs.method, "eom"))
        p->method = LCAE_SELECT_EOM;
    else if (!strcmp(hargs.method, "leaf"))
        p->method = LCAE_SELECT_LEAF;
    else
        return cli_error(LCAE_EUSAGE, "option --method: expected eom or leaf, found '%s'",
                         hargs.method);
    if (!strcmp(hargs.nonfinite, "noise"))
        p->nonfinite_noise = 1;
    else if (strcmp(hargs.nonfinite, "error"))
        return cli_error(LCAE_EUSAGE, "option --nonfinite: expected error or noise, found '%s'",
                         hargs.nonfinite);
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
    {0}};

static int ends_with(const char *s, const char *suffix)
{
    size_t a = strlen(s), b = strlen(suffix);
    return a >= b && !strcmp(s + a - b, suffix);
}

/* The writers return a library status (the message set), for the output set's caller. */
static int write_f32(lcae_output_set *set, const char *path, const double *v, int64_t n)
{
    float *f = lcae_malloc((size_t)(n ? n : 1) * sizeof *f);
    if (!f)
        return LCAE_ENOMEM;
    for (int64_t i = 0; i < n; i++)
        f[i] = (float)v[i];
    int rc = lcae_npy_write_in(set, path, LCAE_DT_F32, 1, &n, f);
    free(f);
    return rc;
}

static int write_tree(lcae_output_set *set, const char *path, const lcae_condensed_tree *t)
{
    if (ends_with(path, ".csv")) {
        lcae_atomic_file af;
        int rc = lcae_atomic_open_in(&af, set, path);
        if (rc)
            return rc;
        fprintf(af.fp, "parent,child,lambda_val,child_size\n");
        for (int64_t r = 0; r < t->rows; r++)
            fprintf(af.fp, "%lld,%lld,%.17g,%lld\n", (long long)t->parent[r],
                    (long long)t->child[r], t->lambda[r], (long long)t->child_size[r]);
        return lcae_atomic_commit(&af);
    }
    double *a = lcae_malloc((size_t)(t->rows * 4 + 1) * sizeof *a);
    if (!a)
        return LCAE_ENOMEM;
    for (int64_t r = 0; r < t->rows; r++) {
        a[4 * r] = (double)t->parent[r];
        a[4 * r + 1] = (double)t->child[r];
        a[4 * r + 2] = t->lambda[r];
        a[4 * r + 3] = (double)t->child_size[r];
    }
    int64_t shape[2] = {t->rows, 4};
    int rc = lcae_npy_write_in(set, path, LCAE_DT_F64, 2, shape, a);
    free(a);
    return rc;
}

/* The full map's path: LABELS.npy's with "_full" before ".npy" (appended to a name
 * without it). */
static char *full_labels_path(const char *labels)
{
    size_t stem = strlen(labels) - (ends_with(labels, ".npy") ? 4 : 0);
    char *path = lcae_malloc(stem + sizeof "_full.npy");
    if (path)
        snprintf(path, stem + sizeof "_full.npy", "%.*s_full.npy", (int)stem, labels);
    return path;
}

static int run_cluster(int npos, char **pos)
{
    (void)npos;
    if (!args.output)
        return cli_error(LCAE_EUSAGE, "option -o LABELS.npy is required (see 'lcae cluster "
                         "--help')");
    lcae_hdbscan_params p;
    int rc = cli_hdbscan_params(&p);
    if (rc)
        return rc;

    lcae_npy_header h;
    double *x;
    rc = lcae_npy_load_f64(pos[0], &h, &x);
    if (rc)
        return cli_fail(rc);
    if (h.ndim != 2) {
        free(x);
        return cli_error(LCAE_EFAIL, "%s: expected a 2-D array (points x features), found "
                         "%d dimensions", pos[0], h.ndim);
    }
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    lcae_hdbscan_result res;
    rc = lcae_hdbscan(x, h.shape[0], h.shape[1], &p, pos[0], cli_progress(), &res);
    free(x);
    if (rc)
        return cli_fail(rc);
    clock_gettime(CLOCK_MONOTONIC, &t1);

    int64_t n = res.n, noise = 0;
    for (int64_t i = 0; i < n; i++)
        noise += res.labels[i] < 0;
    char *full = p.assign_noise ? full_labels_path(args.output) : NULL;
    /* all the outputs or none: a tree that cannot be written leaves no labels either */
    lcae_output_set *set = NULL;
    rc = p.assign_noise && !full ? LCAE_ENOMEM : lcae_output_set_new(&set);
    if (!rc)
        rc = lcae_npy_write_in(set, args.output, LCAE_DT_I32, 1, &n, res.labels);
    if (!rc && full)
        rc = lcae_npy_write_in(set, full, LCAE_DT_I32, 1, &n, res.labels_full);
    if (!rc && args.probabilities)
        rc = write_f32(set, args.probabilities, res.probabilities, n);
    if (!rc && args.outlier_scores)
        rc = write_f32(set, args.outlier_scores, res.outlier_scores, n);
    if (!rc && args.tree)
        rc = write_tree(set, args.tree, &res.tree);
    int closed = lcae_output_set_close(set, !rc);
    int status = rc || closed ? cli_fail(rc ? rc : closed) : 0;
    if (!status)
        cli_note("%lld points, min_cluster_size %lld (%s), %lld clusters, %lld noise%s%s%s, "
                 "%.2f s", (long long)n, (long long)res.min_cluster_size,
                 p.min_cluster_size ? "given" : "scaled with the points",
                 (long long)res.n_clusters, (long long)noise,
                 res.n_nonfinite ? " (including rows with NaN/Inf)" : "",
                 full ? "; full map " : "", full ? full : "",
                 (double)(t1.tv_sec - t0.tv_sec) + 1e-9 * (double)(t1.tv_nsec - t0.tv_nsec));
    free(full);
    lcae_hdbscan_result_free(&res);
    return status;
}

static const cli_option *const cluster_groups[] = {cluster_options, cli_hdbscan_options,
                                                   cli_common_options, NULL};

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
