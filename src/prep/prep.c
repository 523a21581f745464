/* Pattern preparation: centring on the direct beam, crop, binning, offset, intensity
 * transform and normalization (include/lcae/prep.h). */
#include "lcae/prep.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stddef.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>

#include "lcae/stats.h"
#include "core/util.h"

const char *const lcae_transform_names[] = {"none", "sqrt", "log", NULL};
const char *const lcae_center_names[] = {"none", "beam", NULL};

const char *lcae_transform_name(lcae_transform t)
{
    return core_name_of(lcae_transform_names, (int)t);
}
int lcae_transform_from_name(const char *name)
{
    return core_name_index(lcae_transform_names, name);
}
const char *lcae_center_name(lcae_center c) { return core_name_of(lcae_center_names, (int)c); }
int lcae_center_from_name(const char *name) { return core_name_index(lcae_center_names, name); }

int lcae_prep_size(int64_t h, int64_t w, int crop, int bin, int *size)
{
    *size = 0;
    if (bin < 1 || bin > 16)
        return lcae_fail(LCAE_EUSAGE, "binning: expected 1 to 16, found %d", bin);
    if (crop < 0 || crop > h || crop > w)
        return lcae_fail(LCAE_EUSAGE, "crop: expected at most the detector's %lld x %lld "
                         "pixels, found %d", (long long)h, (long long)w, crop);
    if (!crop && h != w)
        return lcae_fail(LCAE_EUSAGE, "the detector is %lld x %lld, not square: choose a "
                         "square centre crop (--crop H)", (long long)h, (long long)w);
    int64_t side = crop ? crop : h;
    if (side % bin)
        return lcae_fail(LCAE_EUSAGE, "a %lld-pixel side cannot be binned by %d (expected a "
                         "multiple of %d; use --crop)", (long long)side, bin, bin);
    if (side / bin > 65536)
        return lcae_fail(LCAE_EUSAGE, "patterns of %lld pixels a side are too large",
                         (long long)side);
    *size = (int)(side / bin);
    return LCAE_OK;
}

/* The cropped side x side window of one pattern, shifted so that the beam at (by, bx)
 * moves to the frame centre: pixel (y, x) of the result is the raw pattern at
 * (y + oy + by - cy, x + ox + bx - cx), bilinear, with the nearest edge pixel outside. */
static void shifted_window(const float *raw, int64_t h, int64_t w, int64_t side, double by,
                           double bx, float *win)
{
    int64_t oy = (h - side) / 2, ox = (w - side) / 2;
    double dy = by - (double)(h - 1) / 2, dx = bx - (double)(w - 1) / 2;
    double fy0 = floor(dy), fx0 = floor(dx);
    float fy = (float)(dy - fy0), fx = (float)(dx - fx0);
    int64_t iy = (int64_t)fy0 + oy, ix = (int64_t)fx0 + ox;
    for (int64_t y = 0; y < side; y++) {
        int64_t y0 = y + iy, y1 = y0 + 1;
        y0 = y0 < 0 ? 0 : y0 >= h ? h - 1 : y0;
        y1 = y1 < 0 ? 0 : y1 >= h ? h - 1 : y1;
        const float *r0 = raw + y0 * w, *r1 = raw + y1 * w;
        for (int64_t x = 0; x < side; x++) {
            int64_t x0 = x + ix, x1 = x0 + 1;
            x0 = x0 < 0 ? 0 : x0 >= w ? w - 1 : x0;
            x1 = x1 < 0 ? 0 : x1 >= w ? w - 1 : x1;
            float top = r0[x0] + fx * (r0[x1] - r0[x0]);
            float bot = r1[x0] + fx * (r1[x1] - r1[x0]);
            win[y * side + x] = top + fy * (bot - top);
        }
    }
}

/* Steps 1-3 and the affine normalization (median, inv) of one pattern. */
static void prep_one(const lcae_prep *p, int64_t h, int64_t w, int size, const float *raw,
                     const float *beam, float med, float inv, float *win, float *out)
{
    int B = p->bin;
    int64_t side = (int64_t)size * B;
    const float *src;
    int64_t stride;
    if (beam) {
        shifted_window(raw, h, w, side, beam[0], beam[1], win);
        src = win;
        stride = side;
    } else {
        src = raw + (h - side) / 2 * w + (w - side) / 2;
        stride = w;
    }
    float off = (float)(p->offset * B * B);
    for (int y = 0; y < size; y++)
        for (int x = 0; x < size; x++) {
            float s = 0;
            for (int dy = 0; dy < B; dy++)
                for (int dx = 0; dx < B; dx++)
                    s += src[((int64_t)y * B + dy) * stride + (int64_t)x * B + dx];
            s -= off;
            if (p->transform == LCAE_TRANSFORM_SQRT)
                s = sqrtf(s > 0 ? s : 0);
            else if (p->transform == LCAE_TRANSFORM_LOG)
                s = log1pf(s > 0 ? s : 0);
            out[y * size + x] = (s - med) * inv;
        }
}

int lcae_prep_patterns(const lcae_prep *p, int64_t h, int64_t w, int size, const float *raw,
                       const float *beam_yx, float *out, int n)
{
    /* multiply by the reciprocal: the same float operations in lcae and in a user's
     * numpy (t - median) / scale differ by at most one rounding */
    float med = (float)p->median, inv = (float)(1.0 / p->scale);
    int64_t side = (int64_t)size * p->bin;
    int threads = n >= 8 ? omp_get_max_threads() : 1;
    /* one shifted window per thread */
    float *win = beam_yx ? lcae_malloc((size_t)threads * (size_t)(side * side) * sizeof *win)
                         : NULL;
    if (beam_yx && !win)
        return LCAE_ENOMEM;
#pragma omp parallel for num_threads(threads) schedule(static)
    for (int i = 0; i < n; i++)
        prep_one(p, h, w, size, raw + (size_t)i * h * w, beam_yx ? beam_yx + 2 * (size_t)i : NULL,
                 med, inv, win ? win + (size_t)omp_get_thread_num() * (size_t)(side * side) : NULL,
                 out + (size_t)i * size * size);
    free(win);
    return LCAE_OK;
}

int lcae_prep_read(lcae_dataset *ds, const lcae_prep *p, int size, const float *beam_map,
                   const int64_t *idx, int n, float *raw, float *out)
{
    const lcae_dataset_info *in = lcae_dataset_get_info(ds);
    int64_t hw = in->h * in->w;
    float *beam = NULL;
    if (beam_map && p->center == LCAE_CENTER_BEAM) {
        beam = lcae_malloc((size_t)n * 2 * sizeof *beam);
        if (!beam)
            return LCAE_ENOMEM;
        for (int i = 0; i < n; i++) {
            beam[2 * i] = beam_map[2 * idx[i]];
            beam[2 * i + 1] = beam_map[2 * idx[i] + 1];
        }
    }
    int rc = LCAE_OK;
    /* runs of consecutive positions are read in one call */
    for (int i = 0; i < n && !rc;) {
        int j = i + 1;
        while (j < n && idx[j] == idx[j - 1] + 1)
            j++;
        rc = lcae_dataset_read(ds, idx[i], j - i, raw + (size_t)i * hw);
        i = j;
    }
    if (!rc)
        rc = lcae_prep_patterns(p, in->h, in->w, size, raw, beam, out, n);
    free(beam);
    return rc;
}

/* The statistics pass's view of the scan: prepared patterns, identity normalization. */
typedef struct {
    lcae_prep prep;
    int64_t h, w;
    int size;
    const float *beam_map;
} fit_ctx;

static int prepare_for_stats(void *ctx, int64_t first, int64_t n, const float *raw, float *out)
{
    const fit_ctx *f = ctx;
    /* the positions of a batch are consecutive: so are their beam positions */
    return lcae_prep_patterns(&f->prep, f->h, f->w, f->size, raw,
                              f->beam_map ? f->beam_map + 2 * first : NULL, out, (int)n);
}

int lcae_prep_fit(lcae_dataset *ds, lcae_prep *p, const float *beam_map,
                  const lcae_stats_options *so, const lcae_progress *progress,
                  lcae_stats *st_out)
{
    const lcae_dataset_info *in = lcae_dataset_get_info(ds);
    fit_ctx f = {.prep = *p, .h = in->h, .w = in->w,
                 .beam_map = p->center == LCAE_CENTER_BEAM ? beam_map : NULL};
    int rc = lcae_prep_size(in->h, in->w, p->crop, p->bin, &f.size);
    if (rc)
        return rc;
    f.prep.median = 0;
    f.prep.scale = 1;
    lcae_stats_options o = {0};
    if (so)
        o = *so;
    o.virtual_images = 0;
    o.prepare = prepare_for_stats;
    o.prepare_ctx = &f;
    o.prepared_px = (int64_t)f.size * f.size;
    lcae_stats st;
    rc = lcae_stats_compute(ds, &o, progress, &st);
    if (rc)
        return rc;
    if (isnan(st.median))
        rc = lcae_fail(LCAE_EFAIL, "%s: cannot normalize: the prepared patterns hold no "
                       "finite value", lcae_dataset_path(ds));
    else if (!(st.scale > 0))
        rc = lcae_fail(LCAE_EFAIL, "%s: cannot normalize: every pixel (%s transform) has the "
                       "value %g", lcae_dataset_path(ds), lcae_transform_name(p->transform),
                       st.median);
    if (!rc) {
        p->median = st.median;
        p->scale = st.scale;
        p->norm = st.norm;
    }
    if (st_out && !rc)
        *st_out = st;
    else
        lcae_stats_free(&st);
    return rc;
}

int lcae_prep_beam_map(lcae_dataset *ds, const char *path, const lcae_progress *p, float **map)
{
    const lcae_dataset_info *in = lcae_dataset_get_info(ds);
    *map = NULL;
    if (!path) {
        lcae_beam b;
        int rc = lcae_beam_compute(ds, NULL, p, &b);
        if (rc)
            return rc;
        *map = b.fitted; /* handed over */
        b.fitted = NULL;
        lcae_beam_free(&b);
        return LCAE_OK;
    }
    lcae_npy_header h;
    float *m;
    int rc = lcae_npy_load_f32(path, &h, &m);
    if (rc)
        return rc;
    if (h.ndim != 3 || h.shape[0] != in->ny || h.shape[1] != in->nx || h.shape[2] != 2) {
        free(m);
        return lcae_fail(LCAE_EFAIL, "%s: expected a beam map of shape (%lld, %lld, 2) for "
                         "the scan %s, found %d dimensions (%lld, ...)", path,
                         (long long)in->ny, (long long)in->nx, lcae_dataset_path(ds), h.ndim,
                         (long long)h.shape[0]);
    }
    for (int64_t i = 0; i < 2 * in->count; i++)
        if (!isfinite(m[i])) {
            free(m);
            return lcae_fail(LCAE_EFAIL, "%s: beam position %lld is not finite", path,
                             (long long)(i / 2));
        }
    *map = m;
    return LCAE_OK;
}

#define AT(field) offsetof(lcae_prep, field)

/* The choices; the library's defaults are a pattern as stored (no centring, no transform:
 * the command line's are its own, see src/cli/prep_options.c). In the order of the JSON. */
const lcae_option lcae_prep_option_table[] = {
    {"crop", NULL, LCAE_OPT_INT, AT(crop), 0, 0, HUGE_VAL, NULL, "H",
     "centre crop of H x H detector pixels before binning, 0: none (default)", 0},
    {"bin", NULL, LCAE_OPT_INT, AT(bin), 1, 1, 16, NULL, "B",
     "sum-bin the patterns B x B (models: 1, 2 or 4) (default)", 0},
    {"center", NULL, LCAE_OPT_CHOICE, AT(center), LCAE_CENTER_NONE, 0, 0, lcae_center_names,
     "none|beam", "shift each pattern so its direct beam is at the frame centre (default)", 0},
    {"transform", NULL, LCAE_OPT_CHOICE, AT(transform), LCAE_TRANSFORM_NONE, 0, 0,
     lcae_transform_names, "none|sqrt|log",
     "intensity transform after binning: log(1 + v), sqrt(v) or none (default)", 0},
    {"offset", NULL, LCAE_OPT_DOUBLE, AT(offset), 0, 0, 0, NULL, "ADU",
     "detector offset per pixel, subtracted before the transform (default)", 0},
    {0}};

cJSON *lcae_prep_json(const lcae_prep *p)
{
    cJSON *j = lcae_options_json(lcae_prep_option_table, p);
    cJSON_AddNumberToObject(j, "median", p->median);
    cJSON_AddNumberToObject(j, "scale", p->scale);
    cJSON_AddStringToObject(j, "norm", lcae_norm_rule_name(p->norm));
    return j;
}
