/* The lcae_nn context: scratch memory reused across layer calls. */
#include <stdlib.h>

#include <cblas.h>
#include <omp.h>

#include "nn/nn_internal.h"

struct lcae_nn {
    float *buf[NN_SCRATCH_COUNT];
    size_t cap[NN_SCRATCH_COUNT]; /* floats */
};

int lcae_nn_create(lcae_nn **out)
{
    /* All parallelism is OpenMP's, with one-threaded sgemm calls inside parallel regions:
     * OpenBLAS's own (pthread) workers spinning beside OpenMP's would oversubscribe. */
    openblas_set_num_threads(1);
    *out = lcae_calloc(1, sizeof **out);
    return *out ? LCAE_OK : LCAE_ENOMEM;
}

void lcae_nn_free(lcae_nn *nn)
{
    if (!nn)
        return;
    for (int i = 0; i < NN_SCRATCH_COUNT; i++)
        free(nn->buf[i]);
    free(nn);
}

float *nn_scratch(lcae_nn *nn, int slot, size_t count)
{
    if (count <= nn->cap[slot])
        return nn->buf[slot];
    free(nn->buf[slot]);
    nn->buf[slot] = NULL;
    nn->cap[slot] = 0;
    size_t bytes = (count * sizeof(float) + 63) / 64 * 64;
    float *p = aligned_alloc(64, bytes);
    if (!p) {
        lcae_fail(LCAE_ENOMEM, "out of memory (asked for %zu bytes of layer scratch)", bytes);
        return NULL;
    }
    nn->buf[slot] = p;
    nn->cap[slot] = count;
    return p;
}

float *nn_scratch_threads(lcae_nn *nn, int slot, size_t per_thread, size_t *stride)
{
    *stride = (per_thread + 15) / 16 * 16;
    return nn_scratch(nn, slot, *stride * (size_t)omp_get_max_threads());
}
