/* ReLU and Linear. */
#include "nn/nn_internal.h"

void lcae_relu_forward(float *x, int64_t n)
{
#pragma omp parallel for schedule(static)
    for (int64_t i = 0; i < n; i++)
        x[i] = x[i] > 0 ? x[i] : 0.0f;
}

/* PyTorch's threshold_backward: the gradient passes where the output is > 0. */
void lcae_relu_backward(float *dx, const float *out, int64_t n)
{
#pragma omp parallel for schedule(static)
    for (int64_t i = 0; i < n; i++)
        dx[i] = out[i] > 0 ? dx[i] : 0.0f;
}

int lcae_linear_forward(float *out, const float *in, const float *weight, const float *bias,
                        int N, int In, int Out)
{
    for (int n = 0; n < N; n++)
        for (int o = 0; o < Out; o++)
            out[(size_t)n * Out + o] = bias ? bias[o] : 0.0f;
    nn_sgemm(0, 1, N, Out, In, 1.0f, in, In, weight, In, 1.0f, out, Out);
    return LCAE_OK;
}

int lcae_linear_backward(float *din, float *dweight, float *dbias, const float *dout,
                         const float *in, const float *weight, int N, int In,
                         int Out)
{
    if (din)
        nn_sgemm(0, 0, N, In, Out, 1.0f, dout, Out, weight, In, 0.0f, din, In);
    nn_sgemm(1, 0, Out, In, N, 1.0f, dout, Out, in, In, 1.0f, dweight, In);
    if (dbias)
        for (int o = 0; o < Out; o++) {
            double s = 0;
            for (int n = 0; n < N; n++)
                s += dout[(size_t)n * Out + o];
            dbias[o] += (float)s;
        }
    return LCAE_OK;
}
