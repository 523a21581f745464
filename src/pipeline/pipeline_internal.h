/* The configuration of each stage as JSON: recorded in run.json, shown in the report,
 * and (printed unformatted) the stage keys that decide what a resumed run redoes. */
#ifndef LCAE_PIPELINE_INTERNAL_H
#define LCAE_PIPELINE_INTERNAL_H

#include <cjson/cJSON.h>

#include "lcae/pipeline.h"

cJSON *pipeline_hdbscan_params_json(const lcae_hdbscan_params *p);
cJSON *pipeline_smooth_params_json(const lcae_smooth_params *p);
/* Everything: preset, scan or sample, training, clustering. */
cJSON *pipeline_run_config_json(const lcae_run_options *o);

#endif
