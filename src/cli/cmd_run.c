/* lcae run [DATA] -o DIR: the paper's whole experiment in one run directory. */
#include "cli.h"

#include <stdio.h>
#include <string.h>

#include "lcae/pipeline.h"
#include "lcae/report.h"

static const char *out_dir, *preset = "cpu", *truth_dir;
static const char *figure_format = "png,pdf";
/* the run's own options (cluster_on_invariant, invariant_bin, encode_batch, force), from
 * the library's table */
static lcae_run_options run_opts;
static cli_option run_table[9];
static cli_field run_fields[9];

/* The built-in sample's main parameters (LCAE_SIM_MAIN), under names of their own: in
 * lcae run, --scan is the scan file's shape and --seed, --batch are the training's. They
 * write into a parameter set holding the simulator's defaults (shown by the help), then
 * the --sample-preset's (run_init), so that those given override the preset's. */
static lcae_sim_params sample;
static int64_t sample_scan[2];
static const char *sample_preset = "default";
static cli_option run_sample_options[8];
static cli_field run_sample_fields[8];

static const cli_option run_sample_own[] = {
    {"sample-preset", 0, OPT_STRING, &sample_preset, "NAME",
     "built-in sample: default or lowdose (see 'lcae simulate --help'); the --sample-* "
     "options override it"},
    {"sample-scan", 0, OPT_SHAPE, sample_scan, "NYxNX", "built-in sample: scan shape (128)"},
    {0}};

void cli_run_defaults(void)
{
    lcae_options_defaults(lcae_run_option_table, &run_opts);
    cli_options_from(lcae_run_option_table, &run_opts, 0, 0, NULL, run_table, run_fields,
                     (int)(sizeof run_fields / sizeof *run_fields));
    lcae_sim_defaults(&sample);
    cli_options_from(lcae_sim_option_table, &sample, 0, LCAE_SIM_MAIN, "sample-",
                     run_sample_options, run_sample_fields,
                     (int)(sizeof run_sample_options / sizeof *run_sample_options));
}

static const cli_option run_options[] = {
    {"output", 'o', OPT_STRING, &out_dir, "DIR", "the run directory (required)"},
    {"preset", 0, OPT_STRING, &preset, "cpu|paper",
     "cpu: a reduced model that runs the built-in sample in minutes on a CPU; paper: "
     "METHOD.md exactly (default)"},
    {"truth", 0, OPT_STRING, &truth_dir, "DIR",
     "a folder with truth_class.npy (and truth_region.npy, truth_grain.npy) to score against"},
    {"figure-format", 0, OPT_STRING, &figure_format, "LIST",
     "the report's figures: png plus any of pdf, svg (default: png,pdf)"},
    {0}};

/* The presets' training settings. The paper's: METHOD.md, HDBSCAN at 60 whatever the
 * scan's size, the rotation-invariant model the paper's autoencoder with its rotation
 * loss in the published form (N = 10, lambda = 50), clustered on all 16 features. The CPU
 * preset scales HDBSCAN's min_cluster_size with the positions and uses the measured
 * recipe for a small budget (docs/model.md, "The CPU preset's recipe"): patterns binned
 * 4 x 4 (32 x 32 for a 128 detector), a narrow network, MSE (the clipped L1 barely trains
 * on normalized log data), 1,500 steps of 32 over all positions with PyTorch's
 * OneCycleLR up to 2e-3; its rotation-invariant model is the polar one (invariant by
 * construction: the paper's rotation loss collapses its invariant features), on patterns
 * binned 2 x 2 (at 32 x 32 its polar image of 16 radii is too coarse to ignore rotation:
 * docs/model.md), for 400 steps (more split grains of one class apart: docs/results.md),
 * clustered on its invariant features (its other 6 carry the orientation). It also
 * writes the full maps (--assign-noise): at low dose HDBSCAN leaves two thirds of the
 * positions as noise in the invariant features, whose full map still finds the classes
 * (docs/results.md); it smooths a feature map whose noise share says it is noisy
 * (--smooth auto: at low dose), which the paper does not; and it writes the filled maps
 * (--fill-radius 3: boundaries up to 6 scan pixels wide, the widest of the measured
 * samples, given to the grains around them; docs/clustering.md). */
static const char *const preset_cpu[][2] = {
    {"bin", "4"}, {"base", "8"}, {"steps", "1500"}, {"lr", "2e-3"}, {"lr-schedule", "onecycle"},
    {"recon", "mse"}, {"arch", "polar"}, {"invariant-bin", "2"}, {"invariant-steps", "400"},
    {"invariant-restarts", "3"}, {"angle-pool", "4"}, {"cluster-on", "invariant"},
    {"assign-noise", "on"}, {"smooth", "auto"}, {"fill-radius", "3"}, {NULL, NULL}};
/* the library's training defaults are the paper's but for the rotation loss's form and
 * weight, set here */
static const char *const preset_paper[][2] = {
    {"bin", "1"}, {"transform", "none"}, {"center", "none"}, {"min-cluster-size", "60"},
    {"arch", "cae"}, {"rot-loss-form", "paper"}, {"lambda", "50"}, {"cluster-on", "all"},
    {"invariant-bin", "0"}, {"invariant-steps", "0"}, {"invariant-restarts", "0"},
    {"smooth", "off"}, {NULL, NULL}};
static const cli_preset run_presets[] = {{"cpu", preset_cpu}, {"paper", preset_paper}, {0}};

static int preset_status;

static void run_init(int argc, char **argv)
{
    /* an unknown name is reported after parsing */
    preset_status = cli_apply_preset(&cmd_run, cli_peek_option(argc, argv, "preset", preset));
    lcae_sim_preset(cli_peek_option(argc, argv, "sample-preset", sample_preset), &sample);
}

/* Options that mean nothing in this run are an error naming the first one given: the
 * scan's layout without a scan, the built-in sample's with one. */
static int refuse_given(const cli_option *table, const char *why)
{
    for (const cli_option *o = table; o->name; o++)
        if (cli_given(o->dest))
            return cli_error(LCAE_EUSAGE, "option --%s: %s", o->name, why);
    return 0;
}

static int run_run(int npos, char **pos)
{
    if (preset_status)
        return preset_status;
    if (!out_dir)
        return cli_error(LCAE_EUSAGE, "run: the run directory is required (-o DIR)");
    if (strcmp(preset, "cpu") && strcmp(preset, "paper"))
        return cli_error(LCAE_EUSAGE, "option --preset: expected cpu or paper, found '%s'",
                         preset);
    if (run_opts.invariant_bin == 3)
        return cli_error(LCAE_EUSAGE, "option --invariant-bin: expected 0, 1, 2 or 4, found 3");
    static const char *const sample_only = "only for the built-in sample (no DATA)";
    int rc = npos ? refuse_given(run_sample_own, sample_only)
                  : refuse_given(cli_dataset_options, "only for a given scan (DATA)");
    if (!rc && npos)
        rc = refuse_given(run_sample_options, sample_only);
    if (rc)
        return rc;
    if (truth_dir && npos == 0)
        return cli_error(LCAE_EUSAGE, "option --truth: the built-in sample brings its own "
                         "truth (give a scan file to use --truth)");
    lcae_run_options o = run_opts;
    if (lcae_figure_formats_parse(figure_format, &o.figure_formats))
        return cli_error(LCAE_EUSAGE, "option --figure-format: %s", lcae_last_error());
    o.data = npos ? pos[0] : NULL;
    o.truth_dir = truth_dir;
    o.preset = preset;
    o.beam_map = cli_beam_map_path;
    rc = cli_train_options_get(&o.train);
    /* --steps or --epochs given, --invariant-steps not: both models train as asked (the
     * preset's 400 belong to its own 1,500) */
    if ((cli_train_given("steps") || cli_train_given("epochs")) &&
        !cli_field_given(run_fields, "invariant-steps"))
        o.invariant_steps = 0;
    if (cli_train_given("restarts") && !cli_field_given(run_fields, "invariant-restarts"))
        o.invariant_restarts = 0;
    if (!rc)
        rc = cli_hdbscan_params(&o.hdbscan);
    if (!rc)
        rc = cli_smooth_params(&o.smooth);
    if (rc)
        return rc;
    if (lcae_sim_preset(sample_preset, &o.sim))
        return cli_error(LCAE_EUSAGE, "option --sample-preset: %s", lcae_last_error());
    o.sim = sample;
    if (cli_given(sample_scan)) {
        o.sim.ny = sample_scan[0];
        o.sim.nx = sample_scan[1];
    }
    int st = lcae_sim_check(&o.sim);
    if (st)
        return cli_fail(st);
    if (o.data) {
        /* the scan is opened here once to report a bad file before any work is done */
        lcae_dataset *ds;
        rc = cli_open_dataset(o.data, &ds);
        if (rc)
            return rc;
        lcae_dataset_close(ds);
        st = cli_dataset_open_options(&o.open);
        if (st)
            return st;
    }
    st = lcae_run(&o, out_dir, cli_progress());
    if (st)
        return cli_fail(st);
    cli_note("report: %s/report/report.html", out_dir);
    return 0;
}

static const cli_option *const run_groups[] = {
    run_options, run_table, cli_train_options, cli_prep_options, cli_hdbscan_options, cli_smooth_options,
    run_sample_own, run_sample_options, cli_dataset_options, cli_common_options, NULL};

const cli_command cmd_run = {
    .name = "run",
    .usage = "[DATA] -o DIR [options]",
    .summary = "the whole experiment: statistics, both models, clusters, scores, report",
    .description =
        "Trains the standard and the rotation-invariant autoencoder on the scan, encodes\n"
        "every pattern with each, clusters the latent vectors with HDBSCAN, scores the\n"
        "clusters against the truth when it is known, and writes the report. Without\n"
        "DATA it simulates the built-in sample into DIR/sample and scores against its\n"
        "truth. A stage whose outputs exist and match the configuration (DIR/run.json)\n"
        "is not run again; --force redoes them.\n\n"
        "--preset cpu (the default) or paper sets the options listed under presets below;\n"
        "the options given override them, and the defaults shown are the preset's. paper\n"
        "is METHOD.md (the cpu preset scales min_cluster_size with the positions: 'lcae\n"
        "cluster --help'). The standard model is always the paper's autoencoder without\n"
        "the rotation loss; --arch, --rot-loss-form, --lambda, --max-angle and\n"
        "--cluster-on choose the rotation-invariant model's.\n\n"
        "DIR/run.json, DIR/sample/, DIR/stats/, DIR/standard/ and DIR/invariant/ (each\n"
        "model.safetensors, latent.npy, labels.npy, probabilities.npy, score.json; with\n"
        "--assign-noise also labels_full.npy, scored under \"full\"), and\n"
        "DIR/report/ (report.html, report.json, PNG figures).",
    .option_groups = run_groups,
    .min_positional = 0,
    .max_positional = 1,
    .run = run_run,
    .init = run_init,
    .presets = run_presets,
};
