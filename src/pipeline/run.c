/* lcae run: the stages of the experiment in one run directory, resumable through the
 * stage keys recorded in run.json (see include/lcae/pipeline.h).
 * Under MPI (docs/mpi.md) every rank walks the same stages: the statistics, training,
 * encoding and features are spread over the ranks (those stages' own collectives); rank 0
 * alone holds the lock, decides which stages are up to date, simulates the sample, finds
 * the beam (broadcast to the others), clusters, scores, draws the report and writes
 * run.json, and tells the others how that went (lcae_mpi_check). */
#include "lcae/pipeline.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "lcae/features.h"
#include "lcae/mpi.h"
#include "lcae/report.h"
#include "lcae/score.h"
#include "lcae/stats.h"
#include "core/util.h"
#include "pipeline_internal.h"

typedef struct {
    const char *dir;
    char *run_json;   /* DIR/run.json */
    cJSON *run;       /* its contents: version, preset, config, stages */
    int force;
    const lcae_progress *p;
} run_state;

static int file_exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

/* *j: the JSON in path, of at most max_bytes (NULL when the file is missing or damaged). */
static int load_json_if_present(const char *path, size_t max_bytes, cJSON **j)
{
    *j = NULL;
    if (!file_exists(path))
        return LCAE_OK;
    char *text;
    size_t len;
    int rc = lcae_read_text_file(path, max_bytes, &text, &len);
    if (rc)
        return rc;
    *j = cJSON_Parse(text);
    free(text);
    return LCAE_OK;
}

/* run.json from an earlier run, or a new object; a damaged or unreadable one is started
 * afresh (every stage then reruns), since it is only a record of what was done. */
static cJSON *load_run_json(const char *path)
{
    cJSON *j;
    load_json_if_present(path, 16 << 20, &j);
    if (!cJSON_IsObject(j)) {
        cJSON_Delete(j);
        j = cJSON_CreateObject();
    }
    if (!cJSON_IsObject(cJSON_GetObjectItem(j, "stages"))) {
        cJSON_DeleteItemFromObject(j, "stages");
        cJSON_AddObjectToObject(j, "stages");
    }
    return j;
}

static int save_run_json(run_state *rs)
{
    if (lcae_mpi_rank()) /* rank 0 keeps the record */
        return LCAE_OK;
    char *text = cJSON_Print(rs->run);
    if (!text)
        return lcae_fail(LCAE_ENOMEM, "%s: out of memory", rs->run_json);
    size_t n = strlen(text);
    text[n] = '\n'; /* replaces the terminator: written with its length below */
    int rc = lcae_write_file_atomic(rs->run_json, text, n + 1);
    free(text);
    return rc;
}

/* 1 if the stage is up to date: same key as recorded and every output present. */
static int stage_current(run_state *rs, const char *stage, const char *key,
                         char *const *outputs, int n_outputs)
{
    if (rs->force)
        return 0;
    cJSON *s = cJSON_GetObjectItem(cJSON_GetObjectItem(rs->run, "stages"), stage);
    const char *old = cJSON_GetStringValue(cJSON_GetObjectItem(s, "key"));
    if (!old || strcmp(old, key))
        return 0;
    for (int i = 0; i < n_outputs; i++)
        if (!file_exists(outputs[i]))
            return 0;
    lcae_progress_begin(rs->p, stage, 0, "");
    lcae_progress_end(rs->p, "up to date");
    return 1;
}

static int stage_done(run_state *rs, const char *stage, const char *key, double seconds)
{
    cJSON *stages = cJSON_GetObjectItem(rs->run, "stages");
    cJSON_DeleteItemFromObject(stages, stage);
    cJSON *s = cJSON_AddObjectToObject(stages, stage);
    cJSON_AddStringToObject(s, "key", key);
    cJSON_AddNumberToObject(s, "seconds", seconds);
    return save_run_json(rs);
}

/* Removes a stage's record (before it starts: see run_stage). */
static int stage_forget(run_state *rs, const char *stage)
{
    cJSON *stages = cJSON_GetObjectItem(rs->run, "stages");
    if (!cJSON_GetObjectItem(stages, stage))
        return LCAE_OK;
    cJSON_DeleteItemFromObject(stages, stage);
    return save_run_json(rs);
}

/* A stage's key: a 64-bit FNV-1a digest of its own configuration (canonical JSON) and
 * the key of the stage it depends on, as 16 hex digits. Takes ownership of `own`. */
static char *make_key(const char *upstream, cJSON *own)
{
    char *text = cJSON_PrintUnformatted(own);
    cJSON_Delete(own);
    char *key = lcae_malloc(17);
    if (!text || !key) {
        free(text);
        free(key);
        lcae_fail(LCAE_ENOMEM, "out of memory");
        return NULL;
    }
    uint64_t h = UINT64_C(14695981039346656037);
    const char *parts[2] = {upstream ? upstream : "", text};
    for (int k = 0; k < 2; k++)
        for (const unsigned char *c = (const unsigned char *)parts[k]; *c; c++)
            h = (h ^ *c) * UINT64_C(1099511628211);
    snprintf(key, 17, "%016llx", (unsigned long long)h);
    free(text);
    return key;
}

/* What identifies a scan file: its path, size and modification time. */
static cJSON *file_identity(const char *path)
{
    cJSON *j = cJSON_CreateObject();
    struct stat st;
    cJSON_AddStringToObject(j, "path", path);
    if (stat(path, &st) == 0) {
        cJSON_AddNumberToObject(j, "bytes", (double)st.st_size);
        cJSON_AddNumberToObject(j, "mtime_ns",
                                (double)st.st_mtim.tv_sec * 1e9 + (double)st.st_mtim.tv_nsec);
    }
    return j;
}

/* Loads DIR/NAME.npy of n int32 values if it exists (*out NULL otherwise). */
/* An int32 map of the scan (labels, truth): one value per position, n in all. */
static int load_map(const char *path, int64_t n, int32_t **out)
{
    lcae_npy_header h;
    int rc = lcae_npy_load_i32(path, &h, out);
    if (!rc && h.count != n) {
        rc = lcae_fail(LCAE_EFAIL, "%s: %lld values (expected one per scan position, %lld)",
                       path, (long long)h.count, (long long)n);
        free(*out);
        *out = NULL;
    }
    return rc;
}

static int load_truth(const char *dir, const char *name, int64_t n, int32_t **out)
{
    *out = NULL;
    if (!dir)
        return LCAE_OK;
    char *path = lcae_path_join(dir, name);
    if (!path)
        return LCAE_ENOMEM;
    int rc = file_exists(path) ? load_map(path, n, out) : LCAE_OK;
    free(path);
    return rc;
}

/* ---- the feature sources and their stages ---------------------------------------------
 * A source turns the scan into one vector per position (a model: train, then encode; an
 * extractor: one features stage); every source is then clustered and, with a truth,
 * scored. Adding a source is one row of `sources`; adding a kind, one stage list. */
typedef enum { SOURCE_MODEL, SOURCE_FEATURES } source_kind;

typedef struct {
    const char *name, *title;
    source_kind kind;
    int invariant;               /* models: the rotation-invariant one (lcae_run_options'
                                    arch, invariant_bin, invariant_steps,
                                    invariant_restarts,
                                    cluster_on_invariant) */
    lcae_features_method method; /* extractors */
} source_def;

static const source_def sources[] = {
    {"standard", "Standard autoencoder", SOURCE_MODEL, 0, 0},
    {"invariant", "Rotation-invariant autoencoder", SOURCE_MODEL, 1, 0},
    {"polar", "Angular Fourier magnitudes", SOURCE_FEATURES, 0, LCAE_FEATURES_POLAR},
    {"pca", "PCA of the patterns", SOURCE_FEATURES, 0, LCAE_FEATURES_PCA},
};
#define NSOURCES ((int)(sizeof sources / sizeof *sources))

typedef struct {
    const int32_t *truth_class, *truth_region, *truth_grain;
    int64_t n;
} truth_maps;

typedef struct source_run source_run;

/* What every stage sees. */
typedef struct {
    run_state *rs;
    const lcae_run_options *o;
    lcae_dataset *ds;
    const char *data_path;
    float *beam;        /* (count, 2) direct-beam positions, NULL when not centred (the
                           statistics stage's, owned) */
    lcae_stats st;      /* the statistics stage's, for the report */
    truth_maps truth;
    const char *truth_dir;
    int64_t ny, nx;     /* the scan's shape (feature maps are smoothed over it) */
    int64_t given_min_cluster_size; /* --min-cluster-size as given; 0: the rule's (o holds
                                       the rule's value for the scan's positions) */
    char *stats_dir, *report_dir;
    source_run *src;    /* the sources, NSOURCES, their results read back for the report */
    cJSON *config;      /* run.json's, shown by the report */
} run_ctx;

/* One source's folder, files and (for the report) results. */
struct source_run {
    const source_def *def;
    char *dir;
    char *model, *log, *vectors, *labels, *probabilities, *score;
    char *labels_full; /* with assign_noise, else NULL (not an output) */
    char *labels_filled; /* with a fill radius, else NULL (not an output) */
    char *labels_grains; /* with a fill radius: the filled map's grains, else NULL */
    char *cluster;     /* cluster.json: the clustering's summary (lcae_cluster_summary) */
    float *z;       /* (n, dims): latent vectors or features */
    int dims;
    int32_t *lab;   /* (n) */
    int32_t *lab_filled; /* (n) the filled map, or NULL */
    cJSON *score_json, *cluster_json;
};

static void source_run_free(source_run *s)
{
    free(s->dir);
    free(s->model);
    free(s->log);
    free(s->vectors);
    free(s->labels);
    free(s->probabilities);
    free(s->labels_full);
    free(s->labels_filled);
    free(s->labels_grains);
    free(s->cluster);
    free(s->score);
    free(s->z);
    free(s->lab);
    free(s->lab_filled);
    cJSON_Delete(s->score_json);
    cJSON_Delete(s->cluster_json);
}

static int source_run_paths(source_run *s, const char *dir, int assign_noise, int fill)
{
    s->dir = lcae_path_join(dir, s->def->name);
    if (!s->dir)
        return LCAE_ENOMEM;
    int model = s->def->kind == SOURCE_MODEL;
    s->model = lcae_path_join(s->dir, "model.safetensors");
    s->log = lcae_path_join(s->dir, "model.log.json");
    s->vectors = lcae_path_join(s->dir, model ? "latent.npy" : "features.npy");
    s->labels = lcae_path_join(s->dir, "labels.npy");
    s->probabilities = lcae_path_join(s->dir, "probabilities.npy");
    s->score = lcae_path_join(s->dir, "score.json");
    s->cluster = lcae_path_join(s->dir, "cluster.json");
    if (assign_noise && !(s->labels_full = lcae_path_join(s->dir, "labels_full.npy")))
        return LCAE_ENOMEM;
    if (fill && !(s->labels_filled = lcae_path_join(s->dir, "labels_filled.npy")))
        return LCAE_ENOMEM;
    if (fill && !(s->labels_grains = lcae_path_join(s->dir, "labels_grains.npy")))
        return LCAE_ENOMEM;
    if (!s->model || !s->log || !s->vectors || !s->labels || !s->probabilities || !s->score ||
        !s->cluster)
        return LCAE_ENOMEM;
    return lcae_make_dirs(s->dir);
}

/* ---- the stages -------------------------------------------------------------------- */
/* A model's training options: the standard model is the paper's autoencoder without the
 * rotation loss; the rotation-invariant one has the run's architecture (the paper's with
 * its rotation loss, or the polar model, invariant by construction) and binning. */
static lcae_train_options model_train_options(const run_ctx *c, const source_run *s)
{
    lcae_train_options t = c->o->train;
    if (!s->def->invariant) {
        t.arch.kind = LCAE_ARCH_CAE;
        t.rot_loss = 0;
    } else {
        t.rot_loss = t.arch.kind == LCAE_ARCH_CAE;
        if (c->o->invariant_bin)
            t.bin = c->o->invariant_bin;
        if (c->o->invariant_steps)
            t.steps = c->o->invariant_steps;
        if (c->o->invariant_restarts)
            t.restarts = c->o->invariant_restarts;
    }
    return t;
}

/* An earlier run's files that the training about to run will not write, so that the
 * folder holds one training's: restarts past t->restarts (all of them for one training),
 * and the checkpoint of a single training when this one restarts. */
static int remove_stale_restarts(const source_run *s, const lcae_train_options *t)
{
    static const char *const kinds[] = {"safetensors", "ckpt.safetensors", "log.json",
                                        "latent.npy", "labels.npy"};
    if (t->restarts > 1) {
        char *ckpt = lcae_path_join(s->dir, "model.ckpt.safetensors");
        if (!ckpt)
            return LCAE_ENOMEM;
        unlink(ckpt);
        free(ckpt);
    }
    for (int i = t->restarts > 1 ? t->restarts + 1 : 1, found = 1; found; i++) {
        found = 0;
        for (size_t k = 0; k < sizeof kinds / sizeof *kinds; k++) {
            char *path = lcae_model_restart_path(s->model, i, kinds[k]);
            if (!path)
                return LCAE_ENOMEM;
            found |= unlink(path) == 0;
            free(path);
        }
    }
    return LCAE_OK;
}

/* The features the restarts' agreement clusters: a model's invariant features if it has
 * them, whatever --cluster-on says (they carry the classes whose merging or splitting
 * the agreement is to catch, and so the rule measured in docs/model.md is kept; the
 * claim's --cluster-on all pass clusters the same model), else all (0). */
static int agreement_dims(const run_ctx *c, const source_run *s)
{
    return s->def->invariant ? c->o->train.invariant_dims : 0;
}

/* Agreement of restart a with the others: the sum of the ARIs of its labels with each
 * other restart's (NULL labels: a diverged restart, none). */
static int restart_agreement(int32_t *const *labels, int restarts, int64_t n, int a,
                             double *sum)
{
    *sum = 0;
    for (int b = 0; b < restarts; b++) {
        double ari;
        if (b == a || !labels[b])
            continue;
        int rc = lcae_adjusted_rand_index(labels[a], labels[b], n, &ari);
        if (rc)
            return rc;
        *sum += ari;
    }
    return LCAE_OK;
}

/* v for a sub-grid holding 1 / area of each region's positions: divided, rounded, at least
 * `least` */
static int64_t per_area(int64_t v, int64_t area, int64_t least)
{
    int64_t q = (v + area / 2) / area;
    return q < least ? least : q;
}

/* The step of the scan's sub-grid that the agreement among restarts reads (1: every
 * position). */
static int64_t agreement_step(const run_ctx *c)
{
    return lcae_subgrid_step(c->ny, c->nx, c->o->restart_positions);
}

/* The beam positions (ny, nx, 2) at the sub-grid's positions (NULL: none to take). */
static float *subgrid_beam(const run_ctx *c, const lcae_dataset *grid, int64_t step, int *rc)
{
    const lcae_dataset_info *g = lcae_dataset_get_info(grid);
    float *b = c->beam ? lcae_malloc((size_t)(g->count * 2) * sizeof *b) : NULL;
    if (c->beam && !b)
        *rc = LCAE_ENOMEM;
    for (int64_t i = 0; b && i < g->count; i++) {
        int64_t at = lcae_subgrid_parent(i, g->nx, c->nx, step);
        b[2 * i] = c->beam[2 * at];
        b[2 * i + 1] = c->beam[2 * at + 1];
    }
    return b;
}

/* --restart-choice agreement: each restart's model encodes the scan (NAME.restartI.
 * latent.npy) and is clustered as the cluster stage clusters, on agreement_dims's
 * features, without the maps after HDBSCAN's labels (NAME.restartI.labels.npy); the
 * restart whose labels agree most with the others' is kept (lcae_model_keep_restart_by).
 * A training run's restarts differ by their initialization alone, and a restart that
 * merged or split classes disagrees with the rest, where the final loss may not tell
 * (docs/model.md, "Three restarts of the rotation-invariant model"). With
 * --restart-positions N, a scan of more than N positions is read on its sub-grid of every
 * step-th row and column: on a 1024 x 1024 scan the three encodings and clusterings of
 * every position took 45 % of lcae run's time, but the sub-grid's agreement need not rank
 * the restarts as the whole scan's does (measured in docs/model.md), so it is not the
 * default. */
static int keep_by_agreement(run_ctx *c, source_run *s, int restarts)
{
    int32_t **labels = lcae_calloc((size_t)restarts, sizeof *labels);
    double *agreement = lcae_malloc((size_t)restarts * sizeof *agreement);
    int rc = labels && agreement ? LCAE_OK : LCAE_ENOMEM;
    int64_t n = 0, step = agreement_step(c);
    lcae_dataset *grid = c->ds;
    const float *beam = c->beam;
    float *grid_beam = NULL;
    if (!rc && step > 1 && !(rc = lcae_dataset_subgrid(c->ds, step, &grid))) {
        beam = grid_beam = subgrid_beam(c, grid, step, &rc);
        char says[96];
        snprintf(says, sizeof says, "%lld x %lld positions, every %lld%s row and column",
                 (long long)lcae_dataset_get_info(grid)->ny,
                 (long long)lcae_dataset_get_info(grid)->nx, (long long)step,
                 step == 2 ? "nd" : step == 3 ? "rd" : "th");
        lcae_progress_begin(c->rs->p, "restart agreement on the scan's sub-grid", 0, NULL);
        lcae_progress_end(c->rs->p, says);
    }
    lcae_smooth_params sm = c->o->smooth;
    sm.ny = lcae_dataset_get_info(grid)->ny;
    sm.nx = lcae_dataset_get_info(grid)->nx;
    sm.fill_radius = 0;
    /* a sub-grid holds 1 / step^2 of each region's positions: min_cluster_size the rule's
     * for its positions (0), or a given one (and a given min_samples) divided by step^2 */
    lcae_hdbscan_params hd = c->o->hdbscan;
    if (step > 1) {
        int64_t area = step * step;
        hd.min_cluster_size =
            c->given_min_cluster_size ? per_area(c->given_min_cluster_size, area, 2) : 0;
        if (hd.min_samples)
            hd.min_samples = per_area(hd.min_samples, area, 1);
    }
    for (int i = 0; !rc && i < restarts; i++) {
        char *model = lcae_model_restart_path(s->model, i + 1, "safetensors");
        char *latent = lcae_model_restart_path(s->model, i + 1, "latent.npy");
        char *lab = lcae_model_restart_path(s->model, i + 1, "labels.npy");
        rc = model && latent && lab ? LCAE_OK : LCAE_ENOMEM;
        /* a diverged restart wrote no model (shared file system: every rank sees it) */
        int trained = !rc && file_exists(model);
        if (trained)
            rc = lcae_encode_file(model, grid, beam, NULL, c->o->encode_batch, latent,
                                  c->rs->p, NULL);
        if (!rc && trained && lcae_mpi_rank() == 0) {
            lcae_cluster_outputs out = {.labels = lab};
            lcae_npy_header h;
            rc = lcae_cluster_file(latent, agreement_dims(c, s), &hd, &sm, &out, c->rs->p,
                                   NULL);
            if (!rc)
                rc = lcae_npy_load_i32(lab, &h, &labels[i]);
            if (!rc)
                n = h.count; /* every restart encodes the same positions */
        }
        free(model);
        free(latent);
        free(lab);
        rc = lcae_mpi_check(rc); /* every rank leaves the loop together */
    }
    for (int i = 0; !rc && lcae_mpi_rank() == 0 && i < restarts; i++) {
        agreement[i] = NAN;
        if (labels[i])
            rc = restart_agreement(labels, restarts, n, i, &agreement[i]);
    }
    rc = lcae_mpi_check(rc);
    if (!rc)
        rc = lcae_model_keep_restart_by(s->model, agreement, c->rs->p);
    for (int i = 0; labels && i < restarts; i++)
        free(labels[i]);
    free(labels);
    free(agreement);
    free(grid_beam);
    if (grid != c->ds)
        lcae_dataset_close(grid);
    return rc;
}

static int do_train(run_ctx *c, source_run *s)
{
    lcae_train_options t = model_train_options(c, s);
    t.resume = 0;
    int rc = remove_stale_restarts(s, &t);
    return rc ? rc : lcae_train(c->ds, &t, c->beam, s->model, c->rs->p);
}

/* The restart stage: which restart a model trained with restarts keeps (its own stage,
 * so that a clustering option redoes the choice, not the training). Nothing to do for a
 * single training. */
static int do_restart(run_ctx *c, source_run *s)
{
    lcae_train_options t = model_train_options(c, s);
    if (t.restarts < 2)
        return LCAE_OK;
    return c->o->restart_choice == LCAE_RESTART_AGREEMENT
               ? keep_by_agreement(c, s, t.restarts)
               : lcae_model_keep_restart_by(s->model, NULL, c->rs->p);
}

static cJSON *train_config(run_ctx *c, source_run *s)
{
    lcae_train_options t = model_train_options(c, s);
    return lcae_options_json(lcae_train_option_table, &t);
}

/* The restart stage's key: the rule, and the agreement's clustering (HDBSCAN's
 * parameters, the smoothing and the features clustered); empty for a single training. */
static cJSON *restart_config(run_ctx *c, source_run *s)
{
    lcae_train_options t = model_train_options(c, s);
    cJSON *j = cJSON_CreateObject();
    if (!j || t.restarts < 2)
        return j;
    int agreement = c->o->restart_choice == LCAE_RESTART_AGREEMENT;
    cJSON_AddStringToObject(j, "choice", agreement ? "agreement" : "loss");
    if (agreement) {
        cJSON_AddItemToObject(j, "hdbscan", pipeline_hdbscan_params_json(&c->o->hdbscan));
        cJSON_AddItemToObject(j, "smooth", pipeline_smooth_params_json(&c->o->smooth));
        cJSON_AddNumberToObject(j, "features", agreement_dims(c, s));
        /* only where it is not every position: the keys of smaller scans' runs stay */
        if (agreement_step(c) > 1)
            cJSON_AddNumberToObject(j, "subgrid_step", (double)agreement_step(c));
        /* the restarts' latents are the encode stage's (do_encode) */
        cJSON_AddNumberToObject(j, "encode_batch", c->o->encode_batch);
    }
    return j;
}

/* The restart stage's encoding of the kept restart (NAME.restartK.latent.npy), when it is
 * the whole scan's with this run's batches: kept by agreement on every position (the
 * stage's key holds the rule, the sub-grid and the batch, and it runs again whenever the
 * training does, so the file is the kept model's). NULL: encode afresh. */
static char *kept_restart_latent(const run_ctx *c, const source_run *s)
{
    lcae_train_options t = model_train_options(c, s);
    if (t.restarts < 2 || c->o->restart_choice != LCAE_RESTART_AGREEMENT ||
        agreement_step(c) > 1)
        return NULL;
    cJSON *log = NULL;
    if (load_json_if_present(s->log, 64u << 20, &log) || !log)
        return NULL;
    const cJSON *rule = cJSON_GetObjectItem(log, "restart_choice");
    const cJSON *kept = cJSON_GetObjectItem(log, "chosen_restart");
    char *latent = cJSON_IsString(rule) && !strcmp(rule->valuestring, "agreement") &&
                           cJSON_IsNumber(kept)
                       ? lcae_model_restart_path(s->model, kept->valueint, "latent.npy")
                       : NULL;
    cJSON_Delete(log);
    if (latent && !file_exists(latent)) {
        free(latent);
        latent = NULL;
    }
    return latent;
}

/* from, byte for byte, into to (atomically); held whole in memory, as the encoding it
 * replaces holds the latent (lcae_encode_file) */
static int copy_file(const char *from, const char *to)
{
    char *bytes;
    size_t n;
    int rc = lcae_read_text_file(from, SIZE_MAX / 2, &bytes, &n);
    if (rc)
        return rc;
    rc = lcae_write_file_atomic(to, bytes, n);
    free(bytes);
    return rc;
}

/* The encode stage. A model kept among restarts by agreement was encoded by the restart
 * stage with the same batches: that latent is copied (the same bits: tests/cli_run.sh
 * compares them with lcae encode's), which saves an encoding of the scan, 132 s of a
 * 1024 x 1024 scan's run (docs/model.md). */
static int do_encode(run_ctx *c, source_run *s)
{
    char *kept = kept_restart_latent(c, s); /* every rank sees the same files */
    if (kept) {
        int rc = lcae_mpi_check(lcae_mpi_rank() == 0 ? copy_file(kept, s->vectors) : LCAE_OK);
        free(kept);
        if (!rc) {
            lcae_progress_begin(c->rs->p, "encode", 0, NULL);
            lcae_progress_end(c->rs->p, "the kept restart's, from the restart stage");
        }
        return rc;
    }
    return lcae_encode_file(s->model, c->ds, c->beam, NULL, c->o->encode_batch, s->vectors,
                            c->rs->p, NULL);
}

/* An extractor's options: its method's defaults, prepared as the models' patterns are. */
static lcae_features_options features_options(const run_ctx *c, const source_run *s)
{
    const lcae_train_options *t = &c->o->train;
    lcae_features_options f = lcae_features_defaults(s->def->method);
    f.prep = (lcae_prep){.crop = t->crop, .bin = t->bin, .center = t->center,
                         .transform = t->transform, .offset = t->offset};
    f.seed = t->seed;
    return f;
}

static int do_features(run_ctx *c, source_run *s)
{
    lcae_features_options fo = features_options(c, s);
    return lcae_features_file(c->ds, &fo, c->beam, NULL, s->vectors, c->rs->p, NULL);
}

static cJSON *features_config(run_ctx *c, source_run *s)
{
    lcae_features_options f = features_options(c, s);
    return lcae_features_options_json(&f);
}

/* encoding adds nothing to the training's key: the batch does not change the latents */
static cJSON *no_config(run_ctx *c, source_run *s)
{
    (void)c;
    (void)s;
    return cJSON_CreateObject();
}

/* The rotation-invariant model may be clustered on its first invariant_dims features only
 * (0: all; the standard model has no invariant features: it is always clustered on all). */
static int cluster_dims(const run_ctx *c, const source_run *s)
{
    return s->def->invariant && c->o->cluster_on_invariant ? c->o->train.invariant_dims : 0;
}

static int do_cluster(run_ctx *c, source_run *s)
{
    lcae_cluster_outputs out = {.labels = s->labels, .labels_full = s->labels_full,
                                .labels_filled = s->labels_filled,
                                .labels_grains = s->labels_grains,
                                .probabilities = s->probabilities, .summary = s->cluster};
    lcae_smooth_params sm = c->o->smooth;
    sm.ny = c->ny;
    sm.nx = c->nx;
    int rc = lcae_cluster_file(s->vectors, cluster_dims(c, s), &c->o->hdbscan, &sm, &out,
                               c->rs->p, NULL);
    /* an earlier run's full, filled or grain map would not match these labels */
    const struct {
        const char *written, *name;
    } maps[] = {{s->labels_full, "labels_full.npy"},
                {s->labels_filled, "labels_filled.npy"},
                {s->labels_grains, "labels_grains.npy"}};
    for (int k = 0; !rc && k < 3; k++) {
        if (maps[k].written)
            continue;
        char *stale = lcae_path_join(s->dir, maps[k].name);
        if (!stale)
            return LCAE_ENOMEM;
        unlink(stale);
        free(stale);
    }
    return rc;
}

static cJSON *cluster_config(run_ctx *c, source_run *s)
{
    cJSON *j = pipeline_hdbscan_params_json(&c->o->hdbscan);
    cJSON_AddItemToObject(j, "smooth", pipeline_smooth_params_json(&c->o->smooth));
    if (s->def->invariant) {
        cJSON_AddBoolToObject(j, "cluster_on_invariant", c->o->cluster_on_invariant);
        if (c->o->cluster_on_invariant)
            cJSON_AddNumberToObject(j, "invariant_dims", c->o->train.invariant_dims);
    }
    return j;
}

/* The scores of one labelling (labels.npy, labels_full.npy, labels_filled.npy or
 * labels_grains.npy) against each truth known, as members "class" and "grain" of j
 * (boundaries from truth_region.npy beside them). */
static int score_labels(const run_ctx *c, const char *path, cJSON *j)
{
    const struct {
        const char *name, *file;
        const int32_t *truth;
    } against[] = {{"class", "truth_class.npy", c->truth.truth_class},
                   {"grain", "truth_grain.npy", c->truth.truth_grain}};
    int rc = LCAE_OK;
    for (int a = 0; a < 2 && !rc; a++) {
        if (!against[a].truth)
            continue;
        char *truth = lcae_path_join(c->truth_dir, against[a].file);
        lcae_score_result r;
        rc = truth ? lcae_score_file(path, truth, NULL, &r) : LCAE_ENOMEM;
        if (!rc)
            cJSON_AddItemToObject(j, against[a].name, lcae_score_json(&r));
        free(truth);
    }
    return rc;
}

/* score.json: "class" and "grain" for HDBSCAN's labels (noise a label of its own), the
 * min_cluster_size and min_samples they were clustered with, with assign_noise "full",
 * the same scores for the full map, and with a fill radius "filled", the filled map's. */
static int do_score(run_ctx *c, source_run *s)
{
    cJSON *j = cJSON_CreateObject();
    int rc = score_labels(c, s->labels, j);
    const lcae_hdbscan_params *hp = &c->o->hdbscan;
    cJSON_AddNumberToObject(j, "min_cluster_size", (double)hp->min_cluster_size);
    cJSON_AddNumberToObject(j, "min_samples",
                            (double)(hp->min_samples ? hp->min_samples : hp->min_cluster_size));
    if (!rc && s->labels_full)
        rc = score_labels(c, s->labels_full, cJSON_AddObjectToObject(j, "full"));
    if (!rc && s->labels_filled)
        rc = score_labels(c, s->labels_filled, cJSON_AddObjectToObject(j, "filled"));
    if (!rc && s->labels_grains)
        rc = score_labels(c, s->labels_grains, cJSON_AddObjectToObject(j, "grains"));
    char *text = rc ? NULL : cJSON_Print(j);
    cJSON_Delete(j);
    if (rc)
        return rc;
    if (!text)
        return lcae_fail(LCAE_ENOMEM, "out of memory");
    rc = lcae_write_file_atomic(s->score, text, strlen(text));
    free(text);
    return rc;
}

static cJSON *score_config(run_ctx *c, source_run *s)
{
    (void)s;
    cJSON *j = cJSON_CreateObject();
    char *tp = lcae_path_join(c->truth_dir, "truth_class.npy");
    if (tp)
        cJSON_AddItemToObject(j, "truth", file_identity(tp));
    free(tp);
    return j;
}

/* A stage: its name under the source ("standard/train"), what it writes, how. */
typedef struct {
    const char *what;
    int (*run)(run_ctx *c, source_run *s);
    cJSON *(*config)(run_ctx *c, source_run *s); /* what its key adds to the upstream's */
    size_t outputs[6];                            /* offsets of source_run paths */
    int n_outputs;
    int needs_truth;
    int spread; /* over the MPI ranks (else run by rank 0) */
    int always; /* never up to date: run every time (the run's own stages) */
} stage_def;

#define OUT(field) offsetof(source_run, field)
static const stage_def model_stages[] = {
    {"train", do_train, train_config, {OUT(model)}, 1, 0, 1, 0},
    {"restart", do_restart, restart_config, {OUT(model)}, 1, 0, 1, 0},
    {"encode", do_encode, no_config, {OUT(vectors)}, 1, 0, 1, 0},
    {"cluster", do_cluster, cluster_config,
     {OUT(labels), OUT(probabilities), OUT(cluster), OUT(labels_full), OUT(labels_filled),
      OUT(labels_grains)},
     6,
     0, 0, 0},
    {"score", do_score, score_config, {OUT(score)}, 1, 1, 0, 0},
    {NULL, NULL, NULL, {0}, 0, 0, 0, 0}};
static const stage_def features_stages[] = {
    {"features", do_features, features_config, {OUT(vectors)}, 1, 0, 1, 0},
    {"cluster", do_cluster, cluster_config,
     {OUT(labels), OUT(probabilities), OUT(cluster), OUT(labels_full), OUT(labels_filled),
      OUT(labels_grains)},
     6,
     0, 0, 0},
    {"score", do_score, score_config, {OUT(score)}, 1, 1, 0, 0},
    {NULL, NULL, NULL, {0}, 0, 0, 0, 0}};
#undef OUT

static const stage_def *stages_of(source_kind kind)
{
    return kind == SOURCE_MODEL ? model_stages : features_stages;
}

/* The one stage runner: runs fn(arg) as stage `name` unless it is up to date (always:
 * it runs), and says in *ran (if not NULL) whether it ran. Its recorded key is removed
 * (and run.json saved) before it starts and written again only once all its outputs are
 * in place, so that an interrupted stage is never taken for a finished one. */
static int run_keyed(run_state *rs, const char *name, const char *key, char *const *outs,
                     int n_outs, int spread, int always, int (*fn)(void *arg), void *arg,
                     int *ran)
{
    /* under MPI: rank 0's decision; a spread stage runs on every rank (its failures are
     * shared inside it), any other on rank 0 */
    int writer = lcae_mpi_rank() == 0;
    int current = writer && !always ? stage_current(rs, name, key, outs, n_outs) : 0;
    int rc = lcae_mpi_bcast(&current, sizeof current, 0);
    if (ran)
        *ran = !rc && !current;
    if (rc || current)
        return rc;
    rc = stage_forget(rs, name);
    double t0 = core_now_s();
    if (spread && !rc)
        rc = fn(arg);
    else if (!spread)
        rc = lcae_mpi_check(!rc && writer ? fn(arg) : rc);
    return rc ? rc : stage_done(rs, name, key, core_now_s() - t0);
}

typedef struct {
    run_ctx *c;
    source_run *s;
    const stage_def *st;
} source_stage;

static int run_source_stage(void *arg)
{
    source_stage *a = arg;
    return a->st->run(a->c, a->s);
}

/* A stage: a source's, named under the source ("standard/train"), or the run's own
 * (s NULL); force: run it even if it is up to date; *ran (if not NULL): whether it ran. */
static int run_stage(run_ctx *c, source_run *s, const stage_def *st, const char *key,
                     int force, int *ran)
{
    char name[96];
    snprintf(name, sizeof name, "%s%s%s", s ? s->def->name : "", s ? "/" : "", st->what);
    char *outs[sizeof st->outputs / sizeof *st->outputs];
    int n_outs = 0;
    for (int i = 0; i < st->n_outputs; i++) /* NULL: an output not asked for */
        if ((outs[n_outs] = *(char **)((char *)s + st->outputs[i])))
            n_outs++;
    source_stage a = {c, s, st};
    return run_keyed(c->rs, name, key, outs, n_outs, st->spread, st->always || force,
                     run_source_stage, &a, ran);
}

/* Every stage of one source, each key extending its upstream's. Once a stage has run, the
 * stages after it run too, up to date or not: a stage may rewrite its upstream's output
 * (the restart stage puts the kept restart in the training's model file), so after the
 * upstream ran again its record no longer says what is on disk. */
static int run_source(run_ctx *c, source_run *s, const char *data_key)
{
    char *key = strdup(data_key);
    int rc = key ? LCAE_OK : lcae_fail(LCAE_ENOMEM, "out of memory"), upstream_ran = 0;
    for (const stage_def *st = stages_of(s->def->kind); !rc && st->what; st++) {
        if (st->needs_truth && !c->truth.truth_class) {
            if (lcae_mpi_rank() == 0) /* no truth: a score from an earlier run would mislead */
                unlink(s->score);
            continue;
        }
        char *k = make_key(key, st->config(c, s));
        free(key);
        key = k;
        int ran = 0;
        rc = key ? run_stage(c, s, st, key, upstream_ran, &ran) : LCAE_ENOMEM;
        upstream_ran |= ran;
    }
    free(key);
    return rc;
}

/* Reads a source's outputs back for the report. */
static int load_results(source_run *s, int64_t n)
{
    lcae_npy_header h;
    int rc = lcae_npy_load_f32(s->vectors, &h, &s->z);
    if (rc)
        return rc;
    if (h.ndim != 2 || h.shape[0] != n)
        return lcae_fail(LCAE_EFAIL, "%s: expected (%lld, D) vectors", s->vectors,
                         (long long)n);
    s->dims = (int)h.shape[1];
    rc = load_map(s->labels, n, &s->lab);
    if (!rc && s->labels_filled)
        rc = load_map(s->labels_filled, n, &s->lab_filled);
    if (rc)
        return rc;
    rc = load_json_if_present(s->score, 1 << 20, &s->score_json);
    return rc ? rc : load_json_if_present(s->cluster, 1 << 20, &s->cluster_json);
}

/* One run at a time in a folder: an exclusive lock on DIR/.lock, held (by the open file
 * descriptor) until the run ends or the process dies. Returns the descriptor, or -1. */
static int lock_dir(const char *dir)
{
    char *path = lcae_path_join(dir, ".lock");
    if (!path)
        return -1;
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0666);
    if (fd < 0)
        lcae_fail(LCAE_EFAIL, "%s: cannot create the run's lock (%s)", path, strerror(errno));
    else if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
        lcae_fail(LCAE_EFAIL, "%s: another lcae run is using this folder (%s)", dir,
                  errno == EWOULDBLOCK ? "locked" : strerror(errno));
        close(fd);
        fd = -1;
    }
    free(path);
    return fd;
}

/* lcae's temporary output names: ".NAME.tmp.XXXXXX" (lcae_atomic_open's). */
static int is_temporary(const char *name)
{
    size_t n = strlen(name);
    return name[0] == '.' && n > 12 && !strncmp(name + n - 11, ".tmp.", 5);
}

/* A run killed while writing leaves temporaries behind; under the lock no other run is
 * writing, so those in the run's folders (one level of subfolders, as lcae run lays
 * them out) are removed. */
static void remove_temporaries(const char *dir, int depth)
{
    DIR *d = opendir(dir);
    if (!d)
        return;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
            continue;
        char *path = lcae_path_join(dir, e->d_name);
        struct stat st;
        if (path && lstat(path, &st) == 0) {
            if (S_ISREG(st.st_mode) && is_temporary(e->d_name))
                unlink(path);
            else if (S_ISDIR(st.st_mode) && depth > 0)
                remove_temporaries(path, depth - 1);
        }
        free(path);
    }
    closedir(d);
}

typedef struct {
    const lcae_sim_params *sim;
    const char *dir;
    const lcae_progress *p;
} sample_stage;

static int run_sample(void *arg)
{
    sample_stage *a = arg;
    int rc = lcae_make_dirs(a->dir);
    return rc ? rc : lcae_simulate(a->sim, a->dir, a->p);
}

/* The statistics' files and, for centred patterns, the beam map: the user's, or found in
 * the scan (its positions and summary written beside the statistics). */
static int centring_beam(const lcae_run_options *o, lcae_dataset *ds, const lcae_progress *p,
                         const char *stats_dir, const lcae_stats *st, float **beam)
{
    if (o->train.center != LCAE_CENTER_BEAM || o->beam_map) {
        int rc = lcae_stats_write(ds, st, NULL, stats_dir);
        if (!rc && o->train.center == LCAE_CENTER_BEAM)
            rc = lcae_prep_beam_map(ds, o->beam_map, p, beam);
        return rc;
    }
    lcae_beam b;
    int rc = lcae_beam_compute(ds, NULL, p, &b);
    if (rc)
        return rc;
    rc = lcae_stats_write(ds, st, &b, stats_dir);
    if (!rc)
        rc = lcae_beam_write(&b, stats_dir);
    if (!rc) {
        *beam = b.fitted; /* handed over */
        b.fitted = NULL;
    }
    lcae_beam_free(&b);
    return rc;
}

/* Under MPI: rank 0's beam map (when the patterns are centred) to every rank. */
static int share_beam(const lcae_run_options *o, int64_t count, float **beam)
{
    if (lcae_mpi_size() == 1 || o->train.center != LCAE_CENTER_BEAM)
        return LCAE_OK;
    size_t bytes = (size_t)count * 2 * sizeof **beam;
    if (lcae_mpi_rank() && !(*beam = lcae_malloc(bytes)))
        return LCAE_ENOMEM; /* not shared: the job is aborted (lcae/mpi.h) */
    return lcae_mpi_bcast(*beam, bytes, 0);
}

/* The statistics (one streaming pass over the scan, spread over the ranks) and, for
 * centred patterns, the beam map that every later stage centres by. */
static int do_stats(run_ctx *c, source_run *s)
{
    (void)s; /* the run's own stage */
    const lcae_run_options *o = c->o;
    int writer = lcae_mpi_rank() == 0;
    lcae_stats_options so = {.virtual_images = 1, .seed = o->train.seed};
    int rc = lcae_stats_compute(c->ds, &so, c->rs->p, &c->st);
    if (rc) /* shared inside */
        return rc;
    if (writer)
        rc = lcae_make_dirs(c->stats_dir);
    if (!rc && writer)
        rc = centring_beam(o, c->ds, c->rs->p, c->stats_dir, &c->st, &c->beam);
    rc = lcae_mpi_check(rc); /* rank 0's writing and beam, to every rank */
    return rc ? rc : share_beam(o, lcae_dataset_get_info(c->ds)->count, &c->beam);
}

/* The report of every source's current outputs (rank 0's). */
static int do_report(run_ctx *c, source_run *s)
{
    (void)s; /* the run's own stage */
    cJSON *timings = cJSON_CreateObject();
    cJSON *st;
    cJSON_ArrayForEach(st, cJSON_GetObjectItem(c->rs->run, "stages"))
        cJSON_AddNumberToObject(timings, st->string,
                                cJSON_GetNumberValue(cJSON_GetObjectItem(st, "seconds")));
    lcae_report_clustering cl[NSOURCES];
    for (int k = 0; k < NSOURCES; k++) {
        const source_run *r = &c->src[k];
        cl[k] = (lcae_report_clustering){
            .name = r->def->name, .title = r->def->title, .latent = r->z,
            .latent_dims = r->dims, .labels = r->lab, .labels_filled = r->lab_filled,
            .train_log = r->def->kind == SOURCE_MODEL ? r->log : NULL,
            .score = r->score_json, .cluster = r->cluster_json};
    }
    const lcae_run_options *o = c->o;
    lcae_report_input ri = {.data_path = c->data_path, .ds = c->ds, .stats = &c->st,
                            .clusterings = cl, .n_clusterings = NSOURCES,
                            .truth_class = c->truth.truth_class,
                            .truth_region = c->truth.truth_region,
                            .truth_grain = c->truth.truth_grain, .beam = c->beam,
                            .config = c->config, .timings = timings,
                            .figure_formats = o->figure_formats,
                            /* the built-in sample's step is known: scale bars */
                            .step_nm = o->data ? 0 : o->sim.step_nm};
    int rc = lcae_make_dirs(c->report_dir);
    if (!rc)
        rc = lcae_report_write(&ri, c->report_dir, c->rs->p);
    cJSON_Delete(timings);
    return rc;
}

/* The run's own stages, before the sources' and after them. Both run every time: the
 * statistics and the beam map are held in memory by the stages after them, and the
 * report shows every stage's current outputs. Their keys, as recorded: the scan's, and
 * none ("") for the report, which nothing compares. */
static const stage_def stats_stage = {"stats", do_stats, NULL, {0}, 0, 0, 1, 1};
static const stage_def report_stage = {"report", do_report, NULL, {0}, 0, 0, 0, 1};

int lcae_run(const lcae_run_options *o, const char *dir, const lcae_progress *p)
{
    run_state rs = {.dir = dir, .force = o->force, .p = p};
    source_run src[NSOURCES] = {{0}};
    for (int k = 0; k < NSOURCES; k++)
        src[k].def = &sources[k];
    run_ctx ctx = {.rs = &rs, .src = src};
    lcae_dataset *ds = NULL;
    char *data_path = NULL, *sample_dir = NULL;
    char *sample_key = NULL, *data_key = NULL;
    const char *truth_dir = o->truth_dir;
    int32_t *tc = NULL, *tr = NULL, *tg = NULL;
    int writer = lcae_mpi_rank() == 0;
    int rc = lcae_make_dirs(dir);
    if (rc)
        return rc;
    int lock = writer ? lock_dir(dir) : -1;
    if ((rc = lcae_mpi_check(writer && lock < 0 ? LCAE_EFAIL : LCAE_OK)))
        return rc;
    if (writer)
        remove_temporaries(dir, 1);
    rs.run_json = lcae_path_join(dir, "run.json");
    ctx.stats_dir = lcae_path_join(dir, "stats");
    ctx.report_dir = lcae_path_join(dir, "report");
    if (!rs.run_json || !ctx.stats_dir || !ctx.report_dir) {
        rc = LCAE_ENOMEM;
        goto done;
    }
    rs.run = load_run_json(rs.run_json);
    ctx.config = pipeline_run_config_json(o);
    cJSON_DeleteItemFromObject(rs.run, "version");
    cJSON_AddStringToObject(rs.run, "version", lcae_version());
    cJSON_DeleteItemFromObject(rs.run, "config");
    cJSON_AddItemReferenceToObject(rs.run, "config", ctx.config);

    /* the scan: given, or the built-in sample */
    if (o->data) {
        data_path = strdup(o->data);
        if (!data_path) {
            rc = lcae_fail(LCAE_ENOMEM, "out of memory");
            goto done;
        }
        cJSON *id = cJSON_CreateObject();
        cJSON_AddItemToObject(id, "scan", file_identity(o->data));
        cJSON_AddItemToObject(id, "open", lcae_options_json(lcae_open_option_table, &o->open));
        data_key = make_key(NULL, id);
    } else {
        sample_dir = lcae_path_join(dir, "sample");
        char name[96];
        lcae_sim_scan_name(&o->sim, name, sizeof name);
        data_path = sample_dir ? lcae_path_join(sample_dir, name) : NULL;
        char *truth_class = sample_dir ? lcae_path_join(sample_dir, "truth_class.npy") : NULL;
        if (!data_path || !truth_class) {
            free(truth_class);
            rc = LCAE_ENOMEM;
            goto done;
        }
        sample_key = make_key(NULL, lcae_options_json(lcae_sim_option_table, &o->sim));
        char *outs[2] = {data_path, truth_class};
        sample_stage a = {&o->sim, sample_dir, p};
        rc = run_keyed(&rs, "sample", sample_key, outs, 2, 0, 0, run_sample, &a, NULL);
        free(truth_class);
        if (rc)
            goto done;
        data_key = strdup(sample_key);
        truth_dir = sample_dir;
    }
    if (o->beam_map && data_key) {
        /* a beam map given by the user is one more input of every stage */
        cJSON *id = cJSON_CreateObject();
        cJSON_AddItemToObject(id, "beam_map", file_identity(o->beam_map));
        char *k = make_key(data_key, id);
        free(data_key);
        data_key = k;
    }
    if (!data_key) {
        rc = LCAE_ENOMEM;
        goto done;
    }
    rc = lcae_dataset_open(data_path, &o->open, &ds);
    if (rc)
        goto done;
    const lcae_dataset_info *in = lcae_dataset_get_info(ds);

    /* min_cluster_size 0: the rule's for this scan's positions, recorded as used */
    lcae_run_options used = *o;
    if (!used.hdbscan.min_cluster_size) {
        used.hdbscan.min_cluster_size = lcae_min_cluster_size_for(in->count);
        cJSON *cluster = cJSON_GetObjectItem(ctx.config, "cluster");
        cJSON_ReplaceItemInObject(cluster, "hdbscan",
                                  pipeline_hdbscan_params_json(&used.hdbscan));
    }
    ctx.o = &used;
    ctx.given_min_cluster_size = o->hdbscan.min_cluster_size;
    ctx.ds = ds;
    ctx.data_path = data_path;
    ctx.truth_dir = truth_dir;
    ctx.ny = in->ny;
    ctx.nx = in->nx;
    if ((rc = run_stage(&ctx, NULL, &stats_stage, data_key, 0, NULL)))
        goto done;

    rc = load_truth(truth_dir, "truth_class.npy", in->count, &tc);
    if (!rc)
        rc = load_truth(truth_dir, "truth_region.npy", in->count, &tr);
    if (!rc)
        rc = load_truth(truth_dir, "truth_grain.npy", in->count, &tg);
    if (rc)
        goto done;
    ctx.truth = (truth_maps){tc, tr, tg, in->count};
    for (int k = 0; k < NSOURCES && !rc; k++) {
        rc = source_run_paths(&src[k], dir, used.hdbscan.assign_noise,
                              used.smooth.fill_radius > 0);
        if (!rc)
            rc = run_source(&ctx, &src[k], data_key);
        if (!rc) /* the results are rank 0's, for the report */
            rc = lcae_mpi_check(writer ? load_results(&src[k], in->count) : LCAE_OK);
    }
    if (!rc)
        rc = run_stage(&ctx, NULL, &report_stage, "", 0, NULL);

done:
    for (int k = 0; k < NSOURCES; k++)
        source_run_free(&src[k]);
    lcae_dataset_close(ds);
    lcae_stats_free(&ctx.st);
    free(ctx.beam);
    free(tc);
    free(tr);
    free(tg);
    free(data_path);
    free(sample_dir);
    free(ctx.stats_dir);
    free(ctx.report_dir);
    free(sample_key);
    free(data_key);
    free(rs.run_json);
    cJSON_Delete(rs.run);
    cJSON_Delete(ctx.config);
    if (lock >= 0)
        close(lock);
    return rc;
}
