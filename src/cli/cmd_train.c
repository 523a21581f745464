/* lcae train DATA -o MODEL.safetensors: trains the autoencoder on a scan. */
#include "cli.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lcae/model.h"

static const char *output;
static int resume;

/* The training options, shared with lcae run (whose presets change them before parsing):
 * the table's numbers go straight into the library's options, which cli_train_defaults
 * fills with lcae_train_defaults, so that no default is written here; their help shows
 * the value held ("(default)", see cli_print_help). Named choices parse from strings,
 * NULL keeping the library's default. */
cli_train_args cli_train;

void cli_train_defaults(void)
{
    lcae_train_defaults(&cli_train.opt);
}

static const cli_option train_options[] = {
    {"output", 'o', OPT_STRING, &output, "MODEL.safetensors",
     "the model (required); beside it MODEL.ckpt.safetensors and MODEL.log.json"},
    {"resume", 0, OPT_FLAG, &resume, NULL,
     "continue from MODEL.ckpt.safetensors (same options; --epochs may grow)"},
    /* not in the table lcae run shares: run trains both models */
    {"rot-loss", 0, OPT_FLAG, &cli_train.opt.rot_loss, NULL,
     "rotation-invariance loss and rotated pass (default on; --no-rot-loss: the paper's "
     "standard model, L_recon(x) only)"},
    {0}};

/* seed is a uint64_t: parsed as an int64_t (the same object, read back as one to refuse a
 * negative value) */
const cli_option cli_train_options[] = {
    {"arch", 0, OPT_STRING, &cli_train.arch, "cae|polar",
     "cae: the paper's autoencoder; polar: invariant by construction (polar image, circular "
     "convs, the first --invariant-dims features pooled over the angle, an auxiliary head; "
     "no rotation loss); in lcae run, the rotation-invariant model's (default cae)"},
    {"rot-loss-form", 0, OPT_STRING, &cli_train.rot_form, "paper|scaled",
     "the rotation loss: scaled, each invariant feature's |E(x) - E(Rx)| divided by its "
     "spread over the batch, which shrinking the features cannot lower; paper, the "
     "published mean |E(x) - E(Rx)| (with --lambda 50), met by collapsing the invariant "
     "features (default scaled)"},
    {"epochs", 0, OPT_INT, &cli_train.opt.epochs, "N",
     "passes over the training positions, used when --steps is 0 (default)"},
    {"steps", 0, OPT_I64, &cli_train.opt.steps, "N",
     "optimizer steps in all, 0: --epochs decide (default); N: ceil(N / steps per epoch) "
     "reshuffled passes, the last one stopping at step N (checkpoint and log per pass)"},
    {"batch", 0, OPT_INT, &cli_train.opt.batch, "B", "patterns per step (default)"},
    {"lr", 0, OPT_DOUBLE, &cli_train.opt.lr, "LR",
     "Adam learning rate; onecycle's maximum (default)"},
    {"lr-schedule", 0, OPT_STRING, &cli_train.lr_schedule, "constant|onecycle",
     "constant (default) or PyTorch's OneCycleLR over all steps (pct_start 0.25, cosine, "
     "from LR/25 up to LR, down to LR/25e4; Adam's beta1 0.95 -> 0.85 -> 0.95)"},
    {"recon", 0, OPT_STRING, &cli_train.recon, "l1|mse",
     "reconstruction loss inside the mask: l1 (default, the paper's clipped L1) or mse"},
    {"invariant-dims", 0, OPT_INT, &cli_train.opt.invariant_dims, "N",
     "latent features the rotation loss applies to (default; 16 = the published code)"},
    {"lambda", 0, OPT_DOUBLE, &cli_train.opt.lambda, "L",
     "weight of the rotation loss (default; the paper's form: 50)"},
    {"max-angle", 0, OPT_DOUBLE, &cli_train.opt.max_angle, "DEG",
     "rotation angle uniform in [0, DEG) per batch (default; 260 = the published code)"},
    {"seed", 0, OPT_I64, &cli_train.opt.seed, "S",
     "initialization, shuffling, angles, subset, normalization sample (default)"},
    {"subset", 0, OPT_I64, &cli_train.opt.subset, "K",
     "train on K randomly drawn positions, 0: all (default; encode covers all)"},
    {"exact-norm", 0, OPT_FLAG, &cli_train.opt.exact_norm, NULL,
     "exact median and scale of the prepared pixels (a second pass; default: from the "
     "statistics' sample of 2^23 pixels of every pattern, its standard error in the log)"},
    {"base", 0, OPT_INT, &cli_train.opt.arch.base, "W",
     "width of the first block, 64 in the paper (default)"},
    {"latent-channels", 0, OPT_INT, &cli_train.opt.arch.latent_ch, "C",
     "channels at 1/16 size (default)"},
    {"latent", 0, OPT_INT, &cli_train.opt.arch.latent, "D", "latent features (default)"},
    {"mask", 0, OPT_STRING, &cli_train.mask, "disk|none",
     "disk (default): inputs of both passes masked to the inscribed disk, loss inside it; "
     "none: the published zero fill"},
    {"interp", 0, OPT_STRING, &cli_train.interp, "bilinear|nearest",
     "sampling of the rotation (default bilinear; nearest = the published code)"},
    {0}};

int cli_train_options_get(lcae_train_options *o)
{
    *o = cli_train.opt;
    if (o->steps < 0)
        return cli_error(LCAE_EUSAGE, "option --steps: expected a non-negative number, found "
                         "%lld", (long long)o->steps);
    if ((int64_t)o->seed < 0 || o->subset < 0)
        return cli_error(LCAE_EUSAGE, "options --seed and --subset: expected non-negative "
                         "numbers, found %lld and %lld", (long long)(int64_t)o->seed,
                         (long long)o->subset);
    lcae_prep pr;
    int rc = cli_prep_get(&pr);
    if (rc)
        return rc;
    o->bin = pr.bin;
    o->crop = pr.crop;
    o->transform = pr.transform;
    o->offset = pr.offset;
    o->center = pr.center;
    int mask = o->mask, interp = o->interp, recon = o->recon, sched = o->lr_schedule,
        arch = o->arch.kind, rot_form = o->rot_form;
    if ((rc = cli_choice("mask", cli_train.mask, (const char *const[]){"disk", "none"},
                     (const int[]){LCAE_MASK_DISK, LCAE_MASK_NONE}, &mask)) ||
        (rc = cli_choice("interp", cli_train.interp, (const char *const[]){"bilinear", "nearest"},
                     (const int[]){LCAE_INTERP_BILINEAR, LCAE_INTERP_NEAREST}, &interp)) ||
        (rc = cli_choice("recon", cli_train.recon, (const char *const[]){"l1", "mse"},
                     (const int[]){LCAE_RECON_L1, LCAE_RECON_MSE}, &recon)) ||
        (rc = cli_choice("lr-schedule", cli_train.lr_schedule,
                     (const char *const[]){"constant", "onecycle"},
                     (const int[]){LCAE_LR_CONSTANT, LCAE_LR_ONECYCLE}, &sched)) ||
        (rc = cli_choice("arch", cli_train.arch, (const char *const[]){"cae", "polar"},
                     (const int[]){LCAE_ARCH_CAE, LCAE_ARCH_POLAR}, &arch)) ||
        (rc = cli_choice("rot-loss-form", cli_train.rot_form,
                     (const char *const[]){"paper", "scaled"},
                     (const int[]){LCAE_ROT_PAPER, LCAE_ROT_SCALED}, &rot_form)))
        return rc;
    o->rot_form = (lcae_rot_form)rot_form;
    o->mask = (lcae_mask)mask;
    o->interp = (lcae_interp)interp;
    o->recon = (lcae_recon)recon;
    o->lr_schedule = (lcae_lr_schedule)sched;
    o->arch.kind = (lcae_arch)arch;
    if (o->arch.base < 1 || o->arch.latent_ch < 1 || o->arch.latent < 1)
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
