/* Drawing figures (src/report only): an RGB canvas with a white background, images
 * scaled by integer factors, text in the 5 x 7 font, lines, colour bars and legends.
 * Coordinates are pixels, x to the right, y down, (0, 0) the top-left corner; everything
 * is clipped at the canvas edges. */
#ifndef LCAE_REPORT_FIGURE_H
#define LCAE_REPORT_FIGURE_H

#include <stddef.h>
#include <stdint.h>

/* Text sizes: titles and labels, tick labels. */
#define FIG_TEXT 2
#define FIG_SMALL 1
#define FIG_LINE_H(scale) (9 * (scale)) /* one line of text with its spacing */

typedef struct {
    int w, h;
    uint8_t *px; /* h * w * 3 */
} fig_canvas;

extern const uint8_t fig_black[3], fig_grey[3], fig_light[3];

int fig_init(fig_canvas *c, int w, int h);
void fig_free(fig_canvas *c);

void fig_rect(fig_canvas *c, int x, int y, int w, int h, const uint8_t rgb[3]);
/* 1-pixel outline of the rectangle (inside it). */
void fig_frame(fig_canvas *c, int x, int y, int w, int h, const uint8_t rgb[3]);
void fig_line(fig_canvas *c, int x0, int y0, int x1, int y1, const uint8_t rgb[3]);
/* A filled square of side 2r + 1 centred at (x, y). */
void fig_dot(fig_canvas *c, int x, int y, int r, const uint8_t rgb[3]);

/* An RGB image (ih x iw) drawn at (x, y); scale > 0 enlarges each pixel to a scale x scale
 * block (nearest neighbour), scale < 0 shrinks by -scale, averaging each block. */
void fig_blit(fig_canvas *c, int x, int y, const uint8_t *rgb, int iw, int ih, int scale);
/* The integer scale (as fig_blit takes it) that best fits iw x ih into bw x bh. */
int fig_fit_scale(int iw, int ih, int bw, int bh);
/* Side of n pixels drawn at that scale. */
int fig_scaled(int n, int scale);

int fig_text_width(const char *text, int scale);
void fig_text(fig_canvas *c, int x, int y, const char *text, int scale, const uint8_t rgb[3]);
void fig_text_centered(fig_canvas *c, int xc, int y, const char *text, int scale,
                       const uint8_t rgb[3]);
void fig_text_right(fig_canvas *c, int xr, int y, const char *text, int scale,
                    const uint8_t rgb[3]);
/* Text turned by 90 degrees (reading upwards), its left end at (x, y_bottom). */
void fig_text_up(fig_canvas *c, int x, int y_bottom, const char *text, int scale,
                 const uint8_t rgb[3]);

/* A number in at most 4 significant digits ("0.0123", "1.5e+04"). */
void fig_format(double v, char *buf, size_t n);
/* Tick positions between lo and hi: "nice" steps (1, 2, 5 x 10^k) for a linear axis,
 * powers of ten (thinned to at most `max`) for a log axis (lo, hi > 0). Returns the count. */
int fig_ticks(double lo, double hi, int log_scale, double *t, int max);

/* A vertical viridis colour bar of bar_h pixels at (x, y): hi at the top. Tick labels at
 * its right. fig_colorbar_width gives the width it takes. */
#define FIG_BAR_W 16
int fig_colorbar_width(double lo, double hi, int log_scale);
void fig_colorbar(fig_canvas *c, int x, int y, int bar_h, double lo, double hi, int log_scale);

/* A legend of colour swatches with their labels, wrapped into rows `width` wide, starting
 * at (x, y). Returns its height (with draw = 0 only measures). */
int fig_legend(fig_canvas *c, int x, int y, int width, int n, const char *const *names,
               const uint8_t (*colors)[3], int draw);

/* Encodes the canvas as PNG into (*png, *bytes) and writes it to `path` as a member of
 * the output set `set` (lcae/io.h). */
struct lcae_output_set;
int fig_write(const fig_canvas *c, struct lcae_output_set *set, const char *path,
              uint8_t **png, size_t *bytes);

#endif
