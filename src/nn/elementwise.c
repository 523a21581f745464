/* Element-wise operations over images and a per-pixel mask. */
#include "nn/nn_internal.h"

void lcae_mask_mul(lcae_nn *nn, float *out, const float *in, const float *mask, int N,
                   int64_t HW)
{
    (void)nn;
#pragma omp parallel for schedule(static) if ((int64_t)N * HW >= NN_PAR_MIN)
    for (int n = 0; n < N; n++)
        for (int64_t p = 0; p < HW; p++)
            out[n * HW + p] = in[n * HW + p] * mask[p];
}

void lcae_mask_select(lcae_nn *nn, float *out, const float *a, const float *b,
                      const float *mask, int N, int64_t HW)
{
    (void)nn;
#pragma omp parallel for schedule(static) if ((int64_t)N * HW >= NN_PAR_MIN)
    for (int n = 0; n < N; n++)
        for (int64_t p = 0; p < HW; p++)
            out[n * HW + p] = mask[p] != 0 ? a[n * HW + p] : b[n * HW + p];
}

void lcae_add(lcae_nn *nn, float *y, const float *x, int64_t n)
{
    (void)nn;
#pragma omp parallel for schedule(static) if (n >= NN_PAR_MIN)
    for (int64_t i = 0; i < n; i++)
        y[i] += x[i];
}

void lcae_fill(lcae_nn *nn, float *x, float value, int64_t n)
{
    (void)nn;
#pragma omp parallel for schedule(static) if (n >= NN_PAR_MIN)
    for (int64_t i = 0; i < n; i++)
        x[i] = value;
}
