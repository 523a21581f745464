/* Copies between plane layouts: circular padding along the width, every stride-th row,
 * a cyclic shift, blocks of columns (the concatenation of feature vectors). Plain
 * copies, so every backend's result is the same bits. */
#include <string.h>

#include "nn/nn_internal.h"

void lcae_pad_circular_forward(lcae_nn *nn, float *out, const float *in, int64_t n, int h,
                               int w)
{
    (void)nn;
    int W2 = w + 2;
#pragma omp parallel for schedule(static) if (n * h * w >= NN_PAR_MIN)
    for (int64_t c = 0; c < n; c++) {
        float *d = out + c * (h + 2) * W2;
        const float *s = in + c * h * w;
        memset(d, 0, sizeof(float) * W2);
        memset(d + (int64_t)(h + 1) * W2, 0, sizeof(float) * W2);
        for (int y = 0; y < h; y++) {
            float *r = d + (int64_t)(y + 1) * W2;
            memcpy(r + 1, s + (int64_t)y * w, sizeof(float) * w);
            r[0] = s[(int64_t)y * w + w - 1];
            r[w + 1] = s[(int64_t)y * w];
        }
    }
}

void lcae_pad_circular_backward(lcae_nn *nn, float *din, const float *dout, int64_t n,
                                int h, int w)
{
    (void)nn;
    int W2 = w + 2;
#pragma omp parallel for schedule(static) if (n * h * w >= NN_PAR_MIN)
    for (int64_t c = 0; c < n; c++)
        for (int y = 0; y < h; y++) {
            const float *r = dout + (c * (h + 2) + y + 1) * W2;
            float *d = din + (c * h + y) * w;
            memcpy(d, r + 1, sizeof(float) * w);
            d[w - 1] += r[0];
            d[0] += r[w + 1];
        }
}

void lcae_row_stride_forward(lcae_nn *nn, float *out, const float *in, int64_t n, int h,
                             int w, int stride)
{
    (void)nn;
    int ho = (h - 1) / stride + 1;
#pragma omp parallel for schedule(static) if (n * ho * w >= NN_PAR_MIN)
    for (int64_t c = 0; c < n; c++)
        for (int y = 0; y < ho; y++)
            memcpy(out + (c * ho + y) * w, in + (c * h + (int64_t)y * stride) * w,
                   sizeof(float) * w);
}

void lcae_row_stride_backward(lcae_nn *nn, float *din, const float *dout, int64_t n, int h,
                              int w, int stride)
{
    (void)nn;
    int ho = (h - 1) / stride + 1;
#pragma omp parallel for schedule(static) if (n * h * w >= NN_PAR_MIN)
    for (int64_t c = 0; c < n; c++) {
        memset(din + c * h * w, 0, sizeof(float) * h * w);
        for (int y = 0; y < ho; y++)
            memcpy(din + (c * h + (int64_t)y * stride) * w, dout + (c * ho + y) * w,
                   sizeof(float) * w);
    }
}

void lcae_roll(lcae_nn *nn, float *out, const float *in, int64_t rows, int w, int shift)
{
    (void)nn;
    shift %= w;
    shift = shift < 0 ? shift + w : shift;
#pragma omp parallel for schedule(static) if (rows * w >= NN_PAR_MIN)
    for (int64_t r = 0; r < rows; r++)
        for (int t = 0; t < w; t++)
            out[r * w + t] = in[r * w + (t - shift + w) % w];
}

void lcae_copy_block(lcae_nn *nn, float *dst, int64_t dst_ld, const float *src,
                     int64_t src_ld, int64_t rows, int64_t cols, int accumulate)
{
    (void)nn;
#pragma omp parallel for schedule(static) if (rows * cols >= NN_PAR_MIN)
    for (int64_t r = 0; r < rows; r++) {
        float *d = dst + r * dst_ld;
        const float *s = src + r * src_ld;
        if (accumulate)
            for (int64_t c = 0; c < cols; c++)
                d[c] += s[c];
        else
            memcpy(d, s, sizeof(float) * cols);
    }
}
