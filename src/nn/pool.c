/* Pooling along the last axis: mean and maximum or power mean (the polar model's
 * invariant head) and PyTorch's adaptive average (its angular bins). Sums in double, one
 * row per thread. */
#include "nn/nn_internal.h"

#include <math.h>

/* The first maximum of v (n): PyTorch's amax splits the gradient among equal maxima,
 * which differs only where a row ties (in practice a row of ReLU zeros, whose gradient
 * the ReLU's backward sets to 0 either way). */
static int first_max(const float *v, int n)
{
    int best = 0;
    for (int t = 1; t < n; t++)
        if (v[t] > v[best])
            best = t;
    return best;
}

/* The power mean of order `order` of max(v, 0) (n), in double (the elements <= 0 add
 * nothing and are skipped). */
static double power_mean(const float *v, int n, int order)
{
    double q = 0;
    for (int t = 0; t < n; t++)
        if (v[t] > 0)
            q += pow(v[t], order);
    return pow(q / n, 1.0 / order);
}

void lcae_meanmax_pool_forward(lcae_nn *nn, float *out, const float *in, int N, int64_t C,
                               int L, int order)
{
    (void)nn;
#pragma omp parallel for schedule(static) if ((int64_t)N * C * L >= NN_PAR_MIN)
    for (int n = 0; n < N; n++)
        for (int64_t c = 0; c < C; c++) {
            const float *v = in + (n * C + c) * L;
            double s = 0;
            for (int t = 0; t < L; t++)
                s += v[t];
            out[n * 2 * C + c] = (float)(s / L);
            out[n * 2 * C + C + c] = order ? (float)power_mean(v, L, order) : v[first_max(v, L)];
        }
}

void lcae_meanmax_pool_backward(lcae_nn *nn, float *din, const float *dout, const float *in,
                                int N, int64_t C, int L, int order)
{
    (void)nn;
#pragma omp parallel for schedule(static) if ((int64_t)N * C * L >= NN_PAR_MIN)
    for (int n = 0; n < N; n++)
        for (int64_t c = 0; c < C; c++) {
            const float *v = in + (n * C + c) * L;
            float *d = din + (n * C + c) * L, gm = dout[n * 2 * C + c] / (float)L;
            for (int t = 0; t < L; t++)
                d[t] = gm;
            if (!order) {
                d[first_max(v, L)] += dout[n * 2 * C + C + c];
                continue;
            }
            /* d pm / d v_t = v_t^(P-1) / (L pm^(P-1)) for v_t > 0, 0 elsewhere */
            double pm = power_mean(v, L, order);
            if (!(pm > 0))
                continue;
            double denominator = pow(pm, order - 1);
            float g = dout[n * 2 * C + C + c] / L;
            for (int t = 0; t < L; t++)
                if (v[t] > 0)
                    d[t] += (float)(g * pow(v[t], order - 1) / denominator);
        }
}

/* Bin j of `bins` over n: [start, end) as adaptive_avg_pool1d. */
static void bin_range(int n, int bins, int j, int *start, int *end)
{
    *start = j * n / bins;
    *end = ((j + 1) * n + bins - 1) / bins;
}

/* One loop over the bins for both passes: the forward (backward 0: src = in (rows, L),
 * dst = out (rows, bins), the bins' means) and the backward (backward 1: src = dout
 * (rows, bins), dst = din (rows, L), each bin's gradient over its width added). */
static void adaptive_avg_pass(float *dst, const float *src, int64_t rows, int L, int bins,
                              int backward)
{
#pragma omp parallel for schedule(static) if (rows * L >= NN_PAR_MIN)
    for (int64_t r = 0; r < rows; r++)
        for (int j = 0; j < bins; j++) {
            int t0, t1;
            bin_range(L, bins, j, &t0, &t1);
            if (backward) {
                float g = src[r * bins + j] / (float)(t1 - t0);
                for (int t = t0; t < t1; t++)
                    dst[r * L + t] += g;
            } else {
                double b = 0;
                for (int t = t0; t < t1; t++)
                    b += src[r * L + t];
                dst[r * bins + j] = (float)(b / (t1 - t0));
            }
        }
}

void lcae_adaptive_avg_pool_forward(lcae_nn *nn, float *out, const float *in, int64_t rows,
                                    int L, int bins)
{
    (void)nn;
    adaptive_avg_pass(out, in, rows, L, bins, 0);
}

void lcae_adaptive_avg_pool_backward(lcae_nn *nn, float *din, const float *dout,
                                     int64_t rows, int L, int bins)
{
    (void)nn;
    adaptive_avg_pass(din, dout, rows, L, bins, 1);
}
