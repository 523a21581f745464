/* A score as JSON (lcae score --json, score.json of lcae run). */
#include <cjson/cJSON.h>
#include <math.h>

#include "lcae/score.h"

/* JSON has no NaN: null instead. */
static void add_num(cJSON *j, const char *key, double v)
{
    if (isnan(v))
        cJSON_AddNullToObject(j, key);
    else
        cJSON_AddNumberToObject(j, key, v);
}

struct cJSON *lcae_score_json(const lcae_score_result *s)
{
    cJSON *j = cJSON_CreateObject();
    cJSON_AddNumberToObject(j, "positions", (double)s->n);
    cJSON_AddNumberToObject(j, "clusters", s->clusters);
    cJSON_AddNumberToObject(j, "classes", s->classes);
    add_num(j, "noise_fraction", s->noise_fraction);
    add_num(j, "ari", s->ari);
    add_num(j, "ami", s->ami);
    add_num(j, "ari_no_noise", s->ari_no_noise);
    add_num(j, "ami_no_noise", s->ami_no_noise);
    add_num(j, "fragmentation", s->fragmentation);
    add_num(j, "purity", s->purity);
    add_num(j, "boundary_recovery", s->boundary_recovery);
    return j;
}
