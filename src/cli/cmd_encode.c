/* lcae encode DATA -m MODEL -o latent.npy: every pattern's latent vector. */
#include "cli.h"

#include <stdio.h>
#include <stdlib.h>

#include "lcae/model.h"

static struct {
    const char *model, *output;
    int batch;
} args = {.batch = LCAE_ENCODE_BATCH};

static const cli_option encode_options[] = {
    {"model", 'm', OPT_STRING, &args.model, "MODEL.safetensors", "the trained model (required)"},
    {"output", 'o', OPT_STRING, &args.output, "LATENT.npy",
     "latent vectors, float32 (ny*nx, 16) in scan order (required)"},
    {"batch", 0, OPT_INT, &args.batch, "B", "patterns per batch (default)"},
    {"beam-map", 0, OPT_STRING, &cli_beam_map_path, "FILE.npy",
     "for a model trained centred: the beam positions, (ny, nx, 2) as lcae stats writes "
     "them (default: found in the scan)"},
    {0}};

static int run_encode(int npos, char **pos)
{
    (void)npos;
    if (!args.model || !args.output)
        return cli_error(LCAE_EUSAGE, "encode: the model and the output are required "
                         "(-m MODEL.safetensors -o LATENT.npy)");
    if (args.batch < 1)
        return cli_error(LCAE_EUSAGE, "option --batch: expected a positive number, found %d",
                         args.batch);
    if (cli_verbose) { /* the layers of the model that the encoding loads */
        lcae_model *m;
        int rc = lcae_model_load(args.model, &m);
        if (rc)
            return cli_fail(rc);
        cli_print_layers(lcae_model_get_config(m));
        lcae_model_free(m);
    }
    lcae_dataset *ds;
    int rc = cli_open_dataset(pos[0], &ds);
    if (rc)
        return rc;
    int d;
    rc = lcae_encode_file(args.model, ds, NULL, cli_beam_map_path, args.batch, args.output,
                          cli_progress(), &d);
    if (rc)
        rc = cli_fail(rc);
    else
        cli_note("wrote %s (%lld x %d float32)", args.output,
                 (long long)lcae_dataset_get_info(ds)->count, d);
    lcae_dataset_close(ds);
    return rc;
}

static const cli_option *const encode_groups[] = {encode_options, cli_dataset_options,
                                                  cli_common_options, NULL};

const cli_command cmd_encode = {
    .name = "encode",
    .usage = "DATA -m MODEL.safetensors -o LATENT.npy [--batch B] [options]",
    .summary = "latent vectors of every pattern of a scan (evaluation mode)",
    .description =
        "Encodes every pattern with the model's own preparation (centring, crop, binning,\n"
        "transform, normalization), in\n"
        "evaluation mode (BatchNorm running statistics), to a float32 (ny*nx, 16) array\n"
        "in scan order.",
    .option_groups = encode_groups,
    .min_positional = 1,
    .max_positional = 1,
    .run = run_encode,
};
