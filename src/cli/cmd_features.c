/* lcae features DATA --method polar|pca -o FEATURES.npy: features of every pattern that
 * need no training (angular Fourier magnitudes, or PCA of the patterns). */
#include "cli.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lcae/features.h"
#include "lcae/prep.h"

static const char *output;
static lcae_features_options features; /* the library's table's fields but prep */
static cli_option features_options[16];
static cli_field features_fields[16];

static const cli_option output_option[] = {
    {"output", 'o', OPT_STRING, &output, "FEATURES.npy",
     "features, float32 (ny*nx, D) in scan order; FEATURES.json beside it (required)"},
    {0}};

/* The options from the library's table (lcae_features_option_table), its "not given"
 * markers resolved by the method once parsed (lcae_features_resolve). */
void cli_features_defaults(void)
{
    lcae_options_defaults(lcae_features_option_table, &features);
    cli_options_from(lcae_features_option_table, &features, 0, 0, NULL, features_options,
                     features_fields, (int)(sizeof features_fields / sizeof *features_fields));
}

static int options_get(lcae_features_options *o)
{
    if (!cli_given(&features_fields[0])) /* the method row: no default on the command line */
        return cli_error(LCAE_EUSAGE, "features: the method is required (--method polar or "
                         "--method pca)");
    *o = features;
    if (lcae_features_resolve(o))
        return cli_fail(LCAE_EUSAGE);
    return cli_prep_get(&o->prep);
}

static int run_features(int npos, char **pos)
{
    (void)npos;
    lcae_features_options o;
    int rc = options_get(&o);
    if (rc)
        return rc;
    if (!output)
        return cli_error(LCAE_EUSAGE, "features: the output is required (-o FEATURES.npy)");
    lcae_dataset *ds;
    if ((rc = cli_open_dataset(pos[0], &ds)))
        return rc;
    lcae_features f = {0};
    rc = lcae_features_file(ds, &o, NULL, cli_beam_map_path, output, cli_progress(), &f);
    if (rc)
        rc = cli_fail(rc);
    if (!rc) {
        char *jp = lcae_features_json_path(output);
        double sum = 0;
        for (int j = 0; f.has_pca && j < f.dims; j++)
            sum += f.pca.explained_variance_ratio[j];
        if (f.has_pca)
            cli_note("wrote %s (%lld x %d float32) and %s; the %d components explain %.1f%% "
                     "of the variance of the %d-value rows", output, (long long)f.n,
                     f.dims, jp ? jp : "its JSON", f.dims, 100 * sum, f.row_dims);
        else
            cli_note("wrote %s (%lld x %d float32) and %s", output, (long long)f.n,
                     f.dims, jp ? jp : "its JSON");
        free(jp);
    }
    lcae_features_free(&f);
    lcae_dataset_close(ds);
    return rc;
}

static const cli_option *const features_groups[] = {features_options, output_option,
                                                    cli_prep_options,
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
