/* lcae_report_write: checks the inputs, derives what the figures need (cluster sizes,
 * the virtual detectors' geometry, scores, PCA), reads the scan once (scan.c), then
 * writes the figures (figures.c), report.json and report.html (html.c). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report_internal.h"

#define MAX_CLUSTERINGS 16

/* A clustering's name becomes part of file names. */
static int name_ok(const char *s)
{
    if (!s || !*s || strlen(s) > 40)
        return 0;
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ||
              *s == '_' || *s == '-'))
            return 0;
    return 1;
}

/* Sizes per label, labels checked to be -1..n-1; the largest clusters chosen for
 * figure 2. */
static int count_clusters(report_clustering *c, int64_t n)
{
    const int32_t *lab = c->in->labels;
    int32_t k = 0;
    for (int64_t i = 0; i < n; i++) {
        if (lab[i] < -1 || lab[i] >= n)
            return lcae_fail(LCAE_EUSAGE, "%s: label %d at position %lld (expected -1 for noise "
                             "or 0..%lld)", c->in->name, (int)lab[i], (long long)i,
                             (long long)n - 1);
        k = lab[i] + 1 > k ? lab[i] + 1 : k;
    }
    c->k = k;
    c->sizes = lcae_calloc((size_t)k + 1, sizeof *c->sizes);
    c->slot = lcae_malloc(((size_t)k + 1) * sizeof *c->slot);
    c->shown = lcae_malloc(((size_t)k + 1) * sizeof *c->shown);
    if (!c->sizes || !c->slot || !c->shown)
        return LCAE_ENOMEM;
    for (int64_t i = 0; i < n; i++) {
        if (lab[i] < 0)
            c->noise++;
        else
            c->sizes[lab[i]]++;
    }
    /* largest first, ties by smaller label: repeated selection over k labels */
    c->nclusters = 0;
    for (int32_t l = 0; l < k; l++) {
        c->slot[l] = -1;
        c->nclusters += c->sizes[l] > 0;
    }
    c->nshown = 0;
    while (c->nshown < REPORT_MAX_SHOWN && c->nshown < c->nclusters) {
        int32_t best = -1;
        for (int32_t l = 0; l < k; l++)
            if (c->slot[l] < 0 && c->sizes[l] > 0 && (best < 0 || c->sizes[l] > c->sizes[best]))
                best = l;
        c->slot[best] = c->nshown;
        c->shown[c->nshown++] = best;
    }
    return LCAE_OK;
}

/* Where the virtual detectors sit: see report_ctx. */
static int detector_geometry(report_ctx *r)
{
    const float *mp = r->st->mean_pattern;
    int64_t px = r->h * r->w;
    double p50 = 0.5, med;
    int rc = lcae_percentiles_f32(mp, px, 1, &p50, &med, NULL);
    if (rc)
        return rc;
    r->bg = isfinite(med) ? med : 0;
    double sw = 0, sx = 0, sy = 0;
    for (int64_t y = 0; y < r->h; y++)
        for (int64_t x = 0; x < r->w; x++) {
            double v = mp[y * r->w + x] - r->bg;
            if (!(v > 0))
                continue;
            sw += v;
            sx += v * (double)x;
            sy += v * (double)y;
        }
    r->cx = sw > 0 ? sx / sw : (double)(r->w - 1) / 2;
    r->cy = sw > 0 ? sy / sw : (double)(r->h - 1) / 2;
    /* azimuthal mean in 1-pixel rings (ring b: distances in [b - 0.5, b + 0.5)) */
    int nb = (int)ceil(hypot((double)r->h, (double)r->w)) + 2;
    double *sum = lcae_calloc((size_t)nb * 2, sizeof(double));
    if (!sum)
        return LCAE_ENOMEM;
    double *cnt = sum + nb;
    for (int64_t y = 0; y < r->h; y++)
        for (int64_t x = 0; x < r->w; x++) {
            double v = mp[y * r->w + x];
            if (!isfinite(v))
                continue;
            int b = (int)floor(hypot((double)x - r->cx, (double)y - r->cy) + 0.5);
            sum[b] += v - r->bg;
            cnt[b] += 1;
        }
    int peak = -1;
    for (int b = 0; b < nb; b++)
        if (cnt[b] > 0 && (peak < 0 || sum[b] / cnt[b] > sum[peak] / cnt[peak]))
            peak = b;
    r->r_half = 1;
    if (peak >= 0 && sum[peak] > 0) {
        double half = sum[peak] / cnt[peak] / 2, prev = sum[peak] / cnt[peak];
        int pb = peak;
        for (int b = peak + 1; b < nb; b++) {
            if (!(cnt[b] > 0))
                continue;
            double v = sum[b] / cnt[b];
            if (v < half) {
                r->r_half = pb + (prev - half) / (prev - v) * (b - pb);
                break;
            }
            prev = v;
            pb = b;
        }
        if (r->r_half < 1)
            r->r_half = 1;
    }
    free(sum);
    return LCAE_OK;
}

/* Thumbnail layout: positions every `stride` so that at most REPORT_MAX_THUMBS are kept;
 * the longer detector side becomes REPORT_THUMB pixels (never enlarged). */
static void thumb_layout(report_ctx *r)
{
    r->stride = 1;
    while (((r->ny + r->stride - 1) / r->stride) * ((r->nx + r->stride - 1) / r->stride) >
           REPORT_MAX_THUMBS)
        r->stride++;
    r->tny = (int)((r->ny + r->stride - 1) / r->stride);
    r->tnx = (int)((r->nx + r->stride - 1) / r->stride);
    int64_t side = r->h > r->w ? r->h : r->w, t = side < REPORT_THUMB ? side : REPORT_THUMB;
    r->th = (int)(r->h * t / side);
    r->tw = (int)(r->w * t / side);
    r->th = r->th < 1 ? 1 : r->th;
    r->tw = r->tw < 1 ? 1 : r->tw;
}

/* The sprite's log scale: from the median of all thumbnail values (the background, which
 * then reads as dark; 10^-4 of the top if that is larger) to their 99.9th percentile. */
static int thumb_scale(report_ctx *r)
{
    double p[2] = {0.5, 0.999}, q[2];
    int rc = lcae_percentiles_f32(r->thumbs, (int64_t)r->tny * r->tnx * r->th * r->tw, 2, p, q,
                                  NULL);
    if (rc)
        return rc;
    r->thumb_hi = q[1] > 0 ? q[1] : 1;
    r->thumb_lo = q[0] > r->thumb_hi * 1e-4 ? q[0] : r->thumb_hi * 1e-4;
    return LCAE_OK;
}

/* ---- report.json ---------------------------------------------------------------- */
static cJSON *sizes_json(const report_clustering *c)
{
    cJSON *a = cJSON_CreateArray();
    for (int32_t l = 0; a && l < c->k; l++)
        cJSON_AddItemToArray(a, cJSON_CreateNumber((double)c->sizes[l]));
    return a;
}

/* The last logged epoch's probe measurements of a model's training log (lcae_train):
 * {"epoch", "latent_spread": [D], "invariance_error": [N] (invariant features only),
 * and for a model kept among restarts "restarts": [{"restart", "init_seed",
 * "final_loss", "agreement" (kept by agreement)}], "chosen_restart", "restart_choice"
 * ("final_loss" or "agreement"; absent in an earlier version's log: the final loss)};
 * NULL when the log is missing or has none (an earlier version's log). */
static cJSON *latent_probe_json(const char *log_path)
{
    char *text = NULL;
    size_t n;
    cJSON *log = lcae_read_text_file(log_path, 64u << 20, &text, &n) == LCAE_OK
                     ? cJSON_ParseWithLength(text, n) : NULL;
    free(text);
    cJSON *epochs = cJSON_GetObjectItemCaseSensitive(log, "epochs");
    cJSON *last = cJSON_GetArrayItem(epochs, cJSON_GetArraySize(epochs) - 1), *out = NULL;
    cJSON *spread = cJSON_GetObjectItemCaseSensitive(last, "latent_spread");
    if (cJSON_IsArray(spread)) {
        out = cJSON_CreateObject();
        cJSON_AddItemToObject(out, "epoch", cJSON_Duplicate(
                                                cJSON_GetObjectItemCaseSensitive(last, "epoch"), 1));
        cJSON_AddItemToObject(out, "latent_spread", cJSON_Duplicate(spread, 1));
        cJSON *err = cJSON_GetObjectItemCaseSensitive(last, "invariance_error");
        if (cJSON_IsArray(err))
            cJSON_AddItemToObject(out, "invariance_error", cJSON_Duplicate(err, 1));
        cJSON *restarts = cJSON_GetObjectItemCaseSensitive(log, "restarts");
        cJSON *chosen = cJSON_GetObjectItemCaseSensitive(log, "chosen_restart");
        if (cJSON_IsArray(restarts) && cJSON_IsNumber(chosen)) {
            cJSON_AddItemToObject(out, "restarts", cJSON_Duplicate(restarts, 1));
            cJSON_AddItemToObject(out, "chosen_restart", cJSON_Duplicate(chosen, 1));
            cJSON *rule = cJSON_GetObjectItemCaseSensitive(log, "restart_choice");
            cJSON_AddStringToObject(out, "restart_choice", cJSON_IsString(rule)
                                                               ? rule->valuestring
                                                               : "final_loss");
        }
    }
    cJSON_Delete(log);
    return out;
}

static cJSON *build_json(report_ctx *r)
{
    const lcae_report_input *in = r->in;
    const lcae_dataset_info *di = lcae_dataset_get_info(in->ds);
    cJSON *j = cJSON_CreateObject();
    cJSON_AddStringToObject(j, "generator", "lcae report");
    cJSON_AddStringToObject(j, "version", lcae_version());
    cJSON *d = cJSON_AddObjectToObject(j, "dataset");
    cJSON_AddStringToObject(d, "path", in->data_path ? in->data_path : lcae_dataset_path(in->ds));
    cJSON_AddStringToObject(d, "format", lcae_format_name(di->format));
    cJSON_AddNumberToObject(d, "scan_ny", (double)r->ny);
    cJSON_AddNumberToObject(d, "scan_nx", (double)r->nx);
    cJSON_AddNumberToObject(d, "detector_h", (double)r->h);
    cJSON_AddNumberToObject(d, "detector_w", (double)r->w);
    cJSON_AddStringToObject(d, "dtype", lcae_dtype_name(di->dtype));
    cJSON_AddNumberToObject(d, "file_bytes", (double)di->file_bytes);
    cJSON_AddItemToObject(j, "stats", lcae_stats_json_full(in->ds, r->st));

    cJSON *v = cJSON_AddObjectToObject(j, "virtual_detectors");
    cJSON_AddStringToObject(v, "definition",
                            "centre: centre of mass of the mean pattern less its median; "
                            "radius: where the mean pattern's azimuthal average falls to half "
                            "its peak above that median; bright field: the disk to that radius; "
                            "annular dark field: 2 to 4 times that radius, clipped to the "
                            "detector");
    cJSON_AddNumberToObject(v, "center_x", r->cx);
    cJSON_AddNumberToObject(v, "center_y", r->cy);
    cJSON_AddNumberToObject(v, "half_max_radius", r->r_half);
    cJSON_AddNumberToObject(v, "background", r->bg);
    cJSON_AddNumberToObject(v, "bf_pixels", (double)r->bf_pixels);
    cJSON_AddNumberToObject(v, "adf_pixels", (double)r->adf_pixels);

    cJSON *cls = cJSON_AddArrayToObject(j, "clusterings");
    for (int c = 0; c < r->ncl; c++) {
        const report_clustering *cl = &r->cl[c];
        cJSON *o = cJSON_CreateObject();
        cJSON_AddItemToArray(cls, o);
        cJSON_AddStringToObject(o, "name", cl->in->name);
        cJSON_AddStringToObject(o, "title", cl->in->title ? cl->in->title : cl->in->name);
        cJSON_AddNumberToObject(o, "positions", (double)r->n);
        cJSON_AddNumberToObject(o, "clusters", cl->nclusters);
        cJSON_AddNumberToObject(o, "noise", (double)cl->noise);
        cJSON_AddNumberToObject(o, "noise_fraction", (double)cl->noise / (double)r->n);
        cJSON_AddItemToObject(o, "sizes", sizes_json(cl));
        cJSON *sh = cJSON_AddArrayToObject(o, "shown_in_figure2");
        for (int s = 0; s < cl->nshown; s++)
            cJSON_AddItemToArray(sh, cJSON_CreateNumber(cl->shown[s]));
        if (cl->in->latent) {
            cJSON *p = cJSON_AddObjectToObject(o, "pca");
            cJSON_AddNumberToObject(p, "rows", (double)cl->pca_rows);
            cJSON_AddNumberToObject(p, "pc1_variance_fraction", cl->explained[0]);
            cJSON_AddNumberToObject(p, "pc2_variance_fraction", cl->explained[1]);
        }
        if (cl->in->cluster)
            cJSON_AddItemToObject(o, "cluster", cJSON_Duplicate(cl->in->cluster, 1));
        /* the labels' scores (given, or computed here), the filled map's and its grain
         * map's against the grains (given only: score.json's "filled", "grains") */
        const cJSON *given = cl->in->score;
        const cJSON *filled = cJSON_GetObjectItemCaseSensitive(given, "filled");
        const cJSON *grains = cJSON_GetObjectItemCaseSensitive(given, "grains");
        const struct {
            const char *key, *given;
            const cJSON *from;
            int has;
            const lcae_score_result *score;
        } scores[5] = {{"score", "class", given, cl->has_class, &cl->class_score},
                       {"score_grain", "grain", given, cl->has_grain, &cl->grain_score},
                       {"score_filled", "class", filled, 0, NULL},
                       {"score_grain_filled", "grain", filled, 0, NULL},
                       {"score_grain_grains", "grain", grains, 0, NULL}};
        for (int k = 0; k < 5; k++) {
            const cJSON *g = cJSON_GetObjectItemCaseSensitive(scores[k].from, scores[k].given);
            if (g)
                cJSON_AddItemToObject(o, scores[k].key, cJSON_Duplicate(g, 1));
            else if (scores[k].has)
                cJSON_AddItemToObject(o, scores[k].key, lcae_score_json(scores[k].score));
        }
        if (cl->in->train_log) {
            cJSON_AddStringToObject(o, "train_log", cl->in->train_log);
            cJSON *probe = latent_probe_json(cl->in->train_log);
            if (probe)
                cJSON_AddItemToObject(o, "latent_probe", probe);
        }
    }
    if (in->truth_class || in->truth_region || in->truth_grain) {
        cJSON *t = cJSON_AddObjectToObject(j, "truth");
        const int32_t *maps[3] = {in->truth_class, in->truth_region, in->truth_grain};
        const char *names[3] = {"class_sizes", "region_sizes", "grain_sizes"};
        for (int m = 0; m < 3; m++) {
            if (!maps[m])
                continue;
            int32_t k = 0;
            for (int64_t i = 0; i < r->n; i++)
                k = maps[m][i] + 1 > k ? maps[m][i] + 1 : k;
            int64_t *sz = lcae_calloc((size_t)k + 1, sizeof *sz);
            if (!sz)
                continue;
            for (int64_t i = 0; i < r->n; i++)
                if (maps[m][i] >= 0)
                    sz[maps[m][i]]++;
            cJSON *a = cJSON_AddArrayToObject(t, names[m]);
            for (int32_t l = 0; l < k; l++)
                cJSON_AddItemToArray(a, cJSON_CreateNumber((double)sz[l]));
            free(sz);
        }
    }
    cJSON *h = cJSON_AddObjectToObject(j, "hover");
    cJSON_AddNumberToObject(h, "stride", r->stride);
    cJSON_AddNumberToObject(h, "thumbnail_h", r->th);
    cJSON_AddNumberToObject(h, "thumbnail_w", r->tw);
    cJSON_AddNumberToObject(h, "log_lo", r->thumb_lo);
    cJSON_AddNumberToObject(h, "log_hi", r->thumb_hi);
    cJSON *fp = cJSON_AddObjectToObject(j, "figure2_patterns");
    cJSON_AddNumberToObject(fp, "bin", r->pbin);
    cJSON_AddNumberToObject(fp, "log_lo", r->pat_lo);
    cJSON_AddNumberToObject(fp, "log_hi", r->pat_hi);
    if (in->config)
        cJSON_AddItemToObject(j, "config", cJSON_Duplicate((const cJSON *)in->config, 1));
    if (in->timings)
        cJSON_AddItemToObject(j, "timings", cJSON_Duplicate((const cJSON *)in->timings, 1));
    return j;
}

static void add_figures_json(report_ctx *r)
{
    cJSON *a = cJSON_AddArrayToObject(r->json, "figures");
    for (int f = 0; f < r->nfig; f++) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "file", r->fig[f].file);
        cJSON_AddNumberToObject(o, "width", r->fig[f].w);
        cJSON_AddNumberToObject(o, "height", r->fig[f].h);
        cJSON_AddStringToObject(o, "caption", r->fig[f].caption);
        cJSON_AddItemToArray(a, o);
    }
}

static int write_json(report_ctx *r)
{
    char *text = cJSON_Print(r->json);
    char *path = lcae_path_join(r->dir, "report.json");
    int rc = text && path ? lcae_write_file_in(r->out, path, text, strlen(text))
                          : lcae_fail(LCAE_ENOMEM, "%s: out of memory", r->dir);
    free(text);
    free(path);
    return rc;
}

/* Arrays users may want beside the pictures: the virtual images and figure 2's mean
 * patterns, as .npy. */
static int write_arrays(report_ctx *r)
{
    int64_t scan[2] = {r->ny, r->nx};
    const struct {
        const char *name;
        const float *v;
    } imgs[] = {{"virtual_bf.npy", r->bf}, {"virtual_adf.npy", r->adf}};
    int rc = LCAE_OK;
    for (int i = 0; i < 2 && !rc; i++) {
        char *path = lcae_path_join(r->dir, imgs[i].name);
        rc = path ? lcae_npy_write_in(r->out, path, LCAE_DT_F32, 2, scan, imgs[i].v)
                  : LCAE_ENOMEM;
        free(path);
    }
    for (int c = 0; c < r->ncl && !rc; c++) {
        const report_clustering *cl = &r->cl[c];
        if (!cl->nshown)
            continue;
        char name[96];
        snprintf(name, sizeof name, "mean_patterns_%s.npy", cl->in->name);
        int64_t shape[3] = {cl->nshown, r->ph, r->pw};
        size_t k = (size_t)cl->nshown * r->ph * r->pw;
        float *f = lcae_malloc(k * sizeof *f);
        char *path = lcae_path_join(r->dir, name);
        if (f && path) {
            for (size_t i = 0; i < k; i++)
                f[i] = (float)cl->mean[i];
            rc = lcae_npy_write_in(r->out, path, LCAE_DT_F32, 3, shape, f);
        } else {
            rc = LCAE_ENOMEM;
        }
        free(f);
        free(path);
    }
    return rc;
}

int lcae_figure_formats_parse(const char *list, unsigned *formats)
{
    static const char *const names[3] = {"png", "pdf", "svg"};
    unsigned f = 0;
    for (const char *s = list ? list : ""; *s;) {
        size_t n = strcspn(s, ",");
        int k = 0;
        while (k < 3 && !(strlen(names[k]) == n && !strncmp(s, names[k], n)))
            k++;
        if (k == 3)
            return lcae_fail(LCAE_EUSAGE, "figure format '%.*s' (expected png, pdf or svg)",
                             (int)n, s);
        f |= 1u << k;
        s += n + (s[n] == ',');
    }
    if (!(f & LCAE_FIGURE_PNG))
        return lcae_fail(LCAE_EUSAGE, "figure formats '%s' (expected a list with png: "
                         "report.html embeds the PNGs)", list ? list : "");
    *formats = f;
    return LCAE_OK;
}

static int check_input(const lcae_report_input *in, const char *dir)
{
    if (!in || !dir || !in->ds)
        return lcae_fail(LCAE_EUSAGE, "report: no %s given", !dir ? "folder" : "scan");
    if (in->n_clusterings < 0 || in->n_clusterings > MAX_CLUSTERINGS ||
        (in->n_clusterings && !in->clusterings))
        return lcae_fail(LCAE_EUSAGE, "%s: %d clusterings (expected 0..%d)", dir,
                         in->n_clusterings, MAX_CLUSTERINGS);
    for (int c = 0; c < in->n_clusterings; c++) {
        const lcae_report_clustering *cl = &in->clusterings[c];
        if (!name_ok(cl->name))
            return lcae_fail(LCAE_EUSAGE, "%s: clustering name \"%s\" (expected 1-40 letters, "
                             "digits, '_' or '-': it names files)", dir, cl->name ? cl->name : "");
        for (int e = 0; e < c; e++)
            if (!strcmp(in->clusterings[e].name, cl->name))
                return lcae_fail(LCAE_EUSAGE, "%s: two clusterings named %s", dir, cl->name);
        if (!cl->labels)
            return lcae_fail(LCAE_EUSAGE, "%s: clustering %s has no labels", dir, cl->name);
        if (cl->latent && (cl->latent_dims < 1 || cl->latent_dims > 64))
            return lcae_fail(LCAE_EUSAGE, "%s: clustering %s has %d latent features (expected "
                             "1..64)", dir, cl->name, cl->latent_dims);
    }
    if (in->figure_formats & ~(unsigned)(LCAE_FIGURE_PNG | LCAE_FIGURE_PDF | LCAE_FIGURE_SVG))
        return lcae_fail(LCAE_EUSAGE, "%s: figure formats 0x%x (expected LCAE_FIGURE_* flags)",
                         dir, in->figure_formats);
    if (!(in->step_nm >= 0) || !isfinite(in->step_nm))
        return lcae_fail(LCAE_EUSAGE, "%s: scan step %g nm (expected >= 0, 0 unknown)", dir,
                         in->step_nm);
    const int32_t *maps[3] = {in->truth_class, in->truth_region, in->truth_grain};
    int64_t n = lcae_dataset_get_info(in->ds)->count;
    for (int m = 0; m < 3; m++)
        for (int64_t i = 0; maps[m] && i < n; i++)
            if (maps[m][i] < -1 || maps[m][i] >= n)
                return lcae_fail(LCAE_EUSAGE, "%s: truth label %d at position %lld (expected "
                                 "-1..%lld)", dir, (int)maps[m][i], (long long)i,
                                 (long long)n - 1);
    return LCAE_OK;
}

int lcae_report_write(const lcae_report_input *in, const char *dir, const lcae_progress *p)
{
    int rc = check_input(in, dir);
    if (rc)
        return rc;
    const lcae_dataset_info *di = lcae_dataset_get_info(in->ds);
    report_ctx r = {.in = in, .dir = dir, .ny = di->ny, .nx = di->nx, .h = di->h, .w = di->w,
                    .n = di->count, .ncl = in->n_clusterings,
                    .figure_formats = in->figure_formats ? in->figure_formats
                                                         : LCAE_FIGURE_PNG | LCAE_FIGURE_PDF};
    /* maps at least ~256 pixels wide, at most ~1024 tall */
    r.map_scale = (int)((256 + r.nx - 1) / r.nx);
    while (r.map_scale > 1 && r.ny * r.map_scale > 1024)
        r.map_scale--;
    r.st = in->stats;
    if (!r.st || !r.st->variance || !r.st->mean_pattern) {
        lcae_stats_options so = {.virtual_images = 1};
        rc = lcae_stats_compute(in->ds, &so, p, &r.own_stats);
        if (rc)
            return rc;
        r.st = &r.own_stats;
    }
    r.cl = lcae_calloc((size_t)r.ncl + 1, sizeof *r.cl);
    rc = r.cl ? LCAE_OK : LCAE_ENOMEM;
    r.pbin = (int)(((r.h > r.w ? r.h : r.w) + REPORT_PATTERN_MAX - 1) / REPORT_PATTERN_MAX);
    r.ph = (int)((r.h + r.pbin - 1) / r.pbin);
    r.pw = (int)((r.w + r.pbin - 1) / r.pbin);
    for (int c = 0; !rc && c < r.ncl; c++) {
        report_clustering *cl = &r.cl[c];
        cl->in = &in->clusterings[c];
        rc = count_clusters(cl, r.n);
        if (!rc) {
            cl->mean = lcae_calloc((size_t)cl->nshown * r.ph * r.pw + 1, sizeof(double));
            rc = cl->mean ? LCAE_OK : LCAE_ENOMEM;
        }
        if (!rc && cl->in->latent)
            rc = report_pca(cl, r.n);
        if (!rc && in->truth_class && !cl->in->score) {
            rc = lcae_score(cl->in->labels, in->truth_class, in->truth_region, r.n,
                            &cl->class_score);
            cl->has_class = !rc;
        }
        if (!rc && in->truth_grain && !cl->in->score) {
            rc = lcae_score(cl->in->labels, in->truth_grain, in->truth_region, r.n,
                            &cl->grain_score);
            cl->has_grain = !rc;
        }
    }
    if (!rc)
        rc = detector_geometry(&r);
    if (!rc) {
        thumb_layout(&r);
        r.bf = lcae_malloc((size_t)r.n * sizeof(float));
        r.adf = lcae_malloc((size_t)r.n * sizeof(float));
        r.thumbs = lcae_malloc((size_t)r.tny * r.tnx * r.th * r.tw * sizeof(float));
        rc = r.bf && r.adf && r.thumbs ? LCAE_OK : LCAE_ENOMEM;
    }
    if (!rc)
        rc = report_scan_pass(&r, p);
    if (!rc)
        rc = thumb_scale(&r);
    if (!rc)
        rc = lcae_output_set_new(&r.out);
    if (!rc)
        rc = report_figures(&r);
    if (!rc) {
        r.json = build_json(&r);
        rc = r.json ? LCAE_OK : lcae_fail(LCAE_ENOMEM, "%s: out of memory", dir);
    }
    if (!rc) {
        add_figures_json(&r);
        rc = write_arrays(&r);
    }
    if (!rc)
        rc = write_json(&r);
    if (!rc)
        rc = report_html(&r);
    int closed = lcae_output_set_close(r.out, !rc);
    rc = rc ? rc : closed;

    cJSON_Delete(r.json);
    for (int f = 0; f < r.nfig; f++)
        free(r.fig[f].png);
    for (int c = 0; r.cl && c < r.ncl; c++) {
        free(r.cl[c].sizes);
        free(r.cl[c].slot);
        free(r.cl[c].shown);
        free(r.cl[c].mean);
    }
    free(r.cl);
    free(r.bf);
    free(r.adf);
    free(r.thumbs);
    lcae_stats_free(&r.own_stats);
    return rc;
}
