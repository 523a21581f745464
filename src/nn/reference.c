/* The reference convolutions (nn.h): the definitions as loops, in double, one thread.
 * A Conv2d output pixel (o, oy, ox) is the sum over (c, i, j) of
 * w[o][c][i][j] in[c][oy*stride - pad + i][ox*stride - pad + j] (0 outside the image);
 * ConvTranspose2d scatters each input pixel (c, y, x) times w[c][o][i][j] to output
 * (o, y*stride - pad + i, x*stride - pad + j). The backward passes are the same sums
 * with the roles exchanged. Deliberately nothing shared with conv.c or winograd.c. */
#include <stdlib.h>
#include <string.h>

#include "lcae/nn.h"

/* The input pixel row (or column) under tap i of output row o, -1 if outside [0, n). */
static int tap(int o, int i, int stride, int pad, int n)
{
    int y = o * stride - pad + i;
    return y >= 0 && y < n ? y : -1;
}

int lcae_ref_conv2d_forward(float *out, const float *in, const float *weight,
                            const float *bias, int N, int C, int H, int W, int K, int k,
                             int stride, int pad)
{
    int Ho = lcae_conv_out_size(H, k, stride, pad), Wo = lcae_conv_out_size(W, k, stride, pad);
    for (int n = 0; n < N; n++)
        for (int o = 0; o < K; o++)
            for (int oy = 0; oy < Ho; oy++)
                for (int ox = 0; ox < Wo; ox++) {
                    double s = bias ? bias[o] : 0;
                    for (int c = 0; c < C; c++)
                        for (int i = 0; i < k; i++)
                            for (int j = 0; j < k; j++) {
                                int y = tap(oy, i, stride, pad, H), x = tap(ox, j, stride, pad, W);
                                if (y >= 0 && x >= 0)
                                    s += (double)weight[((o * C + c) * k + i) * k + j] *
                                         in[(((size_t)n * C + c) * H + y) * W + x];
                            }
                    out[(((size_t)n * K + o) * Ho + oy) * Wo + ox] = (float)s;
                }
    return LCAE_OK;
}

int lcae_ref_conv2d_backward(float *din, float *dweight, float *dbias, const float *dout,
                              const float *in, const float *weight, int N, int C, int H,
                              int W, int K, int k, int stride, int pad)
{
    int Ho = lcae_conv_out_size(H, k, stride, pad), Wo = lcae_conv_out_size(W, k, stride, pad);
    size_t nin = (size_t)N * C * H * W, nw = (size_t)K * C * k * k;
    double *gx = calloc(nin, sizeof *gx), *gw = calloc(nw, sizeof *gw);
    double *gb = calloc((size_t)K, sizeof *gb);
    if (!gx || !gw || !gb) {
        free(gx), free(gw), free(gb);
        return lcae_fail(LCAE_ENOMEM, "out of memory (reference convolution)");
    }
    for (int n = 0; n < N; n++)
        for (int o = 0; o < K; o++)
            for (int oy = 0; oy < Ho; oy++)
                for (int ox = 0; ox < Wo; ox++) {
                    double d = dout[(((size_t)n * K + o) * Ho + oy) * Wo + ox];
                    gb[o] += d;
                    for (int c = 0; c < C; c++)
                        for (int i = 0; i < k; i++)
                            for (int j = 0; j < k; j++) {
                                int y = tap(oy, i, stride, pad, H), x = tap(ox, j, stride, pad, W);
                                if (y < 0 || x < 0)
                                    continue;
                                size_t at = (((size_t)n * C + c) * H + y) * W + x;
                                size_t wat = ((size_t)(o * C + c) * k + i) * k + j;
                                gx[at] += d * weight[wat];
                                gw[wat] += d * in[at];
                            }
                }
    if (din)
        for (size_t i = 0; i < nin; i++)
            din[i] = (float)gx[i];
    for (size_t i = 0; i < nw; i++)
        dweight[i] += (float)gw[i];
    if (dbias)
        for (int o = 0; o < K; o++)
            dbias[o] += (float)gb[o];
    free(gx), free(gw), free(gb);
    return LCAE_OK;
}

int lcae_ref_convt2d_forward(float *out, const float *in, const float *weight,
                              const float *bias, int N, int C, int H, int W, int K, int k,
                              int stride, int pad)
{
    int Ho = (H - 1) * stride - 2 * pad + k, Wo = (W - 1) * stride - 2 * pad + k;
    size_t nout = (size_t)N * K * Ho * Wo;
    double *acc = calloc(nout, sizeof *acc);
    if (!acc)
        return lcae_fail(LCAE_ENOMEM, "out of memory (reference convolution)");
    for (int n = 0; n < N; n++)
        for (int c = 0; c < C; c++)
            for (int y = 0; y < H; y++)
                for (int x = 0; x < W; x++) {
                    double v = in[(((size_t)n * C + c) * H + y) * W + x];
                    for (int o = 0; o < K; o++)
                        for (int i = 0; i < k; i++)
                            for (int j = 0; j < k; j++) {
                                int oy = tap(y, i, stride, pad, Ho), ox = tap(x, j, stride, pad, Wo);
                                if (oy >= 0 && ox >= 0)
                                    acc[(((size_t)n * K + o) * Ho + oy) * Wo + ox] +=
                                        v * weight[((c * K + o) * k + i) * k + j];
                            }
                }
    for (int n = 0; n < N; n++)
        for (int o = 0; o < K; o++)
            for (size_t p = 0; p < (size_t)Ho * Wo; p++) {
                size_t at = ((size_t)n * K + o) * Ho * Wo + p;
                out[at] = (float)(acc[at] + (bias ? bias[o] : 0));
            }
    free(acc);
    return LCAE_OK;
}

int lcae_ref_convt2d_backward(float *din, float *dweight, float *dbias, const float *dout,
                               const float *in, const float *weight, int N, int C, int H,
                               int W, int K, int k, int stride, int pad)
{
    int Ho = (H - 1) * stride - 2 * pad + k, Wo = (W - 1) * stride - 2 * pad + k;
    size_t nw = (size_t)C * K * k * k;
    double *gw = calloc(nw, sizeof *gw), *gb = calloc((size_t)K, sizeof *gb);
    if (!gw || !gb) {
        free(gw), free(gb);
        return lcae_fail(LCAE_ENOMEM, "out of memory (reference convolution)");
    }
    for (int n = 0; n < N; n++)
        for (int o = 0; o < K; o++)
            for (size_t p = 0; p < (size_t)Ho * Wo; p++)
                gb[o] += dout[((size_t)n * K + o) * Ho * Wo + p];
    for (int n = 0; n < N; n++)
        for (int c = 0; c < C; c++)
            for (int y = 0; y < H; y++)
                for (int x = 0; x < W; x++) {
                    size_t at = (((size_t)n * C + c) * H + y) * W + x;
                    double gx = 0;
                    for (int o = 0; o < K; o++)
                        for (int i = 0; i < k; i++)
                            for (int j = 0; j < k; j++) {
                                int oy = tap(y, i, stride, pad, Ho), ox = tap(x, j, stride, pad, Wo);
                                if (oy < 0 || ox < 0)
                                    continue;
                                double d = dout[(((size_t)n * K + o) * Ho + oy) * Wo + ox];
                                size_t wat = ((size_t)(c * K + o) * k + i) * k + j;
                                gx += d * weight[wat];
                                gw[wat] += d * in[at];
                            }
                    if (din)
                        din[at] = (float)gx;
                }
    for (size_t i = 0; i < nw; i++)
        dweight[i] += (float)gw[i];
    if (dbias)
        for (int o = 0; o < K; o++)
            dbias[o] += (float)gb[o];
    free(gw), free(gb);
    return LCAE_OK;
}
