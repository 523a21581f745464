/* The loss terms and their gradients, with PyTorch's conventions at the kinks: clamp
 * passes the gradient on the closed interval [-c, c] and abs has gradient 0 at 0. */
#include <math.h>

#include "nn/nn_internal.h"

static inline float sgn(float d) { return (float)((d > 0) - (d < 0)); }

double lcae_clipped_l1(const float *pred, const float *target, float *dpred, int64_t n,
                       float clip, float scale)
{
    double sum = 0;
    float g = scale / (float)n; /* as PyTorch's mean backward: grad / numel */
#pragma omp parallel for reduction(+ : sum) schedule(static) if (n >= NN_PAR_MIN)
    for (int64_t i = 0; i < n; i++) {
        float d = pred[i] - target[i];
        float a = fabsf(d);
        sum += a < clip ? a : clip;
        if (dpred)
            dpred[i] = a <= clip ? sgn(d) * g : 0.0f;
    }
    return sum / (double)n;
}

double lcae_mse(const float *pred, const float *target, float *dpred, int64_t n, float scale)
{
    double sum = 0;
    float g = 2.0f * scale / (float)n; /* PyTorch's mse_loss backward: 2 / numel * grad */
#pragma omp parallel for reduction(+ : sum) schedule(static) if (n >= NN_PAR_MIN)
    for (int64_t i = 0; i < n; i++) {
        float d = pred[i] - target[i];
        sum += (double)d * d;
        if (dpred)
            dpred[i] = g * d;
    }
    return sum / (double)n;
}

double lcae_rot_loss(const float *z1, const float *z2, float *dz1, float *dz2, int N, int D,
                     int dims, float scale)
{
    double sum = 0;
    float g = scale / (float)((int64_t)N * dims);
    for (int i = 0; i < N; i++)
        for (int j = 0; j < D; j++) {
            size_t at = (size_t)i * D + j;
            float d = z1[at] - z2[at], s = j < dims ? sgn(d) * g : 0.0f;
            if (j < dims)
                sum += fabsf(d);
            if (dz1)
                dz1[at] = s;
            if (dz2)
                dz2[at] = -s;
        }
    return sum / ((double)N * dims);
}

double lcae_rot_loss_scaled(const float *z1, const float *z2, float *dz1, float *dz2, int N,
                            int D, int dims, float scale)
{
    double total = 0, g = (double)scale / ((double)N * dims);
    for (int j = 0; j < D; j++) {
        if (j >= dims) { /* no gradient outside the invariant features */
            for (int i = 0; i < N; i++) {
                if (dz1)
                    dz1[(size_t)i * D + j] = 0.0f;
                if (dz2)
                    dz2[(size_t)i * D + j] = 0.0f;
            }
            continue;
        }
        double mean = 0, ss = 0, abs_sum = 0;
        for (int i = 0; i < N; i++)
            mean += z1[(size_t)i * D + j];
        mean /= N;
        for (int i = 0; i < N; i++) {
            size_t at = (size_t)i * D + j;
            ss += (z1[at] - mean) * (z1[at] - mean);
            abs_sum += fabsf(z1[at] - z2[at]);
        }
        double sd = N > 1 ? sqrt(ss / (N - 1)) : 0, s = sd + 1e-6;
        total += abs_sum / s;
        /* d/dz1_k of sum_i |d_i| / s: sgn(d_k) / s - (sum_i |d_i| / s^2) ds/dz1_k, with
         * ds/dz1_k = (z1_k - mean) / ((N - 1) sd) */
        double through_s = sd > 0 ? abs_sum / (s * s) / ((N - 1) * sd) : 0;
        for (int i = 0; i < N; i++) {
            size_t at = (size_t)i * D + j;
            double dd = sgn(z1[at] - z2[at]) / s;
            if (dz1)
                dz1[at] = (float)(g * (dd - through_s * (z1[at] - mean)));
            if (dz2)
                dz2[at] = (float)(-g * dd);
        }
    }
    return total / ((double)N * dims);
}
