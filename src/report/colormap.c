/* Colour maps: viridis for continuous values, a categorical palette for labels. */
#include "lcae/report.h"

#include <math.h>

/* matplotlib's viridis at t = i / 32 */
static const uint8_t viridis[33][3] = {
    {68, 1, 84},    {71, 13, 96},   {72, 24, 106},  {72, 35, 116},  {71, 45, 123},
    {69, 55, 129},  {66, 64, 134},  {62, 73, 137},  {59, 82, 139},  {55, 91, 141},
    {51, 99, 141},  {47, 107, 142}, {44, 114, 142}, {41, 122, 142}, {38, 130, 142},
    {35, 137, 142}, {33, 145, 140}, {31, 152, 139}, {31, 160, 136}, {34, 167, 133},
    {40, 174, 128}, {50, 182, 122}, {63, 188, 115}, {78, 195, 107}, {94, 201, 98},
    {112, 207, 87}, {132, 212, 75}, {152, 216, 62}, {173, 220, 48}, {194, 223, 35},
    {216, 226, 25}, {236, 229, 27}, {253, 231, 37}};

/* matplotlib's tab10 without its grey, then the light tab20 companions without grey */
static const uint8_t palette[18][3] = {
    {31, 119, 180},  {255, 127, 14},  {44, 160, 44},   {214, 39, 40},   {148, 103, 189},
    {140, 86, 75},   {227, 119, 194}, {188, 189, 34},  {23, 190, 207},  {174, 199, 232},
    {255, 187, 120}, {152, 223, 138}, {255, 152, 150}, {197, 176, 213}, {196, 156, 148},
    {247, 182, 210}, {219, 219, 141}, {158, 218, 229}};

void lcae_colormap_viridis(double t, uint8_t rgb[3])
{
    if (isnan(t)) {
        rgb[0] = rgb[1] = rgb[2] = 40;
        return;
    }
    if (t < 0)
        t = 0;
    if (t > 1)
        t = 1;
    double x = t * 32;
    int i = (int)x;
    if (i > 31)
        i = 31;
    double f = x - i;
    for (int c = 0; c < 3; c++)
        rgb[c] = (uint8_t)lround((1 - f) * viridis[i][c] + f * viridis[i + 1][c]);
}

static void hsv_to_rgb(double h, double s, double v, uint8_t rgb[3])
{
    double c = v * s, hp = h * 6, x = c * (1 - fabs(fmod(hp, 2) - 1)), m = v - c;
    double r = 0, g = 0, b = 0;
    int k = (int)hp % 6;
    switch (k) {
    case 0: r = c; g = x; break;
    case 1: r = x; g = c; break;
    case 2: g = c; b = x; break;
    case 3: g = x; b = c; break;
    case 4: r = x; b = c; break;
    default: r = c; b = x; break;
    }
    rgb[0] = (uint8_t)lround(255 * (r + m));
    rgb[1] = (uint8_t)lround(255 * (g + m));
    rgb[2] = (uint8_t)lround(255 * (b + m));
}

void lcae_palette_label(int32_t label, uint8_t rgb[3])
{
    if (label < 0) {
        rgb[0] = rgb[1] = rgb[2] = 128;
        return;
    }
    if (label < 18) {
        for (int c = 0; c < 3; c++)
            rgb[c] = palette[label][c];
        return;
    }
    /* golden-angle hues keep neighbouring labels apart; saturation alternates so that
     * no colour comes close to the noise grey */
    double h = fmod(0.11 + 0.618033988749895 * (label - 18), 1.0);
    hsv_to_rgb(h, label % 2 ? 0.55 : 0.85, label % 3 ? 0.95 : 0.75, rgb);
}

void lcae_image_viridis(const float *v, int64_t n, double lo, double hi, int log_scale,
                        uint8_t *rgb)
{
    double a = log_scale ? log10(lo) : lo, b = log_scale ? log10(hi) : hi;
    double span = b > a ? b - a : 1;
    for (int64_t i = 0; i < n; i++) {
        double x = v[i];
        if (log_scale && !isnan(x))
            x = log10(x > lo ? x : lo);
        lcae_colormap_viridis(isnan(x) ? NAN : (x - a) / span, rgb + 3 * i);
    }
}

void lcae_image_labels(const int32_t *labels, int64_t n, uint8_t *rgb)
{
    for (int64_t i = 0; i < n; i++)
        lcae_palette_label(labels[i], rgb + 3 * i);
}
