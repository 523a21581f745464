/* lcae pipeline: the paper's whole experiment in one run directory (lcae run).
 *
 * Stages: the built-in sample (when no scan is given), statistics (and the direct beam's
 * positions, when centred), then for the standard and the rotation-invariant model:
 * train, encode, cluster (HDBSCAN), score (when the truth is known); for the features
 * that need no training (polar: angular Fourier magnitudes; pca): features, cluster,
 * score; last, the report. The run directory:
 *   DIR/run.json                  configuration, versions, each stage's key and seconds
 *   DIR/sample/                   the simulated scan and its truth (no scan given)
 *   DIR/stats/                    sum.npy, variance.npy, mean_pattern.npy, stats.json,
 *                                 beam_position.npy, beam_measured.npy (centred)
 *   DIR/standard/, DIR/invariant/ model.safetensors (+ .ckpt, .log.json), latent.npy,
 *                                 labels.npy, probabilities.npy, score.json (truth known)
 *   DIR/polar/, DIR/pca/          features.npy, features.json, labels.npy,
 *                                 probabilities.npy, score.json (truth known)
 *   and with hdbscan.assign_noise, labels_full.npy in each (noise assigned to clusters;
 *   score.json then has its scores under "full")
 *   DIR/report/                   figures, report.html, report.json
 * Resumable: a stage whose outputs exist and whose key (its configuration and that of
 * every stage it depends on, as canonical JSON) matches the one recorded in run.json is
 * not run again; `force` redoes every stage. run.json is rewritten after every stage.
 */
#ifndef LCAE_PIPELINE_H
#define LCAE_PIPELINE_H

#include "lcae/cluster.h"
#include "lcae/core.h"
#include "lcae/io.h"
#include "lcae/model.h"
#include "lcae/sim.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Which restart a model trained with restarts keeps: the lowest final loss (lcae_train's
 * choice), or the one whose clustering agrees most with the other restarts'
 * (lcae_model_keep_most_agreeing; the default, docs/model.md). */
typedef enum { LCAE_RESTART_LOSS = 0, LCAE_RESTART_AGREEMENT = 1 } lcae_restart_choice;

typedef struct {
    const char *data;           /* the scan; NULL: simulate the built-in sample */
    lcae_open_options open;     /* how to read it */
    const char *truth_dir;      /* folder with truth_class.npy (+ truth_region.npy,
                                   truth_grain.npy) for a given scan; NULL: none */
    lcae_sim_params sim;        /* the built-in sample */
    lcae_train_options train;   /* both models; its prep options (bin, crop, transform,
                                   offset, center) are also the feature extractors'. The
                                   standard model is always the paper's autoencoder
                                   without the rotation loss (arch.kind and rot_loss are
                                   ignored for it); arch.kind is the rotation-invariant
                                   model's: cae with the rotation loss, or polar */
    int invariant_bin;          /* the rotation-invariant model's binning; 0: train.bin */
    int64_t invariant_steps;    /* its optimizer steps; 0: train.steps (or epochs) */
    int invariant_restarts;     /* its restarts (lcae_train_options.restarts); 0: train's */
    int restart_choice;         /* a model trained with restarts keeps: LCAE_RESTART_* */
    int64_t restart_positions;  /* the agreement encodes and clusters at most this many
                                   positions: the scan's sub-grid (lcae_subgrid_step); 0:
                                   every position */
    const char *beam_map;       /* centring: the beam positions ((ny, nx, 2) .npy); NULL:
                                   found in the scan (DIR/stats/beam_position.npy) */
    lcae_hdbscan_params hdbscan; /* min_cluster_size 0: lcae_min_cluster_size_for(positions),
                                    recorded in run.json and score.json as used */
    int cluster_on_invariant;   /* 1: cluster the rotation-invariant model on its first
                                   invariant_dims features only */
    lcae_smooth_params smooth;  /* the feature maps' smoothing before clustering (its shape
                                   is the scan's, filled in by the run) */
    int encode_batch;           /* patterns per encoding batch (LCAE_ENCODE_BATCH) */
    int force;                  /* redo every stage */
    const char *preset;         /* recorded in run.json */
    unsigned figure_formats;    /* the report's figures: LCAE_FIGURE_* (lcae/report.h); 0:
                                   PNG + PDF */
} lcae_run_options;

/* The table (lcae/core.h, lcae_option) of the run's own options: cluster_on_invariant
 * ("cluster-on" all|invariant), invariant_bin, invariant_steps, invariant_restarts,
 * restart_choice ("restart-choice" loss|agreement), restart_positions,
 * encode_batch, force; the stages' are their
 * modules' (lcae_train_option_table, ...). */
extern const lcae_option lcae_run_option_table[];

/* Runs (or resumes) the experiment in `dir` (created if missing). Progress reports one
 * step per stage (skipped stages end with the summary "up to date"). */
int lcae_run(const lcae_run_options *o, const char *dir, const lcae_progress *p);

#ifdef __cplusplus
}
#endif
#endif
