/* Conv2d and ConvTranspose2d through im2col/col2im and CBLAS sgemm.
 *
 * For one image, the columns matrix col (C*k*k, Ho*Wo) holds at row (c, i, j) and column
 * (oy, ox) the input pixel in[c][oy*stride - pad + i][ox*stride - pad + j] (0 outside).
 * Conv2d is then out (K, Ho*Wo) = W (K, C*k*k) col; ConvTranspose2d is the adjoint of a
 * Conv2d from its output image to its input image. */
#include <string.h>

#include <cblas.h>

#include "nn/nn_internal.h"

/* in (C, H, W) -> col (C*k*k, Ho*Wo) */
static void im2col(float *col, const float *in, int C, int H, int W, int k, int stride,
                   int pad, int Ho, int Wo)
{
    for (int c = 0; c < C; c++)
        for (int i = 0; i < k; i++)
            for (int j = 0; j < k; j++) {
                float *row = col + ((size_t)(c * k + i) * k + j) * Ho * Wo;
                const float *img = in + (size_t)c * H * W;
                for (int oy = 0; oy < Ho; oy++) {
                    int y = oy * stride - pad + i;
                    float *r = row + (size_t)oy * Wo;
                    if (y < 0 || y >= H) {
                        memset(r, 0, sizeof(float) * Wo);
                        continue;
                    }
                    for (int ox = 0; ox < Wo; ox++) {
                        int x = ox * stride - pad + j;
                        r[ox] = (x >= 0 && x < W) ? img[(size_t)y * W + x] : 0.0f;
                    }
                }
            }
}

/* Adjoint of im2col: img (C, H, W) = sum of col's entries at the pixels they came from. */
static void col2im(float *img, const float *col, int C, int H, int W, int k, int stride,
                   int pad, int Ho, int Wo)
{
    memset(img, 0, sizeof(float) * C * H * W);
    for (int c = 0; c < C; c++)
        for (int i = 0; i < k; i++)
            for (int j = 0; j < k; j++) {
                const float *row = col + ((size_t)(c * k + i) * k + j) * Ho * Wo;
                float *im = img + (size_t)c * H * W;
                for (int oy = 0; oy < Ho; oy++) {
                    int y = oy * stride - pad + i;
                    if (y < 0 || y >= H)
                        continue;
                    const float *r = row + (size_t)oy * Wo;
                    for (int ox = 0; ox < Wo; ox++) {
                        int x = ox * stride - pad + j;
                        if (x >= 0 && x < W)
                            im[(size_t)y * W + x] += r[ox];
                    }
                }
            }
}

/* out (N, K, HW) += bias per channel */
static void add_bias(float *out, const float *bias, int N, int K, int HW)
{
    if (!bias)
        return;
    for (int n = 0; n < N; n++)
        for (int c = 0; c < K; c++) {
            float *o = out + ((size_t)n * K + c) * HW;
            for (int p = 0; p < HW; p++)
                o[p] += bias[c];
        }
}

/* dbias (K) += sum of dout (N, K, HW) over N and HW */
static void sum_bias(float *dbias, const float *dout, int N, int K, int HW)
{
    if (!dbias)
        return;
    for (int c = 0; c < K; c++) {
        double s = 0;
        for (int n = 0; n < N; n++) {
            const float *d = dout + ((size_t)n * K + c) * HW;
            for (int p = 0; p < HW; p++)
                s += d[p];
        }
        dbias[c] += (float)s;
    }
}

int lcae_conv2d_forward(lcae_nn *nn, float *out, const float *in, const float *weight,
                        const float *bias, int N, int C, int H, int W, int K, int k,
                        int stride, int pad)
{
    int Ho = lcae_conv_out_size(H, k, stride, pad), Wo = lcae_conv_out_size(W, k, stride, pad);
    int CKK = C * k * k, P = Ho * Wo;
    float *col = nn_scratch(nn, NN_SCRATCH_COL, (size_t)CKK * P);
    if (!col)
        return LCAE_ENOMEM;
    for (int n = 0; n < N; n++) {
        im2col(col, in + (size_t)n * C * H * W, C, H, W, k, stride, pad, Ho, Wo);
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, K, P, CKK, 1.0f, weight, CKK,
                    col, P, 0.0f, out + (size_t)n * K * P, P);
    }
    add_bias(out, bias, N, K, P);
    return LCAE_OK;
}

int lcae_conv2d_backward(lcae_nn *nn, float *din, float *dweight, float *dbias,
                         const float *dout, const float *in, const float *weight, int N,
                         int C, int H, int W, int K, int k, int stride, int pad)
{
    int Ho = lcae_conv_out_size(H, k, stride, pad), Wo = lcae_conv_out_size(W, k, stride, pad);
    int CKK = C * k * k, P = Ho * Wo;
    float *col = nn_scratch(nn, NN_SCRATCH_COL, (size_t)CKK * P);
    if (!col)
        return LCAE_ENOMEM;
    for (int n = 0; n < N; n++) {
        const float *d = dout + (size_t)n * K * P;
        im2col(col, in + (size_t)n * C * H * W, C, H, W, k, stride, pad, Ho, Wo);
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, K, CKK, P, 1.0f, d, P, col, P,
                    1.0f, dweight, CKK);
        if (din) {
            cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, CKK, P, K, 1.0f, weight, CKK,
                        d, P, 0.0f, col, P);
            col2im(din + (size_t)n * C * H * W, col, C, H, W, k, stride, pad, Ho, Wo);
        }
    }
    sum_bias(dbias, dout, N, K, P);
    return LCAE_OK;
}

/* ConvTranspose2d from (C, H, W) to (K, Ho, Wo) is the adjoint of the Conv2d from
 * (K, Ho, Wo) to (C, H, W) with the same weight (C, K, k, k) read as (C, K*k*k). */
int lcae_convt2d_forward(lcae_nn *nn, float *out, const float *in, const float *weight,
                         const float *bias, int N, int C, int H, int W, int K, int k,
                         int stride, int pad)
{
    int Ho = (H - 1) * stride - 2 * pad + k, Wo = (W - 1) * stride - 2 * pad + k;
    int KKK = K * k * k, P = H * W;
    float *col = nn_scratch(nn, NN_SCRATCH_COL, (size_t)KKK * P);
    if (!col)
        return LCAE_ENOMEM;
    for (int n = 0; n < N; n++) {
        cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, KKK, P, C, 1.0f, weight, KKK,
                    in + (size_t)n * C * P, P, 0.0f, col, P);
        col2im(out + (size_t)n * K * Ho * Wo, col, K, Ho, Wo, k, stride, pad, H, W);
    }
    add_bias(out, bias, N, K, Ho * Wo);
    return LCAE_OK;
}

int lcae_convt2d_backward(lcae_nn *nn, float *din, float *dweight, float *dbias,
                          const float *dout, const float *in, const float *weight, int N,
                          int C, int H, int W, int K, int k, int stride, int pad)
{
    int Ho = (H - 1) * stride - 2 * pad + k, Wo = (W - 1) * stride - 2 * pad + k;
    int KKK = K * k * k, P = H * W;
    float *col = nn_scratch(nn, NN_SCRATCH_COL, (size_t)KKK * P);
    if (!col)
        return LCAE_ENOMEM;
    for (int n = 0; n < N; n++) {
        const float *x = in + (size_t)n * C * P;
        im2col(col, dout + (size_t)n * K * Ho * Wo, K, Ho, Wo, k, stride, pad, H, W);
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, C, KKK, P, 1.0f, x, P, col, P,
                    1.0f, dweight, KKK);
        if (din)
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, C, P, KKK, 1.0f, weight,
                        KKK, col, P, 0.0f, din + (size_t)n * C * P, P);
    }
    sum_bias(dbias, dout, N, K, Ho * Wo);
    return LCAE_OK;
}
