/* The statistics and the beam positions as JSON (lcae info --json, stats.json, the run
 * report) and the files of lcae stats. */
#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lcae/stats.h"
#include "core/util.h"

static const char *const norm_names[] = {"sigma68", "std", NULL};

const char *lcae_norm_rule_name(lcae_norm_rule r)
{
    return core_name_of(norm_names, (int)r);
}

int lcae_norm_rule_from_name(const char *name)
{
    return core_name_index(norm_names, name);
}

static cJSON *pair(int64_t a, int64_t b)
{
    cJSON *arr = cJSON_CreateArray();
    cJSON_AddItemToArray(arr, cJSON_CreateNumber((double)a));
    cJSON_AddItemToArray(arr, cJSON_CreateNumber((double)b));
    return arr;
}

struct cJSON *lcae_stats_json(const lcae_dataset *ds, const lcae_stats *st)
{
    const lcae_dataset_info *in = lcae_dataset_get_info(ds);
    cJSON *j = cJSON_CreateObject();
    cJSON_AddStringToObject(j, "format", lcae_format_name(in->format));
    cJSON_AddItemToObject(j, "scan", pair(in->ny, in->nx));
    cJSON_AddItemToObject(j, "detector", pair(in->h, in->w));
    cJSON_AddStringToObject(j, "dtype", lcae_dtype_name(in->dtype));
    cJSON_AddNumberToObject(j, "bytes", (double)in->file_bytes);
    /* cJSON writes NaN (no finite pixel) as null */
    cJSON_AddNumberToObject(j, "median", st->median);
    cJSON_AddNumberToObject(j, "sigma68", st->sigma68);
    cJSON_AddNumberToObject(j, "scale", st->scale);
    cJSON_AddStringToObject(j, "norm", lcae_norm_rule_name(st->norm));
    cJSON_AddNumberToObject(j, "min", st->min);
    cJSON_AddNumberToObject(j, "max", st->max);
    cJSON_AddNumberToObject(j, "nonfinite", (double)st->nonfinite);
    return j;
}

struct cJSON *lcae_stats_json_full(const lcae_dataset *ds, const lcae_stats *st)
{
    cJSON *j = lcae_stats_json(ds, st);
    cJSON_AddStringToObject(j, "file", lcae_dataset_path(ds));
    cJSON_AddNumberToObject(j, "p16", st->p16);
    cJSON_AddNumberToObject(j, "p84", st->p84);
    cJSON_AddNumberToObject(j, "pixels", (double)st->pixels);
    cJSON_AddNumberToObject(j, "mean", st->mean);
    cJSON_AddNumberToObject(j, "std", st->std);
    cJSON *q = cJSON_AddObjectToObject(j, "quantiles");
    cJSON_AddStringToObject(q, "method", st->exact ? "exact" : "sampled");
    cJSON_AddStringToObject(q, "percentile", "linear interpolation between order statistics "
                            "(numpy's default), over the finite pixels");
    cJSON_AddNumberToObject(q, "sample_size", (double)st->sample_size);
    cJSON_AddNumberToObject(q, "seed", (double)st->seed);
    cJSON_AddNumberToObject(q, "median_se", st->median_se);
    cJSON_AddNumberToObject(q, "sigma68_se", st->sigma68_se);
    cJSON_AddStringToObject(j, "variance", "population variance (divided by the number of "
                            "finite pixels) of each pattern's pixel values");
    return j;
}

int lcae_stats_write_in(lcae_output_set *set, const lcae_dataset *ds, const lcae_stats *st,
                        const lcae_beam *beam, const char *dir)
{
    const lcae_dataset_info *in = lcae_dataset_get_info(ds);
    int64_t scan[2] = {in->ny, in->nx}, det[2] = {in->h, in->w};
    struct {
        const char *name;
        const int64_t *shape;
        const float *data;
    } arrays[] = {{"sum.npy", scan, st->sum},
                  {"variance.npy", scan, st->variance},
                  {"mean_pattern.npy", det, st->mean_pattern}};
    int rc = LCAE_OK;
    for (int a = 0; a < 3 && !rc; a++) {
        if (!arrays[a].data)
            return lcae_fail(LCAE_EUSAGE, "%s: statistics computed without virtual images",
                             lcae_dataset_path(ds));
        char *path = lcae_path_join(dir, arrays[a].name);
        rc = path ? lcae_npy_write_in(set, path, LCAE_DT_F32, 2, arrays[a].shape,
                                      arrays[a].data)
                  : LCAE_ENOMEM;
        free(path);
    }
    if (rc)
        return rc;
    cJSON *j = lcae_stats_json_full(ds, st);
    if (beam)
        cJSON_AddItemToObject(j, "beam", lcae_beam_json(beam));
    char *text = cJSON_Print(j);
    cJSON_Delete(j);
    char *path = lcae_path_join(dir, "stats.json");
    if (!text || !path) {
        free(text);
        free(path);
        return lcae_fail(LCAE_ENOMEM, "out of memory");
    }
    size_t len = strlen(text);
    text[len] = '\n'; /* replaces the terminator: written with its length */
    rc = lcae_write_file_in(set, path, text, len + 1);
    free(text);
    free(path);
    return rc;
}

int lcae_stats_write(const lcae_dataset *ds, const lcae_stats *st, const lcae_beam *beam,
                     const char *dir)
{
    lcae_output_set *set;
    int rc = lcae_output_set_new(&set);
    if (!rc)
        rc = lcae_stats_write_in(set, ds, st, beam, dir);
    int closed = lcae_output_set_close(set, !rc);
    return rc ? rc : closed;
}

static cJSON *yx(double y, double x)
{
    return cJSON_CreateDoubleArray((const double[]){y, x}, 2);
}

struct cJSON *lcae_beam_json(const lcae_beam *b)
{
    static const char *fits[] = {"quadratic", "plane", "none"};
    int64_t n = b->ny * b->nx;
    double lo[2] = {INFINITY, INFINITY}, hi[2] = {-INFINITY, -INFINITY}, mean[2] = {0, 0};
    for (int64_t i = 0; i < n; i++)
        for (int a = 0; a < 2; a++) {
            double v = b->fitted[2 * i + a];
            lo[a] = fmin(lo[a], v);
            hi[a] = fmax(hi[a], v);
            mean[a] += v / (double)n;
        }
    cJSON *j = cJSON_CreateObject();
    cJSON_AddStringToObject(j, "convention", "(y, x) = (row, column) in detector pixels, "
                            "origin at the centre of pixel (0, 0)");
    cJSON_AddItemToObject(j, "frame_centre", yx((double)(b->h - 1) / 2, (double)(b->w - 1) / 2));
    cJSON_AddItemToObject(j, "mean", yx(mean[0], mean[1]));
    cJSON_AddItemToObject(j, "min", yx(lo[0], lo[1]));
    cJSON_AddItemToObject(j, "max", yx(hi[0], hi[1]));
    cJSON_AddItemToObject(j, "range", yx(hi[0] - lo[0], hi[1] - lo[1]));
    cJSON_AddItemToObject(j, "mean_pattern_beam", yx(b->mean_beam[0], b->mean_beam[1]));
    cJSON_AddNumberToObject(j, "radius_px", b->radius);
    cJSON_AddStringToObject(j, "fit", fits[b->fit]);
    cJSON *c = cJSON_AddObjectToObject(j, "surface");
    cJSON_AddStringToObject(c, "terms", "1, u, v, u^2, u v, v^2 with u = 2 x / (nx - 1) - 1, "
                            "v = 2 y / (ny - 1) - 1 (scan column and row)");
    cJSON_AddItemToObject(c, "y", cJSON_CreateDoubleArray(b->coef[0], LCAE_BEAM_NTERMS));
    cJSON_AddItemToObject(c, "x", cJSON_CreateDoubleArray(b->coef[1], LCAE_BEAM_NTERMS));
    cJSON_AddNumberToObject(j, "rms_residual_px", b->rms_residual);
    cJSON_AddNumberToObject(j, "scatter_px", b->scatter);
    cJSON_AddNumberToObject(j, "patterns", (double)n);
    cJSON_AddNumberToObject(j, "not_found", (double)b->not_found);
    cJSON_AddNumberToObject(j, "outliers", (double)b->outliers);
    cJSON_AddNumberToObject(j, "sample", (double)b->sample);
    return j;
}

int lcae_beam_write_in(lcae_output_set *set, const lcae_beam *b, const char *dir)
{
    int64_t shape[3] = {b->ny, b->nx, 2};
    const char *names[2] = {"beam_position.npy", "beam_measured.npy"};
    const float *data[2] = {b->fitted, b->measured};
    int rc = LCAE_OK;
    for (int a = 0; a < 2 && !rc; a++) {
        char *path = lcae_path_join(dir, names[a]);
        rc = path ? lcae_npy_write_in(set, path, LCAE_DT_F32, 3, shape, data[a]) : LCAE_ENOMEM;
        free(path);
    }
    return rc;
}

int lcae_beam_write(const lcae_beam *b, const char *dir)
{
    lcae_output_set *set;
    int rc = lcae_output_set_new(&set);
    if (!rc)
        rc = lcae_beam_write_in(set, b, dir);
    int closed = lcae_output_set_close(set, !rc);
    return rc ? rc : closed;
}
