/* The matrix product of src/nn: oneDNN's sgemm where lcae was built with it (measured
 * 10-15% faster than OpenBLAS's on this machine's large products and 2x on the base-16
 * model's 16-row ones; see docs/nn-benchmark.md), CBLAS otherwise. Layers call it
 * inside their own OpenMP regions, where both run one-threaded. */
#include "nn/nn_internal.h"

#ifdef LCAE_HAVE_DNNL
#include <dnnl.h>
#include <omp.h>
#else
#include <cblas.h>
#endif

void nn_sgemm(int trans_a, int trans_b, int M, int N, int K, float alpha, const float *A,
              int lda, const float *B, int ldb, float beta, float *C, int ldc)
{
#ifdef LCAE_HAVE_DNNL
    /* Inside a parallel region oneDNN runs one-threaded only if the region is active
     * (more than one thread); in a team of one it would start omp_get_max_threads() of
     * its own, nested, and crawl (measured 100x slower). Asking for one thread in this
     * task (an ICV of the task, gone when the region ends) makes it one-threaded always. */
    if (omp_get_level() > 0 && omp_get_max_threads() > 1)
        omp_set_num_threads(1);
    /* row-major, as CBLAS with CblasRowMajor; fails only on invalid sizes */
    dnnl_sgemm(trans_a ? 'T' : 'N', trans_b ? 'T' : 'N', M, N, K, alpha, A, lda, B, ldb, beta,
               C, ldc);
#else
    cblas_sgemm(CblasRowMajor, trans_a ? CblasTrans : CblasNoTrans,
                trans_b ? CblasTrans : CblasNoTrans, M, N, K, alpha, A, lda, B, ldb, beta, C,
                ldc);
#endif
}
