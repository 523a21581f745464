/* lcae train DATA -o MODEL.safetensors: trains the autoencoder on a scan. */
#include "cli.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lcae/model.h"

static const char *output;
static int resume;

/* The training options, shared with lcae run (whose presets change them before parsing),
 * straight from the library's table: its defaults, ranges and help. */
lcae_train_options cli_train;
cli_option cli_train_options[32];
static cli_field train_fields[32];
static cli_option train_own_options[4]; /* --rot-loss: not lcae run's, which trains both */
static cli_field train_own_fields[4];

static const cli_option train_options[] = {
    {"output", 'o', OPT_STRING, &output, "MODEL.safetensors",
     "the model (required); beside it MODEL.ckpt.safetensors and MODEL.log.json"},
    {"resume", 0, OPT_FLAG, &resume, NULL,
     "continue from MODEL.ckpt.safetensors (same options; --epochs may grow)"},
    {0}};

void cli_train_defaults(void)
{
    lcae_train_defaults(&cli_train);
    cli_options_from(lcae_train_option_table, &cli_train,
                     LCAE_TRAIN_PREP | LCAE_TRAIN_ONE_MODEL, 0, NULL, cli_train_options, train_fields,
                     (int)(sizeof cli_train_options / sizeof *cli_train_options));
    cli_options_from(lcae_train_option_table, &cli_train, 0, LCAE_TRAIN_ONE_MODEL, NULL,
                     train_own_options, train_own_fields,
                     (int)(sizeof train_own_options / sizeof *train_own_options));
}

int cli_train_given(const char *name)
{
    return cli_field_given(train_fields, name);
}

int cli_train_options_get(lcae_train_options *o)
{
    lcae_prep pr;
    int rc = cli_prep_get(&pr);
    if (rc)
        return rc;
    *o = cli_train;
    o->bin = pr.bin;
    o->crop = pr.crop;
    o->transform = pr.transform;
    o->offset = pr.offset;
    o->center = pr.center;
    return lcae_train_check(o) ? cli_fail(LCAE_EUSAGE) : 0;
}

static int run_train(int npos, char **pos)
{
    (void)npos;
    if (!output)
        return cli_error(LCAE_EUSAGE, "train: the model file is required (-o MODEL.safetensors)");
    lcae_train_options o;
    int rc = cli_train_options_get(&o);
    if (rc)
        return rc;
    o.resume = resume;
    lcae_dataset *ds;
    rc = cli_open_dataset(pos[0], &ds);
    if (rc)
        return rc;
    lcae_model_config arch = o.arch; /* the input size as lcae_train will find it */
    if (!lcae_model_input_size(lcae_dataset_get_info(ds)->h, lcae_dataset_get_info(ds)->w,
                               o.crop, o.bin, &arch.input_size))
        cli_print_layers(&arch);
    float *beam = NULL;
    rc = cli_beam_map(ds, o.center, &beam);
    if (!rc && (rc = lcae_train(ds, &o, beam, output, cli_progress())))
        rc = cli_fail(rc);
    free(beam);
    lcae_dataset_close(ds);
    if (rc)
        return rc;
    cli_note("wrote %s", output);
    return 0;
}

static const cli_option *const train_groups[] = {train_options, train_own_options,
                                                 cli_train_options,
                                                 cli_prep_options, cli_dataset_options,
                                                 cli_common_options, NULL};

const cli_command cmd_train = {
    .name = "train",
    .usage = "DATA -o MODEL.safetensors [options]",
    .summary = "train the rotation-invariant autoencoder on a scan",
    .description =
        "Trains the paper's convolutional autoencoder (Adam, shuffled batches) with\n"
        "L = L_recon(x) + L_recon(R x) + lambda * L_rot, R a rotation by an angle drawn per\n"
        "batch. The patterns are centred on the direct beam, centre-cropped, sum-binned,\n"
        "transformed and normalized with the median and sigma68 of the transformed pixels\n"
        "(their standard deviation where sigma68 is 0, as in sparse counting data); all of\n"
        "it is recorded in the model's metadata and applied again by lcae encode.\n"
        "Training lasts --epochs passes over the training positions, or --steps optimizer\n"
        "steps (ceil(steps / steps per pass) passes, the last one cut short at the budget).\n"
        "After every pass a checkpoint (for --resume) and a JSON log are written\n"
        "atomically: the loss terms and, over a fixed probe set of 512 training patterns\n"
        "encoded in evaluation mode, each latent feature's spread (standard deviation)\n"
        "and, for the invariant features, the invariance error mean |E(x) - E(Rx)| /\n"
        "spread (R a random rotation about the pattern centre); the model when training\n"
        "ends.",
    .option_groups = train_groups,
    .min_positional = 1,
    .max_positional = 1,
    .run = run_train,
};
