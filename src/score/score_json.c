/* A score as JSON (lcae score --json, score.json of lcae run). */
#include <cjson/cJSON.h>
#include <math.h>
#include <stddef.h>

#include "lcae/score.h"

/* The fractional fields, in the order written; JSON has no NaN: null instead. */
static const struct {
    const char *key;
    size_t offset;
} fractions[] = {
    {"noise_fraction", offsetof(lcae_score_result, noise_fraction)},
    {"ari", offsetof(lcae_score_result, ari)},
    {"ami", offsetof(lcae_score_result, ami)},
    {"ari_no_noise", offsetof(lcae_score_result, ari_no_noise)},
    {"ami_no_noise", offsetof(lcae_score_result, ami_no_noise)},
    {"fragmentation", offsetof(lcae_score_result, fragmentation)},
    {"purity", offsetof(lcae_score_result, purity)},
    {"boundary_recovery", offsetof(lcae_score_result, boundary_recovery)},
};

struct cJSON *lcae_score_json(const lcae_score_result *s)
{
    cJSON *j = cJSON_CreateObject();
    cJSON_AddNumberToObject(j, "positions", (double)s->n);
    cJSON_AddNumberToObject(j, "clusters", s->clusters);
    cJSON_AddNumberToObject(j, "classes", s->classes);
    for (size_t k = 0; k < sizeof fractions / sizeof *fractions; k++) {
        double v = *(const double *)((const char *)s + fractions[k].offset);
        if (isnan(v))
            cJSON_AddNullToObject(j, fractions[k].key);
        else
            cJSON_AddNumberToObject(j, fractions[k].key, v);
    }
    return j;
}
