/* lcae nn: the compute layer. Each layer is a forward and a backward function over plain
 * float buffers whose shapes are given in the comment; no hidden state except the
 * scratch memory held by an lcae_nn context. This interface is kept narrow so that
 * another backend (CUDA) can implement the same calls without touching src/model.
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

/* Scratch memory (im2col columns and the like), grown on demand, reused across calls;
 * one context serves one calling thread at a time. */
typedef struct lcae_nn lcae_nn;
int lcae_nn_create(lcae_nn **out);
void lcae_nn_free(lcae_nn *nn);

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
int lcae_batchnorm_forward_train(float *out, const float *in, const float *gamma,
                                 const float *beta, float *running_mean, float *running_var,
                                 float *save_mean, float *save_invstd, int N, int C, int HW,
                                 float momentum, float eps);
/* Evaluation: running statistics. in and out may alias. */
int lcae_batchnorm_forward_eval(float *out, const float *in, const float *gamma,
                                const float *beta, const float *running_mean,
                                const float *running_var, int N, int C, int HW, float eps);
/* `in` is the forward input (pre-normalization). din may alias dout. */
int lcae_batchnorm_backward(float *din, float *dgamma, float *dbeta, const float *dout,
                            const float *in, const float *gamma, const float *save_mean,
                            const float *save_invstd, int N, int C, int HW);

/* ---- ReLU over n values: in place; backward masks dout where the output was 0 --------- */
void lcae_relu_forward(float *x, int64_t n);
void lcae_relu_backward(float *dx, const float *out, int64_t n);

/* ---- Linear: in (N, In) -> out (N, Out), weight (Out, In) --------------------------
 * (not I/O: <complex.h>, which cblas.h includes, defines I as a macro) */
int lcae_linear_forward(float *out, const float *in, const float *weight, const float *bias,
                        int N, int In, int Out);
int lcae_linear_backward(float *din, float *dweight, float *dbias, const float *dout,
                         const float *in, const float *weight, int N, int In,
                         int Out);

/* ---- losses -------------------------------------------------------------------------
 * Clipped L1 (the reconstruction loss): mean over n of |clip(pred - target, -c, c)|.
 * Writes dpred (n) = d loss / d pred, scaled by `scale` (the loss's weight); the
 * gradient is 0 where |pred - target| > c (clip saturates) and sign(d)/n elsewhere
 * (0 at d == 0, as PyTorch's abs). Returns the loss. */
double lcae_clipped_l1(const float *pred, const float *target, float *dpred, int64_t n,
                       float clip, float scale);
/* Mean squared error (the other reconstruction loss): mean over n of (pred - target)^2.
 * Writes dpred (n) = d loss / d pred = 2 (pred - target) / n, scaled by `scale`, if not
 * NULL. Returns the loss. */
double lcae_mse(const float *pred, const float *target, float *dpred, int64_t n, float scale);
/* Rotation-invariance loss over the first `dims` of the D latent features of N pairs:
 * mean over N*dims of |z1 - z2|. Writes (if not NULL) dz1, dz2 (N, D) scaled by `scale`,
 * zero outside the first `dims` features; OVERWRITES them. Returns the loss. */
double lcae_rot_loss(const float *z1, const float *z2, float *dz1, float *dz2, int N, int D,
                     int dims, float scale);
/* The scaled rotation loss: mean over N*dims of |z1 - z2| / (s_j + 1e-6), s_j the standard
 * deviation (unbiased, as torch.std) of z1's feature j over the batch, differentiated
 * through s_j too: the loss is the same for z and c z, so shrinking the features cannot
 * lower it. Gradients as lcae_rot_loss's. A feature with no spread (s_j = 0, or N < 2)
 * has no gradient through s_j (PyTorch's would be NaN). */
double lcae_rot_loss_scaled(const float *z1, const float *z2, float *dz1, float *dz2, int N,
                            int D, int dims, float scale);

/* ---- Adam (torch.optim.Adam, bias-corrected), over one flat array of n parameters ------
 * step counts from 1. m and v are the first and second moments (n each). lr and beta1
 * may change from step to step (a schedule such as OneCycleLR's): as PyTorch, the bias
 * correction 1 - beta1^step uses the current beta1. */
void lcae_adam_step(float *param, const float *grad, float *m, float *v, int64_t n,
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
void lcae_rotate_bilinear(float *out, const float *in, int N, int H, int W, double degrees,
                          double cy, double cx, float fill);
/* The published code's variant: nearest-neighbour sampling. */
void lcae_rotate_nearest(float *out, const float *in, int N, int H, int W, double degrees,
                         double cy, double cx, float fill);

#ifdef __cplusplus
}
#endif
#endif
