/* Stage configurations as JSON (see pipeline_internal.h). Every field that changes a
 * stage's result is here: a field left out would let a resumed run keep a stale output. */
#include <math.h>
#include <stddef.h>
#include <stdio.h>

#include "pipeline_internal.h"

static const char *const cluster_on_names[] = {"all", "invariant", NULL};

#define RUN(field) offsetof(lcae_run_options, field)

/* The run's own options (run.json lays them out with the stages': pipeline_run_config_json). */
const lcae_option lcae_run_option_table[] = {
    {"cluster-on", NULL, LCAE_OPT_BOOL, RUN(cluster_on_invariant), 0, 0, 0, cluster_on_names,
     "all|invariant",
     "cluster the rotation-invariant model on all its latent features (the paper) or on "
     "the first --invariant-dims (default); the standard model: always all", 0},
    {"invariant-bin", NULL, LCAE_OPT_INT, RUN(invariant_bin), 0, 0, 4, NULL, "B",
     "sum-binning of the rotation-invariant model's patterns: 0 (--bin), 1, 2 or 4 (default)",
     0},
    {"encode-batch", NULL, LCAE_OPT_INT, RUN(encode_batch), LCAE_ENCODE_BATCH, 1, HUGE_VAL, NULL,
     "B", "patterns per encoding batch (default)", 0},
    {"force", NULL, LCAE_OPT_BOOL, RUN(force), 0, 0, 0, NULL, NULL,
     "redo every stage, even those that are up to date", 0},
    {0}};

cJSON *pipeline_open_options_json(const lcae_open_options *o)
{
    cJSON *j = cJSON_CreateObject();
    cJSON_AddStringToObject(j, "format", lcae_format_name(o->format));
    cJSON_AddNumberToObject(j, "scan_ny", (double)o->scan_ny);
    cJSON_AddNumberToObject(j, "scan_nx", (double)o->scan_nx);
    cJSON_AddNumberToObject(j, "det_h", (double)o->det_h);
    cJSON_AddNumberToObject(j, "det_w", (double)o->det_w);
    cJSON_AddStringToObject(j, "dtype", lcae_dtype_name(o->dtype));
    cJSON_AddBoolToObject(j, "big_endian", o->big_endian);
    cJSON_AddNumberToObject(j, "header_bytes", (double)o->header_bytes);
    cJSON_AddNumberToObject(j, "frame_header_bytes", (double)o->frame_header_bytes);
    cJSON_AddNumberToObject(j, "frame_footer_bytes", (double)o->frame_footer_bytes);
    return j;
}

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

cJSON *pipeline_run_config_json(const lcae_run_options *o)
{
    cJSON *j = cJSON_CreateObject();
    cJSON_AddStringToObject(j, "preset", o->preset ? o->preset : "");
    if (o->data) {
        cJSON_AddStringToObject(j, "data", o->data);
        cJSON_AddItemToObject(j, "open", pipeline_open_options_json(&o->open));
        if (o->truth_dir)
            cJSON_AddStringToObject(j, "truth", o->truth_dir);
    } else {
        cJSON_AddItemToObject(j, "sample", lcae_options_json(lcae_sim_option_table, &o->sim));
    }
    cJSON_AddItemToObject(j, "train", lcae_options_json(lcae_train_option_table, &o->train));
    cJSON_AddNumberToObject(j, "invariant_bin", o->invariant_bin);
    cJSON *c = cJSON_AddObjectToObject(j, "cluster");
    cJSON_AddItemToObject(c, "hdbscan", pipeline_hdbscan_params_json(&o->hdbscan));
    /* "positions": lcae_min_cluster_size_for(positions) (lcae_run records the size) */
    cJSON_AddStringToObject(c, "min_cluster_size_from",
                            o->hdbscan.min_cluster_size ? "given" : "positions");
    cJSON_AddStringToObject(c, "on", o->cluster_on_invariant ? "invariant" : "all");
    cJSON_AddItemToObject(c, "smooth", pipeline_smooth_params_json(&o->smooth));
    cJSON_AddNumberToObject(j, "encode_batch", o->encode_batch);
    return j;
}
