/* The figure canvas: white RGB, clipped drawing, integer-scaled images, 5 x 7 text. */
#include "figure.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "font.h"
#include "lcae/io.h"
#include "lcae/report.h"

const uint8_t fig_black[3] = {0, 0, 0};
const uint8_t fig_grey[3] = {110, 110, 110};
const uint8_t fig_light[3] = {225, 225, 225};

int fig_init(fig_canvas *c, int w, int h)
{
    c->w = w;
    c->h = h;
    c->px = lcae_malloc((size_t)w * (size_t)h * 3);
    if (!c->px)
        return LCAE_ENOMEM;
    memset(c->px, 255, (size_t)w * (size_t)h * 3);
    return LCAE_OK;
}

void fig_free(fig_canvas *c)
{
    free(c->px);
    c->px = NULL;
}

static inline void put(fig_canvas *c, int x, int y, const uint8_t rgb[3])
{
    if (x < 0 || y < 0 || x >= c->w || y >= c->h)
        return;
    uint8_t *p = c->px + 3 * ((size_t)y * (size_t)c->w + (size_t)x);
    p[0] = rgb[0];
    p[1] = rgb[1];
    p[2] = rgb[2];
}

void fig_rect(fig_canvas *c, int x, int y, int w, int h, const uint8_t rgb[3])
{
    for (int j = y; j < y + h; j++)
        for (int i = x; i < x + w; i++)
            put(c, i, j, rgb);
}

void fig_frame(fig_canvas *c, int x, int y, int w, int h, const uint8_t rgb[3])
{
    fig_rect(c, x, y, w, 1, rgb);
    fig_rect(c, x, y + h - 1, w, 1, rgb);
    fig_rect(c, x, y, 1, h, rgb);
    fig_rect(c, x + w - 1, y, 1, h, rgb);
}

void fig_line(fig_canvas *c, int x0, int y0, int x1, int y1, const uint8_t rgb[3])
{
    /* Bresenham, drawn 2 pixels thick (the pixel below too) so curves stay visible */
    int dx = abs(x1 - x0), sx = x0 < x1 ? 1 : -1, dy = -abs(y1 - y0), sy = y0 < y1 ? 1 : -1;
    int err = dx + dy;
    for (;;) {
        put(c, x0, y0, rgb);
        put(c, x0, y0 + 1, rgb);
        if (x0 == x1 && y0 == y1)
            break;
        int e2 = 2 * err;
        if (e2 >= dy) {
            err += dy;
            x0 += sx;
        }
        if (e2 <= dx) {
            err += dx;
            y0 += sy;
        }
    }
}

void fig_dot(fig_canvas *c, int x, int y, int r, const uint8_t rgb[3])
{
    fig_rect(c, x - r, y - r, 2 * r + 1, 2 * r + 1, rgb);
}

int fig_scaled(int n, int scale)
{
    return scale > 0 ? n * scale : (n + (-scale) - 1) / (-scale);
}

void fig_blit(fig_canvas *c, int x, int y, const uint8_t *rgb, int iw, int ih, int scale)
{
    if (scale > 0) {
        for (int j = 0; j < ih * scale; j++)
            for (int i = 0; i < iw * scale; i++)
                put(c, x + i, y + j, rgb + 3 * ((size_t)(j / scale) * iw + i / scale));
        return;
    }
    int d = -scale, ow = fig_scaled(iw, scale), oh = fig_scaled(ih, scale);
    for (int j = 0; j < oh; j++)
        for (int i = 0; i < ow; i++) {
            int s[3] = {0, 0, 0}, n = 0;
            for (int v = j * d; v < (j + 1) * d && v < ih; v++)
                for (int u = i * d; u < (i + 1) * d && u < iw; u++, n++)
                    for (int k = 0; k < 3; k++)
                        s[k] += rgb[3 * ((size_t)v * iw + u) + k];
            uint8_t m[3] = {(uint8_t)(s[0] / n), (uint8_t)(s[1] / n), (uint8_t)(s[2] / n)};
            put(c, x + i, y + j, m);
        }
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

int fig_text_width(const char *text, int scale)
{
    return lcae_font_text_width(text, scale);
}

void fig_text(fig_canvas *c, int x, int y, const char *text, int scale, const uint8_t rgb[3])
{
    lcae_font_draw(c->px, c->w, c->h, x, y, text, scale, rgb);
}

void fig_text_centered(fig_canvas *c, int xc, int y, const char *text, int scale,
                       const uint8_t rgb[3])
{
    fig_text(c, xc - fig_text_width(text, scale) / 2, y, text, scale, rgb);
}

void fig_text_right(fig_canvas *c, int xr, int y, const char *text, int scale,
                    const uint8_t rgb[3])
{
    fig_text(c, xr - fig_text_width(text, scale), y, text, scale, rgb);
}

void fig_text_up(fig_canvas *c, int x, int y_bottom, const char *text, int scale,
                 const uint8_t rgb[3])
{
    /* draw on a small canvas, then copy it turned by 90 degrees */
    int tw = fig_text_width(text, scale), th = (LCAE_FONT_HEIGHT + 2) * scale;
    if (tw <= 0)
        return;
    fig_canvas t;
    if (fig_init(&t, tw, th))
        return;
    fig_text(&t, 0, 0, text, scale, rgb);
    for (int j = 0; j < th; j++)
        for (int i = 0; i < tw; i++) {
            const uint8_t *p = t.px + 3 * ((size_t)j * tw + i);
            if (p[0] != 255 || p[1] != 255 || p[2] != 255)
                put(c, x + j, y_bottom - i, p);
        }
    fig_free(&t);
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
        int tw = fig_text_width(buf, FIG_TEXT);
        w = tw > w ? tw : w;
    }
    return FIG_BAR_W + 6 + w;
}

void fig_colorbar(fig_canvas *c, int x, int y, int bar_h, double lo, double hi, int log_scale)
{
    double a = log_scale ? log10(lo) : lo, b = log_scale ? log10(hi) : hi;
    for (int j = 0; j < bar_h; j++) {
        uint8_t rgb[3];
        lcae_colormap_viridis(1 - (double)j / (bar_h > 1 ? bar_h - 1 : 1), rgb);
        fig_rect(c, x, y + j, FIG_BAR_W, 1, rgb);
    }
    fig_frame(c, x, y, FIG_BAR_W, bar_h, fig_black);
    double t[8];
    char buf[32];
    int n = fig_ticks(lo, hi, log_scale, t, 6);
    for (int i = 0; i < n; i++) {
        double v = log_scale ? log10(t[i]) : t[i];
        int ty = y + (int)lround((1 - (v - a) / (b - a)) * (bar_h - 1));
        fig_rect(c, x + FIG_BAR_W - 4, ty, 4, 1, fig_black);
        fig_format(t[i], buf, sizeof buf);
        int yy = ty - LCAE_FONT_HEIGHT * FIG_TEXT / 2;
        if (yy < y - 2)
            yy = y - 2;
        if (yy > y + bar_h - LCAE_FONT_HEIGHT * FIG_TEXT + 2)
            yy = y + bar_h - LCAE_FONT_HEIGHT * FIG_TEXT + 2;
        fig_text(c, x + FIG_BAR_W + 6, yy, buf, FIG_TEXT, fig_black);
    }
}

int fig_legend(fig_canvas *c, int x, int y, int width, int n, const char *const *names,
               const uint8_t (*colors)[3], int draw)
{
    int sw = 7 * FIG_TEXT, lh = FIG_LINE_H(FIG_TEXT) + 4, cx = 0, cy = 0;
    for (int i = 0; i < n; i++) {
        int iw = sw + 4 + fig_text_width(names[i], FIG_TEXT) + 12;
        if (cx > 0 && cx + iw > width) {
            cx = 0;
            cy += lh;
        }
        if (draw) {
            fig_rect(c, x + cx, y + cy, sw, sw, colors[i]);
            fig_frame(c, x + cx, y + cy, sw, sw, fig_grey);
            fig_text(c, x + cx + sw + 4, y + cy, names[i], FIG_TEXT, fig_black);
        }
        cx += iw;
    }
    return n ? cy + lh : 0;
}

int fig_write(const fig_canvas *c, lcae_output_set *set, const char *path, uint8_t **png,
              size_t *bytes)
{
    int rc = lcae_png_encode(c->px, c->h, c->w, 3, png, bytes);
    if (rc)
        return lcae_fail(rc, "%s: %s", path, lcae_last_error());
    rc = lcae_write_file_in(set, path, *png, *bytes);
    if (rc) {
        free(*png);
        *png = NULL;
    }
    return rc;
}
