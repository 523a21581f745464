/* Stage configurations as JSON (see pipeline_internal.h). Every field that changes a
 * stage's result is here: a field left out would let a resumed run keep a stale output. */
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "pipeline_internal.h"

static const char *const cluster_on_names[] = {"all", "invariant", NULL};
static const char *const restart_choice_names[] = {"loss", "agreement", NULL};

#define RUN(field) offsetof(lcae_run_options, field)

/* The run's own options (run.json lays them out with the stages': pipeline_run_config_json). */
const lcae_option lcae_run_option_table[] = {
    {"cluster-on", NULL, LCAE_OPT_CHOICE, RUN(cluster_on_invariant), 0, 0, 0, cluster_on_names,
     "all|invariant",
     "cluster the rotation-invariant model on all its latent features (the paper) or on "
     "the first --invariant-dims (default); the standard model: always all", 0},
    {"invariant-bin", NULL, LCAE_OPT_INT, RUN(invariant_bin), 0, 0, 4, NULL, "B",
     "sum-binning of the rotation-invariant model's patterns: 0 (--bin), 1, 2 or 4 (default)",
     0},
    {"invariant-steps", NULL, LCAE_OPT_I64, RUN(invariant_steps), 0, 0, HUGE_VAL, NULL, "N",
     "optimizer steps of the rotation-invariant model: 0 (--steps / --epochs), or N; the "
     "cpu preset's 400 give way to --steps or --epochs given alone (default)", 0},
    {"invariant-restarts", NULL, LCAE_OPT_INT, RUN(invariant_restarts), 0, 0, HUGE_VAL, NULL,
     "K", "restarts of the rotation-invariant model (--restarts): 0 (--restarts), or K; the "
     "cpu preset's 3 give way to --restarts given alone (default)", 0},
    {"restart-choice", NULL, LCAE_OPT_CHOICE, RUN(restart_choice), LCAE_RESTART_AGREEMENT, 0, 0,
     restart_choice_names, "loss|agreement",
     "a model trained with restarts keeps the restart of lowest final loss, or the one "
     "whose clustering (HDBSCAN as the cluster stage's, on the invariant features of a "
     "model that has them) agrees most with the other restarts' (default; docs/model.md)",
     0},
    {"restart-positions", NULL, LCAE_OPT_I64, RUN(restart_positions), 0, 0, HUGE_VAL, NULL,
     "N", "the agreement among restarts encodes and clusters at most N positions, the "
     "scan's sub-grid of every step-th row and column (65536: a 1024 x 1024 scan at every "
     "4th, 15x faster, but it may keep another restart: docs/model.md); 0: every position "
     "(default)", 0},
    {"encode-batch", NULL, LCAE_OPT_INT, RUN(encode_batch), LCAE_ENCODE_BATCH, 1, HUGE_VAL, NULL,
     "B", "patterns per encoding batch (default)", 0},
    {"force", NULL, LCAE_OPT_BOOL, RUN(force), 0, 0, 0, NULL, NULL,
     "redo every stage, even those that are up to date", 0},
    {0}};

/* min_samples as used (0: min_cluster_size's) */
cJSON *pipeline_hdbscan_params_json(const lcae_hdbscan_params *p)
{
    cJSON *j = lcae_options_json(lcae_hdbscan_option_table, p);
    cJSON_ReplaceItemInObject(j, "min_samples", cJSON_CreateNumber((double)(
        p->min_samples ? p->min_samples : p->min_cluster_size)));
    return j;
}

/* the threshold as used (0: LCAE_SMOOTH_AUTO_THRESHOLD) */
cJSON *pipeline_smooth_params_json(const lcae_smooth_params *p)
{
    cJSON *j = lcae_options_json(lcae_smooth_option_table, p);
    if (!(p->auto_threshold > 0))
        cJSON_ReplaceItemInObject(j, "auto_threshold",
                                  cJSON_CreateNumber(LCAE_SMOOTH_AUTO_THRESHOLD));
    return j;
}

/* ---- run.json's "config", laid out -------------------------------------------------
 * Each member is a struct of lcae_run_options written by its table (an object of its
 * rows), one row of a table (its value), or a value of its own (strings, and the values
 * as used), at a path under config ("cluster/on": the member "on" of the object
 * "cluster"), in this order. */
typedef enum { ALWAYS, GIVEN_SCAN, SAMPLE } member_when;

typedef struct {
    const char *path;
    member_when when;
    const lcae_option *table; /* rows of the struct at `offset` in lcae_run_options */
    size_t offset;
    const char *row;          /* that row's value alone; NULL: the object of every row */
    cJSON *(*value)(const lcae_run_options *o); /* instead of a table; NULL: left out */
} config_member;

static cJSON *preset_json(const lcae_run_options *o)
{
    return cJSON_CreateString(o->preset ? o->preset : "");
}

static cJSON *data_json(const lcae_run_options *o)
{
    return cJSON_CreateString(o->data);
}

static cJSON *truth_json(const lcae_run_options *o)
{
    return o->truth_dir ? cJSON_CreateString(o->truth_dir) : NULL;
}

static cJSON *hdbscan_json(const lcae_run_options *o)
{
    return pipeline_hdbscan_params_json(&o->hdbscan);
}

/* "positions": lcae_min_cluster_size_for(positions) (lcae_run records the size) */
static cJSON *min_cluster_size_from_json(const lcae_run_options *o)
{
    return cJSON_CreateString(o->hdbscan.min_cluster_size ? "given" : "positions");
}

static cJSON *smooth_json(const lcae_run_options *o)
{
    return pipeline_smooth_params_json(&o->smooth);
}

static const config_member config_layout[] = {
    {"preset", ALWAYS, NULL, 0, NULL, preset_json},
    {"data", GIVEN_SCAN, NULL, 0, NULL, data_json},
    {"open", GIVEN_SCAN, lcae_open_option_table, RUN(open), NULL, NULL},
    {"truth", GIVEN_SCAN, NULL, 0, NULL, truth_json},
    {"sample", SAMPLE, lcae_sim_option_table, RUN(sim), NULL, NULL},
    {"train", ALWAYS, lcae_train_option_table, RUN(train), NULL, NULL},
    {"invariant_bin", ALWAYS, lcae_run_option_table, 0, "invariant-bin", NULL},
    {"invariant_steps", ALWAYS, lcae_run_option_table, 0, "invariant-steps", NULL},
    {"invariant_restarts", ALWAYS, lcae_run_option_table, 0, "invariant-restarts", NULL},
    {"restart_choice", ALWAYS, lcae_run_option_table, 0, "restart-choice", NULL},
    {"restart_positions", ALWAYS, lcae_run_option_table, 0, "restart-positions", NULL},
    {"cluster/hdbscan", ALWAYS, NULL, 0, NULL, hdbscan_json},
    {"cluster/min_cluster_size_from", ALWAYS, NULL, 0, NULL, min_cluster_size_from_json},
    {"cluster/on", ALWAYS, lcae_run_option_table, 0, "cluster-on", NULL},
    {"cluster/smooth", ALWAYS, NULL, 0, NULL, smooth_json},
    {"encode_batch", ALWAYS, lcae_run_option_table, 0, "encode-batch", NULL},
};

cJSON *pipeline_run_config_json(const lcae_run_options *o)
{
    cJSON *j = cJSON_CreateObject();
    for (size_t i = 0; i < sizeof config_layout / sizeof *config_layout; i++) {
        const config_member *m = &config_layout[i];
        if (m->when != ALWAYS && (m->when == GIVEN_SCAN) != (o->data != NULL))
            continue;
        cJSON *parent = j;
        const char *key = m->path, *slash = strchr(key, '/');
        if (slash) { /* one level of nesting: the object, made by its first member */
            char name[32];
            snprintf(name, sizeof name, "%.*s", (int)(slash - key), key);
            parent = cJSON_GetObjectItem(j, name);
            if (!parent)
                parent = cJSON_AddObjectToObject(j, name);
            key = slash + 1;
        }
        const void *s = (const char *)o + m->offset;
        if (m->row)
            lcae_option_json(lcae_option_find(m->table, m->row), s, key, parent);
        else if (m->table)
            cJSON_AddItemToObject(parent, key, lcae_options_json(m->table, s));
        else {
            cJSON *v = m->value(o);
            if (v)
                cJSON_AddItemToObject(parent, key, v);
        }
    }
    return j;
}
