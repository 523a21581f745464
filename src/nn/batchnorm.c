/* BatchNorm2d over (N, C, HW), with PyTorch's semantics: training mode normalizes with
 * the biased batch variance and feeds the unbiased one to the running statistics. */
#include <math.h>

#include "nn/nn_internal.h"

int lcae_batchnorm_forward_train(float *out, const float *in, const float *gamma,
                                 const float *beta, float *running_mean, float *running_var,
                                 float *save_mean, float *save_invstd, int N, int C, int HW,
                                 float momentum, float eps)
{
    int64_t count = (int64_t)N * HW;
#pragma omp parallel for schedule(static)
    for (int c = 0; c < C; c++) {
        /* two passes in double: the mean, then the centred sum of squares */
        double s = 0;
        for (int n = 0; n < N; n++) {
            const float *x = in + ((size_t)n * C + c) * HW;
            for (int p = 0; p < HW; p++)
                s += x[p];
        }
        double mean = s / count, ss = 0;
        for (int n = 0; n < N; n++) {
            const float *x = in + ((size_t)n * C + c) * HW;
            for (int p = 0; p < HW; p++) {
                double d = x[p] - mean;
                ss += d * d;
            }
        }
        double var = ss / count;
        float invstd = (float)(1.0 / sqrt(var + eps));
        float m = (float)mean, a = gamma[c] * invstd, b = beta[c] - m * a;
        save_mean[c] = m;
        save_invstd[c] = invstd;
        float unbiased = (float)(count > 1 ? ss / (count - 1) : ss);
        running_mean[c] = (1 - momentum) * running_mean[c] + momentum * m;
        running_var[c] = (1 - momentum) * running_var[c] + momentum * unbiased;
        for (int n = 0; n < N; n++) {
            const float *x = in + ((size_t)n * C + c) * HW;
            float *y = out + ((size_t)n * C + c) * HW;
            for (int p = 0; p < HW; p++)
                y[p] = x[p] * a + b;
        }
    }
    return LCAE_OK;
}

int lcae_batchnorm_forward_eval(float *out, const float *in, const float *gamma,
                                const float *beta, const float *running_mean,
                                const float *running_var, int N, int C, int HW, float eps)
{
#pragma omp parallel for collapse(2) schedule(static)
    for (int n = 0; n < N; n++)
        for (int c = 0; c < C; c++) {
            float a = gamma[c] / sqrtf(running_var[c] + eps);
            float b = beta[c] - running_mean[c] * a;
            const float *x = in + ((size_t)n * C + c) * HW;
            float *y = out + ((size_t)n * C + c) * HW;
            for (int p = 0; p < HW; p++)
                y[p] = x[p] * a + b;
        }
    return LCAE_OK;
}

int lcae_batchnorm_backward(float *din, float *dgamma, float *dbeta, const float *dout,
                            const float *in, const float *gamma, const float *save_mean,
                            const float *save_invstd, int N, int C, int HW)
{
    int64_t count = (int64_t)N * HW;
#pragma omp parallel for schedule(static)
    for (int c = 0; c < C; c++) {
        float mean = save_mean[c], invstd = save_invstd[c];
        double sum_dy = 0, dot = 0; /* sum(dy), sum((x - mean) * dy) */
        for (int n = 0; n < N; n++) {
            const float *x = in + ((size_t)n * C + c) * HW;
            const float *dy = dout + ((size_t)n * C + c) * HW;
            for (int p = 0; p < HW; p++) {
                sum_dy += dy[p];
                dot += (double)(x[p] - mean) * dy[p];
            }
        }
        dgamma[c] += (float)(dot * invstd);
        dbeta[c] += (float)sum_dy;
        /* dx = gamma * invstd * (dy - mean(dy) - (x - mean) * invstd^2 * mean((x-mean) dy)) */
        float k = (float)(dot / count) * invstd * invstd;
        float mdy = (float)(sum_dy / count), g = gamma[c] * invstd;
        for (int n = 0; n < N; n++) {
            const float *x = in + ((size_t)n * C + c) * HW;
            const float *dy = dout + ((size_t)n * C + c) * HW;
            float *dx = din + ((size_t)n * C + c) * HW;
            for (int p = 0; p < HW; p++)
                dx[p] = (dy[p] - mdy - (x[p] - mean) * k) * g;
        }
    }
    return LCAE_OK;
}
