/* The matrix product of src/nn: oneDNN's sgemm where lcae was built with it (measured
 * 10-15% faster than OpenBLAS's on this machine's large products and 2x on the base-16
 * model's 16-row ones; see docs/nn-benchmark.md), CBLAS otherwise. Layers call it
 * inside their own OpenMP regions, where both run one-threaded. */
#include "nn/nn_internal.h"

#ifdef LCAE_HAVE_DNNL
#include <dnnl.h>
#else
#include <cblas.h>
#endif

void nn_sgemm(int trans_a, int trans_b, int M, int N, int K, float alpha, const float *A,
              int lda, const float *B, int ldb, float beta, float *C, int ldc)
{
#ifdef LCAE_HAVE_DNNL
    /* row-major, as CBLAS with CblasRowMajor; fails only on invalid sizes */
    dnnl_sgemm(trans_a ? 'T' : 'N', trans_b ? 'T' : 'N', M, N, K, alpha, A, lda, B, ldb, beta,
               C, ldc);
#else
    cblas_sgemm(CblasRowMajor, trans_a ? CblasTrans : CblasNoTrans,
                trans_b ? CblasTrans : CblasNoTrans, M, N, K, alpha, A, lda, B, ldb, beta, C,
                ldc);
#endif
}
