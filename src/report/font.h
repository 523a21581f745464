/* Text in figures: a 5 x 7 bitmap font (src/report only). */
#ifndef LCAE_REPORT_FONT_H
#define LCAE_REPORT_FONT_H

#define LCAE_FONT_ADVANCE 6 /* pixels from one character to the next at scale 1 */
#define LCAE_FONT_HEIGHT 7 /* above the line; g j p q y reach 2 rows below it */

/* Draws `text` into an RGB image (width x height, 3 bytes a pixel, row-major) with its
 * top-left corner at (x, y), each font pixel a scale x scale block; clipped at the edges. */
void lcae_font_draw(unsigned char *rgb, int width, int height, int x, int y, const char *text,
                    int scale, const unsigned char color[3]);
/* Width in pixels of `text` drawn at `scale`. */
int lcae_font_text_width(const char *text, int scale);

#endif
