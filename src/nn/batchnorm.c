/* BatchNorm2d over (N, C, HW), with PyTorch's semantics: training mode normalizes with
 * the biased batch variance and feeds the unbiased one to the running statistics. */
#include <math.h>

#include "nn/nn_internal.h"

/* Sums over blocks of this many values are taken in float (8 lanes, vectorized), the
 * blocks' sums in double: float rounding stays that of a 32-term sum. */
#define BLOCK 256

/* *s1 += sum(x - shift), *s2 += sum((x - shift)^2) over n values. The shift (a value of
 * the channel) keeps the sum of squares from cancelling when |mean| >> std. */
static void shifted_sums(const float *x, int n, float shift, double *s1, double *s2)
{
    for (int p0 = 0; p0 < n; p0 += BLOCK) {
        int p1 = p0 + BLOCK < n ? p0 + BLOCK : n, p = p0;
        float a[8] = {0}, b[8] = {0};
        for (; p + 8 <= p1; p += 8)
            for (int j = 0; j < 8; j++) {
                float d = x[p + j] - shift;
                a[j] += d;
                b[j] += d * d;
            }
        for (; p < p1; p++) {
            float d = x[p] - shift;
            a[0] += d;
            b[0] += d * d;
        }
        double u = 0, v = 0;
        for (int j = 0; j < 8; j++)
            u += a[j], v += b[j];
        *s1 += u;
        *s2 += v;
    }
}

/* dm = dy masked by the ReLU that followed the BatchNorm: 0 where its output
 * y = x ra + rb (the forward's float operations) is not > 0, as lcae_relu_backward sets
 * it from the stored output; over n values. */
static void relu_mask(float *dm, const float *dy, const float *restrict x, int n, float ra,
                      float rb)
{
    for (int p = 0; p < n; p++) {
        float y = x[p] * ra + rb, d = dy[p]; /* loaded unconditionally: a vector select */
        dm[p] = y > 0 ? d : 0.0f;
    }
}

/* *sdy += sum(dy), *sdot += sum((x - mean) * dy) over n values; if relu, of dy masked
 * (relu_mask), which is written to dm (may alias dy) block by block while in cache. */
static void grad_sums(const float *x, const float *dy, float *dm, int n, float mean, int relu,
                      float ra, float rb, double *sdy, double *sdot)
{
    for (int p0 = 0; p0 < n; p0 += BLOCK) {
        int p1 = p0 + BLOCK < n ? p0 + BLOCK : n, p = p0;
        const float *d = dy;
        if (relu) {
            relu_mask(dm + p0, dy + p0, x + p0, p1 - p0, ra, rb);
            d = dm;
        }
        float a[8] = {0}, b[8] = {0};
        for (; p + 8 <= p1; p += 8)
            for (int j = 0; j < 8; j++) {
                a[j] += d[p + j];
                b[j] += (x[p + j] - mean) * d[p + j];
            }
        for (; p < p1; p++) {
            a[0] += d[p];
            b[0] += (x[p] - mean) * d[p];
        }
        double u = 0, v = 0;
        for (int j = 0; j < 8; j++)
            u += a[j], v += b[j];
        *sdy += u;
        *sdot += v;
    }
}

/* Training-mode BatchNorm, then max(y, 0) if relu: the ReLU in the pass that writes y. */
static void forward_train(float *out, const float *in, const float *gamma, const float *beta,
                          float *running_mean, float *running_var, float *save_mean,
                          float *save_invstd, int N, int C, int HW, float momentum, float eps,
                          int relu)
{
    int64_t count = (int64_t)N * HW;
#pragma omp parallel for schedule(static) if ((int64_t)N * C * HW >= NN_PAR_MIN)
    for (int c = 0; c < C; c++) {
        /* one pass: shifted sums give the mean and the centred sum of squares */
        float shift = in[(size_t)c * HW];
        double s = 0, s2 = 0;
        for (int n = 0; n < N; n++)
            shifted_sums(in + ((size_t)n * C + c) * HW, HW, shift, &s, &s2);
        double mean = shift + s / count, ss = s2 - s * s / count;
        ss = ss > 0 ? ss : 0;
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
            if (relu)
                for (int p = 0; p < HW; p++) {
                    float v = x[p] * a + b;
                    y[p] = v > 0 ? v : 0.0f;
                }
            else
                for (int p = 0; p < HW; p++)
                    y[p] = x[p] * a + b;
        }
    }
}

int lcae_batchnorm_forward_train(lcae_nn *nn, float *out, const float *in, const float *gamma,
                                 const float *beta, float *running_mean, float *running_var,
                                 float *save_mean, float *save_invstd, int N, int C, int HW,
                                 float momentum, float eps)
{
    (void)nn; /* the CPU backend keeps no state for this call */
    forward_train(out, in, gamma, beta, running_mean, running_var, save_mean, save_invstd, N,
                  C, HW, momentum, eps, 0);
    return LCAE_OK;
}

int lcae_batchnorm_relu_forward_train(lcae_nn *nn, float *out, const float *in,
                                      const float *gamma, const float *beta,
                                      float *running_mean, float *running_var,
                                      float *save_mean, float *save_invstd, int N, int C,
                                      int HW, float momentum, float eps)
{
    (void)nn;
    forward_train(out, in, gamma, beta, running_mean, running_var, save_mean, save_invstd, N,
                  C, HW, momentum, eps, 1);
    return LCAE_OK;
}

int lcae_batchnorm_forward_eval(lcae_nn *nn, float *out, const float *in, const float *gamma,
                                const float *beta, const float *running_mean,
                                const float *running_var, int N, int C, int HW, float eps)
{
    (void)nn; /* the CPU backend keeps no state for this call */
#pragma omp parallel for collapse(2) schedule(static) if ((int64_t)N * C * HW >= NN_PAR_MIN)
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

void lcae_batchnorm_relu_apply(lcae_nn *nn, float *out, const float *in, const float *gamma,
                               const float *beta, const float *save_mean,
                               const float *save_invstd, int N, int C, int HW)
{
    (void)nn;
#pragma omp parallel for collapse(2) schedule(static) if ((int64_t)N * C * HW >= NN_PAR_MIN)
    for (int n = 0; n < N; n++)
        for (int c = 0; c < C; c++) {
            float a = gamma[c] * save_invstd[c], b = beta[c] - save_mean[c] * a;
            const float *x = in + ((size_t)n * C + c) * HW;
            float *y = out + ((size_t)n * C + c) * HW;
            for (int p = 0; p < HW; p++) {
                float v = x[p] * a + b;
                y[p] = v > 0 ? v : 0;
            }
        }
}

/* The backward pass of BatchNorm, of ReLU(BatchNorm) if relu (the ReLU's mask computed
 * from x in both of its passes over the data, instead of a pass of its own). */
static void backward(float *din, float *dgamma, float *dbeta, const float *dout,
                     const float *in, const float *gamma, const float *beta,
                     const float *save_mean, const float *save_invstd, int N, int C, int HW,
                     int relu)
{
    int64_t count = (int64_t)N * HW;
#pragma omp parallel for schedule(static) if ((int64_t)N * C * HW >= NN_PAR_MIN)
    for (int c = 0; c < C; c++) {
        float mean = save_mean[c], invstd = save_invstd[c];
        /* the forward's y = x ra + rb, as lcae_batchnorm_relu_apply computes it */
        float ra = relu ? gamma[c] * invstd : 0.0f, rb = relu ? beta[c] - mean * ra : 0.0f;
        double sum_dy = 0, dot = 0; /* sum(dy), sum((x - mean) * dy) */
        for (int n = 0; n < N; n++) {
            size_t o = ((size_t)n * C + c) * HW;
            grad_sums(in + o, dout + o, din + o, HW, mean, relu, ra, rb, &sum_dy, &dot);
        }
        dgamma[c] += (float)(dot * invstd);
        dbeta[c] += (float)sum_dy;
        /* dx = gamma * invstd * (dy - mean(dy) - (x - mean) * invstd^2 * mean((x-mean) dy)) */
        float k = (float)(dot / count) * invstd * invstd;
        float mdy = (float)(sum_dy / count), g = gamma[c] * invstd;
        for (int n = 0; n < N; n++) {
            const float *x = in + ((size_t)n * C + c) * HW;
            float *dx = din + ((size_t)n * C + c) * HW;
            /* with relu, din holds dy masked (grad_sums) */
            const float *dy = relu ? dx : dout + ((size_t)n * C + c) * HW;
            for (int p = 0; p < HW; p++)
                dx[p] = (dy[p] - mdy - (x[p] - mean) * k) * g;
        }
    }
}

int lcae_batchnorm_backward(lcae_nn *nn, float *din, float *dgamma, float *dbeta, const float *dout,
                            const float *in, const float *gamma, const float *save_mean,
                            const float *save_invstd, int N, int C, int HW)
{
    (void)nn; /* the CPU backend keeps no state for this call */
    backward(din, dgamma, dbeta, dout, in, gamma, NULL, save_mean, save_invstd, N, C, HW, 0);
    return LCAE_OK;
}

int lcae_batchnorm_relu_backward(lcae_nn *nn, float *din, float *dgamma, float *dbeta,
                                 const float *dout, const float *in, const float *gamma,
                                 const float *beta, const float *save_mean,
                                 const float *save_invstd, int N, int C, int HW)
{
    (void)nn;
    backward(din, dgamma, dbeta, dout, in, gamma, beta, save_mean, save_invstd, N, C, HW, 1);
    return LCAE_OK;
}
