/* The whole model's speed in lcae: a training step (both passes, rotation loss, backward,
 * Adam) or an encoding batch, at the sizes of bench/bench_model.sh, which runs this and
 * its PyTorch peer (bench/model_torch.py) alternately and prints the ratios.
 *   bench_model train|encode SIZE BASE BATCH REPS [THREADS [cpu]]
 *     prints: patterns/s and GFLOP/s achieved (best of REPS after one warm-up; REPS 1:
 *     a single timed step, no warm-up, for the paper's model at a minute a step); cpu:
 *     timed with the process's CPU time, not the wall clock (at 1 thread, the figure
 *     that other jobs on a shared machine disturb least; model_torch.py takes the same)
 *   bench_model sgemm [THREADS]
 *     prints: the CBLAS sgemm GFLOP/s at 2048 x 2048 (the peak the figures compare with)
 *   bench_model backend
 *     prints: lcae_nn_describe's line (the vector set LCAE_SIMD leaves, the sgemm)
 * FLOP counts (effective GFLOP/s): a forward pass counts 2 flops per multiply-add of the
 * direct convolutions and Linear layers, whatever algorithm ran (Winograd does fewer); a training step counts 3 times the forward of each of its two passes
 * (forward, input gradient, weight gradient). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cblas.h>
#include <omp.h>

#include "lcae/model.h"
#include "model/model_internal.h"

void openblas_set_num_threads(int);

static clockid_t clock_id = CLOCK_MONOTONIC;

static double now(void)
{
    struct timespec t;
    clock_gettime(clock_id, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static float *filled(size_t n, uint64_t seed)
{
    float *x = malloc(n * sizeof *x);
    if (!x) {
        fprintf(stderr, "bench_model: out of memory\n");
        exit(1);
    }
    model_rng r;
    model_rng_seed(&r, seed, 0);
    for (size_t i = 0; i < n; i++)
        x[i] = (float)(2 * model_rng_uniform(&r) - 1);
    return x;
}

static void sgemm_peak(void)
{
    int n = 2048;
    float *a = filled((size_t)n * n, 1), *b = filled((size_t)n * n, 2), *c = filled((size_t)n * n, 3);
    double best = INFINITY;
    for (int r = 0; r < 4; r++) {
        double t0 = now();
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, n, n, 1.0f, a, n, b, n, 0.0f,
                    c, n);
        if (r)
            best = fmin(best, now() - t0);
    }
    printf("sgemm_gflops %.1f\n", 2.0 * n * n * n / best * 1e-9);
    free(a);
    free(b);
    free(c);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: bench_model train|encode SIZE BASE BATCH REPS [THREADS] | "
                        "bench_model sgemm [THREADS]\n");
        return 2;
    }
    if (!strcmp(argv[1], "backend")) {
        lcae_nn *nn;
        if (lcae_nn_create(&nn))
            return 1;
        printf("backend %s\n", lcae_nn_describe(nn));
        lcae_nn_free(nn);
        return 0;
    }
    int sg = !strcmp(argv[1], "sgemm");
    int threads = argc > (sg ? 2 : 6) ? atoi(argv[sg ? 2 : 6]) : 2;
    omp_set_num_threads(threads);
    openblas_set_num_threads(threads);
    if (sg) {
        sgemm_peak();
        return 0;
    }
    if (argc < 6)
        return 2;
    int train = !strcmp(argv[1], "train");
    lcae_model_config cfg = {.input_size = atoi(argv[2]), .base = atoi(argv[3]),
                             .latent_ch = 4, .latent = 16};
    int N = atoi(argv[4]), reps = atoi(argv[5]);
    if (argc > 7 && !strcmp(argv[7], "cpu"))
        clock_id = CLOCK_PROCESS_CPUTIME_ID;
    lcae_model *m;
    if (lcae_model_create(&cfg, 1, &m)) {
        fprintf(stderr, "bench_model: %s\n", lcae_last_error());
        return 1;
    }
    size_t n = (size_t)N * cfg.input_size * cfg.input_size;
    float *x = filled(n, 4), *z = filled((size_t)N * cfg.latent, 5);
    double best = INFINITY;
    for (int r = 0; r < reps + (reps > 1); r++) {
        double t0 = now();
        int rc;
        if (train) {
            lcae_losses L;
            rc = lcae_model_step(m, x, N, 37.0 * (r + 1), LCAE_INTERP_BILINEAR, &L);
            lcae_model_adam(m, 1e-4, 0.9);
        } else {
            rc = lcae_model_encode_batch(m, x, N, z);
        }
        if (rc) {
            fprintf(stderr, "bench_model: %s\n", lcae_last_error());
            return 1;
        }
        if (r || reps == 1)
            best = fmin(best, now() - t0);
    }
    double flops = train ? 2 * 3 * model_forward_flops(m, N, 0) : model_forward_flops(m, N, 1);
    printf("patterns_per_s %.3f gflops %.1f seconds %.3f\n", N / best, flops / best * 1e-9, best);
    free(x);
    free(z);
    lcae_model_free(m);
    return 0;
}
