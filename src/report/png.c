/* PNG through libpng, encoded into memory (so that every write and the close can be
 * checked by the atomic writer, unlike stb_image_write's fwrite). */
#include "lcae/report.h"

#include <png.h>
#include <stdlib.h>
#include <string.h>

#include "lcae/io.h"

typedef struct {
    uint8_t *data;
    size_t n, cap;
    int nomem;
} png_buffer;

static void buffer_write(png_structp png, png_bytep bytes, png_size_t n)
{
    png_buffer *b = png_get_io_ptr(png);
    if (b->nomem)
        return;
    if (b->n + n > b->cap) {
        size_t cap = b->cap ? b->cap : 4096;
        while (cap < b->n + n)
            cap *= 2;
        uint8_t *d = realloc(b->data, cap);
        if (!d) {
            b->nomem = 1;
            return;
        }
        b->data = d;
        b->cap = cap;
    }
    memcpy(b->data + b->n, bytes, n);
    b->n += n;
}

static void buffer_flush(png_structp png)
{
    (void)png;
}

int lcae_png_encode(const uint8_t *pix, int h, int w, int channels, uint8_t **out,
                    size_t *bytes)
{
    *out = NULL;
    *bytes = 0;
    if (h <= 0 || w <= 0 || h > (1 << 20) || w > (1 << 20) || (channels != 1 && channels != 3))
        return lcae_fail(LCAE_EUSAGE, "PNG: cannot encode a %d x %d image with %d channels "
                         "(expected 1 or 3 channels, sides 1..2^20)", h, w, channels);
    png_buffer b = {0};
    png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
    png_infop info = png ? png_create_info_struct(png) : NULL;
    if (!png || !info) {
        png_destroy_write_struct(&png, NULL);
        return lcae_fail(LCAE_ENOMEM, "PNG: out of memory");
    }
    /* libpng reports its errors by longjmp */
    if (setjmp(png_jmpbuf(png))) {
        png_destroy_write_struct(&png, &info);
        free(b.data);
        return lcae_fail(LCAE_EFAIL, "PNG: libpng failed to encode a %d x %d image", h, w);
    }
    png_set_write_fn(png, &b, buffer_write, buffer_flush);
    png_set_compression_level(png, 9);
    png_set_IHDR(png, info, (png_uint_32)w, (png_uint_32)h, 8,
                 channels == 1 ? PNG_COLOR_TYPE_GRAY : PNG_COLOR_TYPE_RGB, PNG_INTERLACE_NONE,
                 PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    png_write_info(png, info);
    for (int y = 0; y < h; y++)
        png_write_row(png, (png_const_bytep)(pix + (size_t)y * w * channels));
    png_write_end(png, info);
    png_destroy_write_struct(&png, &info);
    if (b.nomem) {
        free(b.data);
        return lcae_fail(LCAE_ENOMEM, "PNG: out of memory");
    }
    *out = b.data;
    *bytes = b.n;
    return LCAE_OK;
}

int lcae_png_write_in(lcae_output_set *set, const char *path, const uint8_t *pix, int h,
                      int w, int channels)
{
    uint8_t *png;
    size_t n;
    int rc = lcae_png_encode(pix, h, w, channels, &png, &n);
    if (rc)
        return lcae_fail(rc, "%s: %s", path, lcae_last_error());
    rc = lcae_write_file_in(set, path, png, n);
    free(png);
    return rc;
}

int lcae_png_write_gray8(const char *path, const uint8_t *pix, int h, int w)
{
    return lcae_png_write_in(NULL, path, pix, h, w, 1);
}

int lcae_png_write_rgb8(const char *path, const uint8_t *rgb, int h, int w)
{
    return lcae_png_write_in(NULL, path, rgb, h, w, 3);
}
