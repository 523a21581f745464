/* Internals of src/nn shared by its files: the scratch memory of an lcae_nn context. */
#ifndef LCAE_NN_INTERNAL_H
#define LCAE_NN_INTERNAL_H

#include <stddef.h>

#include "lcae/nn.h"

/* The context's data-parallel hook (lcae_nn_set_sync), or NULL. */
const lcae_nn_sync *nn_sync(const lcae_nn *nn);

/* Element-wise loops over fewer values than this run on one thread: a parallel region's
 * barrier costs more than the work, and far more when another job holds a core. */
#define NN_PAR_MIN (1 << 15)

/* Independent scratch buffers of a context; a layer call may use each once. */
enum { NN_SCRATCH_COL, NN_SCRATCH_AUX, NN_SCRATCH_WEIGHT, NN_SCRATCH_WINO, NN_SCRATCH_COUNT };

/* A float buffer of at least `count` elements in slot `slot`, 64-byte aligned, grown on
 * demand (contents not kept across growth). NULL with a message if out of memory. */
float *nn_scratch(lcae_nn *nn, int slot, size_t count);

/* Per-thread scratch in slot `slot`: `per_thread` floats for each of the
 * omp_get_max_threads() threads; thread t's buffer starts at the result + t * *stride
 * (64-byte aligned). */
float *nn_scratch_threads(lcae_nn *nn, int slot, size_t per_thread, size_t *stride);

/* C (M, N) = alpha op(A) op(B) + beta C, row-major (op: transposed if trans_*), with
 * op(A) (M, K) and op(B) (K, N); one-threaded inside an OpenMP parallel region. */
void nn_sgemm(int trans_a, int trans_b, int M, int N, int K, float alpha, const float *A,
              int lda, const float *B, int ldb, float beta, float *C, int ldc);

/* The weight gradients' split of the batch (conv.c): the number of chunks for a weight of
 * nw floats (set by the batch, the weight size and the thread count); per-chunk
 * accumulators of (nw + nb) floats, *stride apart (scratch slot AUX); and their sum in
 * chunk order added to dst (n). */
int nn_grad_chunks(int N, size_t nw);
float *nn_grad_buffers(lcae_nn *nn, size_t nw, int nb, int chunks, size_t *stride);
void nn_reduce_chunks(float *dst, const float *part, size_t n, size_t stride, int chunks);

/* Winograd F(2x2, 3x3) and F(4x4, 3x3) (winograd.c), for 3x3 stride-1 Conv2d with
 * padding 0 to 2: the output tile side m used for a layer of this shape (2 or 4; 0: not
 * Winograd, im2col); the forward pass (with the bias and, if relu, the ReLU in its
 * epilogue; scratch slots COL and WINO); the weight and bias gradients, accumulated
 * (slots COL, AUX and WINO). */
int nn_winograd_tile(int C, int H, int W, int K, int k, int stride, int pad);
int nn_winograd_forward(lcae_nn *nn, int m, float *out, const float *in, const float *weight,
                        const float *bias, int relu, int N, int C, int H, int W, int K, int pad);
int nn_winograd_weight_grad(lcae_nn *nn, int m, float *dweight, float *dbias,
                            const float *dout, const float *in, int N, int C, int H, int W,
                            int K, int pad);
/* The vector instruction set of the transforms: "avx512", "avx2" or "base" (the widest
 * the processor has, capped by LCAE_SIMD=avx2 or base). */
const char *nn_simd_name(void);

#endif
