/* PNG writer and colour maps: images written by lcae_png_write_* read back through
 * libpng's own decoder (png_image API) pixel for pixel; viridis against matplotlib's
 * values; the label palette's colours distinct and apart from the noise grey. */
#include "test_util.h"

#include <png.h>
#include <stdint.h>
#include <sys/stat.h>

#include "lcae/report.h"

static uint8_t *read_png(const char *path, int channels, int *h, int *w)
{
    png_image im;
    memset(&im, 0, sizeof im);
    im.version = PNG_IMAGE_VERSION;
    if (!png_image_begin_read_from_file(&im, path))
        return NULL;
    im.format = channels == 1 ? PNG_FORMAT_GRAY : PNG_FORMAT_RGB;
    uint8_t *buf = malloc(PNG_IMAGE_SIZE(im));
    if (!png_image_finish_read(&im, NULL, buf, 0, NULL)) {
        free(buf);
        return NULL;
    }
    *h = (int)im.height;
    *w = (int)im.width;
    return buf;
}

static void round_trip(int channels, int h, int w)
{
    size_t n = (size_t)h * w * channels;
    uint8_t *pix = malloc(n);
    for (size_t i = 0; i < n; i++)
        pix[i] = (uint8_t)((i * 2654435761u) >> 13);
    char path[512];
    snprintf(path, sizeof path, "%s/img_%d_%dx%d.png", test_tmpdir(), channels, h, w);
    int rc = channels == 1 ? lcae_png_write_gray8(path, pix, h, w)
                           : lcae_png_write_rgb8(path, pix, h, w);
    CHECK_MSG(rc == LCAE_OK, "%s", lcae_last_error());
    int rh = 0, rw = 0;
    uint8_t *back = read_png(path, channels, &rh, &rw);
    CHECK_MSG(back != NULL, "libpng cannot read %s", path);
    if (back) {
        CHECK(rh == h && rw == w);
        CHECK(!memcmp(back, pix, n));
    }
    free(back);
    free(pix);
}

static void bad_input(void)
{
    uint8_t px[3] = {0};
    char path[512];
    snprintf(path, sizeof path, "%s/bad.png", test_tmpdir());
    CHECK(lcae_png_write_gray8(path, px, 0, 3) == LCAE_EUSAGE);
    CHECK(lcae_png_write_rgb8(path, px, 1, -1) == LCAE_EUSAGE);
    struct stat st;
    CHECK(stat(path, &st) != 0); /* nothing written */
    snprintf(path, sizeof path, "%s/no/such/folder/x.png", test_tmpdir());
    CHECK(lcae_png_write_gray8(path, px, 1, 3) == LCAE_EFAIL);
    CHECK(strstr(lcae_last_error(), "no/such/folder") != NULL);
}

static void colours(void)
{
    /* matplotlib 3.6 viridis(0), viridis(0.25), viridis(0.5), viridis(1): exact samples */
    uint8_t c[3];
    const struct { double t; uint8_t rgb[3]; } ref[] = {
        {0, {68, 1, 84}}, {0.25, {59, 82, 139}}, {0.5, {33, 145, 140}}, {1, {253, 231, 37}}};
    for (int i = 0; i < 4; i++) {
        lcae_colormap_viridis(ref[i].t, c);
        CHECK_MSG(!memcmp(c, ref[i].rgb, 3), "viridis(%g) = %d %d %d", ref[i].t, c[0], c[1], c[2]);
    }
    /* between samples: matplotlib's viridis(0.3) = (53, 95, 141), within the interpolation */
    lcae_colormap_viridis(0.3, c);
    CHECK(abs(c[0] - 53) <= 2 && abs(c[1] - 95) <= 2 && abs(c[2] - 141) <= 2);
    lcae_colormap_viridis(-3, c);
    CHECK(c[0] == 68 && c[1] == 1 && c[2] == 84);
    lcae_colormap_viridis(NAN, c);
    CHECK(c[0] == 40 && c[1] == 40 && c[2] == 40);
    /* labels: -1 grey; 0..199 pairwise distinct and none near grey */
    lcae_palette_label(-1, c);
    CHECK(c[0] == 128 && c[1] == 128 && c[2] == 128);
    uint8_t all[200][3];
    for (int i = 0; i < 200; i++) {
        lcae_palette_label(i, all[i]);
        int dg = abs(all[i][0] - 128) + abs(all[i][1] - 128) + abs(all[i][2] - 128);
        CHECK_MSG(dg > 40, "label %d too close to the noise grey", i);
        for (int j = 0; j < i; j++)
            CHECK_MSG(memcmp(all[i], all[j], 3), "labels %d and %d share a colour", i, j);
    }
    float v[4] = {1, 10, 100, NAN};
    uint8_t rgb[12];
    lcae_image_viridis(v, 4, 1, 100, 1, rgb);
    CHECK(rgb[0] == 68 && rgb[6] == 253 && rgb[9] == 40);
    lcae_colormap_viridis(0.5, c);
    CHECK(!memcmp(rgb + 3, c, 3));
}

int main(void)
{
    round_trip(1, 1, 1);
    round_trip(1, 37, 129);
    round_trip(3, 64, 64);
    round_trip(3, 3, 1000);
    bad_input();
    colours();
    return test_done("test_png");
}
