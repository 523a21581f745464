/* Drawing figures (src/report only) with cairo: a figure is recorded once as vector
 * operations (a cairo recording surface) and then rendered to each requested format —
 * PNG (anti-aliased, 1 unit = 1 pixel), PDF and SVG (1 unit = 0.75 pt, i.e. 96 dpi, so
 * that the vector figure has the PNG's size on a page). Text is DejaVu Sans through
 * fontconfig. Coordinates are units, x to the right, y down, (0, 0) the top-left corner. */
#ifndef LCAE_REPORT_FIGURE_H
#define LCAE_REPORT_FIGURE_H

#include <stddef.h>
#include <stdint.h>

/* Text sizes (the font's em in units): titles and labels, tick labels. */
#define FIG_TEXT 15
#define FIG_SMALL 13
/* One line of text with its spacing. */
#define FIG_LINE_H(size) ((size) * 4 / 3 + 1)
/* Height of the capitals (DejaVu Sans: 0.729 em): fig_text's y is their top. */
#define FIG_CAP_H(size) ((size) * 73 / 100)

typedef struct {
    int w, h;
    void *surface; /* cairo_surface_t: the recording */
    void *cr;      /* cairo_t drawing into it */
} fig_canvas;

extern const uint8_t fig_black[3], fig_grey[3], fig_light[3];

/* A white w x h figure. */
int fig_init(fig_canvas *c, int w, int h);
void fig_free(fig_canvas *c);

void fig_rect(fig_canvas *c, double x, double y, double w, double h, const uint8_t rgb[3]);
/* 1-unit outline of the rectangle (inside it). */
void fig_frame(fig_canvas *c, double x, double y, double w, double h, const uint8_t rgb[3]);
/* A line `width` units wide. */
void fig_line(fig_canvas *c, double x0, double y0, double x1, double y1, double width,
              const uint8_t rgb[3]);
/* A filled disk of radius r centred at (x, y). */
void fig_dot(fig_canvas *c, double x, double y, double r, const uint8_t rgb[3]);
/* Drawing limited to a rectangle until fig_unclip. */
void fig_clip(fig_canvas *c, double x, double y, double w, double h);
void fig_unclip(fig_canvas *c);
/* A circle of radius r, stroked `width` wide. */
void fig_circle(fig_canvas *c, double x, double y, double r, double width, const uint8_t rgb[3]);

/* An RGB image (ih x iw) drawn at (x, y), each pixel as a square `scale` units wide
 * (scale as fig_fit_scale gives it: > 0 enlarges, < 0 shrinks by -scale). Enlarged
 * images keep sharp pixels (nearest neighbour; in PDF and SVG too); the vector formats
 * hold the image at its own resolution. */
int fig_blit(fig_canvas *c, int x, int y, const uint8_t *rgb, int iw, int ih, int scale);
/* The integer scale that best fits iw x ih into bw x bh. */
int fig_fit_scale(int iw, int ih, int bw, int bh);
/* Side of n pixels drawn at that scale. */
int fig_scaled(int n, int scale);
/* Units per image pixel at that scale. */
double fig_scale_factor(int scale);

/* Text of `size` with the top of its capitals at y. */
int fig_text_width(const char *text, int size);
void fig_text(fig_canvas *c, double x, double y, const char *text, int size, const uint8_t rgb[3]);
void fig_text_centered(fig_canvas *c, double xc, double y, const char *text, int size,
                       const uint8_t rgb[3]);
void fig_text_right(fig_canvas *c, double xr, double y, const char *text, int size,
                    const uint8_t rgb[3]);
/* Text turned by 90 degrees (reading upwards), centred on y, the top of its capitals at x. */
void fig_text_up(fig_canvas *c, double x, double yc, const char *text, int size,
                 const uint8_t rgb[3]);

/* A number in at most 4 significant digits ("0.0123", "1.5e+04"). */
void fig_format(double v, char *buf, size_t n);
/* Tick positions between lo and hi: "nice" steps (1, 2, 5 x 10^k) for a linear axis,
 * powers of ten (thinned to at most `max`) for a log axis (lo, hi > 0). Returns the count. */
int fig_ticks(double lo, double hi, int log_scale, double *t, int max);

/* A vertical viridis colour bar of bar_h units at (x, y): hi at the top. Tick labels at
 * its right. fig_colorbar_width gives the width it takes. */
#define FIG_BAR_W 16
int fig_colorbar_width(double lo, double hi, int log_scale);
void fig_colorbar(fig_canvas *c, int x, int y, int bar_h, double lo, double hi, int log_scale);

/* A scale bar for a map `map_w` units wide showing `nx` positions `step_nm` apart: a
 * round length (1, 2, 5 x 10^k nm, at most a quarter of the map) drawn white on a dark
 * box in the map's bottom-left corner (x, y_bottom). */
void fig_scalebar(fig_canvas *c, int x, int y_bottom, int map_w, int64_t nx, double step_nm);

/* A legend of colour swatches with their labels, wrapped into rows `width` wide, starting
 * at (x, y). Returns its height (c NULL: only measures). */
int fig_legend(fig_canvas *c, int x, int y, int width, int n, const char *const *names,
               const uint8_t (*colors)[3]);

/* The formats a figure is written in (lcae/report.h: LCAE_FIGURE_*). Renders the figure
 * as PNG into (*png, *bytes) and writes `base`.png, and `base`.pdf / `base`.svg as
 * `formats` asks, as members of the output set `set` (lcae/io.h). */
struct lcae_output_set;
int fig_write(const fig_canvas *c, struct lcae_output_set *set, const char *base,
              unsigned formats, uint8_t **png, size_t *bytes);

#endif
