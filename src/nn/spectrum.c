/* Resampling onto a polar grid, the magnitudes of the low discrete Fourier orders along
 * a row, and a per-column standardization: the polar model's input and auxiliary target. */
#include <math.h>

#include "nn/nn_internal.h"

#define PI 3.14159265358979323846

void lcae_polar_sample(lcae_nn *nn, float *out, const float *in, int N, int H, int W, int nr,
                       int nt, double r0, double r1, double cy, double cx)
{
    (void)nn;
    int64_t HW = (int64_t)H * W, P = (int64_t)nr * nt;
    /* the four corners of a point, computed once and applied to every image; a corner
     * outside the frame has weight 0 (and reads pixel 0) */
#pragma omp parallel for schedule(static) if ((int64_t)N * P >= NN_PAR_MIN)
    for (int64_t j = 0; j < P; j++) {
        int i = (int)(j / nt), t = (int)(j % nt);
        double r = r0 + i * (r1 - r0) / (nr - 1), th = 2 * PI * t / nt;
        double gy = cy + r * sin(th), gx = cx + r * cos(th);
        double y0 = floor(gy), x0 = floor(gx), fy = gy - y0, fx = gx - x0;
        int64_t ix[4];
        float wt[4];
        for (int k = 0; k < 4; k++) {
            int y = (int)y0 + (k >> 1), x = (int)x0 + (k & 1);
            double wv = ((k >> 1) ? fy : 1 - fy) * ((k & 1) ? fx : 1 - fx);
            int inside = y >= 0 && y < H && x >= 0 && x < W;
            ix[k] = inside ? (int64_t)y * W + x : 0;
            wt[k] = inside ? (float)wv : 0.0f;
        }
        for (int n = 0; n < N; n++) {
            const float *img = in + n * HW;
            out[n * P + j] = wt[0] * img[ix[0]] + wt[1] * img[ix[1]] + wt[2] * img[ix[2]] +
                             wt[3] * img[ix[3]];
        }
    }
}

int lcae_dft_magnitudes(lcae_nn *nn, float *out, const float *in, int64_t rows, int n,
                        int orders)
{
    /* cos and sin of 2 pi k t / n as floats, (orders, n) each; the angle's k t reduced
     * mod n first so that it is exact */
    float *cs = nn_scratch(nn, NN_SCRATCH_AUX, 2 * (size_t)orders * n);
    if (!cs)
        return LCAE_ENOMEM;
    float *sn = cs + (size_t)orders * n;
    for (int k = 0; k < orders; k++)
        for (int t = 0; t < n; t++) {
            double a = 2 * PI * (double)((int64_t)k * t % n) / n;
            cs[k * n + t] = (float)cos(a);
            sn[k * n + t] = (float)sin(a);
        }
#pragma omp parallel for schedule(static) if (rows * n * orders >= NN_PAR_MIN)
    for (int64_t row = 0; row < rows; row++) {
        const float *v = in + row * n;
        for (int k = 0; k < orders; k++) {
            double re = 0, im = 0;
            for (int t = 0; t < n; t++) {
                re += (double)v[t] * cs[k * n + t];
                im -= (double)v[t] * sn[k * n + t];
            }
            out[row * orders + k] = (float)(sqrt(re * re + im * im) / n);
        }
    }
    return LCAE_OK;
}

void lcae_standardize(lcae_nn *nn, float *x, const float *mean, const float *std, double eps,
                      int64_t rows, int64_t cols)
{
    (void)nn;
#pragma omp parallel for schedule(static) if (rows * cols >= NN_PAR_MIN)
    for (int64_t r = 0; r < rows; r++)
        for (int64_t c = 0; c < cols; c++)
            x[r * cols + c] = (float)((x[r * cols + c] - mean[c]) / (std[c] + eps));
}
