/* ReLU and Linear. */
#include <omp.h>

#include "nn/nn_internal.h"

void lcae_relu_forward(lcae_nn *nn, float *x, int64_t n)
{
    (void)nn; /* the CPU backend keeps no state for this call */
#pragma omp parallel for schedule(static) if (n >= NN_PAR_MIN)
    for (int64_t i = 0; i < n; i++)
        x[i] = x[i] > 0 ? x[i] : 0.0f;
}

/* PyTorch's threshold_backward: the gradient passes where the output is > 0. */
void lcae_relu_backward(lcae_nn *nn, float *dx, const float *out, int64_t n)
{
    (void)nn; /* the CPU backend keeps no state for this call */
#pragma omp parallel for schedule(static) if (n >= NN_PAR_MIN)
    for (int64_t i = 0; i < n; i++)
        dx[i] = out[i] > 0 ? dx[i] : 0.0f;
}

/* Linear's products are split into column blocks, one per thread, each a one-threaded
 * product (as in the convolutions: no BLAS threads beside OpenMP's); the split depends on
 * the thread count only. Block b of n columns: [b * n / T, (b + 1) * n / T). */
#define BLOCK_LO(b, n, T) ((int)((int64_t)(b) * (n) / (T)))

int lcae_linear_forward(lcae_nn *nn, float *out, const float *in, const float *weight, const float *bias,
                        int N, int In, int Out)
{
    (void)nn; /* the CPU backend keeps no state for this call */
#pragma omp parallel if ((int64_t)N * In * Out >= NN_PAR_MIN)
    {
        int T = omp_get_num_threads(), t = omp_get_thread_num();
        int o0 = BLOCK_LO(t, Out, T), o1 = BLOCK_LO(t + 1, Out, T);
        if (o1 > o0) {
            for (int n = 0; n < N; n++)
                for (int o = o0; o < o1; o++)
                    out[(size_t)n * Out + o] = bias ? bias[o] : 0.0f;
            /* out[:, o0:o1] += in (N, In) W[o0:o1, :]^T */
            nn_sgemm(0, 1, N, o1 - o0, In, 1.0f, in, In, weight + (size_t)o0 * In, In, 1.0f,
                     out + o0, Out);
        }
    }
    return LCAE_OK;
}

int lcae_linear_backward(lcae_nn *nn, float *din, float *dweight, float *dbias, const float *dout,
                         const float *in, const float *weight, int N, int In,
                         int Out)
{
    (void)nn; /* the CPU backend keeps no state for this call */
#pragma omp parallel if ((int64_t)N * In * Out >= NN_PAR_MIN)
    {
        int T = omp_get_num_threads(), t = omp_get_thread_num();
        int i0 = BLOCK_LO(t, In, T), i1 = BLOCK_LO(t + 1, In, T);
        int o0 = BLOCK_LO(t, Out, T), o1 = BLOCK_LO(t + 1, Out, T);
        /* din[:, i0:i1] = dout (N, Out) W[:, i0:i1] */
        if (din && i1 > i0)
            nn_sgemm(0, 0, N, i1 - i0, Out, 1.0f, dout, Out, weight + i0, In, 0.0f, din + i0,
                     In);
        /* dW[o0:o1, :] += dout[:, o0:o1]^T in (N, In) */
        if (o1 > o0)
            nn_sgemm(1, 0, o1 - o0, In, N, 1.0f, dout + o0, Out, in, In, 1.0f,
                     dweight + (size_t)o0 * In, In);
        if (dbias)
            for (int o = o0; o < o1; o++) {
                double s = 0;
                for (int n = 0; n < N; n++)
                    s += dout[(size_t)n * Out + o];
                dbias[o] += (float)s;
            }
    }
    return LCAE_OK;
}
