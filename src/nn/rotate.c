/* Rotation of a batch of images about a centre, bilinear or nearest-neighbour. The
 * sampling map is computed once per output pixel and applied to every image. */
#include <math.h>

#include "nn/nn_internal.h"

static const double deg_to_rad = 3.14159265358979323846 / 180.0;

/* Source point (sy, sx) of output pixel (y, x): the inverse of the counter-clockwise
 * (as displayed, row 0 on top) rotation by `degrees` about (cy, cx). */
static inline void source_point(int y, int x, double c, double s, double cy, double cx,
                                double *sy, double *sx)
{
    double dy = y - cy, dx = x - cx;
    *sx = cx + c * dx - s * dy;
    *sy = cy + s * dx + c * dy;
}

static inline float pixel(const float *img, int H, int W, int y, int x, float fill)
{
    return (y >= 0 && y < H && x >= 0 && x < W) ? img[(size_t)y * W + x] : fill;
}

/* Output pixel at `at` (y * W + x) of each of the N images from source point (sy, sx):
 * bilinear, or nearest with ties to even (as grid_sample's nearest mode, nearbyint). */
static inline void bilinear_pixel(float *out, const float *in, int N, int H, int W,
                                  size_t at, double sy, double sx, float fill)
{
    double fy = floor(sy), fx = floor(sx);
    int y0 = (int)fy, x0 = (int)fx;
    float wy = (float)(sy - fy), wx = (float)(sx - fx);
    if (y0 < -1 || y0 >= H || x0 < -1 || x0 >= W) {
        for (int n = 0; n < N; n++)
            out[(size_t)n * H * W + at] = fill;
        return;
    }
    for (int n = 0; n < N; n++) {
        const float *img = in + (size_t)n * H * W;
        float v00 = pixel(img, H, W, y0, x0, fill);
        float v01 = pixel(img, H, W, y0, x0 + 1, fill);
        float v10 = pixel(img, H, W, y0 + 1, x0, fill);
        float v11 = pixel(img, H, W, y0 + 1, x0 + 1, fill);
        out[(size_t)n * H * W + at] =
            (1 - wy) * ((1 - wx) * v00 + wx * v01) + wy * ((1 - wx) * v10 + wx * v11);
    }
}

static inline void nearest_pixel(float *out, const float *in, int N, int H, int W, size_t at,
                                 double sy, double sx, float fill)
{
    double ry = nearbyint(sy), rx = nearbyint(sx);
    int inside = ry >= 0 && ry < H && rx >= 0 && rx < W;
    size_t src = inside ? (size_t)ry * W + (size_t)rx : 0;
    for (int n = 0; n < N; n++)
        out[(size_t)n * H * W + at] = inside ? in[(size_t)n * H * W + src] : fill;
}

/* The sampling map once per output pixel, applied to every image. */
static void rotate(float *out, const float *in, int N, int H, int W, double degrees,
                   double cy, double cx, float fill, int nearest)
{
    double t = degrees * deg_to_rad, c = cos(t), s = sin(t);
#pragma omp parallel for schedule(static) if ((int64_t)N * H * W >= NN_PAR_MIN)
    for (int y = 0; y < H; y++)
        for (int x = 0; x < W; x++) {
            double sy, sx;
            source_point(y, x, c, s, cy, cx, &sy, &sx);
            size_t at = (size_t)y * W + x;
            if (nearest)
                nearest_pixel(out, in, N, H, W, at, sy, sx, fill);
            else
                bilinear_pixel(out, in, N, H, W, at, sy, sx, fill);
        }
}

void lcae_rotate_bilinear(lcae_nn *nn, float *out, const float *in, int N, int H, int W,
                          double degrees, double cy, double cx, float fill)
{
    (void)nn; /* the CPU backend keeps no state for this call */
    rotate(out, in, N, H, W, degrees, cy, cx, fill, 0);
}

void lcae_rotate_nearest(lcae_nn *nn, float *out, const float *in, int N, int H, int W,
                         double degrees, double cy, double cx, float fill)
{
    (void)nn;
    rotate(out, in, N, H, W, degrees, cy, cx, fill, 1);
}
