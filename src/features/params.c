/* The features' options declared once (include/lcae/features.h,
 * lcae_features_option_table): their defaults, "not given" resolved by the method, and
 * their JSON. */
#include <cjson/cJSON.h>
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "lcae/features.h"
#include "core/util.h"

const char *const lcae_features_method_names[] = {"polar", "pca", NULL};

const char *lcae_features_method_name(lcae_features_method m)
{
    return core_name_of(lcae_features_method_names, (int)m);
}

int lcae_features_method_from_name(const char *name)
{
    return core_name_index(lcae_features_method_names, name);
}

#define AT(field) offsetof(lcae_features_options, field)
#define POLAR LCAE_FEATURES_POLAR_ONLY

/* In the order of the stage key's JSON (lcae_features_options_json), which lcae run's
 * earlier runs recorded: a new row goes last. */
const lcae_option lcae_features_option_table[] = {
    {"method", NULL, LCAE_OPT_CHOICE, AT(method), LCAE_FEATURES_POLAR, 0, 0,
     lcae_features_method_names, "polar|pca",
     "angular Fourier magnitudes then PCA, or PCA of the patterns (required)", 0},
    {"dims", NULL, LCAE_OPT_INT, AT(dims), -1, 0, HUGE_VAL, NULL, "D",
     "principal components kept (default: polar 10, pca 16; polar 0: the magnitudes)",
     LCAE_OPT_UNSET},
    {"radii", "r0:r1", LCAE_OPT_INT_PAIR, AT(polar.r0), -1, 0, 100000, NULL, "R0:R1",
     "polar: rings from R0 to R1 prepared pixels (default: 3*size/32:size/2-2)",
     LCAE_OPT_UNSET | POLAR},
    {"orders", NULL, LCAE_OPT_INT, AT(polar.orders), -1, 0, 1000, NULL, "K",
     "polar: Fourier orders 0..K (default: 6)", LCAE_OPT_UNSET | POLAR},
    {"n-theta", NULL, LCAE_OPT_INT, AT(polar.n_theta), 0, 0, 65536, NULL, "N",
     "polar: angles per ring (default: the multiple of 8 at or above 2 pi R1)", POLAR},
    {"standardize", NULL, LCAE_OPT_BOOL, AT(standardize), 0, 0, 0, NULL, NULL,
     "polar: scale each magnitude to unit variance before PCA (default: no)", POLAR},
    {"solver", NULL, LCAE_OPT_CHOICE, AT(solver), LCAE_PCA_AUTO, 0, 0, lcae_pca_solver_names,
     "SOLVER", "PCA: auto (covariance for rows of <= 1024 values), covariance, randomized "
     "(default)", 0},
    {"power-iterations", "power_iters", LCAE_OPT_INT, AT(power_iters), LCAE_PCA_POWER_ITERS,
     0, 20, NULL, "Q", "randomized PCA: power iterations, 2 passes each (default)", 0},
    {"seed", NULL, LCAE_OPT_U64, AT(seed), 0, 0, HUGE_VAL, NULL, "S",
     "randomized PCA: the random sketch (default)", 0},
    {0}};

int lcae_features_resolve(lcae_features_options *o)
{
    int polar = o->method == LCAE_FEATURES_POLAR;
    if (o->dims == -1) /* the measured defaults, docs/features.md */
        o->dims = polar ? 10 : 16;
    int rc = lcae_options_check(lcae_features_option_table, o);
    if (rc)
        return rc;
    if (!polar && o->dims < 1)
        return lcae_fail(LCAE_EUSAGE, "option --dims: expected 1 or more with --method pca, "
                         "found %d", o->dims);
    lcae_features_options def;
    lcae_options_defaults(lcae_features_option_table, &def);
    for (const lcae_option *r = lcae_features_option_table; !polar && r->name; r++) {
        char now[48], was[48];
        if (!(r->flags & POLAR))
            continue;
        lcae_option_format(r, o, now, sizeof now);
        lcae_option_format(r, &def, was, sizeof was);
        if (strcmp(now, was))
            return lcae_fail(LCAE_EUSAGE, "option --%s: for --method polar only (found %s "
                             "with --method pca)", r->name, now);
    }
    return LCAE_OK;
}

lcae_features_options lcae_features_defaults(lcae_features_method m)
{
    lcae_features_options o = {.prep = {.bin = 1, .center = LCAE_CENTER_NONE,
                                        .transform = LCAE_TRANSFORM_LOG}};
    lcae_options_defaults(lcae_features_option_table, &o);
    o.method = m;
    lcae_features_resolve(&o); /* the defaults pass its checks */
    return o;
}

cJSON *lcae_features_options_json(const lcae_features_options *o)
{
    /* the method's row, prep, then the other rows (moved over in their order) */
    cJSON *rows = lcae_options_json(lcae_features_option_table, o), *j = cJSON_CreateObject();
    cJSON_AddItemToObject(j, "method", cJSON_DetachItemFromObject(rows, "method"));
    cJSON_AddItemToObject(j, "prep", lcae_prep_json(&o->prep));
    for (cJSON *row; (row = rows->child);)
        cJSON_AddItemToObject(j, row->string, cJSON_DetachItemViaPointer(rows, row));
    cJSON_Delete(rows);
    return j;
}
