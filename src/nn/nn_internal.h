/* Internals of src/nn shared by its files: the scratch memory of an lcae_nn context. */
#ifndef LCAE_NN_INTERNAL_H
#define LCAE_NN_INTERNAL_H

#include <stddef.h>

#include "lcae/nn.h"

/* Element-wise loops over fewer values than this run on one thread: a parallel region's
 * barrier costs more than the work, and far more when another job holds a core. */
#define NN_PAR_MIN (1 << 15)

/* Independent scratch buffers of a context; a layer call may use each once. */
enum { NN_SCRATCH_COL, NN_SCRATCH_AUX, NN_SCRATCH_WEIGHT, NN_SCRATCH_COUNT };

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

#endif
