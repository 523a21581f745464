/* The loss terms and their gradients, with PyTorch's conventions at the kinks: clamp
 * passes the gradient on the closed interval [-c, c] and abs has gradient 0 at 0. */
#include <math.h>
#include <stdlib.h>

#include "nn/nn_internal.h"

static inline float sgn(float d) { return (float)((d > 0) - (d < 0)); }

double lcae_clipped_l1(lcae_nn *nn, const float *pred, const float *target, float *dpred, int64_t n,
                       float clip, float scale)
{
    (void)nn; /* the CPU backend keeps no state for this call */
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

double lcae_mse(lcae_nn *nn, const float *pred, const float *target, float *dpred, int64_t n, float scale)
{
    (void)nn; /* the CPU backend keeps no state for this call */
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

/* Data-parallel (lcae_nn_set_sync): means over the whole batch (this process's terms of
 * them), the scaled form's spread from the whole batch's sums. A failed sum over the
 * processes gives a NaN loss. */
double lcae_rot_loss(lcae_nn *nn, const float *z1, const float *z2, float *dz1, float *dz2, int N, int D,
                     int dims, float scale)
{
    const lcae_nn_sync *sy = nn_sync(nn);
    int64_t NB = sy ? sy->batch : N; /* the whole batch */
    double sum = 0;
    float g = scale / (float)(NB * dims);
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
    return sum / ((double)NB * dims);
}

double lcae_rot_loss_scaled(lcae_nn *nn, const float *z1, const float *z2, float *dz1,
                            float *dz2, int N, int D, int dims, float scale)
{
    const lcae_nn_sync *sy = nn_sync(nn);
    int64_t NB = sy ? sy->batch : N; /* the whole batch */
    double total = 0, g = (double)scale / ((double)NB * dims);
    /* per invariant feature j: sum[j] of z1, then sum[dims + 2j] of (z1 - mean)^2 and
     * sum[dims + 2j + 1] of |z1 - z2|, over the batch; mine[j]: this process's |z1 - z2|
     * (its share of the loss) */
    double *sum = lcae_calloc((size_t)4 * dims, sizeof *sum), *mine = sum + 3 * dims;
    if (!sum)
        return NAN;
    for (int j = 0; j < dims; j++)
        for (int i = 0; i < N; i++)
            sum[j] += z1[(size_t)i * D + j];
    if (sy && sy->sum(sum, dims)) {
        free(sum);
        return NAN;
    }
    for (int j = 0; j < dims; j++) {
        double mean = sum[j] / NB, ss = 0, abs_sum = 0;
        for (int i = 0; i < N; i++) {
            size_t at = (size_t)i * D + j;
            ss += (z1[at] - mean) * (z1[at] - mean);
            abs_sum += fabsf(z1[at] - z2[at]);
        }
        sum[dims + 2 * j] = ss;
        sum[dims + 2 * j + 1] = mine[j] = abs_sum;
    }
    if (sy && sy->sum(sum + dims, 2 * dims)) {
        free(sum);
        return NAN;
    }
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
        double mean = sum[j] / NB, ss = sum[dims + 2 * j], abs_sum = sum[dims + 2 * j + 1];
        double sd = NB > 1 ? sqrt(ss / (NB - 1)) : 0, s = sd + 1e-6;
        total += mine[j] / s;
        /* d/dz1_k of sum_i |d_i| / s: sgn(d_k) / s - (sum_i |d_i| / s^2) ds/dz1_k, with
         * ds/dz1_k = (z1_k - mean) / ((N - 1) sd) */
        double through_s = sd > 0 ? abs_sum / (s * s) / ((NB - 1) * sd) : 0;
        for (int i = 0; i < N; i++) {
            size_t at = (size_t)i * D + j;
            double dd = sgn(z1[at] - z2[at]) / s;
            if (dz1)
                dz1[at] = (float)(g * (dd - through_s * (z1[at] - mean)));
            if (dz2)
                dz2[at] = (float)(-g * dd);
        }
    }
    free(sum);
    return total / ((double)NB * dims);
}
