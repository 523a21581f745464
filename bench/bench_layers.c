/* Times each src/nn layer of the autoencoder at its real shapes, forward and backward,
 * and the sgemm peaks (CBLAS, and src/nn's own product) in the same run.
 * bench/layers_torch.py runs this and the same layers in PyTorch and prints the ratios;
 * alone it prints one line per layer:
 *   name  pass  milliseconds  GFLOP/s
 * Usage: bench_layers [--base B] [--batch N] [--size S] [--reps R] [--threads T]
 *                     [--only NAME]   (one layer, or sgemm1024, by its exact name;
 *                                      gemm_shapes: CBLAS vs src/nn's sgemm, one thread)
 *                     [--cpu 1]       (process CPU time instead of wall time)
 * Times are the best of R repetitions after one warm-up (the machine is shared). With one
 * thread, CPU time is the robust measure when other processes load the machine. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cblas.h>
#include <omp.h>

#include "lcae/nn.h"
#include "nn/nn_internal.h"

void openblas_set_num_threads(int);

static clockid_t clock_id = CLOCK_MONOTONIC;

static double now(void)
{
    struct timespec t;
    clock_gettime(clock_id, &t);
    return t.tv_sec + 1e-9 * t.tv_nsec;
}

static float *buffer(size_t n)
{
    float *x = malloc(sizeof(float) * (n ? n : 1));
    if (!x) {
        fprintf(stderr, "bench_layers: out of memory\n");
        exit(1);
    }
    for (size_t i = 0; i < n; i++)
        x[i] = (float)((i * 2654435761u % 2001) / 1000.0 - 1.0);
    return x;
}

typedef struct {
    const char *name;
    int kind; /* 0 conv, 1 convT, 2 BatchNorm (train) + ReLU */
    int C, H, K, k, stride, pad;
} layer;

static int reps = 3;

#define TIME(ms, stmt)                                                                      \
    do {                                                                                    \
        stmt;                                                                               \
        ms = INFINITY;                                                                      \
        for (int r_ = 0; r_ < reps; r_++) {                                                 \
            double t0_ = now();                                                             \
            stmt;                                                                           \
            ms = fmin(ms, 1e3 * (now() - t0_));                                             \
        }                                                                                   \
    } while (0)

static void bench_layer(lcae_nn *nn, const layer *l, int N)
{
    int C = l->C, H = l->H, K = l->K, k = l->k, s = l->stride, p = l->pad, Ho;
    if (l->kind == 1)
        Ho = (H - 1) * s - 2 * p + k;
    else if (l->kind == 0)
        Ho = lcae_conv_out_size(H, k, s, p);
    else
        Ho = H;
    size_t nin = (size_t)N * C * H * H, nout = (size_t)N * (l->kind == 2 ? C : K) * Ho * Ho;
    float *in = buffer(nin), *out = buffer(nout), *dout = buffer(nout), *din = buffer(nin);
    size_t nw = (size_t)K * C * k * k > (size_t)C ? (size_t)K * C * k * k : (size_t)C;
    float *w = buffer(nw), *dw = buffer(nw);
    float *b = buffer(C > K ? C : K), *db = buffer(C > K ? C : K);
    float *rm = buffer(C), *rv = buffer(C), *sm = buffer(C), *si = buffer(C);
    for (int c = 0; c < C; c++)
        rv[c] = 1;
    double fwd, bwd, flops;
    /* multiply-adds of the convolution: each output pixel of each of the K (conv) or each
     * input pixel of each of the C (convT) channels takes C*k*k (K*k*k) of them */
    if (l->kind == 0) {
        flops = 2.0 * N * K * Ho * Ho * C * k * k;
        TIME(fwd, lcae_conv2d_forward(nn, out, in, w, b, N, C, H, H, K, k, s, p));
        /* the first layer (C = 1) needs no input gradient */
        TIME(bwd, lcae_conv2d_backward(nn, C == 1 ? NULL : din, dw, db, dout, in, w, N, C, H, H,
                                       K, k, s, p));
    } else if (l->kind == 1) {
        flops = 2.0 * N * C * H * H * K * k * k;
        TIME(fwd, lcae_convt2d_forward(nn, out, in, w, b, N, C, H, H, K, k, s, p));
        TIME(bwd, lcae_convt2d_backward(nn, din, dw, db, dout, in, w, N, C, H, H, K, k, s, p));
    } else {
        flops = 0;
        TIME(fwd, (memcpy(out, in, sizeof(float) * nin),
                   lcae_batchnorm_forward_train(nn, out, out, w, b, rm, rv, sm, si, N, C, H * H,
                                                0.1f, 1e-5f),
                   lcae_relu_forward(nn, out, (int64_t)nin)));
        /* the copy stands for the input that the layer keeps for backward */
        TIME(bwd, (lcae_relu_backward(nn, dout, out, (int64_t)nin),
                   lcae_batchnorm_backward(nn, din, dw, db, dout, in, w, sm, si, N, C, H * H)));
    }
    /* a Conv2d's algorithm (lcae_conv2d_algorithm) after the rate */
    printf("%-12s forward  %9.3f ms %7.1f GFLOP/s %s\n", l->name, fwd, flops / fwd * 1e-6,
           l->kind == 0 ? lcae_conv2d_algorithm(nn, C, H, H, K, k, s, p) : "");
    /* backward: weight gradient and input gradient, twice the forward's products */
    printf("%-12s backward %9.3f ms %7.1f GFLOP/s\n", l->name, bwd,
           (C == 1 ? 1 : 2) * flops / bwd * 1e-6);
    fflush(stdout);
    free(in), free(out), free(dout), free(din), free(w), free(dw), free(b), free(db);
    free(rm), free(rv), free(sm), free(si);
}

/* c = a b (n x n) as the layers use src/nn's product: one-threaded products side by side,
 * here on blocks of rows, one per thread */
static void own_sgemm(const float *a, const float *b, float *c, int n)
{
#pragma omp parallel
    {
        int T = omp_get_num_threads(), t = omp_get_thread_num();
        int r0 = t * n / T, r1 = (t + 1) * n / T;
        nn_sgemm(0, 0, r1 - r0, n, n, 1.0f, a + (size_t)r0 * n, n, b, n, 0.0f,
                 c + (size_t)r0 * n, n);
    }
}

/* sgemm GFLOP/s at a size large enough to be compute bound: CBLAS (OpenBLAS), and
 * src/nn's own product (oneDNN's sgemm if built with it), both with all threads */
static void bench_sgemm(void)
{
    int n = 1024;
    float *a = buffer((size_t)n * n), *b = buffer((size_t)n * n), *c = buffer((size_t)n * n);
    double ms;
    TIME(ms, cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, n, n, 1.0f, a, n, b, n,
                         0.0f, c, n));
    printf("%-12s peak     %9.3f ms %7.1f GFLOP/s\n", "sgemm1024", ms,
           2.0 * n * n * n / ms * 1e-6);
    TIME(ms, own_sgemm(a, b, c, n));
    printf("%-12s peak     %9.3f ms %7.1f GFLOP/s\n", "nn_sgemm1024", ms,
           2.0 * n * n * n / ms * 1e-6);
    free(a), free(b), free(c);
}

/* CBLAS against src/nn's product (one thread each, as inside the layers) at shapes the
 * base-16 and base-64 layers give it (M x N x K of out = W col for one band: enc1, enc2,
 * enc3, enc5 of base 16; enc7 of base 16, enc3, enc5, enc7 of base 64), and 1024^3. */
static void bench_gemm_shapes(void)
{
    static const int shapes[][3] = {
        {16, 896, 144},  {32, 512, 256},   {32, 512, 288},   {64, 512, 576}, /* base 16 */
        {128, 256, 1152}, {128, 512, 1152}, {256, 512, 2304}, {512, 256, 4608}, /* base 64 */
        {1024, 1024, 1024}};
    openblas_set_num_threads(1);
    for (size_t i = 0; i < sizeof shapes / sizeof *shapes; i++) {
        int M = shapes[i][0], N = shapes[i][1], K = shapes[i][2];
        float *a = buffer((size_t)M * K), *b = buffer((size_t)K * N), *c = buffer((size_t)M * N);
        double blas, own, f = 2.0 * M * N * K * 1e-6;
#pragma omp parallel num_threads(1)
        {
            TIME(blas, cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, M, N, K, 1.0f, a,
                                   K, b, N, 0.0f, c, N));
            TIME(own, nn_sgemm(0, 0, M, N, K, 1.0f, a, K, b, N, 0.0f, c, N));
        }
        printf("gemm %4d x %4d x %4d  CBLAS %6.1f  nn_sgemm %6.1f GFLOP/s\n", M, N, K, f / blas,
               f / own);
        free(a), free(b), free(c);
    }
}

int main(int argc, char **argv)
{
    int base = 16, N = 32, S = 128, threads = 2;
    const char *only = NULL;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (!strcmp(argv[i], "--base"))
            base = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--batch"))
            N = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--size"))
            S = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--reps"))
            reps = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--threads"))
            threads = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--only"))
            only = argv[i + 1];
        else if (!strcmp(argv[i], "--cpu"))
            clock_id = atoi(argv[i + 1]) ? CLOCK_PROCESS_CPUTIME_ID : CLOCK_MONOTONIC;
        else {
            fprintf(stderr, "bench_layers: unknown option %s\n", argv[i]);
            return 2;
        }
    }
    omp_set_num_threads(threads);
    openblas_set_num_threads(threads);
    int b = base, lat = 4;
    /* the autoencoder's layers (METHOD.md), one of each shape */
    layer layers[] = {
        {"enc0", 0, 1, S, b, 3, 1, 1},
        {"enc1", 0, b, S, b, 3, 1, 1},
        {"enc2", 0, b, S, 2 * b, 4, 2, 1},
        {"enc3", 0, 2 * b, S / 2, 2 * b, 3, 1, 1},
        {"enc4", 0, 2 * b, S / 2, 4 * b, 4, 2, 1},
        {"enc5", 0, 4 * b, S / 4, 4 * b, 3, 1, 1},
        {"enc6", 0, 4 * b, S / 4, 8 * b, 4, 2, 1},
        {"enc7", 0, 8 * b, S / 8, 8 * b, 3, 1, 1},
        {"enc8", 0, 8 * b, S / 8, lat, 4, 2, 1},
        {"dec5", 1, lat, S / 16, 8 * b, 4, 2, 1},
        {"dec7", 1, 8 * b, S / 8, 4 * b, 4, 2, 1},
        {"dec9", 1, 4 * b, S / 4, 2 * b, 4, 2, 1},
        {"dec11", 1, 2 * b, S / 2, b, 4, 2, 1},
        {"decout", 0, b, S, 1, 3, 1, 1},
        {"bnrelu_b", 2, b, S, 0, 0, 0, 0},
        {"bnrelu_2b", 2, 2 * b, S / 2, 0, 0, 0, 0},
        {"bnrelu_4b", 2, 4 * b, S / 4, 0, 0, 0, 0},
        {"bnrelu_8b", 2, 8 * b, S / 8, 0, 0, 0, 0},
    };
    printf("# bench_layers base %d batch %d size %d threads %d reps %d\n", base, N, S, threads,
           reps);
    if (only && !strcmp(only, "gemm_shapes")) {
        bench_gemm_shapes();
        return 0;
    }
    if (!only || !strcmp(only, "sgemm1024"))
        bench_sgemm();
    lcae_nn *nn;
    if (lcae_nn_create(&nn)) {
        fprintf(stderr, "bench_layers: %s\n", lcae_last_error());
        return 1;
    }
    for (size_t i = 0; i < sizeof layers / sizeof *layers; i++)
        if (!only || !strcmp(layers[i].name, only))
            bench_layer(nn, &layers[i], N);
    lcae_nn_free(nn);
    return 0;
}
