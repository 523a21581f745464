/* BatchNorm2d over (N, C, HW), with PyTorch's semantics: training mode normalizes with
 * the biased batch variance and feeds the unbiased one to the running statistics. */
#include <math.h>
#include <stdlib.h>

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

/* Channel c's sums about `shift` over N samples: *s = sum(x - shift), *s2 = sum((x -
 * shift)^2). */
static void channel_sums(const float *in, int c, int N, int C, int HW, float shift, double *s,
                         double *s2)
{
    *s = *s2 = 0;
    for (int n = 0; n < N; n++)
        shifted_sums(in + ((size_t)n * C + c) * HW, HW, shift, s, s2);
}

/* Normalizes channel c with the batch statistics of `count` values (their sums s, s2
 * about shift), then max(y, 0) if relu; saves them and updates the running statistics. */
static void channel_normalize(float *out, const float *in, int c, double s, double s2,
                              float shift, int64_t count, const float *gamma, const float *beta,
                              float *running_mean, float *running_var, float *save_mean,
                              float *save_invstd, int N, int C, int HW, float momentum, float eps,
                              int relu)
{
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

/* Training-mode BatchNorm, then max(y, 0) if relu: the ReLU in the pass that writes y.
 * Data-parallel (lcae_nn_set_sync): the statistics of the whole batch, from every
 * process's sums about the first process's shifts (its first sample is the batch's
 * first, whose values one process shifts by), so the sums differ from one process's only
 * in the order of their double additions. */
static int forward_train(lcae_nn *nn, float *out, const float *in, const float *gamma,
                         const float *beta, float *running_mean, float *running_var,
                         float *save_mean, float *save_invstd, int N, int C, int HW,
                         float momentum, float eps, int relu)
{
    int64_t count = (int64_t)N * HW;
    const lcae_nn_sync *sy = nn_sync(nn);
    if (!sy) {
#pragma omp parallel for schedule(static) if ((int64_t)N * C * HW >= NN_PAR_MIN)
        for (int c = 0; c < C; c++) {
            /* one pass: shifted sums give the mean and the centred sum of squares */
            float shift = in[(size_t)c * HW];
            double s, s2;
            channel_sums(in, c, N, C, HW, shift, &s, &s2);
            channel_normalize(out, in, c, s, s2, shift, count, gamma, beta, running_mean,
                              running_var, save_mean, save_invstd, N, C, HW, momentum, eps,
                              relu);
        }
        return LCAE_OK;
    }
    /* sums[2c], sums[2c + 1]: channel c's; sums[2C]: the values per channel */
    double *sums = lcae_malloc((size_t)(2 * C + 1) * sizeof *sums);
    float *shift = lcae_malloc((size_t)C * sizeof *shift);
    int rc = sums && shift ? LCAE_OK : LCAE_ENOMEM;
    for (int c = 0; !rc && c < C; c++)
        shift[c] = in[(size_t)c * HW];
    if (!rc)
        rc = sy->share(shift, C);
    if (!rc) {
#pragma omp parallel for schedule(static) if ((int64_t)N * C * HW >= NN_PAR_MIN)
        for (int c = 0; c < C; c++)
            channel_sums(in, c, N, C, HW, shift[c], &sums[2 * c], &sums[2 * c + 1]);
        sums[2 * C] = (double)count;
        rc = sy->sum(sums, 2 * C + 1);
    }
    if (!rc) {
        int64_t total = (int64_t)sums[2 * C];
#pragma omp parallel for schedule(static) if ((int64_t)N * C * HW >= NN_PAR_MIN)
        for (int c = 0; c < C; c++)
            channel_normalize(out, in, c, sums[2 * c], sums[2 * c + 1], shift[c], total, gamma,
                              beta, running_mean, running_var, save_mean, save_invstd, N, C,
                              HW, momentum, eps, relu);
    }
    free(sums);
    free(shift);
    return rc;
}

int lcae_batchnorm_forward_train(lcae_nn *nn, float *out, const float *in, const float *gamma,
                                 const float *beta, float *running_mean, float *running_var,
                                 float *save_mean, float *save_invstd, int N, int C, int HW,
                                 float momentum, float eps)
{
    return forward_train(nn, out, in, gamma, beta, running_mean, running_var, save_mean,
                         save_invstd, N, C, HW, momentum, eps, 0);
}

int lcae_batchnorm_relu_forward_train(lcae_nn *nn, float *out, const float *in,
                                      const float *gamma, const float *beta,
                                      float *running_mean, float *running_var,
                                      float *save_mean, float *save_invstd, int N, int C,
                                      int HW, float momentum, float eps)
{
    return forward_train(nn, out, in, gamma, beta, running_mean, running_var, save_mean,
                         save_invstd, N, C, HW, momentum, eps, 1);
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

/* Channel c's dx from the batch's sum(dy) and sum((x - mean) dy) over `count` values;
 * with relu, din already holds dy masked by the ReLU (grad_sums). */
static void channel_dx(float *din, const float *dout, const float *in, int c, double sum_dy,
                       double dot, int64_t count, float gamma, float mean, float invstd, int N,
                       int C, int HW, int relu)
{
    /* dx = gamma * invstd * (dy - mean(dy) - (x - mean) * invstd^2 * mean((x-mean) dy)) */
    float k = (float)(dot / count) * invstd * invstd;
    float mdy = (float)(sum_dy / count), g = gamma * invstd;
    for (int n = 0; n < N; n++) {
        const float *x = in + ((size_t)n * C + c) * HW;
        float *dx = din + ((size_t)n * C + c) * HW;
        const float *dy = relu ? dx : dout + ((size_t)n * C + c) * HW;
        for (int p = 0; p < HW; p++)
            dx[p] = (dy[p] - mdy - (x[p] - mean) * k) * g;
    }
}

/* The backward pass of BatchNorm, of ReLU(BatchNorm) if relu (the ReLU's mask computed
 * from x in both of its passes over the data, instead of a pass of its own).
 * Data-parallel (lcae_nn_set_sync): dgamma and dbeta from this process's share (the
 * gradients are summed over the processes afterwards), dx from the whole batch's sums. */
static int backward(lcae_nn *nn, float *din, float *dgamma, float *dbeta, const float *dout,
                    const float *in, const float *gamma, const float *beta,
                    const float *save_mean, const float *save_invstd, int N, int C, int HW,
                    int relu)
{
    int64_t count = (int64_t)N * HW;
    const lcae_nn_sync *sy = nn_sync(nn);
    /* sums[2c], sums[2c + 1]: channel c's sum(dy), sum((x - mean) * dy); sums[2C]: count */
    double *sums = sy ? lcae_malloc((size_t)(2 * C + 1) * sizeof *sums) : NULL;
    if (sy && !sums)
        return LCAE_ENOMEM;
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
        if (sums) {
            sums[2 * c] = sum_dy;
            sums[2 * c + 1] = dot;
        } else {
            channel_dx(din, dout, in, c, sum_dy, dot, count, gamma[c], mean, invstd, N, C, HW,
                       relu);
        }
    }
    if (!sums)
        return LCAE_OK;
    sums[2 * C] = (double)count;
    int rc = sy->sum(sums, 2 * C + 1);
    if (!rc) {
        int64_t total = (int64_t)sums[2 * C];
#pragma omp parallel for schedule(static) if ((int64_t)N * C * HW >= NN_PAR_MIN)
        for (int c = 0; c < C; c++)
            channel_dx(din, dout, in, c, sums[2 * c], sums[2 * c + 1], total, gamma[c],
                       save_mean[c], save_invstd[c], N, C, HW, relu);
    }
    free(sums);
    return rc;
}

int lcae_batchnorm_backward(lcae_nn *nn, float *din, float *dgamma, float *dbeta, const float *dout,
                            const float *in, const float *gamma, const float *save_mean,
                            const float *save_invstd, int N, int C, int HW)
{
    return backward(nn, din, dgamma, dbeta, dout, in, gamma, NULL, save_mean, save_invstd, N,
                    C, HW, 0);
}

int lcae_batchnorm_relu_backward(lcae_nn *nn, float *din, float *dgamma, float *dbeta,
                                 const float *dout, const float *in, const float *gamma,
                                 const float *beta, const float *save_mean,
                                 const float *save_invstd, int N, int C, int HW)
{
    return backward(nn, din, dgamma, dbeta, dout, in, gamma, beta, save_mean, save_invstd, N,
                    C, HW, 1);
}
