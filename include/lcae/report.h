/* lcae report: pictures. PNG files (8-bit grey or RGB, encoded in memory with libpng and
 * written atomically), a viridis-like colour map for continuous maps, and a categorical
 * palette for label maps (grey for noise, label -1).
 *
 * Images are row-major, h rows of w pixels; RGB images hold 3 bytes per pixel. */
#ifndef LCAE_REPORT_H
#define LCAE_REPORT_H

#include <stddef.h>
#include <stdint.h>

#include "lcae/core.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Encodes an 8-bit image with `channels` = 1 (grey) or 3 (RGB) into a malloc'd PNG
 * (*png, *bytes). */
int lcae_png_encode(const uint8_t *pix, int h, int w, int channels, uint8_t **png,
                    size_t *bytes);
/* Encodes, then writes `path` atomically. */
int lcae_png_write_gray8(const char *path, const uint8_t *pix, int h, int w);
int lcae_png_write_rgb8(const char *path, const uint8_t *rgb, int h, int w);

/* Viridis (matplotlib's, sampled at 33 points and interpolated linearly) at t in [0, 1]
 * (clamped; NaN gives dark grey 40,40,40). */
void lcae_colormap_viridis(double t, uint8_t rgb[3]);
/* A colour per label: matplotlib's tab10 then its light tab20 companions (greys left
 * out) for labels 0-17, then hues spaced by the golden angle; grey 128 for -1 (noise)
 * and for any other negative label. */
void lcae_palette_label(int32_t label, uint8_t rgb[3]);

/* n values to RGB through viridis, lo -> 0 and hi -> 1; with `log_scale` the values are
 * mapped as log10(max(v, floor)) where floor = lo (lo must then be > 0). NaN: dark grey. */
void lcae_image_viridis(const float *v, int64_t n, double lo, double hi, int log_scale,
                        uint8_t *rgb);
/* n labels to RGB through lcae_palette_label. */
void lcae_image_labels(const int32_t *labels, int64_t n, uint8_t *rgb);

#ifdef __cplusplus
}
#endif
#endif
