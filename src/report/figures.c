/* The report's figures (drawn with cairo: figure.h). Scan maps are drawn map_scale times
 * enlarged with sharp pixels, so every map is at least ~256 pixels wide, with a scale bar
 * in nm when the scan step is known. Continuous maps use viridis with a colour bar,
 * labels the categorical palette with noise in grey. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "figure.h"
#include "report_internal.h"

#define MARGIN 16
#define GAP 28
#define TITLE_H FIG_LINE_H(FIG_TEXT)
#define MAX_LEGEND 24

/* ---- panels: title lines, an image, a colour bar or a legend under it ---------------- */
typedef struct {
    char title[3][160];
    const uint8_t *rgb;
    int iw, ih, scale;
    int bar, log_scale;
    double lo, hi;
    int nleg;
    char names[MAX_LEGEND + 2][24];
    uint8_t colors[MAX_LEGEND + 2][3];
    int scan_map;   /* a map of the scan positions: gets the scale bar */
    double step_nm; /* scan step (0: unknown, no scale bar) */
    /* circles over the image: centre (x, y) and radius in image pixels, colour */
    int ncirc;
    double circ[3][3];
    uint8_t circ_rgb[3][3];
} panel;

static int panel_lines(const panel *p)
{
    int n = 0;
    while (n < 3 && p->title[n][0])
        n++;
    return n;
}

static int panel_legend_h(const panel *p, int width)
{
    const char *names[MAX_LEGEND + 2];
    for (int i = 0; i < p->nleg; i++)
        names[i] = p->names[i];
    return fig_legend(NULL, 0, 0, width, p->nleg, names, (const uint8_t(*)[3])p->colors);
}

static void panel_size(const panel *p, int *w, int *h)
{
    int mw = fig_scaled(p->iw, p->scale), mh = fig_scaled(p->ih, p->scale);
    int pw = mw + (p->bar ? 8 + fig_colorbar_width(p->lo, p->hi, p->log_scale) : 0);
    for (int i = 0; i < panel_lines(p); i++) {
        int tw = fig_text_width(p->title[i], FIG_TEXT);
        pw = tw > pw ? tw : pw;
    }
    *w = pw;
    *h = panel_lines(p) * TITLE_H + 6 + mh + (p->nleg ? 10 + panel_legend_h(p, pw) : 0);
}

static int panel_draw(fig_canvas *c, const panel *p, int x, int y)
{
    int pw, ph;
    panel_size(p, &pw, &ph);
    int nl = panel_lines(p);
    for (int i = 0; i < nl; i++)
        fig_text(c, x, y + i * TITLE_H, p->title[i], FIG_TEXT, i ? fig_grey : fig_black);
    int my = y + nl * TITLE_H + 6;
    int mw = fig_scaled(p->iw, p->scale), mh = fig_scaled(p->ih, p->scale);
    int rc = fig_blit(c, x, my, p->rgb, p->iw, p->ih, p->scale);
    double f = fig_scale_factor(p->scale);
    fig_clip(c, x, my, mw, mh);
    for (int i = 0; i < p->ncirc; i++)
        fig_circle(c, x + (p->circ[i][0] + 0.5) * f, my + (p->circ[i][1] + 0.5) * f,
                   p->circ[i][2] * f, 1.5, p->circ_rgb[i]);
    fig_unclip(c);
    if (p->scan_map)
        fig_scalebar(c, x, my + mh, mw, p->iw, p->step_nm);
    if (p->bar)
        fig_colorbar(c, x + mw + 8, my, mh, p->lo, p->hi, p->log_scale);
    if (p->nleg) {
        const char *names[MAX_LEGEND + 2];
        for (int i = 0; i < p->nleg; i++)
            names[i] = p->names[i];
        fig_legend(c, x, my + mh + 10, pw, p->nleg, names, (const uint8_t(*)[3])p->colors);
    }
    return rc;
}

/* The legend of a label map: the first MAX_LEGEND labels that occur, then noise. */
static void panel_label_legend(panel *p, const int64_t *sizes, int32_t k, int64_t noise,
                               const char *prefix)
{
    p->nleg = 0;
    for (int32_t l = 0; l < k && p->nleg < MAX_LEGEND; l++)
        if (sizes[l] > 0) {
            snprintf(p->names[p->nleg], sizeof p->names[0], "%s%d", prefix, (int)l);
            lcae_palette_label(l, p->colors[p->nleg++]);
        }
    if (noise > 0) {
        snprintf(p->names[p->nleg], sizeof p->names[0], "noise");
        lcae_palette_label(-1, p->colors[p->nleg++]);
    }
}

/* Writes the figure as `name`.png (and .pdf / .svg as asked). */
static int add_figure(report_ctx *r, const fig_canvas *c, const char *name, const char *caption)
{
    if (r->nfig >= (int)(sizeof r->fig / sizeof r->fig[0]))
        return lcae_fail(LCAE_EUSAGE, "%s: too many figures", r->dir);
    report_figure *f = &r->fig[r->nfig];
    snprintf(f->file, sizeof f->file, "%s.png", name);
    snprintf(f->caption, sizeof f->caption, "%s", caption);
    char *path = lcae_path_join(r->dir, name);
    if (!path)
        return LCAE_ENOMEM;
    int rc = fig_write(c, r->out, path, r->figure_formats, &f->png, &f->bytes);
    free(path);
    if (rc)
        return rc;
    f->w = c->w;
    f->h = c->h;
    r->nfig++;
    return LCAE_OK;
}

/* A figure of panels side by side under an optional title line. */
static int write_row(report_ctx *r, panel *ps, int n, const char *title, const char *file,
                     const char *caption)
{
    /* the same number of title lines everywhere, so that the maps line up */
    int lines = 0;
    for (int i = 0; i < n; i++)
        lines = panel_lines(&ps[i]) > lines ? panel_lines(&ps[i]) : lines;
    for (int i = 0; i < n; i++)
        for (int l = panel_lines(&ps[i]); l < lines; l++)
            snprintf(ps[i].title[l], sizeof ps[i].title[l], " ");
    int w = MARGIN, h = 0;
    for (int i = 0; i < n; i++) {
        int pw, ph;
        panel_size(&ps[i], &pw, &ph);
        w += pw + (i ? GAP : 0);
        h = ph > h ? ph : h;
    }
    w += MARGIN;
    int top = MARGIN + (title ? TITLE_H + 10 : 0);
    if (title && fig_text_width(title, FIG_TEXT) + 2 * MARGIN > w)
        w = fig_text_width(title, FIG_TEXT) + 2 * MARGIN;
    fig_canvas c;
    int rc = fig_init(&c, w, top + h + MARGIN);
    if (rc)
        return rc;
    if (title)
        fig_text(&c, MARGIN, MARGIN, title, FIG_TEXT, fig_black);
    int x = MARGIN;
    for (int i = 0; i < n && !rc; i++) {
        int pw, ph;
        panel_size(&ps[i], &pw, &ph);
        ps[i].step_nm = r->in->step_nm;
        rc = panel_draw(&c, &ps[i], x, top);
        x += pw + GAP;
    }
    if (!rc)
        rc = add_figure(r, &c, file, caption);
    fig_free(&c);
    return rc;
}

/* A scan map panel of ny x nx pixels, each drawn as scale x scale: its RGB image
 * allocated into *rgb (the caller fills it and frees it), LCAE_ENOMEM. */
static int scan_map_panel(panel *p, int64_t ny, int64_t nx, int scale, uint8_t **rgb)
{
    *rgb = lcae_malloc((size_t)(ny * nx) * 3);
    if (!*rgb)
        return LCAE_ENOMEM;
    p->rgb = *rgb;
    p->iw = (int)nx;
    p->ih = (int)ny;
    p->scale = scale;
    p->scan_map = 1;
    return LCAE_OK;
}

/* A continuous map through viridis: linear between its 0.5 and 99.5 percentiles, or log
 * when those are positive and more than two decades apart. */
static int continuous_panel(panel *p, const float *v, int64_t ny, int64_t nx, int scale,
                            uint8_t **rgb)
{
    double q[2], pr[2] = {0.005, 0.995};
    int64_t nf;
    int rc = lcae_percentiles_f32(v, ny * nx, 2, pr, q, &nf);
    if (rc)
        return rc;
    if (!nf || isnan(q[0])) {
        q[0] = 0;
        q[1] = 1;
    }
    if (!(q[1] > q[0]))
        q[1] = q[0] + (q[0] ? fabs(q[0]) * 1e-3 : 1);
    p->log_scale = q[0] > 0 && q[1] / q[0] > 100;
    p->lo = q[0];
    p->hi = q[1];
    p->bar = 1;
    if ((rc = scan_map_panel(p, ny, nx, scale, rgb)))
        return rc;
    lcae_image_viridis(v, ny * nx, p->lo, p->hi, p->log_scale, *rgb);
    return LCAE_OK;
}

static int label_panel(panel *p, const int32_t *labels, int64_t ny, int64_t nx, int scale,
                       uint8_t **rgb)
{
    int rc = scan_map_panel(p, ny, nx, scale, rgb);
    if (!rc)
        lcae_image_labels(labels, ny * nx, *rgb);
    return rc;
}

static void cluster_titles(panel *p, const report_clustering *cl, int64_t n)
{
    snprintf(p->title[0], sizeof p->title[0], "%s", cl->in->title ? cl->in->title : cl->in->name);
    snprintf(p->title[1], sizeof p->title[1], "%d clusters, noise %.1f%%", cl->nclusters,
             100.0 * (double)cl->noise / (double)n);
    if (cl->nclusters > MAX_LEGEND)
        snprintf(p->title[2], sizeof p->title[2], "(legend: the first %d)", MAX_LEGEND);
}

/* Figure 1: the variance map beside the cluster maps. */
static int fig1(report_ctx *r)
{
    int n = 1 + r->ncl, rc;
    panel *ps = lcae_calloc((size_t)n, sizeof *ps);
    uint8_t **rgb = lcae_calloc((size_t)n, sizeof *rgb);
    if (!ps || !rgb) {
        free(ps);
        free(rgb);
        return LCAE_ENOMEM;
    }
    rc = continuous_panel(&ps[0], r->st->variance, r->ny, r->nx, r->map_scale, &rgb[0]);
    snprintf(ps[0].title[0], sizeof ps[0].title[0], "Variance over reciprocal space");
    snprintf(ps[0].title[1], sizeof ps[0].title[1], "per position%s",
             ps[0].log_scale ? " (log scale)" : "");
    for (int c = 0; !rc && c < r->ncl; c++) {
        const report_clustering *cl = &r->cl[c];
        rc = label_panel(&ps[1 + c], cl->in->labels, r->ny, r->nx, r->map_scale, &rgb[1 + c]);
        cluster_titles(&ps[1 + c], cl, r->n);
        panel_label_legend(&ps[1 + c], cl->sizes, cl->k, cl->noise, "");
    }
    if (!rc)
        rc = write_row(r, ps, n, NULL, "fig1_cluster_maps",
                       "Figure 1: the variance of each diffraction pattern over the detector "
                       "beside the cluster map of each model (HDBSCAN labels; noise in grey).");
    for (int i = 0; i < n; i++)
        free(rgb[i]);
    free(rgb);
    free(ps);
    return rc;
}

/* sizes[l] (l < k, zeroed by the caller) of the labels of map (n, each -1..k-1); the
 * positions labelled -1 in *noise; returns the labels that occur. */
static int count_labels(const int32_t *map, int64_t n, int64_t *sizes, int64_t *noise)
{
    int distinct = 0;
    *noise = 0;
    for (int64_t i = 0; i < n; i++) {
        if (map[i] < 0)
            (*noise)++;
        else if (sizes[map[i]]++ == 0)
            distinct++;
    }
    return distinct;
}

/* The filled maps (boundaries and noise given to the regions around them) of the
 * clusterings that have one, in the colours of figure 1. */
static int fig_filled(report_ctx *r)
{
    int n = 0, rc = LCAE_OK;
    panel *ps = lcae_calloc((size_t)r->ncl, sizeof *ps);
    uint8_t **rgb = lcae_calloc((size_t)r->ncl, sizeof *rgb);
    int64_t *sizes = NULL;
    if (!ps || !rgb)
        rc = LCAE_ENOMEM;
    for (int c = 0; !rc && c < r->ncl; c++) {
        const report_clustering *cl = &r->cl[c];
        const int32_t *map = cl->in->labels_filled;
        if (!map)
            continue;
        free(sizes);
        sizes = lcae_calloc((size_t)cl->k + 1, sizeof *sizes);
        if (!sizes) {
            rc = LCAE_ENOMEM;
            break;
        }
        for (int64_t i = 0; !rc && i < r->n; i++)
            if (map[i] < -1 || map[i] >= cl->k)
                rc = lcae_fail(LCAE_EUSAGE, "%s: filled map label %d at position %lld (expected "
                               "one of the clustering's, -1..%d)", cl->in->name, (int)map[i],
                               (long long)i, (int)cl->k - 1);
        if (!rc)
            rc = label_panel(&ps[n], map, r->ny, r->nx, r->map_scale, &rgb[n]);
        if (rc)
            break;
        int64_t noise;
        int clusters = count_labels(map, r->n, sizes, &noise); /* labels left in the map */
        snprintf(ps[n].title[0], sizeof ps[n].title[0], "%s",
                 cl->in->title ? cl->in->title : cl->in->name);
        snprintf(ps[n].title[1], sizeof ps[n].title[1], "filled: %d clusters", clusters);
        panel_label_legend(&ps[n], sizes, cl->k, noise, "");
        n++;
    }
    if (!rc && n)
        rc = write_row(r, ps, n, NULL, "filled_maps",
                       "The filled maps: each cluster map of figure 1 with its boundaries "
                       "(bands of a cluster too thin to hold the fill radius's disk) and noise "
                       "given to the regions around them, as EBSD's grain dilation; "
                       "labels_filled.npy.");
    for (int i = 0; rgb && i < r->ncl; i++)
        free(rgb[i]);
    free(rgb);
    free(ps);
    free(sizes);
    return rc;
}

/* The log scale of the mean patterns: up to their maximum, down to 10^-4 of it (or their
 * smallest positive value, if larger). Linear if nothing is positive. */
static void pattern_scale(report_ctx *r)
{
    double hi = -INFINITY, minpos = INFINITY;
    size_t pp = (size_t)r->ph * r->pw;
    for (int c = 0; c < r->ncl; c++)
        for (size_t k = 0; k < (size_t)r->cl[c].nshown * pp; k++) {
            double v = r->cl[c].mean[k];
            hi = v > hi ? v : hi;
            if (v > 0 && v < minpos)
                minpos = v;
        }
    r->pat_hi = hi;
    r->pat_lo = isfinite(minpos) && minpos > hi * 1e-4 ? minpos : hi * 1e-4;
}

static void pattern_rgb(const report_ctx *r, const double *m, uint8_t *rgb)
{
    size_t pp = (size_t)r->ph * r->pw;
    for (size_t k = 0; k < pp; k++) {
        double v = m[k];
        double t = r->pat_hi > 0 ? (log10(v > r->pat_lo ? v : r->pat_lo) - log10(r->pat_lo)) /
                                       (log10(r->pat_hi) - log10(r->pat_lo))
                                 : 0;
        lcae_colormap_viridis(t, rgb + 3 * k);
    }
}

/* Figure 2, one per clustering: each shown cluster's mask and mean pattern (log scale). */
static int fig2(report_ctx *r, const report_clustering *cl)
{
    const int box = 128, cols = 4;
    int ms = fig_fit_scale((int)r->nx, (int)r->ny, box, box);
    int ps = fig_fit_scale(r->pw, r->ph, box, box);
    int mw = fig_scaled((int)r->nx, ms), mh = fig_scaled((int)r->ny, ms);
    int pw = fig_scaled(r->pw, ps), ph = fig_scaled(r->ph, ps);
    int cell_w = mw + 8 + pw, cell_h = TITLE_H + 4 + (mh > ph ? mh : ph);
    char label[64];
    /* room for the widest cell title */
    snprintf(label, sizeof label, "cluster %d: %.1f%%", 99999, 100.0);
    if (fig_text_width(label, FIG_TEXT) > cell_w)
        cell_w = fig_text_width(label, FIG_TEXT);
    int n = cl->nshown, rows = (n + cols - 1) / cols, ncols = n < cols ? n : cols;
    char title[2][200];
    snprintf(title[0], sizeof title[0], "%s: mask and mean diffraction pattern of each cluster",
             cl->in->title ? cl->in->title : cl->in->name);
    if (cl->nclusters > n)
        snprintf(title[1], sizeof title[1], "largest %d of %d clusters; log colour scale", n,
                 cl->nclusters);
    else
        snprintf(title[1], sizeof title[1], "all %d clusters; log colour scale", cl->nclusters);
    if (n == 0)
        snprintf(title[1], sizeof title[1], "no clusters (every position is noise)");
    int grid_w = ncols * cell_w + (ncols > 1 ? (ncols - 1) * GAP : 0);
    int bar_w = r->pat_hi > 0 ? 12 + fig_colorbar_width(r->pat_lo, r->pat_hi, 1) : 0;
    int w = 2 * MARGIN + grid_w + bar_w, top = MARGIN + 2 * TITLE_H + 12;
    for (int i = 0; i < 2; i++)
        if (2 * MARGIN + fig_text_width(title[i], FIG_TEXT) > w)
            w = 2 * MARGIN + fig_text_width(title[i], FIG_TEXT);
    int h = top + rows * cell_h + (rows > 1 ? (rows - 1) * 16 : 0) + MARGIN;
    if (h < top + box + MARGIN)
        h = top + box + MARGIN;
    fig_canvas c;
    int rc = fig_init(&c, w, h);
    uint8_t *mask = lcae_malloc((size_t)r->n * 3), *pat = lcae_malloc((size_t)r->ph * r->pw * 3);
    if (rc || !mask || !pat) {
        rc = rc ? rc : LCAE_ENOMEM;
        goto done;
    }
    fig_text(&c, MARGIN, MARGIN, title[0], FIG_TEXT, fig_black);
    fig_text(&c, MARGIN, MARGIN + TITLE_H, title[1], FIG_TEXT, fig_grey);
    for (int s = 0; s < n; s++) {
        int32_t lab = cl->shown[s];
        int x = MARGIN + (s % cols) * (cell_w + GAP), y = top + (s / cols) * (cell_h + 16);
        uint8_t col[3];
        static const uint8_t elsewhere[3] = {235, 235, 235};
        lcae_palette_label(lab, col);
        for (int64_t i = 0; i < r->n; i++)
            memcpy(mask + 3 * i, cl->in->labels[i] == lab ? col : elsewhere, 3);
        pattern_rgb(r, cl->mean + (size_t)s * r->ph * r->pw, pat);
        double pct = 100.0 * (double)cl->sizes[lab] / (double)r->n;
        snprintf(label, sizeof label, pct < 1 ? "cluster %d: %.2f%%" : "cluster %d: %.1f%%",
                 (int)lab, pct);
        int sw = FIG_CAP_H(FIG_TEXT) + 2;
        fig_rect(&c, x, y - 1, sw, sw, col);
        fig_text(&c, x + sw + 6, y, label, FIG_TEXT, fig_black);
        rc = fig_blit(&c, x, y + TITLE_H + 4, mask, (int)r->nx, (int)r->ny, ms);
        fig_frame(&c, x - 1, y + TITLE_H + 3, mw + 2, mh + 2, fig_light);
        if (!rc)
            rc = fig_blit(&c, x + mw + 8, y + TITLE_H + 4, pat, r->pw, r->ph, ps);
        if (rc)
            goto done;
    }
    if (bar_w)
        fig_colorbar(&c, MARGIN + grid_w + 12, top + TITLE_H + 4, box, r->pat_lo, r->pat_hi, 1);
    char file[96], caption[400];
    snprintf(file, sizeof file, "fig2_%s_clusters", cl->in->name);
    snprintf(caption, sizeof caption,
             "Figure 2 (%s): for each cluster (%s), its mask over the scan and its mean "
             "diffraction pattern on a log scale shared by all clusters and models%s.",
             cl->in->name, cl->nclusters > n ? "the largest" : "all",
             r->pbin > 1 ? " (detector binned for display)" : "");
    rc = add_figure(r, &c, file, caption);
done:
    free(mask);
    free(pat);
    fig_free(&c);
    return rc;
}

/* Virtual bright field and annular dark field, and the mean pattern with both detectors. */
static int fig_virtual(report_ctx *r)
{
    panel ps[3];
    memset(ps, 0, sizeof ps);
    uint8_t *rgb[3] = {NULL, NULL, NULL};
    int rc = continuous_panel(&ps[0], r->bf, r->ny, r->nx, r->map_scale, &rgb[0]);
    if (!rc)
        rc = continuous_panel(&ps[1], r->adf, r->ny, r->nx, r->map_scale, &rgb[1]);
    snprintf(ps[0].title[0], sizeof ps[0].title[0], "Virtual bright field");
    snprintf(ps[0].title[1], sizeof ps[0].title[1], "disk r <= %.1f px", r->r_half);
    snprintf(ps[1].title[0], sizeof ps[1].title[0], "Virtual annular dark field");
    snprintf(ps[1].title[1], sizeof ps[1].title[1], "%.1f <= r <= %.1f px%s", 2 * r->r_half,
             4 * r->r_half, r->adf_pixels ? "" : ": off the detector");
    /* the mean pattern, log scale, with the detectors drawn on it */
    float *mp = r->st->mean_pattern;
    int ds = fig_fit_scale((int)r->w, (int)r->h, 256, 256);
    if (!rc) {
        double hi = -INFINITY;
        for (int64_t k = 0; k < r->h * r->w; k++)
            hi = mp[k] > hi ? mp[k] : hi;
        ps[2].bar = hi > 0;
        ps[2].log_scale = 1;
        ps[2].hi = hi > 0 ? hi : 1;
        ps[2].lo = ps[2].hi * 1e-4;
        rgb[2] = lcae_malloc((size_t)(r->h * r->w) * 3);
        if (!rgb[2])
            rc = LCAE_ENOMEM;
        else
            lcae_image_viridis(mp, r->h * r->w, ps[2].lo, ps[2].hi, 1, rgb[2]);
        ps[2].rgb = rgb[2];
        ps[2].iw = (int)r->w;
        ps[2].ih = (int)r->h;
        ps[2].scale = ds;
    }
    snprintf(ps[2].title[0], sizeof ps[2].title[0], "Mean pattern (log), detectors");
    snprintf(ps[2].title[1], sizeof ps[2].title[1], "centre (%.1f, %.1f), r %.2f px", r->cx,
             r->cy, r->r_half);
    /* the detectors over the mean pattern: the disk (white), the annulus (red) */
    static const uint8_t white[3] = {255, 255, 255}, red[3] = {230, 60, 40};
    const double radius[3] = {r->r_half, 2 * r->r_half, 4 * r->r_half};
    for (int k = 0; k < 3; k++) {
        ps[2].circ[k][0] = r->cx;
        ps[2].circ[k][1] = r->cy;
        ps[2].circ[k][2] = radius[k];
        memcpy(ps[2].circ_rgb[k], k ? red : white, 3);
    }
    ps[2].ncirc = 3;
    if (!rc)
        rc = write_row(r, ps, 3, NULL, "virtual_bf_adf",
                       "Virtual detectors, centred on the centre of mass of the mean pattern "
                       "(less its median): bright field sums the disk out to the radius where "
                       "the mean pattern's azimuthal average falls to half its peak above that "
                       "median (white circle); annular dark field sums the annulus from 2 to 4 "
                       "times that radius, clipped to the detector (red circles).");
    for (int i = 0; i < 3; i++)
        free(rgb[i]);
    return rc;
}

/* ---- plots: axes, ticks ------------------------------------------------------------- */
typedef struct {
    int x, y, w, h; /* plot area */
    double x0, x1, y0, y1;
    int ylog;
} axes;

static double ax_x(const axes *a, double v)
{
    return a->x + (v - a->x0) / (a->x1 - a->x0) * a->w;
}

static double ax_y(const axes *a, double v)
{
    double t = a->ylog ? (log10(v) - log10(a->y0)) / (log10(a->y1) - log10(a->y0))
                       : (v - a->y0) / (a->y1 - a->y0);
    return a->y + a->h - t * a->h;
}

/* Room left of the plot for the y tick labels. */
#define AXIS_LEFT 86
#define AXIS_BOTTOM 44

static void draw_axes(fig_canvas *c, const axes *a, const char *xlabel, const char *ylabel,
                      int integer_x)
{
    fig_frame(c, a->x - 1, a->y - 1, a->w + 2, a->h + 2, fig_black);
    /* tick marks on the pixel grid (+0.5: a 1-unit line covers one pixel row) */
    double t[12];
    char buf[32];
    int n = fig_ticks(a->x0, a->x1, 0, t, 7);
    for (int i = 0; i < n; i++) {
        if (integer_x && t[i] != floor(t[i]))
            continue;
        double x = floor(ax_x(a, t[i])) + 0.5;
        fig_line(c, x, a->y + a->h, x, a->y + a->h + 5, 1, fig_black);
        fig_format(t[i], buf, sizeof buf);
        fig_text_centered(c, x, a->y + a->h + 9, buf, FIG_SMALL, fig_black);
    }
    n = fig_ticks(a->y0, a->y1, a->ylog, t, 6);
    for (int i = 0; i < n; i++) {
        double y = floor(ax_y(a, t[i])) + 0.5;
        fig_line(c, a->x - 6, y, a->x - 1, y, 1, fig_black);
        fig_format(t[i], buf, sizeof buf);
        fig_text_right(c, a->x - 9, y - FIG_CAP_H(FIG_SMALL) / 2.0, buf, FIG_SMALL, fig_black);
    }
    fig_text_centered(c, a->x + a->w / 2, a->y + a->h + 8 + TITLE_H + 4, xlabel, FIG_TEXT,
                      fig_black);
    fig_text_up(c, a->x - AXIS_LEFT + 2, a->y + a->h / 2.0, ylabel, FIG_TEXT, fig_black);
}

static uint64_t splitmix64(uint64_t *s)
{
    uint64_t x = (*s += 0x9e3779b97f4a7c15ull);
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
    return x ^ (x >> 31);
}

/* The latent vectors projected on their first two principal axes, coloured by cluster. */
static int fig_pca(report_ctx *r, const report_clustering *cl)
{
    int d = cl->in->latent_dims;
    const float *z = cl->in->latent;
    int64_t n = r->n, want = n < REPORT_MAX_POINTS ? n : REPORT_MAX_POINTS;
    /* a seeded sample of `want` positions in scan order (Knuth's selection sampling) */
    int64_t *idx = lcae_malloc((size_t)want * sizeof *idx);
    float *p = lcae_malloc((size_t)want * 2 * sizeof *p);
    int rc = idx && p ? LCAE_OK : LCAE_ENOMEM;
    int64_t m = 0;
    uint64_t seed = 0x5eed;
    for (int64_t i = 0; !rc && i < n && m < want; i++) {
        double u = (double)(splitmix64(&seed) >> 11) * 0x1.0p-53;
        if ((double)(n - i) * u < (double)(want - m))
            idx[m++] = i;
    }
    double lo[2] = {INFINITY, INFINITY}, hi[2] = {-INFINITY, -INFINITY};
    int64_t kept = 0;
    for (int64_t j = 0; !rc && j < m; j++) {
        const float *row = z + idx[j] * d;
        double v[2] = {0, 0};
        for (int k = 0; k < 2; k++)
            for (int a = 0; a < d; a++)
                v[k] += (row[a] - cl->center[a]) * cl->pc[k][a];
        if (!isfinite(v[0]) || !isfinite(v[1]))
            continue;
        idx[kept] = idx[j];
        for (int k = 0; k < 2; k++) {
            p[2 * kept + k] = (float)v[k];
            lo[k] = v[k] < lo[k] ? v[k] : lo[k];
            hi[k] = v[k] > hi[k] ? v[k] : hi[k];
        }
        kept++;
    }
    for (int k = 0; k < 2; k++) {
        if (!(hi[k] > lo[k])) {
            lo[k] = (isfinite(lo[k]) ? lo[k] : 0) - 1;
            hi[k] = lo[k] + 2;
        }
        double pad = 0.04 * (hi[k] - lo[k]);
        lo[k] -= pad;
        hi[k] += pad;
    }
    panel leg;
    memset(&leg, 0, sizeof leg);
    panel_label_legend(&leg, cl->sizes, cl->k, cl->noise, "");
    const char *names[MAX_LEGEND + 2];
    for (int i = 0; i < leg.nleg; i++)
        names[i] = leg.names[i];
    axes a = {.x = MARGIN + AXIS_LEFT, .y = MARGIN + 2 * TITLE_H + 10, .w = 440, .h = 440,
              .x0 = lo[0], .x1 = hi[0], .y0 = lo[1], .y1 = hi[1]};
    int leg_h = fig_legend(NULL, 0, 0, a.w, leg.nleg, names, (const uint8_t(*)[3])leg.colors);
    char title[2][200];
    snprintf(title[0], sizeof title[0], "%s: latent space (PCA)",
             cl->in->title ? cl->in->title : cl->in->name);
    snprintf(title[1], sizeof title[1], "%lld of %lld points; PC1 %.0f%%, PC2 %.0f%% of variance",
             (long long)kept, (long long)n, 100 * cl->explained[0], 100 * cl->explained[1]);
    int w = a.x + a.w + MARGIN;
    for (int i = 0; i < 2; i++)
        if (fig_text_width(title[i], FIG_TEXT) + 2 * MARGIN > w)
            w = fig_text_width(title[i], FIG_TEXT) + 2 * MARGIN;
    fig_canvas c = {0};
    if (!rc)
        rc = fig_init(&c, w, a.y + a.h + AXIS_BOTTOM + 12 + leg_h + MARGIN);
    if (!rc) {
        fig_text(&c, MARGIN, MARGIN, title[0], FIG_TEXT, fig_black);
        fig_text(&c, MARGIN, MARGIN + TITLE_H, title[1], FIG_TEXT, fig_grey);
        draw_axes(&c, &a, "PC1", "PC2", 0);
        /* noise under the clusters */
        for (int pass = 0; pass < 2; pass++)
            for (int64_t j = 0; j < kept; j++) {
                int32_t lab = cl->in->labels[idx[j]];
                if ((lab < 0) != (pass == 0))
                    continue;
                uint8_t col[3];
                lcae_palette_label(lab, col);
                fig_dot(&c, ax_x(&a, p[2 * j]), ax_y(&a, p[2 * j + 1]), 1.6, col);
            }
        fig_legend(&c, a.x, a.y + a.h + AXIS_BOTTOM + 12, a.w, leg.nleg, names,
                   (const uint8_t(*)[3])leg.colors);
        char file[96], caption[300];
        snprintf(file, sizeof file, "latent_pca_%s", cl->in->name);
        snprintf(caption, sizeof caption,
                 "Latent vectors of the %s model projected on their two principal axes "
                 "(covariance of all finite latent vectors), coloured by cluster; at most "
                 "%d points drawn, a fixed random subset.", cl->in->name, REPORT_MAX_POINTS);
        rc = add_figure(r, &c, file, caption);
    }
    fig_free(&c);
    free(idx);
    free(p);
    return rc;
}

/* ---- training-loss curves --------------------------------------------------------- */
typedef struct {
    const char *key, *name;
} loss_term;
static const loss_term terms[] = {{"loss", "total"},
                                  {"recon", "recon(x)"},
                                  {"recon_rot", "recon(Rx)"},
                                  {"rot", "lambda * rot"}};
#define NTERMS 4

/* Reads a train log; NULL (no error) when it is missing or unusable: the curves are
 * left out. */
static cJSON *read_log(const char *path)
{
    char *text;
    size_t n;
    cJSON *j = lcae_read_text_file(path, 64u << 20, &text, &n) == LCAE_OK ? cJSON_Parse(text)
                                                                         : NULL;
    free(text);
    return j;
}

static int fig_loss(report_ctx *r)
{
    cJSON *logs[16] = {0};
    int npanels = 0, rc = LCAE_OK;
    for (int c = 0; c < r->ncl && c < 16; c++)
        if (r->cl[c].in->train_log && (logs[c] = read_log(r->cl[c].in->train_log)) &&
            cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(logs[c], "epochs")) > 0)
            npanels++;
    if (!npanels)
        goto done;
    const int pw = 420, ph = 280;
    int panel_w = AXIS_LEFT + pw + 24, panel_h = 2 * TITLE_H + 10 + ph + AXIS_BOTTOM + 12 +
                                                 2 * (FIG_LINE_H(FIG_TEXT) + 4);
    fig_canvas c;
    rc = fig_init(&c, 2 * MARGIN + npanels * panel_w, 2 * MARGIN + panel_h);
    if (rc)
        goto done;
    int x = MARGIN;
    for (int k = 0; k < r->ncl && k < 16; k++) {
        cJSON *ep = cJSON_GetObjectItemCaseSensitive(logs[k], "epochs");
        int ne = cJSON_GetArraySize(ep);
        if (!logs[k] || ne <= 0)
            continue;
        double lambda = 1;
        cJSON *op = cJSON_GetObjectItemCaseSensitive(logs[k], "options");
        cJSON *lj = cJSON_GetObjectItemCaseSensitive(op, "lambda");
        if (cJSON_IsNumber(lj))
            lambda = lj->valuedouble;
        int rot = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(op, "rot_loss"));
        /* which terms are present, and the range of all of them */
        double lo = INFINITY, hi = -INFINITY, e0 = INFINITY, e1 = -INFINITY;
        int have[NTERMS] = {0};
        cJSON *e;
        cJSON_ArrayForEach(e, ep) {
            cJSON *en = cJSON_GetObjectItemCaseSensitive(e, "epoch");
            if (!cJSON_IsNumber(en))
                continue;
            e0 = en->valuedouble < e0 ? en->valuedouble : e0;
            e1 = en->valuedouble > e1 ? en->valuedouble : e1;
            for (int t = 0; t < NTERMS; t++) {
                cJSON *v = cJSON_GetObjectItemCaseSensitive(e, terms[t].key);
                if (!cJSON_IsNumber(v) || (t >= 2 && !rot))
                    continue;
                double y = v->valuedouble * (t == 3 ? lambda : 1);
                if (!isfinite(y))
                    continue;
                have[t] = 1;
                lo = y < lo ? y : lo;
                hi = y > hi ? y : hi;
            }
        }
        if (!isfinite(lo) || !isfinite(e0))
            continue;
        axes a = {.x = x + AXIS_LEFT, .y = MARGIN + 2 * TITLE_H + 10, .w = pw, .h = ph,
                  .x0 = e0 - 0.5, .x1 = e1 + 0.5};
        a.ylog = lo > 0 && hi / lo > 20;
        if (a.ylog) {
            a.y0 = lo / 1.3;
            a.y1 = hi * 1.3;
        } else {
            double pad = hi > lo ? 0.08 * (hi - lo) : (fabs(hi) > 0 ? 0.1 * fabs(hi) : 1);
            a.y0 = lo - pad;
            a.y1 = hi + pad;
        }
        const report_clustering *cl = &r->cl[k];
        fig_text(&c, x, MARGIN, cl->in->title ? cl->in->title : cl->in->name, FIG_TEXT,
                 fig_black);
        char sub[160];
        snprintf(sub, sizeof sub, "training loss per epoch%s", a.ylog ? " (log scale)" : "");
        fig_text(&c, x, MARGIN + TITLE_H, sub, FIG_TEXT, fig_grey);
        draw_axes(&c, &a, "epoch", "loss", 1);
        const char *names[NTERMS];
        uint8_t cols[NTERMS][3];
        int nl = 0;
        for (int t = 0; t < NTERMS; t++) {
            if (!have[t])
                continue;
            uint8_t col[3];
            lcae_palette_label(t, col);
            double px = 0, py = 0;
            int first = 1;
            cJSON_ArrayForEach(e, ep) {
                cJSON *en = cJSON_GetObjectItemCaseSensitive(e, "epoch");
                cJSON *v = cJSON_GetObjectItemCaseSensitive(e, terms[t].key);
                if (!cJSON_IsNumber(en) || !cJSON_IsNumber(v))
                    continue;
                double y = v->valuedouble * (t == 3 ? lambda : 1);
                if (!isfinite(y) || (a.ylog && y <= 0))
                    continue;
                double qx = ax_x(&a, en->valuedouble), qy = ax_y(&a, y);
                if (!first)
                    fig_line(&c, px, py, qx, qy, 2, col);
                fig_dot(&c, qx, qy, 3, col);
                px = qx;
                py = qy;
                first = 0;
            }
            names[nl] = terms[t].name;
            memcpy(cols[nl++], col, 3);
        }
        fig_legend(&c, a.x, a.y + a.h + AXIS_BOTTOM + 12, a.w, nl, names,
                   (const uint8_t(*)[3])cols);
        x += panel_w;
    }
    rc = add_figure(r, &c, "loss",
                    "Training loss per epoch (means over the epoch's batches): the total, the "
                    "reconstruction of the pattern and of its rotated copy, and the weighted "
                    "rotation-invariance term.");
    fig_free(&c);
done:
    for (int k = 0; k < 16; k++)
        cJSON_Delete(logs[k]);
    return rc;
}

/* ---- ground truth beside the clusters --------------------------------------------- */
static int fig_truth(report_ctx *r)
{
    const lcae_report_input *in = r->in;
    int n = r->ncl + 3, np = 0, rc = LCAE_OK;
    panel *ps = lcae_calloc((size_t)n, sizeof *ps);
    uint8_t **rgb = lcae_calloc((size_t)n, sizeof *rgb);
    int64_t *sizes = NULL;
    if (!ps || !rgb) {
        rc = LCAE_ENOMEM;
        goto done;
    }
    const struct {
        const int32_t *map;
        const char *title, *prefix;
    } truths[] = {{in->truth_class, "True classes", "class "},
                  {in->truth_region, "True regions", ""},
                  {in->truth_grain, "True grains", "grain "}};
    for (int t = 0; t < 3 && !rc; t++) {
        const int32_t *map = truths[t].map;
        if (!map)
            continue;
        panel *p = &ps[np];
        rc = label_panel(p, map, r->ny, r->nx, r->map_scale, &rgb[np]);
        if (rc)
            break;
        snprintf(p->title[0], sizeof p->title[0], "%s", truths[t].title);
        int32_t k = 0;
        for (int64_t i = 0; i < r->n; i++)
            k = map[i] + 1 > k ? map[i] + 1 : k;
        free(sizes);
        sizes = lcae_calloc((size_t)k + 1, sizeof *sizes);
        if (!sizes) {
            rc = LCAE_ENOMEM;
            break;
        }
        int64_t noise;
        int distinct = count_labels(map, r->n, sizes, &noise);
        if (map == in->truth_region) {
            /* fixed colours and names: grain, boundary, amorphous */
            static const char *const rn[3] = {"grain", "boundary", "amorphous"};
            static const uint8_t rc3[3][3] = {{200, 200, 200}, {214, 39, 40}, {31, 119, 180}};
            for (int64_t i = 0; i < r->n; i++)
                memcpy(rgb[np] + 3 * i, map[i] >= 0 && map[i] < 3 ? rc3[map[i]] : fig_black, 3);
            for (int j = 0; j < 3; j++) {
                snprintf(p->names[j], sizeof p->names[0], "%s", rn[j]);
                memcpy(p->colors[j], rc3[j], 3);
            }
            p->nleg = 3;
        } else {
            panel_label_legend(p, sizes, k, noise, truths[t].prefix);
            snprintf(p->title[1], sizeof p->title[1], "%d %s", distinct,
                     map == in->truth_class ? "classes" : "grains");
        }
        np++;
    }
    for (int c = 0; !rc && c < r->ncl; c++) {
        const report_clustering *cl = &r->cl[c];
        rc = label_panel(&ps[np], cl->in->labels, r->ny, r->nx, r->map_scale, &rgb[np]);
        cluster_titles(&ps[np], cl, r->n);
        panel_label_legend(&ps[np], cl->sizes, cl->k, cl->noise, "");
        np++;
    }
    if (!rc)
        rc = write_row(r, ps, np, NULL, "truth",
                       "The simulated sample's ground truth (classes: phase and zone axis; "
                       "regions; grains) beside the cluster maps. Colours of truth and "
                       "clusters are independent.");
done:
    for (int i = 0; rgb && i < n; i++)
        free(rgb[i]);
    free(rgb);
    free(ps);
    free(sizes);
    return rc;
}

/* The direct beam's position over the scan, relative to the frame centre: the descan
 * the patterns were corrected for. */
static int fig_beam(report_ctx *r)
{
    panel ps[2] = {0};
    uint8_t *rgb[2] = {NULL, NULL};
    float *d = lcae_malloc((size_t)r->n * sizeof *d);
    int rc = d ? LCAE_OK : LCAE_ENOMEM;
    static const char *const axis[2] = {"y (rows)", "x (columns)"};
    for (int k = 0; k < 2 && !rc; k++) {
        double c = ((k ? r->w : r->h) - 1) / 2.0;
        for (int64_t i = 0; i < r->n; i++)
            d[i] = (float)(r->in->beam[2 * i + k] - c);
        rc = continuous_panel(&ps[k], d, r->ny, r->nx, r->map_scale, &rgb[k]);
        /* a shift is signed: never a log scale */
        if (!rc && ps[k].log_scale) {
            ps[k].log_scale = 0;
            lcae_image_viridis(d, r->n, ps[k].lo, ps[k].hi, 0, rgb[k]);
        }
        snprintf(ps[k].title[0], sizeof ps[k].title[0], "Direct beam %s", axis[k]);
        snprintf(ps[k].title[1], sizeof ps[k].title[1], "from the frame centre, pixels");
    }
    if (!rc)
        rc = write_row(r, ps, 2, NULL, "beam_position",
                       "The direct beam's position in each pattern relative to the detector "
                       "centre (the fitted descan map, in detector pixels): every pattern was "
                       "shifted by it before the models and features saw it.");
    free(rgb[0]);
    free(rgb[1]);
    free(d);
    return rc;
}

int report_figures(report_ctx *r)
{
    int rc = fig1(r);
    if (!rc)
        rc = fig_filled(r);
    pattern_scale(r);
    for (int c = 0; !rc && c < r->ncl; c++)
        rc = fig2(r, &r->cl[c]);
    if (!rc)
        rc = fig_virtual(r);
    for (int c = 0; !rc && c < r->ncl; c++)
        if (r->cl[c].in->latent)
            rc = fig_pca(r, &r->cl[c]);
    if (!rc)
        rc = fig_loss(r);
    if (!rc && r->in->beam)
        rc = fig_beam(r);
    if (!rc && (r->in->truth_class || r->in->truth_region || r->in->truth_grain))
        rc = fig_truth(r);
    return rc;
}
