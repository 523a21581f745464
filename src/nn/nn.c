/* The lcae_nn context of the CPU backend: buffers in host memory, and scratch memory
 * reused across layer calls. */
#define _DEFAULT_SOURCE /* madvise's MADV_HUGEPAGE */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include <cblas.h>
#include <omp.h>

#include "nn/nn_internal.h"

struct lcae_nn {
    float *buf[NN_SCRATCH_COUNT];
    size_t cap[NN_SCRATCH_COUNT]; /* floats */
    char name[64];                /* lcae_nn_describe's */
    const lcae_nn_sync *sync;     /* data-parallel training, or NULL */
};

void lcae_nn_set_sync(lcae_nn *nn, const lcae_nn_sync *sync)
{
    nn->sync = sync;
}

int lcae_nn_sync_sum(lcae_nn *nn, float *buf, int64_t n)
{
    /* host memory: the hook sums the buffer itself (a device backend would stage it) */
    return nn->sync && nn->sync->sum_floats ? nn->sync->sum_floats(buf, n) : LCAE_OK;
}

const lcae_nn_sync *nn_sync(const lcae_nn *nn)
{
    return nn->sync;
}

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

/* A block of at least `bytes`, 64-byte aligned for the vector kernels. Blocks of 2 MiB and
 * more (a layer's activations: 33 MB for 128 patterns of 16 x 64 x 64) are 2 MiB aligned
 * and asked to be backed by transparent huge pages: their first touch then takes a fault
 * per 2 MiB rather than per 4 KiB, which on this virtual machine was ~0.15 s of CPU at the
 * start of every process (25,000 faults for one encoding batch of 128 64 x 64 patterns)
 * (docs/mpi.md). Only advice: where the kernel has no huge pages to give, the block is
 * ordinary memory. */
static float *nn_block(size_t bytes)
{
    const size_t huge = (size_t)2 << 20;
    if (bytes < huge)
        return aligned_alloc(64, (bytes + 63) / 64 * 64);
    bytes = (bytes + huge - 1) / huge * huge;
    float *p = aligned_alloc(huge, bytes);
    if (p)
        madvise(p, bytes, MADV_HUGEPAGE);
    return p;
}

float *nn_scratch(lcae_nn *nn, int slot, size_t count)
{
    if (count <= nn->cap[slot])
        return nn->buf[slot];
    free(nn->buf[slot]);
    nn->buf[slot] = NULL;
    nn->cap[slot] = 0;
    size_t bytes = count * sizeof(float);
    float *p = nn_block(bytes);
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

const char *lcae_nn_describe(lcae_nn *nn)
{
    snprintf(nn->name, sizeof nn->name, "cpu: %s transforms, %s sgemm", nn_simd_name(),
#ifdef LCAE_HAVE_DNNL
             "oneDNN"
#else
             "CBLAS"
#endif
    );
    return nn->name;
}

float *lcae_nn_alloc(lcae_nn *nn, int64_t count)
{
    (void)nn; /* host memory: nothing to track */
    size_t bytes = (size_t)(count > 0 ? count : 1) * sizeof(float);
    float *p = nn_block(bytes);
    if (!p)
        lcae_fail(LCAE_ENOMEM, "out of memory (asked for %zu bytes of layer buffers)", bytes);
    return p;
}

void lcae_nn_release(lcae_nn *nn, float *buf)
{
    (void)nn;
    free(buf);
}

void lcae_nn_upload(lcae_nn *nn, float *buf, const float *host, int64_t count)
{
    (void)nn;
    memcpy(buf, host, (size_t)count * sizeof(float));
}

void lcae_nn_download(lcae_nn *nn, float *host, const float *buf, int64_t count)
{
    (void)nn;
    memcpy(host, buf, (size_t)count * sizeof(float));
}
