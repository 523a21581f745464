/* lcae train DATA -o MODEL.safetensors: trains the autoencoder on a scan. */
#include "cli.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lcae/model.h"

static const char *output;
static int resume;

/* The training options, shared with lcae run (whose presets change these defaults). */
cli_train_args cli_train = {
    .epochs = 10, .batch = 32, .lr = 1e-4, .rot_loss = 1, .invariant_dims = 10,
    .lambda = 50, .max_angle = 360, .base = 64, .latent_ch = 4, .latent = 16,
    .mask = "disk", .interp = "bilinear", .recon = "l1", .lr_schedule = "constant",
    .arch = "cae", .rot_form = "scaled"};

static const cli_option train_options[] = {
    {"output", 'o', OPT_STRING, &output, "MODEL.safetensors",
     "the model (required); beside it MODEL.ckpt.safetensors and MODEL.log.json"},
    {"resume", 0, OPT_FLAG, &resume, NULL,
     "continue from MODEL.ckpt.safetensors (same options; --epochs may grow)"},
    /* not in the table lcae run shares: run trains both models */
    {"rot-loss", 0, OPT_FLAG, &cli_train.rot_loss, NULL,
     "rotation-invariance loss and rotated pass (default on; --no-rot-loss: the paper's "
     "standard model, L_recon(x) only)"},
    {0}};

const cli_option cli_train_options[] = {
    {"arch", 0, OPT_STRING, &cli_train.arch, "cae|polar",
     "cae (default): the paper's autoencoder; polar: invariant by construction (polar "
     "image, circular convs, the first --invariant-dims features pooled over the angle, an "
     "auxiliary head; no rotation loss)"},
    {"rot-loss-form", 0, OPT_STRING, &cli_train.rot_form, "paper|scaled",
     "the rotation loss: scaled (default): each invariant feature's |E(x) - E(Rx)| divided "
     "by its spread over the batch, which shrinking the features cannot lower; paper: the "
     "published mean |E(x) - E(Rx)|, met by collapsing the invariant features"},
    {"epochs", 0, OPT_INT, &cli_train.epochs, "N",
     "passes over the training positions, used when --steps is 0 (default 10)"},
    {"steps", 0, OPT_I64, &cli_train.steps, "N",
     "optimizer steps in all, 0: --epochs decide (default 0); N: ceil(N / steps per epoch) "
     "reshuffled passes, the last one stopping at step N (checkpoint and log per pass)"},
    {"batch", 0, OPT_INT, &cli_train.batch, "B", "patterns per step (default 32)"},
    {"lr", 0, OPT_DOUBLE, &cli_train.lr, "LR",
     "Adam learning rate; onecycle's maximum (default 1e-4)"},
    {"lr-schedule", 0, OPT_STRING, &cli_train.lr_schedule, "constant|onecycle",
     "constant (default) or PyTorch's OneCycleLR over all steps (pct_start 0.25, cosine, "
     "from LR/25 up to LR, down to LR/25e4; Adam's beta1 0.95 -> 0.85 -> 0.95)"},
    {"recon", 0, OPT_STRING, &cli_train.recon, "l1|mse",
     "reconstruction loss inside the mask: l1 (default, the paper's clipped L1) or mse"},
    {"invariant-dims", 0, OPT_INT, &cli_train.invariant_dims, "N",
     "latent features the rotation loss applies to (default 10; 16 = the published code)"},
    {"lambda", 0, OPT_DOUBLE, &cli_train.lambda, "L", "weight of the rotation loss (default 50)"},
    {"max-angle", 0, OPT_DOUBLE, &cli_train.max_angle, "DEG",
     "rotation angle uniform in [0, DEG) per batch (default 360; 260 = the published code)"},
    {"seed", 0, OPT_I64, &cli_train.seed, "S",
     "initialization, shuffling, angles, subset, normalization sample (default 0)"},
    {"subset", 0, OPT_I64, &cli_train.subset, "K",
     "train on K randomly drawn positions, 0: all (default 0; encode covers all)"},
    {"exact-norm", 0, OPT_FLAG, &cli_train.exact_norm, NULL,
     "exact median and scale of the prepared pixels (a second pass; default: from the "
     "statistics' sample of 2^23 pixels of every pattern, its standard error in the log)"},
    {"base", 0, OPT_INT, &cli_train.base, "W", "width of the first block, 64 in the paper (default 64)"},
    {"latent-channels", 0, OPT_INT, &cli_train.latent_ch, "C", "channels at 1/16 size (default 4)"},
    {"latent", 0, OPT_INT, &cli_train.latent, "D", "latent features (default 16)"},
    {"mask", 0, OPT_STRING, &cli_train.mask, "disk|none",
     "disk (default): inputs of both passes masked to the inscribed disk, loss inside it; "
     "none: the published zero fill"},
    {"interp", 0, OPT_STRING, &cli_train.interp, "bilinear|nearest",
     "sampling of the rotation (default bilinear; nearest = the published code)"},
    {0}};

int cli_train_options_get(lcae_train_options *o)
{
    lcae_train_defaults(o);
    o->arch.base = cli_train.base;
    o->arch.latent_ch = cli_train.latent_ch;
    o->arch.latent = cli_train.latent;
    o->epochs = cli_train.epochs;
    if (cli_train.steps < 0)
        return cli_error(LCAE_EUSAGE, "option --steps: expected a non-negative number, found "
                         "%lld", (long long)cli_train.steps);
    o->steps = cli_train.steps;
    o->batch = cli_train.batch;
    o->lr = cli_train.lr;
    o->rot_loss = cli_train.rot_loss;
    o->invariant_dims = cli_train.invariant_dims;
    o->lambda = cli_train.lambda;
    o->max_angle = cli_train.max_angle;
    if (cli_train.seed < 0 || cli_train.subset < 0)
        return cli_error(LCAE_EUSAGE, "options --seed and --subset: expected non-negative "
                         "numbers, found %lld and %lld", (long long)cli_train.seed,
                         (long long)cli_train.subset);
    o->seed = (uint64_t)cli_train.seed;
    o->subset = cli_train.subset;
    lcae_prep pr;
    int rc = cli_prep_get(&pr);
    if (rc)
        return rc;
    o->bin = pr.bin;
    o->crop = pr.crop;
    o->transform = pr.transform;
    o->offset = pr.offset;
    o->center = pr.center;
    o->exact_norm = cli_train.exact_norm;
    if (!strcmp(cli_train.mask, "disk") || !strcmp(cli_train.mask, "none"))
        o->mask = !strcmp(cli_train.mask, "none") ? LCAE_MASK_NONE : LCAE_MASK_DISK;
    else
        return cli_error(LCAE_EUSAGE, "option --mask: expected disk or none, found '%s'",
                         cli_train.mask);
    if (!strcmp(cli_train.interp, "bilinear") || !strcmp(cli_train.interp, "nearest"))
        o->interp = !strcmp(cli_train.interp, "nearest") ? LCAE_INTERP_NEAREST
                                                         : LCAE_INTERP_BILINEAR;
    else
        return cli_error(LCAE_EUSAGE, "option --interp: expected bilinear or nearest, found "
                         "'%s'", cli_train.interp);
    if (!strcmp(cli_train.recon, "l1") || !strcmp(cli_train.recon, "mse"))
        o->recon = !strcmp(cli_train.recon, "mse") ? LCAE_RECON_MSE : LCAE_RECON_L1;
    else
        return cli_error(LCAE_EUSAGE, "option --recon: expected l1 or mse, found '%s'",
                         cli_train.recon);
    if (!strcmp(cli_train.lr_schedule, "constant") || !strcmp(cli_train.lr_schedule, "onecycle"))
        o->lr_schedule = !strcmp(cli_train.lr_schedule, "onecycle") ? LCAE_LR_ONECYCLE
                                                                    : LCAE_LR_CONSTANT;
    else
        return cli_error(LCAE_EUSAGE, "option --lr-schedule: expected constant or onecycle, "
                         "found '%s'", cli_train.lr_schedule);
    if (!strcmp(cli_train.rot_form, "paper") || !strcmp(cli_train.rot_form, "scaled"))
        o->rot_form = !strcmp(cli_train.rot_form, "scaled") ? LCAE_ROT_SCALED : LCAE_ROT_PAPER;
    else
        return cli_error(LCAE_EUSAGE, "option --rot-loss-form: expected paper or scaled, found "
                         "'%s'", cli_train.rot_form);
    if (!strcmp(cli_train.arch, "cae") || !strcmp(cli_train.arch, "polar"))
        o->arch.kind = !strcmp(cli_train.arch, "polar") ? LCAE_ARCH_POLAR : LCAE_ARCH_CAE;
    else
        return cli_error(LCAE_EUSAGE, "option --arch: expected cae or polar, found '%s'",
                         cli_train.arch);
    if (cli_train.base < 1 || cli_train.latent_ch < 1 || cli_train.latent < 1)
        return cli_error(LCAE_EUSAGE, "options --base, --latent-channels, --latent: expected "
                         "positive numbers");
    return 0;
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

static const cli_option *const train_groups[] = {train_options, cli_train_options,
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
