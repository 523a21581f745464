/* The backend's convolutions (Conv2d, ConvTranspose2d: forward, input, weight and bias
 * gradients; the fused evaluation Conv2d + BatchNorm + ReLU) against the reference loops
 * of nn.h, over the shapes of the models (3x3 stride 1, 4x4 stride 2, one channel in or
 * out), odd and non-square sizes, and channel counts where the fast paths change
 * algorithm (Winograd for 3x3 stride 1, see lcae_conv2d_algorithm).
 *
 * Every Winograd shape is checked three times: with the per-layer rule, and with F(2x2, 3x3)
 * and F(4x4, 3x3) forced (LCAE_CONV=winograd-2x2, winograd-4x4); and all of it with each
 * instruction set's kernels (LCAE_SIMD unset, avx2, base). Shapes of 8 to 32 channels
 * (multiples of 8) take the products in registers, the others sgemm.
 *
 * Error bound per value: |fast - ref| <= tol * (the same sum over absolute values),
 * computed by the reference on |inputs|: the bound of a float sum's rounding (n eps
 * times the sum of the absolute terms) with room for Winograd's transforms. tol = 2e-6
 * for im2col and F(2x2, 3x3) (observed: under 3e-7). F(4x4, 3x3) rounds more: through
 * A^T, G and B^T an output's error is bounded by eps times sum |A^T| |G| |B^T| over the
 * terms, which over the 9 direct terms is at most 7.1 for F(2x2) and 256 for F(4x4)
 * (the last output row and column, by A^T's 8s), 36x more; observed under 2.9e-6, so
 * tol = 1e-5 for F(4x4). */
#include "test_util.h"

#include <omp.h>

#include "lcae/nn.h"

/* the bound's factor (above) of an algorithm of lcae_conv2d_algorithm */
static double tol_of(const char *algo) { return !strcmp(algo, "winograd-4x4") ? 1e-5 : 2e-6; }

/* the LCAE_CONV setting of this round (NULL: the per-layer rule) */
static const char *mode;

/* shapes checked whose Conv2d went through F(2x2, 3x3), F(4x4, 3x3) */
static int winograd_shapes[2];

static float *rand_buf(size_t n, unsigned *seed)
{
    float *x = malloc(n * sizeof *x);
    for (size_t i = 0; i < n; i++) {
        *seed = *seed * 1103515245u + 12345u;
        x[i] = (float)((*seed >> 8) & 0xffff) / 32768.0f - 1.0f;
    }
    return x;
}

static float *abs_copy(const float *x, size_t n)
{
    float *a = malloc(n * sizeof *a);
    for (size_t i = 0; i < n; i++)
        a[i] = fabsf(x[i]);
    return a;
}

static float *zeros(size_t n) { return calloc(n ? n : 1, sizeof(float)); }

/* the worst |got - want| / bound over n values, bound = tol * scale + 1e-30 */
static double worst(const float *got, const float *want, const float *scale, size_t n,
                    double tol)
{
    double w = 0;
    for (size_t i = 0; i < n; i++) {
        double e = fabs((double)got[i] - want[i]) / (tol * scale[i] + 1e-30);
        w = e > w ? e : w;
    }
    return w;
}

/* One shape: in (N, C, H, W) -> (N, K, Ho, Wo) */
static void check(lcae_nn *nn, int transposed, int N, int C, int H, int W, int K, int k,
                  int s, int p)
{
    int Ho = transposed ? (H - 1) * s - 2 * p + k : lcae_conv_out_size(H, k, s, p);
    int Wo = transposed ? (W - 1) * s - 2 * p + k : lcae_conv_out_size(W, k, s, p);
    size_t nin = (size_t)N * C * H * W, nout = (size_t)N * K * Ho * Wo, nw = (size_t)K * C * k * k;
    unsigned seed = (unsigned)(C * 131 + K * 7 + H + k + s);
    float *in = rand_buf(nin, &seed), *w = rand_buf(nw, &seed), *b = rand_buf(K, &seed);
    float *dout = rand_buf(nout, &seed);
    float *ain = abs_copy(in, nin), *aw = abs_copy(w, nw), *ab = abs_copy(b, K);
    float *adout = abs_copy(dout, nout);
    float *out = zeros(nout), *ref = zeros(nout), *scale = zeros(nout);
    float *din = zeros(nin), *rdin = zeros(nin), *sdin = zeros(nin);
    float *dw = zeros(nw), *rdw = zeros(nw), *sdw = zeros(nw);
    float *db = zeros(K), *rdb = zeros(K), *sdb = zeros(K);
    char what[160];
    const char *algo = transposed ? "im2col" : lcae_conv2d_algorithm(nn, C, H, W, K, k, s, p);
    double tol = tol_of(algo);
    int wino = strncmp(algo, "winograd", 8) == 0;
    if (wino)
        winograd_shapes[!strcmp(algo, "winograd-4x4")]++;
    snprintf(what, sizeof what, "%s N%d C%d %dx%d K%d k%d s%d p%d (%s)",
             transposed ? "convT" : "conv", N, C, H, W, K, k, s, p, algo);
    /* ConvTranspose2d's calls have Conv2d's arguments */
    int (*fwd)(lcae_nn *, float *, const float *, const float *, const float *, int, int, int,
               int, int, int, int, int) = transposed ? lcae_convt2d_forward : lcae_conv2d_forward;
    int (*bwd)(lcae_nn *, float *, float *, float *, const float *, const float *,
               const float *, int, int, int, int, int, int, int, int) =
        transposed ? lcae_convt2d_backward : lcae_conv2d_backward;
    int (*rfwd)(float *, const float *, const float *, const float *, int, int, int, int, int,
                int, int, int) = transposed ? lcae_ref_convt2d_forward : lcae_ref_conv2d_forward;
    int (*rbwd)(float *, float *, float *, const float *, const float *, const float *, int,
                int, int, int, int, int, int, int) =
        transposed ? lcae_ref_convt2d_backward : lcae_ref_conv2d_backward;
    CHECK(fwd(nn, out, in, w, b, N, C, H, W, K, k, s, p) == LCAE_OK);
    CHECK(bwd(nn, din, dw, db, dout, in, w, N, C, H, W, K, k, s, p) == LCAE_OK);
    CHECK(rfwd(ref, in, w, b, N, C, H, W, K, k, s, p) == LCAE_OK);
    CHECK(rfwd(scale, ain, aw, ab, N, C, H, W, K, k, s, p) == LCAE_OK); /* the bounds */
    CHECK(rbwd(rdin, rdw, rdb, dout, in, w, N, C, H, W, K, k, s, p) == LCAE_OK);
    CHECK(rbwd(sdin, sdw, sdb, adout, ain, aw, N, C, H, W, K, k, s, p) == LCAE_OK);
    double e[4] = {worst(out, ref, scale, nout, tol), worst(din, rdin, sdin, nin, tol),
                   worst(dw, rdw, sdw, nw, tol), worst(db, rdb, sdb, K, tol)};
    const char *names[4] = {"output", "input gradient", "weight gradient", "bias gradient"};
    if (getenv("LCAE_TEST_VERBOSE"))
        printf("%s: %.3f %.3f %.3f %.3f of the bound\n", what, e[0], e[1], e[2], e[3]);
    for (int i = 0; i < 4; i++)
        CHECK_MSG(e[i] <= 1, "%s (%s): error %.3g of the bound", what, names[i], e[i]);

    if (wino) {
        /* against the im2col path: the same bound */
        float *alt = zeros(nout);
        setenv("LCAE_CONV", "im2col", 1);
        CHECK(!strcmp(lcae_conv2d_algorithm(nn, C, H, W, K, k, s, p), "im2col"));
        CHECK(lcae_conv2d_forward(nn, alt, in, w, b, N, C, H, W, K, k, s, p) == LCAE_OK);
        if (mode)
            setenv("LCAE_CONV", mode, 1);
        else
            unsetenv("LCAE_CONV");
        double ea = worst(out, alt, scale, nout, tol);
        CHECK_MSG(ea <= 1, "%s: Winograd vs im2col: error %.3g of the bound", what, ea);
        free(alt);
    }
    if (!transposed) {
        /* the fused evaluation layer against reference conv, then BatchNorm, then ReLU */
        float *g = rand_buf(K, &seed), *beta = rand_buf(K, &seed), *rm = rand_buf(K, &seed);
        float *rv = abs_copy(g, K), eps = 1e-5f;
        double wb = 0;
        CHECK(lcae_conv2d_bn_relu_eval(nn, out, in, w, b, g, beta, rm, rv, eps, 1, N, C, H, W,
                                       K, k, s, p) == LCAE_OK);
        for (size_t i = 0; i < nout; i++) {
            int o = (int)(i / ((size_t)Ho * Wo) % K);
            double a = g[o] / sqrt((double)rv[o] + eps);
            double want = fmax(0, (ref[i] - rm[o]) * a + beta[o]);
            double bound = tol * fabs(a) * (scale[i] + fabs(rm[o])) + tol * fabs(beta[o]);
            double err = fabs(out[i] - want) / (bound + 1e-30);
            wb = err > wb ? err : wb;
        }
        CHECK_MSG(wb <= 1, "%s (fused BatchNorm + ReLU): error %.3g of the bound", what, wb);
        free(g), free(beta), free(rm), free(rv);
    }
    free(in), free(w), free(b), free(dout), free(ain), free(aw), free(ab), free(adout);
    free(out), free(ref), free(scale), free(din), free(rdin), free(sdin);
    free(dw), free(rdw), free(sdw), free(db), free(rdb), free(sdb);
}

int main(void)
{
    lcae_nn *nn;
    CHECK(lcae_nn_create(&nn) == LCAE_OK);
    const char *modes[3] = {NULL, "winograd-2x2", "winograd-4x4"};
    /* each instruction set's Winograd kernels (transforms, and the products in registers
     * of up to 32 channels): the widest the processor has, AVX2, portable */
    const char *simd[3] = {NULL, "avx2", "base"};
    for (int r = 0; r < 9; r++) {
        mode = modes[r % 3];
        if (simd[r / 3])
            setenv("LCAE_SIMD", simd[r / 3], 1);
        if (mode)
            setenv("LCAE_CONV", mode, 1);
        else
            unsetenv("LCAE_CONV");
        for (int threads = 1; threads <= 2; threads++) {
            omp_set_num_threads(threads);
            /* the autoencoder's layers at small sizes */
            check(nn, 0, 2, 1, 16, 16, 4, 3, 1, 1);  /* enc.0: one channel in */
            check(nn, 0, 2, 4, 16, 16, 4, 3, 1, 1);  /* enc.1 */
            check(nn, 0, 2, 4, 16, 16, 8, 4, 2, 1);  /* enc.2 */
            check(nn, 0, 3, 32, 8, 8, 32, 3, 1, 1);  /* a deep 3x3 layer */
            check(nn, 0, 2, 4, 16, 16, 1, 3, 1, 1);  /* dec.13: one channel out */
            check(nn, 1, 2, 8, 4, 4, 4, 4, 2, 1);    /* dec.5 */
            /* odd and non-square images, tiles that do not divide the image */
            check(nn, 0, 2, 24, 7, 9, 20, 3, 1, 1);
            check(nn, 0, 1, 17, 5, 13, 33, 3, 1, 1);
            check(nn, 0, 2, 16, 11, 6, 16, 3, 1, 0); /* padding 0 */
            check(nn, 0, 2, 16, 19, 18, 16, 3, 1, 2); /* padding 2, 16 channels */
            check(nn, 0, 2, 3, 9, 7, 5, 4, 2, 1);
            check(nn, 1, 2, 3, 5, 3, 6, 4, 2, 1);
            check(nn, 1, 1, 16, 6, 6, 16, 3, 1, 1);  /* ConvTranspose2d 3x3 stride 1 */
            /* wide: more columns than one band */
            check(nn, 0, 2, 64, 24, 24, 48, 3, 1, 1);
            check(nn, 0, 2, 16, 34, 35, 16, 3, 1, 1); /* more tiles than one block */
        }
    }
    unsetenv("LCAE_CONV");
    unsetenv("LCAE_SIMD");
    /* the shapes above must cover both tile sizes: 7 Winograd shapes, twice (thread
     * counts) in each round, all 7 of a forced round in its tile size; 3 sets */
    CHECK_MSG(winograd_shapes[0] + winograd_shapes[1] == 3 * 42 &&
                  winograd_shapes[0] >= 3 * 14 && winograd_shapes[1] >= 3 * (14 + 2),
              "%d shapes went through F(2x2), %d through F(4x4)", winograd_shapes[0],
              winograd_shapes[1]);
    lcae_nn_free(nn);
    return test_done("test_nn_reference");
}
