/* lcae encode DATA -m MODEL -o latent.npy: every pattern's latent vector. */
#include "cli.h"

#include <stdio.h>
#include <stdlib.h>

#include "lcae/model.h"

static struct {
    const char *model, *output;
    int batch;
} args = {.batch = 128};

static const cli_option encode_options[] = {
    {"model", 'm', OPT_STRING, &args.model, "MODEL.safetensors", "the trained model (required)"},
    {"output", 'o', OPT_STRING, &args.output, "LATENT.npy",
     "latent vectors, float32 (ny*nx, 16) in scan order (required)"},
    {"batch", 0, OPT_INT, &args.batch, "B", "patterns per batch (default 128)"},
    {"beam-map", 0, OPT_STRING, &cli_prep.beam_map, "FILE.npy",
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
    lcae_model *m;
    int rc = lcae_model_load(args.model, &m);
    if (rc)
        return cli_fail(rc);
    cli_print_layers(lcae_model_get_config(m));
    lcae_dataset *ds;
    if ((rc = cli_open_dataset(pos[0], &ds))) {
        lcae_model_free(m);
        return rc;
    }
    int64_t n = lcae_dataset_get_info(ds)->count, d = lcae_model_get_config(m)->latent;
    float *z = malloc((size_t)(n * d + 1) * sizeof *z), *beam = NULL;
    if (!z)
        rc = cli_error(LCAE_ENOMEM, "out of memory (%lld latent vectors)", (long long)n);
    else
        rc = cli_beam_map(ds, lcae_model_get_meta(m)->prep.center, &beam);
    if (!rc && (rc = lcae_encode(m, ds, beam, args.batch, z, cli_progress())))
        rc = cli_fail(rc);
    if (!rc) {
        int64_t shape[2] = {n, d};
        if ((rc = lcae_npy_write(args.output, LCAE_DT_F32, 2, shape, z)))
            rc = cli_fail(rc);
        else
            cli_note("wrote %s (%lld x %lld float32)", args.output, (long long)n, (long long)d);
    }
    free(z);
    free(beam);
    lcae_dataset_close(ds);
    lcae_model_free(m);
    return rc;
}

static const cli_option *const encode_groups[] = {encode_options, cli_dataset_options,
                                                  cli_common_options, NULL};

const cli_command cmd_encode = {
    .name = "encode",
    .usage = "DATA -m MODEL.safetensors -o LATENT.npy [--batch 128] [options]",
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
