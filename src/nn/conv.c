/* Conv2d and ConvTranspose2d through im2col/col2im and CBLAS sgemm.
 *
 * For one image and a band of output rows [oy0, oy1), the columns matrix
 * col (C*k*k, (oy1 - oy0)*Wo) holds at row (c, i, j) and column (oy - oy0, ox) the input
 * pixel in[c][oy*stride - pad + i][ox*stride - pad + j] (0 outside). Conv2d is then
 * out[:, band] (K, band) = W (K, C*k*k) col; ConvTranspose2d is the adjoint of a Conv2d
 * from its output image to its input image, so the same two functions serve it with the
 * roles of the images swapped.
 *
 * Threads: OpenMP over images (forward conv: over (image, band) pairs), each thread with
 * its own columns buffer and one-threaded sgemm. Bands are sized so that the columns
 * stay in the L2 cache between im2col and sgemm. Work is handed out dynamically, since a
 * core of a shared machine can stall for milliseconds; to keep results deterministic,
 * the backward passes split the batch into a fixed number of chunks (set by the batch
 * size, weight size and thread count, not by timing), accumulate each chunk's weight
 * gradient separately and sum the chunks in order. */
#include <math.h>
#include <string.h>

#include <omp.h>
#ifdef __SSE__
#include <immintrin.h>
#endif

#include "nn/nn_internal.h"

/* Columns per band, in floats: 512 KB, half of this machine's L2 (1 MB), so that the
 * columns stay in cache between im2col and sgemm; but at least 512 columns (or the whole
 * image), below which sgemm's per-call cost dominates (deep layers have C*k*k ~ 5000). */
#define BAND_FLOATS (128 * 1024)
#define BAND_MIN_COLS 512

/* Output rows per band for a columns matrix of `rows` rows and Wo columns per image row. */
static int band_rows(int rows, int Wo, int Ho)
{
    int r = BAND_FLOATS / (rows * Wo), least = (BAND_MIN_COLS + Wo - 1) / Wo;
    r = r < least ? least : r;
    return r > Ho ? Ho : r;
}

/* The output columns [lo, hi) whose input column ox*stride - pad + j is inside [0, W). */
static void valid_cols(int W, int j, int stride, int pad, int Wo, int *lo, int *hi)
{
    int l = pad - j > 0 ? (pad - j + stride - 1) / stride : 0;
    int last = W - 1 + pad - j; /* ox*stride <= last */
    int h = last < 0 ? 0 : last / stride + 1;
    *lo = l < Wo ? l : Wo;
    *hi = h < *lo ? *lo : h > Wo ? Wo : h;
}

/* dst[i] = src[2 i] for i < n (the 4x4/2 convolutions' im2col): SSE shuffles where the
 * compiler would gather element by element; reads src[0 .. 2n - 2] only. */
static void copy_even(float *dst, const float *src, int n)
{
    int i = 0;
#ifdef __SSE__
    for (; i + 4 < n; i += 4) /* src[2i .. 2i + 7], 2i + 7 <= 2n - 2 */
        _mm_storeu_ps(dst + i, _mm_shuffle_ps(_mm_loadu_ps(src + 2 * i),
                                              _mm_loadu_ps(src + 2 * i + 4), 0x88));
#endif
    for (; i < n; i++)
        dst[i] = src[2 * i];
}

/* dst[2 i] += src[i] for i < n (col2im of the stride-2 layers): the odd elements between
 * get + 0, within dst[0 .. 2n - 2] only. */
static void add_even(float *dst, const float *src, int n)
{
    int i = 0;
#ifdef __SSE__
    for (; i + 4 < n; i += 4) {
        __m128 v = _mm_loadu_ps(src + i), z = _mm_setzero_ps();
        float *d = dst + 2 * i;
        _mm_storeu_ps(d, _mm_add_ps(_mm_loadu_ps(d), _mm_unpacklo_ps(v, z)));
        _mm_storeu_ps(d + 4, _mm_add_ps(_mm_loadu_ps(d + 4), _mm_unpackhi_ps(v, z)));
    }
#endif
    for (; i < n; i++)
        dst[2 * i] += src[i];
}

/* in (C, H, W) -> col (C*k*k, (oy1 - oy0)*Wo) for output rows [oy0, oy1) */
static void im2col(float *col, const float *in, int C, int H, int W, int k, int stride,
                   int pad, int Wo, int oy0, int oy1)
{
    size_t cols = (size_t)(oy1 - oy0) * Wo;
    for (int c = 0; c < C; c++)
        for (int i = 0; i < k; i++)
            for (int j = 0; j < k; j++) {
                float *row = col + ((size_t)(c * k + i) * k + j) * cols;
                const float *img = in + (size_t)c * H * W;
                int lo, hi;
                valid_cols(W, j, stride, pad, Wo, &lo, &hi);
                for (int oy = oy0; oy < oy1; oy++) {
                    int y = oy * stride - pad + i;
                    float *r = row + (size_t)(oy - oy0) * Wo;
                    if (y < 0 || y >= H) {
                        memset(r, 0, sizeof(float) * Wo);
                        continue;
                    }
                    const float *src = img + (size_t)y * W - pad + j;
                    for (int ox = 0; ox < lo; ox++)
                        r[ox] = 0.0f;
                    if (stride == 1)
                        memcpy(r + lo, src + lo, sizeof(float) * (hi - lo));
                    else if (stride == 2)
                        copy_even(r + lo, src + 2 * lo, hi - lo);
                    else
                        for (int ox = lo; ox < hi; ox++)
                            r[ox] = src[ox * stride];
                    for (int ox = hi; ox < Wo; ox++)
                        r[ox] = 0.0f;
                }
            }
}

/* Adjoint of im2col: img (C, H, W) += col's entries at the pixels they came from. */
static void col2im(float *img, const float *col, int C, int H, int W, int k, int stride,
                   int pad, int Wo, int oy0, int oy1)
{
    size_t cols = (size_t)(oy1 - oy0) * Wo;
    for (int c = 0; c < C; c++)
        for (int i = 0; i < k; i++)
            for (int j = 0; j < k; j++) {
                const float *row = col + ((size_t)(c * k + i) * k + j) * cols;
                float *im = img + (size_t)c * H * W;
                int lo, hi;
                valid_cols(W, j, stride, pad, Wo, &lo, &hi);
                for (int oy = oy0; oy < oy1; oy++) {
                    int y = oy * stride - pad + i;
                    if (y < 0 || y >= H)
                        continue;
                    const float *r = row + (size_t)(oy - oy0) * Wo;
                    float *dst = im + (size_t)y * W - pad + j;
                    if (stride == 1)
                        for (int ox = lo; ox < hi; ox++)
                            dst[ox] += r[ox];
                    else if (stride == 2)
                        add_even(dst + 2 * lo, r + lo, hi - lo);
                    else
                        for (int ox = lo; ox < hi; ox++)
                            dst[ox * stride] += r[ox];
                }
            }
}

/* out (K, P) += bias per channel (if not NULL), then max(out, 0) if relu, over the pixels
 * [p0, p1) */
static void epilogue(float *out, const float *bias, int relu, int K, size_t P, size_t p0,
                     size_t p1)
{
    if (!bias && !relu)
        return;
    for (int c = 0; c < K; c++) {
        float *o = out + c * P, b = bias ? bias[c] : 0.0f;
        if (relu)
            for (size_t p = p0; p < p1; p++) {
                float v = o[p] + b;
                o[p] = v > 0 ? v : 0.0f;
            }
        else
            for (size_t p = p0; p < p1; p++)
                o[p] += b;
    }
}

/* db (K) += sum over pixels of d (K, P) */
static void sum_channels(float *db, const float *d, int K, size_t P)
{
    for (int c = 0; c < K; c++) {
        const float *x = d + c * P;
        float s = 0;
        for (size_t p = 0; p < P; p++)
            s += x[p];
        db[c] += s;
    }
}

/* Chunks of the batch for the weight gradients (nw floats each): 8 (room to rebalance
 * around a stalled core), 4 for weights over 1M floats (memory), at least one per
 * thread, at most one per image. */
int nn_grad_chunks(int N, size_t nw)
{
    int g = nw > (1u << 20) ? 4 : 8, t = omp_get_max_threads();
    g = g < t ? t : g;
    return g < N ? g : N;
}

/* dst (n) += the per-chunk partial sums (each `stride` apart), in chunk order */
void nn_reduce_chunks(float *dst, const float *part, size_t n, size_t stride, int chunks)
{
#pragma omp parallel for schedule(static) if (n * chunks >= NN_PAR_MIN)
    for (size_t i = 0; i < n; i++) {
        float s = 0;
        for (int t = 0; t < chunks; t++)
            s += part[t * stride + i];
        dst[i] += s;
    }
}

/* The geometry of a Conv2d from (C, H, W) to (K, Ho, Wo) (for ConvTranspose2d: of the
 * Conv2d it is the adjoint of), with the band height for the columns. */
typedef struct {
    int C, H, W, K, k, stride, pad, Ho, Wo, rows;
} geom;

static geom conv_geom(int C, int H, int W, int K, int k, int stride, int pad, int Ho, int Wo)
{
    geom g = {C, H, W, K, k, stride, pad, Ho, Wo, 0};
    g.rows = band_rows(C * k * k, Wo, Ho);
    return g;
}

/* Columns buffers: one band of g per thread. */
static float *band_buffers(lcae_nn *nn, const geom *g, size_t *stride)
{
    size_t n = (size_t)g->C * g->k * g->k * g->rows * g->Wo;
    return nn_scratch_threads(nn, NN_SCRATCH_COL, n, stride);
}

/* Weight and bias gradient accumulators: `chunks` of (nw + nb) floats, `stride` apart. */
float *nn_grad_buffers(lcae_nn *nn, size_t nw, int nb, int chunks, size_t *stride)
{
    *stride = (nw + nb + 15) / 16 * 16;
    return nn_scratch(nn, NN_SCRATCH_AUX, *stride * chunks);
}

/* Output rows [oy0, oy1) of one image: out (K, Ho*Wo) band = W (K, C*k*k) im2col(in). */
static void conv_band(const geom *g, float *col, float *out, const float *in,
                      const float *weight, int oy0, int oy1)
{
    int CKK = g->C * g->k * g->k, ncol = (oy1 - oy0) * g->Wo;
    im2col(col, in, g->C, g->H, g->W, g->k, g->stride, g->pad, g->Wo, oy0, oy1);
    nn_sgemm(0, 0, g->K, ncol, CKK, 1.0f, weight, CKK, col, ncol, 0.0f,
             out + (size_t)oy0 * g->Wo, g->Ho * g->Wo);
}

/* Conv2d backward for one image: dw (K, C*k*k) += d (K, Ho*Wo) col^T band by band, and
 * if dx is not NULL, dx (C, H, W) = col2im(W^T d). */
static void conv_backward_image(const geom *g, float *col, float *dx, float *dw,
                                const float *d, const float *x, const float *weight)
{
    int CKK = g->C * g->k * g->k, P = g->Ho * g->Wo;
    if (dx)
        memset(dx, 0, sizeof(float) * g->C * g->H * g->W);
    for (int oy0 = 0; oy0 < g->Ho; oy0 += g->rows) {
        int oy1 = oy0 + g->rows < g->Ho ? oy0 + g->rows : g->Ho, ncol = (oy1 - oy0) * g->Wo;
        const float *dband = d + (size_t)oy0 * g->Wo;
        im2col(col, x, g->C, g->H, g->W, g->k, g->stride, g->pad, g->Wo, oy0, oy1);
        nn_sgemm(0, 1, g->K, CKK, ncol, 1.0f, dband, P, col, ncol, 1.0f, dw, CKK);
        if (dx) {
            nn_sgemm(1, 0, CKK, ncol, g->K, 1.0f, weight, CKK, dband, P, 0.0f, col, ncol);
            col2im(dx, col, g->C, g->H, g->W, g->k, g->stride, g->pad, g->Wo, oy0, oy1);
        }
    }
}

/* ConvTranspose2d backward for one image, g the geometry of the adjoint Conv2d (from the
 * convT's output (K', Ho', Wo') = (g->C, g->H, g->W) to its input (g->K, g->Ho, g->Wo)):
 * dw (g->K, g->C*k*k) += x col^T, dx = W col, col = im2col(d). */
static void convt_backward_image(const geom *g, float *col, float *dx, float *dw,
                                 const float *d, const float *x, const float *weight)
{
    int KKK = g->C * g->k * g->k, P = g->Ho * g->Wo;
    for (int iy0 = 0; iy0 < g->Ho; iy0 += g->rows) {
        int iy1 = iy0 + g->rows < g->Ho ? iy0 + g->rows : g->Ho, ncol = (iy1 - iy0) * g->Wo;
        im2col(col, d, g->C, g->H, g->W, g->k, g->stride, g->pad, g->Wo, iy0, iy1);
        nn_sgemm(0, 1, g->K, KKK, ncol, 1.0f, x + (size_t)iy0 * g->Wo, P, col, ncol, 1.0f, dw,
                 KKK);
        if (dx)
            nn_sgemm(0, 0, g->K, ncol, KKK, 1.0f, weight, KKK, col, ncol, 0.0f,
                     dx + (size_t)iy0 * g->Wo, P);
    }
}

/* The backward pass over the batch: per-image gradients of images (in, dout) of `nin`,
 * `nout` floats; weight gradients (nw) and bias gradients (nb, the sums of dout's nb
 * channels) accumulated per chunk of the batch and added to dweight, dbias in order. */
static int backward_batch(lcae_nn *nn, const geom *g, int transposed, float *din, float *dweight, float *dbias,
                          const float *dout, const float *in, const float *weight, int N,
                          size_t nin, size_t nout, size_t nw, int nb)
{
    size_t cstride, gstride;
    int chunks = nn_grad_chunks(N, nw);
    float *cols = band_buffers(nn, g, &cstride);
    float *grads = cols ? nn_grad_buffers(nn, nw, nb, chunks, &gstride) : NULL;
    if (!grads)
        return LCAE_ENOMEM;
#pragma omp parallel
    {
        float *col = cols + omp_get_thread_num() * cstride;
#pragma omp for schedule(dynamic, 1)
        for (int c = 0; c < chunks; c++) {
            float *dw = grads + c * gstride;
            memset(dw, 0, sizeof(float) * (nw + nb));
            for (int n = c * N / chunks; n < (c + 1) * N / chunks; n++) {
                float *dx = din ? din + n * nin : NULL;
                if (transposed)
                    convt_backward_image(g, col, dx, dw, dout + n * nout, in + n * nin, weight);
                else
                    conv_backward_image(g, col, dx, dw, dout + n * nout, in + n * nin, weight);
                sum_channels(dw + nw, dout + n * nout, nb, nout / nb);
            }
        }
    }
    nn_reduce_chunks(dweight, grads, nw, gstride, chunks);
    if (dbias)
        nn_reduce_chunks(dbias, grads + nw, nb, gstride, chunks);
    return LCAE_OK;
}

/* Conv2d forward with the epilogue (bias, ReLU) applied band by band while in cache. */
static int conv_forward(lcae_nn *nn, float *out, const float *in, const float *weight,
                        const float *bias, int relu, int N, int C, int H, int W, int K, int k,
                        int stride, int pad)
{
    int m = nn_winograd_tile(C, H, W, K, k, stride, pad);
    if (m)
        return nn_winograd_forward(nn, m, out, in, weight, bias, relu, N, C, H, W, K, pad);
    int Ho = lcae_conv_out_size(H, k, stride, pad), Wo = lcae_conv_out_size(W, k, stride, pad);
    geom g = conv_geom(C, H, W, K, k, stride, pad, Ho, Wo);
    int bands = (Ho + g.rows - 1) / g.rows, P = Ho * Wo;
    size_t cstride;
    float *cols = band_buffers(nn, &g, &cstride);
    if (!cols)
        return LCAE_ENOMEM;
#pragma omp parallel
    {
        float *col = cols + omp_get_thread_num() * cstride;
#pragma omp for collapse(2) schedule(dynamic, 1)
        for (int n = 0; n < N; n++)
            for (int b = 0; b < bands; b++) {
                int oy0 = b * g.rows, oy1 = oy0 + g.rows < Ho ? oy0 + g.rows : Ho;
                float *o = out + (size_t)n * K * P;
                conv_band(&g, col, o, in + (size_t)n * C * H * W, weight, oy0, oy1);
                epilogue(o, bias, relu, K, P, (size_t)oy0 * Wo, (size_t)oy1 * Wo);
            }
    }
    return LCAE_OK;
}

int lcae_conv2d_forward(lcae_nn *nn, float *out, const float *in, const float *weight,
                        const float *bias, int N, int C, int H, int W, int K, int k,
                        int stride, int pad)
{
    return conv_forward(nn, out, in, weight, bias, 0, N, C, H, W, K, k, stride, pad);
}

int lcae_conv2d_bn_relu_eval(lcae_nn *nn, float *out, const float *in, const float *weight,
                             const float *bias, const float *gamma, const float *beta,
                             const float *running_mean, const float *running_var, float eps,
                             int relu, int N, int C, int H, int W, int K, int k, int stride,
                             int pad)
{
    size_t per = (size_t)C * k * k;
    float *wf = nn_scratch(nn, NN_SCRATCH_WEIGHT, per * K + K);
    if (!wf)
        return LCAE_ENOMEM;
    float *bf = wf + per * K;
    for (int o = 0; o < K; o++) {
        /* a as lcae_batchnorm_forward_eval computes it */
        float a = gamma[o] / sqrtf(running_var[o] + eps);
        for (size_t i = 0; i < per; i++)
            wf[o * per + i] = weight[o * per + i] * a;
        bf[o] = ((bias ? bias[o] : 0.0f) - running_mean[o]) * a + beta[o];
    }
    return conv_forward(nn, out, in, wf, bf, relu, N, C, H, W, K, k, stride, pad);
}

int lcae_conv2d_backward(lcae_nn *nn, float *din, float *dweight, float *dbias,
                         const float *dout, const float *in, const float *weight, int N,
                         int C, int H, int W, int K, int k, int stride, int pad)
{
    int Ho = lcae_conv_out_size(H, k, stride, pad), Wo = lcae_conv_out_size(W, k, stride, pad);
    geom g = conv_geom(C, H, W, K, k, stride, pad, Ho, Wo);
    /* With stride 1 the input gradient is itself a Conv2d, of dout (K, Ho, Wo) with the
     * weight flipped in space and transposed, wflip[c][k][i][j] = W[k][c][k-1-i][k-1-j],
     * padding k-1-pad: one product of inner size K*k*k into dx (or Winograd), instead of a
     * product of inner size K into C*k*k columns that col2im then scatters. */
    float *wflip = NULL;
    if (stride == 1 && din) {
        wflip = nn_scratch(nn, NN_SCRATCH_WEIGHT, (size_t)K * C * k * k);
        if (!wflip)
            return LCAE_ENOMEM;
        for (int o = 0; o < K; o++)
            for (int c = 0; c < C; c++)
                for (int i = 0; i < k * k; i++)
                    wflip[((size_t)c * K + o) * k * k + i] =
                        weight[((size_t)o * C + c) * k * k + k * k - 1 - i];
    }
    int m = nn_winograd_tile(C, H, W, K, k, stride, pad);
    int rc = m ? nn_winograd_weight_grad(nn, m, dweight, dbias, dout, in, N, C, H, W, K, pad)
                 : backward_batch(nn, &g, 0, wflip ? NULL : din, dweight, dbias, dout, in,
                                  weight, N, (size_t)C * H * W, (size_t)K * Ho * Wo,
                                  (size_t)K * C * k * k, K);
    if (!rc && wflip)
        rc = conv_forward(nn, din, dout, wflip, NULL, 0, N, K, Ho, Wo, C, k, 1, k - 1 - pad);
    return rc;
}

const char *lcae_conv2d_algorithm(lcae_nn *nn, int C, int H, int W, int K, int k, int stride,
                                  int pad)
{
    (void)nn;
    int m = nn_winograd_tile(C, H, W, K, k, stride, pad);
    return m == 4 ? "winograd-4x4" : m == 2 ? "winograd-2x2" : "im2col";
}

/* ConvTranspose2d from (C, H, W) to (K, Ho, Wo) is the adjoint of the Conv2d from
 * (K, Ho, Wo) to (C, H, W) with the same weight (C, K, k, k) read as (C, K*k*k): the
 * columns are indexed by the convT's input pixels (the Conv2d's output pixels). */
int lcae_convt2d_forward(lcae_nn *nn, float *out, const float *in, const float *weight,
                         const float *bias, int N, int C, int H, int W, int K, int k,
                         int stride, int pad)
{
    int Ho = (H - 1) * stride - 2 * pad + k, Wo = (W - 1) * stride - 2 * pad + k;
    geom g = conv_geom(K, Ho, Wo, C, k, stride, pad, H, W);
    int KKK = K * k * k, P = H * W;
    size_t Po = (size_t)Ho * Wo, cstride;
    float *cols = band_buffers(nn, &g, &cstride);
    if (!cols)
        return LCAE_ENOMEM;
#pragma omp parallel
    {
        float *col = cols + omp_get_thread_num() * cstride;
#pragma omp for schedule(dynamic, 1)
        for (int n = 0; n < N; n++) {
            float *o = out + (size_t)n * K * Po;
            memset(o, 0, sizeof(float) * K * Po);
            for (int iy0 = 0; iy0 < H; iy0 += g.rows) {
                int iy1 = iy0 + g.rows < H ? iy0 + g.rows : H, ncol = (iy1 - iy0) * W;
                nn_sgemm(1, 0, KKK, ncol, C, 1.0f, weight, KKK,
                         in + (size_t)n * C * P + (size_t)iy0 * W, P, 0.0f, col, ncol);
                col2im(o, col, K, Ho, Wo, k, stride, pad, W, iy0, iy1);
            }
            epilogue(o, bias, 0, K, Po, 0, Po);
        }
    }
    return LCAE_OK;
}

int lcae_convt2d_backward(lcae_nn *nn, float *din, float *dweight, float *dbias,
                          const float *dout, const float *in, const float *weight, int N,
                          int C, int H, int W, int K, int k, int stride, int pad)
{
    int Ho = (H - 1) * stride - 2 * pad + k, Wo = (W - 1) * stride - 2 * pad + k;
    geom g = conv_geom(K, Ho, Wo, C, k, stride, pad, H, W);
    return backward_batch(nn, &g, 1, din, dweight, dbias, dout, in, weight, N,
                          (size_t)C * H * W, (size_t)K * Ho * Wo, (size_t)C * K * k * k, K);
}
