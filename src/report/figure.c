/* The figure canvas on cairo: recorded once, rendered to PNG, PDF and SVG. */
#include "figure.h"

#include <cairo-pdf.h>
#include <cairo-svg.h>
#include <cairo.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lcae/io.h"
#include "lcae/report.h"

#define PI 3.14159265358979323846
#define FONT "DejaVu Sans"
/* PDF and SVG are in points: a unit (a PNG pixel) is 0.75 pt, a CSS pixel at 96 dpi. */
#define PT_PER_UNIT 0.75

const uint8_t fig_black[3] = {0, 0, 0};
const uint8_t fig_grey[3] = {110, 110, 110};
const uint8_t fig_light[3] = {225, 225, 225};

/* Glyph positions must not depend on the target: without hinted metrics, text has the
 * same width in the PNG, the PDF and the measurements that laid the figure out. */
static void set_font(cairo_t *cr)
{
    cairo_font_options_t *fo = cairo_font_options_create();
    cairo_font_options_set_hint_metrics(fo, CAIRO_HINT_METRICS_OFF);
    cairo_font_options_set_hint_style(fo, CAIRO_HINT_STYLE_NONE);
    cairo_font_options_set_antialias(fo, CAIRO_ANTIALIAS_GRAY);
    cairo_set_font_options(cr, fo);
    cairo_font_options_destroy(fo);
    cairo_select_font_face(cr, FONT, CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_NORMAL);
}

static void set_rgb(cairo_t *cr, const uint8_t rgb[3])
{
    cairo_set_source_rgb(cr, rgb[0] / 255.0, rgb[1] / 255.0, rgb[2] / 255.0);
}

int fig_init(fig_canvas *c, int w, int h)
{
    cairo_rectangle_t ext = {0, 0, w, h};
    c->w = w;
    c->h = h;
    cairo_surface_t *s = cairo_recording_surface_create(CAIRO_CONTENT_COLOR, &ext);
    cairo_t *cr = cairo_create(s);
    c->surface = s;
    c->cr = cr;
    if (cairo_status(cr) != CAIRO_STATUS_SUCCESS) {
        fig_free(c);
        return lcae_fail(LCAE_ENOMEM, "figure: cairo cannot start a %d x %d figure", w, h);
    }
    cairo_set_source_rgb(cr, 1, 1, 1);
    cairo_paint(cr);
    set_font(cr);
    return LCAE_OK;
}

void fig_free(fig_canvas *c)
{
    if (c->cr)
        cairo_destroy(c->cr);
    if (c->surface)
        cairo_surface_destroy(c->surface);
    c->cr = c->surface = NULL;
}

void fig_rect(fig_canvas *c, double x, double y, double w, double h, const uint8_t rgb[3])
{
    cairo_t *cr = c->cr;
    set_rgb(cr, rgb);
    cairo_rectangle(cr, x, y, w, h);
    cairo_fill(cr);
}

void fig_frame(fig_canvas *c, double x, double y, double w, double h, const uint8_t rgb[3])
{
    cairo_t *cr = c->cr;
    set_rgb(cr, rgb);
    cairo_set_line_width(cr, 1);
    cairo_rectangle(cr, x + 0.5, y + 0.5, w - 1, h - 1);
    cairo_stroke(cr);
}

void fig_line(fig_canvas *c, double x0, double y0, double x1, double y1, double width,
              const uint8_t rgb[3])
{
    cairo_t *cr = c->cr;
    set_rgb(cr, rgb);
    cairo_set_line_width(cr, width);
    cairo_set_line_cap(cr, CAIRO_LINE_CAP_ROUND);
    cairo_move_to(cr, x0, y0);
    cairo_line_to(cr, x1, y1);
    cairo_stroke(cr);
}

void fig_dot(fig_canvas *c, double x, double y, double r, const uint8_t rgb[3])
{
    cairo_t *cr = c->cr;
    set_rgb(cr, rgb);
    cairo_new_sub_path(cr);
    cairo_arc(cr, x, y, r, 0, 2 * PI);
    cairo_fill(cr);
}

void fig_clip(fig_canvas *c, double x, double y, double w, double h)
{
    cairo_save(c->cr);
    cairo_rectangle(c->cr, x, y, w, h);
    cairo_clip(c->cr);
}

void fig_unclip(fig_canvas *c)
{
    cairo_restore(c->cr);
}

void fig_circle(fig_canvas *c, double x, double y, double r, double width, const uint8_t rgb[3])
{
    cairo_t *cr = c->cr;
    set_rgb(cr, rgb);
    cairo_set_line_width(cr, width);
    cairo_new_sub_path(cr);
    cairo_arc(cr, x, y, r, 0, 2 * PI);
    cairo_stroke(cr);
}

int fig_scaled(int n, int scale)
{
    return scale > 0 ? n * scale : (n + (-scale) - 1) / (-scale);
}

double fig_scale_factor(int scale)
{
    return scale > 0 ? scale : 1.0 / -scale;
}

int fig_blit(fig_canvas *c, int x, int y, const uint8_t *rgb, int iw, int ih, int scale)
{
    cairo_surface_t *im = cairo_image_surface_create(CAIRO_FORMAT_RGB24, iw, ih);
    if (cairo_surface_status(im) != CAIRO_STATUS_SUCCESS) {
        cairo_surface_destroy(im);
        return lcae_fail(LCAE_ENOMEM, "figure: out of memory for a %d x %d image", iw, ih);
    }
    cairo_surface_flush(im);
    uint8_t *d = cairo_image_surface_get_data(im);
    int stride = cairo_image_surface_get_stride(im);
    for (int j = 0; j < ih; j++)
        for (int i = 0; i < iw; i++) {
            const uint8_t *p = rgb + 3 * ((size_t)j * iw + i);
            /* CAIRO_FORMAT_RGB24: a native-endian 32-bit 0x00RRGGBB */
            *(uint32_t *)(d + (size_t)j * stride + 4 * (size_t)i) =
                (uint32_t)p[0] << 16 | (uint32_t)p[1] << 8 | p[2];
        }
    cairo_surface_mark_dirty(im);
    cairo_t *cr = c->cr;
    double f = fig_scale_factor(scale);
    cairo_save(cr);
    cairo_translate(cr, x, y);
    cairo_scale(cr, f, f);
    cairo_set_source_surface(cr, im, 0, 0);
    cairo_pattern_t *pat = cairo_get_source(cr);
    /* enlarged: sharp pixels (a map's positions); shrunk: averaged */
    cairo_pattern_set_filter(pat, scale > 0 ? CAIRO_FILTER_NEAREST : CAIRO_FILTER_GOOD);
    cairo_pattern_set_extend(pat, CAIRO_EXTEND_PAD);
    cairo_rectangle(cr, 0, 0, iw, ih);
    cairo_fill(cr);
    cairo_restore(cr);
    cairo_surface_destroy(im);
    return LCAE_OK;
}

int fig_fit_scale(int iw, int ih, int bw, int bh)
{
    int k = bw / iw < bh / ih ? bw / iw : bh / ih;
    if (k >= 1)
        return k;
    int d = 2;
    while (fig_scaled(iw, -d) > bw || fig_scaled(ih, -d) > bh)
        d++;
    return -d;
}

int fig_text_width(const char *text, int size)
{
    /* measured on a scratch context with the figures' font options */
    cairo_surface_t *s = cairo_image_surface_create(CAIRO_FORMAT_RGB24, 1, 1);
    cairo_t *cr = cairo_create(s);
    set_font(cr);
    cairo_set_font_size(cr, size);
    cairo_text_extents_t e;
    cairo_text_extents(cr, text, &e);
    cairo_destroy(cr);
    cairo_surface_destroy(s);
    return (int)ceil(e.x_advance);
}

void fig_text(fig_canvas *c, double x, double y, const char *text, int size, const uint8_t rgb[3])
{
    cairo_t *cr = c->cr;
    set_rgb(cr, rgb);
    cairo_set_font_size(cr, size);
    cairo_move_to(cr, x, y + 0.729 * size);
    cairo_show_text(cr, text);
    cairo_new_path(cr);
}

void fig_text_centered(fig_canvas *c, double xc, double y, const char *text, int size,
                       const uint8_t rgb[3])
{
    fig_text(c, xc - fig_text_width(text, size) / 2.0, y, text, size, rgb);
}

void fig_text_right(fig_canvas *c, double xr, double y, const char *text, int size,
                    const uint8_t rgb[3])
{
    fig_text(c, xr - fig_text_width(text, size), y, text, size, rgb);
}

void fig_text_up(fig_canvas *c, double x, double yc, const char *text, int size,
                 const uint8_t rgb[3])
{
    cairo_t *cr = c->cr;
    int w = fig_text_width(text, size);
    cairo_save(cr);
    /* after turning by -90 degrees, the text's baseline runs upwards at x + cap height */
    cairo_translate(cr, x + 0.729 * size, yc);
    cairo_rotate(cr, -PI / 2);
    set_rgb(cr, rgb);
    cairo_set_font_size(cr, size);
    cairo_move_to(cr, -w / 2.0, 0);
    cairo_show_text(cr, text);
    cairo_new_path(cr);
    cairo_restore(cr);
}

void fig_format(double v, char *buf, size_t n)
{
    if (v == floor(v) && fabs(v) < 1e6)
        snprintf(buf, n, "%.0f", v);
    else if (fabs(v) >= 1e-3 && fabs(v) < 1e5)
        snprintf(buf, n, "%.4g", v);
    else
        snprintf(buf, n, "%.2g", v);
}

int fig_ticks(double lo, double hi, int log_scale, double *t, int max)
{
    int n = 0;
    if (!(hi > lo) || !isfinite(lo) || !isfinite(hi))
        return 0;
    if (log_scale) {
        int a = (int)ceil(log10(lo) - 1e-9), b = (int)floor(log10(hi) + 1e-9);
        int step = 1;
        while ((b - a) / step + 1 > max)
            step++;
        for (int e = a; e <= b && n < max; e += step)
            t[n++] = pow(10, e);
        return n;
    }
    double raw = (hi - lo) / (max > 1 ? max - 1 : 1), mag = pow(10, floor(log10(raw)));
    double step = mag;
    if (raw / mag > 5)
        step = 10 * mag;
    else if (raw / mag > 2)
        step = 5 * mag;
    else if (raw / mag > 1)
        step = 2 * mag;
    for (double v = ceil(lo / step - 1e-9) * step; v <= hi + 1e-9 * step && n < max; v += step)
        t[n++] = fabs(v) < 1e-12 * step ? 0 : v;
    return n;
}

int fig_colorbar_width(double lo, double hi, int log_scale)
{
    double t[8];
    char buf[32];
    int n = fig_ticks(lo, hi, log_scale, t, 6), w = 0;
    for (int i = 0; i < n; i++) {
        fig_format(t[i], buf, sizeof buf);
        int tw = fig_text_width(buf, FIG_SMALL);
        w = tw > w ? tw : w;
    }
    return FIG_BAR_W + 6 + w;
}

void fig_colorbar(fig_canvas *c, int x, int y, int bar_h, double lo, double hi, int log_scale)
{
    cairo_t *cr = c->cr;
    /* viridis as a vertical gradient (vector in PDF and SVG), hi at the top */
    cairo_pattern_t *g = cairo_pattern_create_linear(0, y + bar_h, 0, y);
    for (int i = 0; i <= 64; i++) {
        uint8_t rgb[3];
        lcae_colormap_viridis(i / 64.0, rgb);
        cairo_pattern_add_color_stop_rgb(g, i / 64.0, rgb[0] / 255.0, rgb[1] / 255.0,
                                         rgb[2] / 255.0);
    }
    cairo_set_source(cr, g);
    cairo_rectangle(cr, x, y, FIG_BAR_W, bar_h);
    cairo_fill(cr);
    cairo_pattern_destroy(g);
    fig_frame(c, x, y, FIG_BAR_W, bar_h, fig_black);
    double a = log_scale ? log10(lo) : lo, b = log_scale ? log10(hi) : hi;
    double t[8];
    char buf[32];
    int n = fig_ticks(lo, hi, log_scale, t, 6), cap = FIG_CAP_H(FIG_SMALL);
    for (int i = 0; i < n; i++) {
        double v = log_scale ? log10(t[i]) : t[i];
        double ty = y + 0.5 + (1 - (v - a) / (b - a)) * (bar_h - 1);
        fig_line(c, x + FIG_BAR_W - 4, ty, x + FIG_BAR_W, ty, 1, fig_black);
        fig_format(t[i], buf, sizeof buf);
        double yy = ty - cap / 2.0;
        yy = yy < y ? y : yy;
        yy = yy > y + bar_h - cap ? y + bar_h - cap : yy;
        fig_text(c, x + FIG_BAR_W + 6, yy, buf, FIG_SMALL, fig_black);
    }
}

void fig_scalebar(fig_canvas *c, int x, int y_bottom, int map_w, int64_t nx, double step_nm)
{
    if (!(step_nm > 0) || nx < 1)
        return;
    double per_nm = map_w / (step_nm * (double)nx); /* units per nm */
    double len = pow(10, floor(log10(nx * step_nm / 4)));
    if (5 * len <= nx * step_nm / 4)
        len *= 5;
    else if (2 * len <= nx * step_nm / 4)
        len *= 2;
    char label[32];
    if (len >= 1000)
        snprintf(label, sizeof label, "%g \xc2\xb5m", len / 1000); /* micrometres */
    else
        snprintf(label, sizeof label, "%g nm", len);
    double bar = len * per_nm, pad = 5, cap = FIG_CAP_H(FIG_SMALL);
    int tw = fig_text_width(label, FIG_SMALL);
    double bw = (bar > tw ? bar : tw) + 2 * pad, bh = cap + 4 + 3 + 2 * pad;
    double bx = x + 4, by = y_bottom - 4 - bh;
    cairo_t *cr = c->cr;
    cairo_set_source_rgba(cr, 0, 0, 0, 0.55);
    cairo_rectangle(cr, bx, by, bw, bh);
    cairo_fill(cr);
    static const uint8_t white[3] = {255, 255, 255};
    fig_text_centered(c, bx + bw / 2, by + pad, label, FIG_SMALL, white);
    fig_rect(c, bx + (bw - bar) / 2, by + pad + cap + 4, bar, 3, white);
}

int fig_legend(fig_canvas *c, int x, int y, int width, int n, const char *const *names,
               const uint8_t (*colors)[3])
{
    int sw = FIG_CAP_H(FIG_TEXT) + 2, lh = FIG_LINE_H(FIG_TEXT) + 4, cx = 0, cy = 0;
    for (int i = 0; i < n; i++) {
        int iw = sw + 5 + fig_text_width(names[i], FIG_TEXT) + 14;
        if (cx > 0 && cx + iw > width) {
            cx = 0;
            cy += lh;
        }
        if (c) {
            fig_rect(c, x + cx, y + cy - 1, sw, sw, colors[i]);
            fig_frame(c, x + cx, y + cy - 1, sw, sw, fig_grey);
            fig_text(c, x + cx + sw + 5, y + cy, names[i], FIG_TEXT, fig_black);
        }
        cx += iw;
    }
    return n ? cy + lh : 0;
}

/* ---- output ------------------------------------------------------------------------ */
typedef struct {
    uint8_t *data;
    size_t n, cap;
} membuf;

static cairo_status_t membuf_write(void *ctx, const unsigned char *bytes, unsigned int n)
{
    membuf *b = ctx;
    if (b->n + n > b->cap) {
        size_t cap = b->cap ? b->cap : 65536;
        while (cap < b->n + n)
            cap *= 2;
        uint8_t *d = realloc(b->data, cap);
        if (!d)
            return CAIRO_STATUS_NO_MEMORY;
        b->data = d;
        b->cap = cap;
    }
    memcpy(b->data + b->n, bytes, n);
    b->n += n;
    return CAIRO_STATUS_SUCCESS;
}

/* Replays the recording onto `target` (scaled by `f`); a vector surface is finished
 * (its file complete), an image only flushed (finishing would free its pixels). */
static int replay(const fig_canvas *c, cairo_surface_t *target, double f, const char *path)
{
    cairo_t *cr = cairo_create(target);
    cairo_scale(cr, f, f);
    cairo_set_source_surface(cr, c->surface, 0, 0);
    cairo_paint(cr);
    cairo_status_t st = cairo_status(cr);
    cairo_destroy(cr);
    if (cairo_surface_get_type(target) == CAIRO_SURFACE_TYPE_IMAGE)
        cairo_surface_flush(target);
    else
        cairo_surface_finish(target);
    if (st == CAIRO_STATUS_SUCCESS)
        st = cairo_surface_status(target);
    if (st != CAIRO_STATUS_SUCCESS)
        return lcae_fail(st == CAIRO_STATUS_NO_MEMORY ? LCAE_ENOMEM : LCAE_EFAIL,
                         "%s: cairo failed to draw the figure (%s)", path,
                         cairo_status_to_string(st));
    return LCAE_OK;
}

static int write_png(const fig_canvas *c, lcae_output_set *set, const char *path,
                     uint8_t **png, size_t *bytes)
{
    cairo_surface_t *im = cairo_image_surface_create(CAIRO_FORMAT_RGB24, c->w, c->h);
    int rc = replay(c, im, 1, path);
    uint8_t *rgb = rc ? NULL : lcae_malloc((size_t)c->w * c->h * 3);
    if (!rc && !rgb)
        rc = LCAE_ENOMEM;
    if (!rc) {
        const uint8_t *d = cairo_image_surface_get_data(im);
        int stride = cairo_image_surface_get_stride(im);
        for (int j = 0; j < c->h; j++)
            for (int i = 0; i < c->w; i++) {
                uint32_t v = *(const uint32_t *)(d + (size_t)j * stride + 4 * (size_t)i);
                uint8_t *p = rgb + 3 * ((size_t)j * c->w + i);
                p[0] = (uint8_t)(v >> 16);
                p[1] = (uint8_t)(v >> 8);
                p[2] = (uint8_t)v;
            }
        rc = lcae_png_encode(rgb, c->h, c->w, 3, png, bytes);
        if (rc)
            rc = lcae_fail(rc, "%s: %s", path, lcae_last_error());
    }
    free(rgb);
    cairo_surface_destroy(im);
    if (!rc) {
        rc = lcae_write_file_in(set, path, *png, *bytes);
        if (rc) {
            free(*png);
            *png = NULL;
        }
    }
    return rc;
}

/* PDF or SVG, rendered into memory and written as one file. Both are deterministic for
 * a given drawing except SVG's element ids, which count cairo's surfaces in the process. */
static int write_vector(const fig_canvas *c, lcae_output_set *set, const char *path, int pdf)
{
    membuf b = {0};
    double w = c->w * PT_PER_UNIT, h = c->h * PT_PER_UNIT;
    cairo_surface_t *s = pdf ? cairo_pdf_surface_create_for_stream(membuf_write, &b, w, h)
                             : cairo_svg_surface_create_for_stream(membuf_write, &b, w, h);
    if (pdf) {
        /* no creation date: the same figure gives the same bytes */
        cairo_pdf_surface_set_metadata(s, CAIRO_PDF_METADATA_CREATE_DATE, "");
        cairo_pdf_surface_set_metadata(s, CAIRO_PDF_METADATA_CREATOR, "lcae " LCAE_VERSION);
    }
    int rc = replay(c, s, PT_PER_UNIT, path);
    cairo_surface_destroy(s);
    if (!rc)
        rc = lcae_write_file_in(set, path, b.data, b.n);
    free(b.data);
    return rc;
}

int fig_write(const fig_canvas *c, lcae_output_set *set, const char *base, unsigned formats,
              uint8_t **png, size_t *bytes)
{
    size_t n = strlen(base) + 5;
    char *path = lcae_malloc(n);
    if (!path)
        return LCAE_ENOMEM;
    snprintf(path, n, "%s.png", base);
    int rc = write_png(c, set, path, png, bytes);
    static const struct {
        unsigned flag;
        const char *ext;
    } vec[] = {{LCAE_FIGURE_PDF, "pdf"}, {LCAE_FIGURE_SVG, "svg"}};
    for (int k = 0; k < 2 && !rc; k++)
        if (formats & vec[k].flag) {
            snprintf(path, n, "%s.%s", base, vec[k].ext);
            rc = write_vector(c, set, path, k == 0);
        }
    if (rc && *png) {
        free(*png);
        *png = NULL;
    }
    free(path);
    return rc;
}
