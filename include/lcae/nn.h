/* lcae nn: the compute layer, a backend interface. Each layer is a forward and a backward
 * function over float buffers whose shapes are given in the comment; no hidden state
 * except what an lcae_nn context holds. Every compute call takes the context, and the
 * buffers it reads and writes (activations, gradients, masks, parameters) are the
 * context's: allocated with lcae_nn_alloc and filled from / read back to host memory
 * with lcae_nn_upload / lcae_nn_download. This keeps the interface one that another
 * backend (CUDA) can implement without touching src/model; the CPU backend of this
 * folder is the only one, and its buffers are host memory. The reference convolutions
 * at the end are plain loops, the ground truth that tests hold every backend's
 * convolutions to.
 *
 * Conventions (as PyTorch):
 *  - images are NCHW, row-major: x[((n*C + c)*H + y)*W + x];
 *  - Conv2d weight (K, C, k, k), bias (K); ConvTranspose2d weight (C_in, C_out, k, k),
 *    bias (C_out); Linear weight (Out, In), bias (Out);
 *  - backward functions ACCUMULATE (+=) into parameter gradients (so that the two passes
 *    of the rotation loss add up) and OVERWRITE the input gradient `din`; din may be NULL
 *    when the input needs no gradient (the first layer);
 *  - functions return LCAE_OK or LCAE_ENOMEM (scratch allocation), message set.
 * Threads: OpenMP inside each call (omp_get_max_threads() threads: convolutions over
 * images, BatchNorm over channels, Linear over output columns; loops over fewer than
 * 32768 values on one thread), with one-threaded matrix products inside: oneDNN's sgemm
 * when lcae is built with libdnnl-dev, CBLAS (OpenBLAS) otherwise (lcae_nn_create sets
 * OpenBLAS to one thread for the whole process). Results depend on the thread count
 * only, never on timing.
 */
#ifndef LCAE_NN_H
#define LCAE_NN_H

#include <stdint.h>

#include "lcae/core.h"

#ifdef __cplusplus
extern "C" {
#endif

/* A context: the backend's memory (buffers, and the scratch memory of the layers,
 * grown on demand and reused across calls); one context serves one calling thread at a
 * time. */
typedef struct lcae_nn lcae_nn;
int lcae_nn_create(lcae_nn **out);
void lcae_nn_free(lcae_nn *nn);

/* Data-parallel training: each of several processes holds a share of the batch, and the
 * batch statistics (BatchNorm's, the scaled rotation loss's spread) and the loss means are
 * over the whole batch. sum: element-wise sums of n doubles over the processes, in place,
 * the same bits on every one; share: n floats from the first process to every one; batch:
 * the whole batch's size (the N of a call is the process's share). NULL (the default):
 * one process. The hook lives as long as the context uses it. */
typedef struct {
    int (*sum)(double *x, int64_t n);
    int (*share)(float *x, int64_t n);
    int (*sum_floats)(float *x, int64_t n); /* as sum, over floats (a gradient block) */
    int batch;
} lcae_nn_sync;
void lcae_nn_set_sync(lcae_nn *nn, const lcae_nn_sync *sync);
/* Element-wise sums of a buffer of n floats over the processes, in place (the gradients
 * of data-parallel training, before the optimizer step), through the sync hook's
 * sum_floats; LCAE_OK without a hook, else what the hook returns. */
int lcae_nn_sync_sum(lcae_nn *nn, float *buf, int64_t n);

/* The backend, by name, with its choices for this process: for the CPU backend
 * "cpu: avx512 transforms, oneDNN sgemm" (the vector set as LCAE_SIMD caps it). */
const char *lcae_nn_describe(lcae_nn *nn);

/* A buffer of `count` floats for the compute calls, 64-byte aligned (contents undefined),
 * or NULL with a message if out of memory; release with lcae_nn_release (NULL is a no-op). */
float *lcae_nn_alloc(lcae_nn *nn, int64_t count);
void lcae_nn_release(lcae_nn *nn, float *buf);
/* Copies `count` floats from host memory into a buffer, and from a buffer to the host. */
void lcae_nn_upload(lcae_nn *nn, float *buf, const float *host, int64_t count);
void lcae_nn_download(lcae_nn *nn, float *host, const float *buf, int64_t count);

/* Output side of a convolution: (H + 2*pad - k) / stride + 1. */
static inline int lcae_conv_out_size(int h, int k, int stride, int pad)
{
    return (h + 2 * pad - k) / stride + 1;
}

/* ---- Conv2d: in (N, C, H, W) -> out (N, K, Ho, Wo); square kernel k ------------------ */
int lcae_conv2d_forward(lcae_nn *nn, float *out, const float *in, const float *weight,
                        const float *bias, int N, int C, int H, int W, int K, int k,
                        int stride, int pad);
int lcae_conv2d_backward(lcae_nn *nn, float *din, float *dweight, float *dbias,
                         const float *dout, const float *in, const float *weight, int N,
                         int C, int H, int W, int K, int k, int stride, int pad);
/* Evaluation-mode Conv2d + BatchNorm2d (running statistics) + ReLU (if relu) in one call:
 * the BatchNorm is folded into the convolution's weight and bias, w' = w a,
 * b' = (b - mean) a + beta with a = gamma / sqrt(var + eps) per output channel, and
 * the ReLU applied as the output is written. bias may be NULL. */
int lcae_conv2d_bn_relu_eval(lcae_nn *nn, float *out, const float *in, const float *weight,
                             const float *bias, const float *gamma, const float *beta,
                             const float *running_mean, const float *running_var, float eps,
                             int relu, int N, int C, int H, int W, int K, int k, int stride,
                             int pad);
/* The algorithm the Conv2d calls use for the forward pass and the weight gradient of a
 * layer of this shape: "winograd-2x2" or "winograd-4x4" (Winograd F(2x2, 3x3) or
 * F(4x4, 3x3), for 3x3, stride 1, padding 0 to 2, 8 or more channels in and out; which
 * one by a fixed rule on the shape, src/nn/winograd.c) or "im2col" (im2col + sgemm:
 * every other layer). The environment's LCAE_CONV=im2col, winograd-2x2 or winograd-4x4
 * forces one wherever it applies. The input gradient of a stride-1 layer is the Conv2d
 * of the output gradient with the flipped weight (K and C exchanged, padding k - 1 - pad)
 * and takes that shape's algorithm. */
const char *lcae_conv2d_algorithm(lcae_nn *nn, int C, int H, int W, int K, int k, int stride,
                                  int pad);

/* ---- ConvTranspose2d: in (N, C, H, W) -> out (N, K, Ho, Wo), Ho = (H-1)*stride - 2*pad + k */
int lcae_convt2d_forward(lcae_nn *nn, float *out, const float *in, const float *weight,
                         const float *bias, int N, int C, int H, int W, int K, int k,
                         int stride, int pad);
int lcae_convt2d_backward(lcae_nn *nn, float *din, float *dweight, float *dbias,
                          const float *dout, const float *in, const float *weight, int N,
                          int C, int H, int W, int K, int k, int stride, int pad);

/* ---- BatchNorm2d over (N, C, HW) ------------------------------------------------------
 * Training: normalizes with the batch statistics (biased variance), writes
 * save_mean/save_invstd (C each) for the backward pass, and updates the running
 * statistics: running = (1 - momentum) * running + momentum * batch, with the unbiased
 * batch variance (n / (n - 1)), n = N*HW. in and out may alias. */
int lcae_batchnorm_forward_train(lcae_nn *nn, float *out, const float *in, const float *gamma,
                                 const float *beta, float *running_mean, float *running_var,
                                 float *save_mean, float *save_invstd, int N, int C, int HW,
                                 float momentum, float eps);
/* The same followed by ReLU in the same pass (bit-identical to the two calls in turn). */
int lcae_batchnorm_relu_forward_train(lcae_nn *nn, float *out, const float *in,
                                      const float *gamma, const float *beta,
                                      float *running_mean, float *running_var,
                                      float *save_mean, float *save_invstd, int N, int C,
                                      int HW, float momentum, float eps);
/* Evaluation: running statistics. in and out may alias. */
int lcae_batchnorm_forward_eval(lcae_nn *nn, float *out, const float *in, const float *gamma,
                                const float *beta, const float *running_mean,
                                const float *running_var, int N, int C, int HW, float eps);
/* `in` is the forward input (pre-normalization). din may alias dout. */
int lcae_batchnorm_backward(lcae_nn *nn, float *din, float *dgamma, float *dbeta, const float *dout,
                            const float *in, const float *gamma, const float *save_mean,
                            const float *save_invstd, int N, int C, int HW);
/* The backward pass of ReLU(BatchNorm(in)) (training mode, the batch statistics and beta
 * of the forward): bit-identical to lcae_relu_backward with the output that
 * lcae_batchnorm_relu_apply recomputes, then lcae_batchnorm_backward; the ReLU's mask
 * comes from `in` in the same passes, without the output. din may alias dout. */
int lcae_batchnorm_relu_backward(lcae_nn *nn, float *din, float *dgamma, float *dbeta,
                                 const float *dout, const float *in, const float *gamma,
                                 const float *beta, const float *save_mean,
                                 const float *save_invstd, int N, int C, int HW);

/* relu(BatchNorm(in)) with saved batch statistics, as lcae_batchnorm_forward_train
 * computed its output (y = x a + b, a = gamma invstd, b = beta - mean a, same float
 * operations, so bit-identical), then max(y, 0): to recompute a layer's output for the
 * backward pass instead of storing it. */
void lcae_batchnorm_relu_apply(lcae_nn *nn, float *out, const float *in, const float *gamma,
                               const float *beta, const float *save_mean,
                               const float *save_invstd, int N, int C, int HW);

/* ---- element-wise operations over N images of HW values and an (HW) mask ----------------
 * mask_mul: out = in * mask (in and out may alias); mask_select: out = mask != 0 ? a : b;
 * add: y (n) += x (n); fill: x (n) = value. */
void lcae_mask_mul(lcae_nn *nn, float *out, const float *in, const float *mask, int N,
                   int64_t HW);
void lcae_mask_select(lcae_nn *nn, float *out, const float *a, const float *b,
                      const float *mask, int N, int64_t HW);
void lcae_add(lcae_nn *nn, float *y, const float *x, int64_t n);
void lcae_fill(lcae_nn *nn, float *x, float value, int64_t n);

/* ---- ReLU over n values: in place; backward masks dout where the output was 0 --------- */
void lcae_relu_forward(lcae_nn *nn, float *x, int64_t n);
void lcae_relu_backward(lcae_nn *nn, float *dx, const float *out, int64_t n);

/* ---- Linear: in (N, In) -> out (N, Out), weight (Out, In) --------------------------
 * (not I/O: <complex.h>, which cblas.h includes, defines I as a macro) */
int lcae_linear_forward(lcae_nn *nn, float *out, const float *in, const float *weight, const float *bias,
                        int N, int In, int Out);
int lcae_linear_backward(lcae_nn *nn, float *din, float *dweight, float *dbias, const float *dout,
                         const float *in, const float *weight, int N, int In,
                         int Out);

/* ---- losses -------------------------------------------------------------------------
 * Clipped L1 (the reconstruction loss): mean over n of |clip(pred - target, -c, c)|.
 * Writes dpred (n) = d loss / d pred, scaled by `scale` (the loss's weight); the
 * gradient is 0 where |pred - target| > c (clip saturates) and sign(d)/n elsewhere
 * (0 at d == 0, as PyTorch's abs). Returns the loss. */
double lcae_clipped_l1(lcae_nn *nn, const float *pred, const float *target, float *dpred, int64_t n,
                       float clip, float scale);
/* Mean squared error (the other reconstruction loss): mean over n of (pred - target)^2.
 * Writes dpred (n) = d loss / d pred = 2 (pred - target) / n, scaled by `scale`, if not
 * NULL. Returns the loss. */
double lcae_mse(lcae_nn *nn, const float *pred, const float *target, float *dpred, int64_t n, float scale);
/* Rotation-invariance loss over the first `dims` of the D latent features of N pairs:
 * mean over N*dims of |z1 - z2|. Writes (if not NULL) dz1, dz2 (N, D) scaled by `scale`,
 * zero outside the first `dims` features; OVERWRITES them. Returns the loss. */
double lcae_rot_loss(lcae_nn *nn, const float *z1, const float *z2, float *dz1, float *dz2, int N, int D,
                     int dims, float scale);
/* The scaled rotation loss: mean over N*dims of |z1 - z2| / (s_j + 1e-6), s_j the standard
 * deviation (unbiased, as torch.std) of z1's feature j over the batch, differentiated
 * through s_j too: the loss is the same for z and c z, so shrinking the features cannot
 * lower it. Gradients as lcae_rot_loss's. A feature with no spread (s_j = 0, or N < 2)
 * has no gradient through s_j (PyTorch's would be NaN). */
double lcae_rot_loss_scaled(lcae_nn *nn, const float *z1, const float *z2, float *dz1,
                            float *dz2, int N, int D, int dims, float scale);

/* ---- Adam (torch.optim.Adam, bias-corrected), over one flat array of n parameters ------
 * step counts from 1. m and v are the first and second moments (n each). lr and beta1
 * may change from step to step (a schedule such as OneCycleLR's): as PyTorch, the bias
 * correction 1 - beta1^step uses the current beta1. */
void lcae_adam_step(lcae_nn *nn, float *param, const float *grad, float *m, float *v, int64_t n,
                    int64_t step, double lr, double beta1, double beta2, double eps);

/* ---- image rotation -------------------------------------------------------------------
 * Rotates each of N images (H, W) by `degrees` (counter-clockwise as displayed with row 0
 * at the top, i.e. the output at (y, x) samples the input at the point that the inverse
 * rotation about (cy, cx) maps it to), with bilinear interpolation; points outside the
 * frame take `fill` (for bilinear: each of the 4 neighbours outside the frame counts as
 * `fill`). cy, cx in pixel units where pixel centres are integers, so the pattern centre
 * of an (H, W) image is ((H - 1) / 2, (W - 1) / 2); with that centre and fill 0 these
 * equal torchvision.transforms.functional.rotate(img, degrees) (grid_sample,
 * align_corners=False), to float rounding of the sampling points. */
void lcae_rotate_bilinear(lcae_nn *nn, float *out, const float *in, int N, int H, int W, double degrees,
                          double cy, double cx, float fill);
/* The published code's variant: nearest-neighbour sampling. */
void lcae_rotate_nearest(lcae_nn *nn, float *out, const float *in, int N, int H, int W, double degrees,
                         double cy, double cx, float fill);

/* ---- layout copies over planes (n planes of h rows of w) --------------------------------
 * pad_circular: in (n, h, w) -> out (n, h + 2, w + 2), zero rows above and below, the
 * columns wrapped around (out[y + 1][0] = in[y][w - 1], out[y + 1][w + 1] = in[y][0]: the
 * polar image's angle); its backward folds dout (n, h + 2, w + 2) back into din (n, h, w),
 * the wrapped columns added to the ones they copy.
 * row_stride: in (n, h, w) -> out (n, (h - 1) / stride + 1, w), every stride-th row
 * (x[..., ::stride, :]); its backward scatters dout back to those rows of din, 0 elsewhere.
 * Both backwards OVERWRITE din. */
void lcae_pad_circular_forward(lcae_nn *nn, float *out, const float *in, int64_t n, int h,
                               int w);
void lcae_pad_circular_backward(lcae_nn *nn, float *din, const float *dout, int64_t n,
                                int h, int w);
void lcae_row_stride_forward(lcae_nn *nn, float *out, const float *in, int64_t n, int h,
                             int w, int stride);
void lcae_row_stride_backward(lcae_nn *nn, float *din, const float *dout, int64_t n, int h,
                              int w, int stride);
/* Cyclic shift of each of `rows` rows of w: out[r][t] = in[r][(t - shift) mod w]
 * (torch.roll(x, shift, -1)); any shift, negative too. */
void lcae_roll(lcae_nn *nn, float *out, const float *in, int64_t rows, int w, int shift);
/* A block of rows x cols: dst[r * dst_ld + c] = src[r * src_ld + c], or += if accumulate
 * (the concatenation of feature vectors along columns and its backward). */
void lcae_copy_block(lcae_nn *nn, float *dst, int64_t dst_ld, const float *src,
                     int64_t src_ld, int64_t rows, int64_t cols, int accumulate);

/* ---- pooling along the last axis ----------------------------------------------------------
 * meanmax: in (N, C, L) -> out (N, 2C) = [mean over L, peak over L], the peak the maximum
 * (order 0: torch.cat([x.mean(-1), x.amax(-1)], 1)) or the power mean of order P >= 1,
 * (mean over L of max(x, 0)^P)^(1/P) (x.clamp(min=0).pow(P).mean(-1).pow(1/P)), which a
 * rotation by a fraction of an angular step changes smoothly where the maximum jumps; sums
 * in double. Its backward OVERWRITES din (N, C, L) from dout (N, 2C) and the forward's in:
 * the maximum's gradient goes to the first maximum only (PyTorch's amax splits it among
 * equal maxima), the power mean's to every positive element, none where the mean is 0
 * (PyTorch's is NaN there).
 * adaptive_avg: in (rows, L) -> out (rows, bins), bin j the mean over [floor(j L / bins),
 * ceil((j + 1) L / bins)) (F.adaptive_avg_pool1d), summed in double; its backward ADDS to
 * din (rows, L), so that it follows meanmax's backward over the same input. */
void lcae_meanmax_pool_forward(lcae_nn *nn, float *out, const float *in, int N, int64_t C,
                               int L, int order);
void lcae_meanmax_pool_backward(lcae_nn *nn, float *din, const float *dout, const float *in,
                                int N, int64_t C, int L, int order);
void lcae_adaptive_avg_pool_forward(lcae_nn *nn, float *out, const float *in, int64_t rows,
                                    int L, int bins);
void lcae_adaptive_avg_pool_backward(lcae_nn *nn, float *din, const float *dout,
                                     int64_t rows, int L, int bins);

/* ---- the polar model's input and auxiliary target --------------------------------------
 * polar_sample: each of N images (H, W) sampled bilinearly at nr radii x nt angles about
 * (cy, cx): radius r_i = r0 + i (r1 - r0) / (nr - 1), angle 2 pi t / nt, the point
 * y = cy + r sin, x = cx + r cos (pixel units, row 0 at the top); corners outside the
 * frame count as 0 (grid_sample with align_corners=True and zero padding). out (N, nr, nt).
 * dft_magnitudes: out (rows, orders) = |sum_t in[r][t] exp(-2 pi i k t / n)| / n,
 * k < orders (torch.fft.rfft(x).abs()[..., :orders] / n), summed in double; LCAE_OK or
 * LCAE_ENOMEM (its tables).
 * standardize: x (rows, cols) = (x - mean[c]) / (std[c] + eps), the difference in float,
 * the division in double. */
void lcae_polar_sample(lcae_nn *nn, float *out, const float *in, int N, int H, int W, int nr,
                       int nt, double r0, double r1, double cy, double cx);
int lcae_dft_magnitudes(lcae_nn *nn, float *out, const float *in, int64_t rows, int n,
                        int orders);
void lcae_standardize(lcae_nn *nn, float *x, const float *mean, const float *std, double eps,
                      int64_t rows, int64_t cols);

/* ---- the reference convolutions ----------------------------------------------------------
 * The Conv2d and ConvTranspose2d calls above (same arguments and semantics, host
 * memory, no context) as plain loops over the definition, one thread, accumulating in
 * double: slow, and independent of every fast algorithm; the tests hold each backend's
 * convolutions to these. LCAE_OK or LCAE_ENOMEM (their double accumulators). */
int lcae_ref_conv2d_forward(float *out, const float *in, const float *weight,
                            const float *bias, int N, int C, int H, int W, int K, int k,
                             int stride, int pad);
int lcae_ref_conv2d_backward(float *din, float *dweight, float *dbias, const float *dout,
                              const float *in, const float *weight, int N, int C, int H,
                              int W, int K, int k, int stride, int pad);
int lcae_ref_convt2d_forward(float *out, const float *in, const float *weight,
                              const float *bias, int N, int C, int H, int W, int K, int k,
                              int stride, int pad);
int lcae_ref_convt2d_backward(float *din, float *dweight, float *dbias, const float *dout,
                               const float *in, const float *weight, int N, int C, int H,
                               int W, int K, int k, int stride, int pad);

#ifdef __cplusplus
}
#endif
#endif
