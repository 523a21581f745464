/* lcae features DATA --method polar|pca -o FEATURES.npy: features of every pattern that
 * need no training (angular Fourier magnitudes, or PCA of the patterns). */
#include "cli.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lcae/features.h"
#include "lcae/prep.h"

static struct {
    const char *output, *method, *radii, *solver;
    int dims, orders, n_theta, standardize, power_iters;
    int64_t seed;
} args = {.dims = -1, .orders = -1, .power_iters = -1};

static const cli_option features_options[] = {
    {"method", 0, OPT_STRING, &args.method, "polar|pca",
     "angular Fourier magnitudes then PCA, or PCA of the patterns (required)"},
    {"output", 'o', OPT_STRING, &args.output, "FEATURES.npy",
     "features, float32 (ny*nx, D) in scan order; FEATURES.json beside it (required)"},
    {"dims", 0, OPT_INT, &args.dims, "D",
     "principal components kept (default: polar 10, pca 16; polar 0: the magnitudes)"},
    {"radii", 0, OPT_STRING, &args.radii, "R0:R1",
     "polar: rings from R0 to R1 prepared pixels (default 3*size/32:size/2-2)"},
    {"orders", 0, OPT_INT, &args.orders, "K", "polar: Fourier orders 0..K (default 6)"},
    {"n-theta", 0, OPT_INT, &args.n_theta, "N",
     "polar: angles per ring (default: the multiple of 8 at or above 2 pi R1)"},
    {"standardize", 0, OPT_FLAG, &args.standardize, NULL,
     "polar: scale each magnitude to unit variance before PCA (default: no)"},
    {"solver", 0, OPT_STRING, &args.solver, "SOLVER",
     "PCA: auto (default; covariance for rows of <= 1024 values), covariance, randomized"},
    {"power-iterations", 0, OPT_INT, &args.power_iters, "Q",
     "randomized PCA: power iterations, 2 passes each (default 2)"},
    {"seed", 0, OPT_I64, &args.seed, "S", "randomized PCA: the random sketch (default 0)"},
    {0}};

/* "R0:R1" */
static int parse_radii(const char *s, int *r0, int *r1)
{
    char *end;
    long a = strtol(s, &end, 10);
    if (end == s || *end != ':')
        return -1;
    const char *b = end + 1;
    long c = strtol(b, &end, 10);
    if (end == b || *end || a < 0 || c < 0 || a > 100000 || c > 100000)
        return -1;
    *r0 = (int)a;
    *r1 = (int)c;
    return 0;
}

static int options_get(lcae_features_options *o)
{
    if (!args.method)
        return cli_error(LCAE_EUSAGE, "features: the method is required (--method polar or "
                         "--method pca)");
    int m = lcae_features_method_from_name(args.method);
    if (m < 0)
        return cli_error(LCAE_EUSAGE, "option --method: expected polar or pca, found '%s'",
                         args.method);
    *o = lcae_features_defaults((lcae_features_method)m);
    int polar = m == LCAE_FEATURES_POLAR;
    if (!polar && (args.radii || args.orders >= 0 || args.n_theta || args.standardize))
        return cli_error(LCAE_EUSAGE, "options --radii, --orders, --n-theta and --standardize "
                         "are for --method polar");
    if (args.dims != -1) {
        if (args.dims < (polar ? 0 : 1))
            return cli_error(LCAE_EUSAGE, "option --dims: expected %s, found %d",
                             polar ? "0 or more" : "1 or more", args.dims);
        o->dims = args.dims;
    }
    if (args.radii && parse_radii(args.radii, &o->polar.r0, &o->polar.r1))
        return cli_error(LCAE_EUSAGE, "option --radii: expected R0:R1 (two radii in prepared "
                         "pixels, R0 <= R1), found '%s'", args.radii);
    if (args.orders != -1) {
        if (args.orders < 0)
            return cli_error(LCAE_EUSAGE, "option --orders: expected 0 or more, found %d",
                             args.orders);
        o->polar.orders = args.orders;
    }
    if (args.n_theta < 0)
        return cli_error(LCAE_EUSAGE, "option --n-theta: expected a positive number, found %d",
                         args.n_theta);
    o->polar.n_theta = args.n_theta;
    o->standardize = args.standardize;
    if (args.solver) {
        int s = lcae_pca_solver_from_name(args.solver);
        if (s < 0)
            return cli_error(LCAE_EUSAGE, "option --solver: expected auto, covariance or "
                             "randomized, found '%s'", args.solver);
        o->solver = (lcae_pca_solver)s;
    }
    if (args.power_iters != -1) {
        if (args.power_iters < 0 || args.power_iters > 20)
            return cli_error(LCAE_EUSAGE, "option --power-iterations: expected 0 to 20, found "
                             "%d", args.power_iters);
        o->power_iters = args.power_iters;
    }
    o->seed = (uint64_t)args.seed;
    return cli_prep_get(&o->prep);
}

static int run_features(int npos, char **pos)
{
    (void)npos;
    lcae_features_options o;
    int rc = options_get(&o);
    if (rc)
        return rc;
    if (!args.output)
        return cli_error(LCAE_EUSAGE, "features: the output is required (-o FEATURES.npy)");
    lcae_dataset *ds;
    if ((rc = cli_open_dataset(pos[0], &ds)))
        return rc;
    lcae_features f = {0};
    rc = lcae_features_file(ds, &o, NULL, cli_beam_map_path, args.output, cli_progress(), &f);
    if (rc)
        rc = cli_fail(rc);
    if (!rc) {
        char *jp = lcae_features_json_path(args.output);
        double sum = 0;
        for (int j = 0; f.has_pca && j < f.dims; j++)
            sum += f.pca.explained_variance_ratio[j];
        if (f.has_pca)
            cli_note("wrote %s (%lld x %d float32) and %s; the %d components explain %.1f%% "
                     "of the variance of the %d-value rows", args.output, (long long)f.n,
                     f.dims, jp ? jp : "its JSON", f.dims, 100 * sum, f.row_dims);
        else
            cli_note("wrote %s (%lld x %d float32) and %s", args.output, (long long)f.n,
                     f.dims, jp ? jp : "its JSON");
        free(jp);
    }
    lcae_features_free(&f);
    lcae_dataset_close(ds);
    return rc;
}

static const cli_option *const features_groups[] = {features_options, cli_prep_options,
                                                    cli_dataset_options, cli_common_options,
                                                    NULL};

const cli_command cmd_features = {
    .name = "features",
    .usage = "DATA --method polar|pca -o FEATURES.npy [options]",
    .summary = "features that need no training: angular Fourier magnitudes or PCA",
    .description =
        "Prepares every pattern as lcae train does (centring on the direct beam, crop,\n"
        "binning, offset, transform, normalization: docs/preparation.md), then:\n"
        "  polar: samples it on rings about the centre (bilinear; radius step 1 pixel)\n"
        "    and takes, per ring, the Fourier series over the azimuth: the ring mean\n"
        "    (order 0, signed) and the magnitudes of orders 1..K, unchanged by a rotation\n"
        "    of the pattern about its centre; then PCA to D features;\n"
        "  pca: PCA of the prepared patterns' pixels.\n"
        "PCA streams the scan (passes over the file, no copy of it in memory): the exact\n"
        "covariance for rows of up to 1024 values, else a randomized range finder (Halko\n"
        "et al.) with power iterations. The scores are the centred rows projected on the\n"
        "principal axes (scikit-learn's PCA.transform), each axis signed so that its\n"
        "largest loading is positive. FEATURES.json records the preparation, the polar\n"
        "grid and each component's explained variance (ratio). Cluster the features with\n"
        "'lcae cluster FEATURES.npy -o LABELS.npy'.",
    .option_groups = features_groups,
    .min_positional = 1,
    .max_positional = 1,
    .run = run_features,
};
