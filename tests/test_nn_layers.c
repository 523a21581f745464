/* src/nn layers against PyTorch (tests/fixtures/nn, tools/make_nn_fixtures.py and, for
 * the Conv2d shapes computed with Winograd F(2x2, 3x3) and F(4x4, 3x3),
 * tools/make_winograd_fixture.py): Conv2d,
 * ConvTranspose2d, BatchNorm2d (train and eval), ReLU, Linear; forward outputs, input
 * and parameter gradients, running statistics. Tolerance 1e-4 relative (fx_compare):
 * every value is a sum of at most a few hundred float products, so float rounding of the
 * summation order (ours vs oneDNN's) stays near 1e-6. */
#include "nn_fixture.h"

#include <omp.h>

/* the context of the nn calls that need no other state */
static lcae_nn *g_nn;

static const double tol = 1e-4;

static float *filled(int64_t n, float v)
{
    float *x = malloc(sizeof(float) * (n ? n : 1));
    for (int64_t i = 0; i < n; i++)
        x[i] = v;
    return x;
}

static void scale_in_place(float *x, int64_t n, float s)
{
    for (int64_t i = 0; i < n; i++)
        x[i] *= s;
}

/* One Conv2d or ConvTranspose2d case: forward, backward (twice, to check that parameter
 * gradients accumulate and the input gradient is overwritten), backward without din. */
static void check_conv(lcae_nn *nn, const char *cs, int transposed)
{
    int m[8];
    fx_metaf(m, 8, "%s_meta", cs);
    int N = m[0], C = m[1], H = m[2], W = m[3], K = m[4], k = m[5], s = m[6], p = m[7];
    int Ho, Wo;
    if (transposed) {
        Ho = (H - 1) * s - 2 * p + k;
        Wo = (W - 1) * s - 2 * p + k;
    } else {
        Ho = lcae_conv_out_size(H, k, s, p);
        Wo = lcae_conv_out_size(W, k, s, p);
    }
    int64_t nin = (int64_t)N * C * H * W, nout = (int64_t)N * K * Ho * Wo,
            nw = (int64_t)K * C * k * k;
    float *in = fx_loadf("%s_in", cs);
    float *weight = fx_loadf("%s_weight", cs);
    float *bias = fx_loadf("%s_bias", cs);
    float *dout = fx_loadf("%s_dout", cs);
    float *out = filled(nout, NAN), *din = filled(nin, NAN);
    float *dw = filled(nw, 0), *db = filled(K, 0);
    int rc = transposed
                 ? lcae_convt2d_forward(nn, out, in, weight, bias, N, C, H, W, K, k, s, p)
                 : lcae_conv2d_forward(nn, out, in, weight, bias, N, C, H, W, K, k, s, p);
    CHECK(rc == LCAE_OK);
    fx_comparef(out, nout, tol, "%s_out", cs);
    for (int rep = 1; rep <= 2; rep++) {
        rc = transposed ? lcae_convt2d_backward(nn, din, dw, db, dout, in, weight, N, C, H, W,
                                                K, k, s, p)
                        : lcae_conv2d_backward(nn, din, dw, db, dout, in, weight, N, C, H, W,
                                               K, k, s, p);
        CHECK(rc == LCAE_OK);
        fx_comparef(din, nin, tol, "%s_din", cs);
        scale_in_place(dw, nw, 1.0f / rep);
        scale_in_place(db, K, 1.0f / rep);
        fx_comparef(dw, nw, tol, "%s_dweight", cs);
        fx_comparef(db, K, tol, "%s_dbias", cs);
        scale_in_place(dw, nw, (float)rep);
        scale_in_place(db, K, (float)rep);
        for (int64_t i = 0; i < nin; i++)
            din[i] = NAN;
    }
    /* without din (the first layer): the parameter gradients alone */
    memset(dw, 0, sizeof(float) * nw);
    memset(db, 0, sizeof(float) * K);
    rc = transposed
             ? lcae_convt2d_backward(nn, NULL, dw, db, dout, in, weight, N, C, H, W, K, k, s, p)
             : lcae_conv2d_backward(nn, NULL, dw, db, dout, in, weight, N, C, H, W, K, k, s, p);
    CHECK(rc == LCAE_OK);
    fx_comparef(dw, nw, tol, "%s_dweight", cs);
    free(in), free(weight), free(bias), free(dout), free(out), free(din), free(dw), free(db);
}

static void check_batchnorm(const char *cs)
{
    int m[4];
    fx_metaf(m, 4, "%s_meta", cs);
    int N = m[0], C = m[1], HW = m[2] * m[3];
    int64_t n = (int64_t)N * C * HW;
    float *in = fx_loadf("%s_in", cs);
    float *gamma = fx_loadf("%s_gamma", cs);
    float *beta = fx_loadf("%s_beta", cs);
    float *rmean = fx_loadf("%s_running_mean0", cs);
    float *rvar = fx_loadf("%s_running_var0", cs);
    float *dout = fx_loadf("%s_dout", cs);
    float *out = filled(n, NAN), *smean = filled(C, NAN), *sinv = filled(C, NAN);
    float *din = filled(n, NAN), *dg = filled(C, 0), *dbeta = filled(C, 0);
    float *rm0 = filled(C, 0), *rv0 = filled(C, 0);
    memcpy(rm0, rmean, sizeof(float) * C);
    memcpy(rv0, rvar, sizeof(float) * C);

    CHECK(lcae_batchnorm_forward_train(g_nn, out, in, gamma, beta, rmean, rvar, smean, sinv, N, C,
                                       HW, 0.1f, 1e-5f) == LCAE_OK);
    fx_comparef(out, n, tol, "%s_out", cs);
    fx_comparef(rmean, C, tol, "%s_running_mean", cs);
    fx_comparef(rvar, C, tol, "%s_running_var", cs);
    fx_comparef(smean, C, tol, "%s_save_mean", cs);
    fx_comparef(sinv, C, tol, "%s_save_invstd", cs);

    CHECK(lcae_batchnorm_backward(g_nn, din, dg, dbeta, dout, in, gamma, smean, sinv, N, C, HW) ==
          LCAE_OK);
    fx_comparef(din, n, tol, "%s_din", cs);
    fx_comparef(dg, C, tol, "%s_dgamma", cs);
    fx_comparef(dbeta, C, tol, "%s_dbeta", cs);
    /* din aliasing dout */
    float *alias = filled(n, 0);
    memcpy(alias, dout, sizeof(float) * n);
    CHECK(lcae_batchnorm_backward(g_nn, alias, dg, dbeta, alias, in, gamma, smean, sinv, N, C, HW) ==
          LCAE_OK);
    fx_comparef(alias, n, tol, "%s_din", cs);

    /* evaluation mode with the running statistics after the training step; in place */
    memcpy(out, in, sizeof(float) * n);
    CHECK(lcae_batchnorm_forward_eval(g_nn, out, out, gamma, beta, rmean, rvar, N, C, HW, 1e-5f) ==
          LCAE_OK);
    fx_comparef(out, n, tol, "%s_out_eval", cs);
    /* BatchNorm + ReLU in one pass: bit-identical to the two calls */
    float *fused = filled(n, NAN), *rm1 = filled(C, 0), *rv1 = filled(C, 0);
    memcpy(rm1, rm0, sizeof(float) * C);
    memcpy(rv1, rv0, sizeof(float) * C);
    CHECK(lcae_batchnorm_relu_forward_train(g_nn, fused, in, gamma, beta, rm1, rv1, smean, sinv,
                                            N, C, HW, 0.1f, 1e-5f) == LCAE_OK);
    memcpy(rm1, rm0, sizeof(float) * C);
    memcpy(rv1, rv0, sizeof(float) * C);
    CHECK(lcae_batchnorm_forward_train(g_nn, out, in, gamma, beta, rm1, rv1, smean, sinv, N, C,
                                       HW, 0.1f, 1e-5f) == LCAE_OK);
    lcae_relu_forward(g_nn, out, n);
    CHECK(!memcmp(fused, out, sizeof(float) * n));
    free(fused), free(rm1), free(rv1);
    /* the backward of ReLU(BatchNorm) in one call: bit-identical to the output recomputed,
     * lcae_relu_backward, then lcae_batchnorm_backward */
    float *d1 = filled(n, 0), *d2 = filled(n, 0), *g1 = filled(2 * C, 0), *g2 = filled(2 * C, 0);
    memcpy(d1, dout, sizeof(float) * n);
    memcpy(d2, dout, sizeof(float) * n);
    CHECK(lcae_batchnorm_relu_backward(g_nn, d1, g1, g1 + C, d1, in, gamma, beta, smean, sinv,
                                       N, C, HW) == LCAE_OK);
    lcae_batchnorm_relu_apply(g_nn, out, in, gamma, beta, smean, sinv, N, C, HW);
    lcae_relu_backward(g_nn, d2, out, n);
    CHECK(lcae_batchnorm_backward(g_nn, d2, g2, g2 + C, d2, in, gamma, smean, sinv, N, C, HW) ==
          LCAE_OK);
    CHECK(!memcmp(d1, d2, sizeof(float) * n) && !memcmp(g1, g2, sizeof(float) * 2 * C));
    int masked = 0; /* the case masks some gradients, so the check means something */
    for (int64_t i = 0; i < n; i++)
        masked += out[i] == 0;
    CHECK(masked > 0 && masked < n);
    free(d1), free(d2), free(g1), free(g2);
    /* training mode in place */
    memcpy(out, in, sizeof(float) * n);
    memcpy(rmean, rm0, sizeof(float) * C);
    memcpy(rvar, rv0, sizeof(float) * C);
    CHECK(lcae_batchnorm_forward_train(g_nn, out, out, gamma, beta, rmean, rvar, smean, sinv, N, C,
                                       HW, 0.1f, 1e-5f) == LCAE_OK);
    fx_comparef(out, n, tol, "%s_out", cs);
    free(in), free(gamma), free(beta), free(rmean), free(rvar), free(dout), free(out);
    free(smean), free(sinv), free(din), free(dg), free(dbeta), free(rm0), free(rv0);
    free(alias);
}

static void check_relu(void)
{
    int64_t n;
    float *x = fx_load("relu_in", &n), *d = fx_load("relu_dout", NULL);
    lcae_relu_forward(g_nn, x, n);
    fx_compare("relu_out", x, n, 0);
    lcae_relu_backward(g_nn, d, x, n);
    fx_compare("relu_din", d, n, 0);
    free(x), free(d);
}

static void check_linear(void)
{
    int m[3];
    fx_meta("linear_meta", m, 3);
    int N = m[0], I = m[1], O = m[2];
    float *in = fx_load("linear_in", NULL), *w = fx_load("linear_weight", NULL);
    float *b = fx_load("linear_bias", NULL), *dout = fx_load("linear_dout", NULL);
    float *out = filled((int64_t)N * O, NAN), *din = filled((int64_t)N * I, NAN);
    float *dw = filled((int64_t)O * I, 0), *db = filled(O, 0);
    CHECK(lcae_linear_forward(g_nn, out, in, w, b, N, I, O) == LCAE_OK);
    fx_compare("linear_out", out, (int64_t)N * O, tol);
    CHECK(lcae_linear_backward(g_nn, din, dw, db, dout, in, w, N, I, O) == LCAE_OK);
    fx_compare("linear_din", din, (int64_t)N * I, tol);
    fx_compare("linear_dweight", dw, (int64_t)O * I, tol);
    fx_compare("linear_dbias", db, O, tol);
    free(in), free(w), free(b), free(dout), free(out), free(din), free(dw), free(db);
}

/* A Linear large enough to be split over threads, against plain double loops. */
static void check_linear_split(void)
{
    int N = 8, I = 300, O = 70;
    float *in = filled((int64_t)N * I, 0), *w = filled((int64_t)O * I, 0), *b = filled(O, 0);
    float *dout = filled((int64_t)N * O, 0), *out = filled((int64_t)N * O, NAN);
    float *din = filled((int64_t)N * I, NAN), *dw = filled((int64_t)O * I, 0), *db = filled(O, 0);
    for (int i = 0; i < N * I; i++)
        in[i] = sinf(0.7f * i);
    for (int i = 0; i < O * I; i++)
        w[i] = cosf(0.3f * i) * 0.1f;
    for (int i = 0; i < O; i++)
        b[i] = 0.01f * i;
    for (int i = 0; i < N * O; i++)
        dout[i] = sinf(1.1f * i + 2);
    CHECK(lcae_linear_forward(g_nn, out, in, w, b, N, I, O) == LCAE_OK);
    CHECK(lcae_linear_backward(g_nn, din, dw, db, dout, in, w, N, I, O) == LCAE_OK);
    double worst = 0;
    for (int n = 0; n < N; n++)
        for (int o = 0; o < O; o++) {
            double s = b[o];
            for (int i = 0; i < I; i++)
                s += (double)in[n * I + i] * w[o * I + i];
            worst = fmax(worst, fabs(out[n * O + o] - s));
        }
    for (int n = 0; n < N; n++)
        for (int i = 0; i < I; i++) {
            double s = 0;
            for (int o = 0; o < O; o++)
                s += (double)dout[n * O + o] * w[o * I + i];
            worst = fmax(worst, fabs(din[n * I + i] - s));
        }
    for (int o = 0; o < O; o++) {
        double sb = 0;
        for (int n = 0; n < N; n++)
            sb += dout[n * O + o];
        worst = fmax(worst, fabs(db[o] - sb));
        for (int i = 0; i < I; i++) {
            double s = 0;
            for (int n = 0; n < N; n++)
                s += (double)dout[n * O + o] * in[n * I + i];
            worst = fmax(worst, fabs(dw[o * I + i] - s));
        }
    }
    /* sums of <= 300 products of values <= 1: float rounding ~1e-5 */
    CHECK_MSG(worst < 1e-4, "split Linear differs from the double loops by %g", worst);
    free(in), free(w), free(b), free(dout), free(out), free(din), free(dw), free(db);
}

/* Work is handed to threads dynamically; the results must not depend on which thread got
 * what: two runs give bit-identical outputs and gradients (im2col with C = 6, K = 5;
 * Winograd with C = 16, K = 12, each tile size). */
static void check_determinism(lcae_nn *nn, int C, int K)
{
    int N = 16, H = 12, k = 3;
    size_t nin = (size_t)N * C * H * H, nout = (size_t)N * K * H * H, nw = (size_t)K * C * k * k;
    float *in = filled(nin, 0), *w = filled(nw, 0), *b = filled(K, 0.5f);
    float *dout = filled(nout, 0), *out[2], *din[2], *dw[2], *db[2];
    for (size_t i = 0; i < nin; i++)
        in[i] = sinf(0.37f * i);
    for (size_t i = 0; i < nw; i++)
        w[i] = cosf(1.3f * i);
    for (size_t i = 0; i < nout; i++)
        dout[i] = sinf(0.11f * i + 1);
    for (int r = 0; r < 2; r++) {
        out[r] = filled(nout, 0), din[r] = filled(nin, 0), dw[r] = filled(nw, 0);
        db[r] = filled(K, 0);
        CHECK(lcae_conv2d_forward(nn, out[r], in, w, b, N, C, H, H, K, k, 1, 1) == LCAE_OK);
        CHECK(lcae_conv2d_backward(nn, din[r], dw[r], db[r], dout, in, w, N, C, H, H, K, k, 1,
                                   1) == LCAE_OK);
    }
    CHECK(!memcmp(out[0], out[1], sizeof(float) * nout));
    CHECK(!memcmp(din[0], din[1], sizeof(float) * nin));
    CHECK(!memcmp(dw[0], dw[1], sizeof(float) * nw));
    CHECK(!memcmp(db[0], db[1], sizeof(float) * K));
    for (int r = 0; r < 2; r++)
        free(out[r]), free(din[r]), free(dw[r]), free(db[r]);
    free(in), free(w), free(b), free(dout);
}

/* A Winograd forward pass does not depend on the thread count (each output tile is one
 * block's): bit-identical at 1 and 2 threads, with C K = 48 x 40 filter pairs, enough for
 * the filter transforms to run in parallel (winograd.c's WG_FILTER_PAR_MIN). */
static void check_forward_threads(lcae_nn *nn)
{
    int N = 2, C = 48, K = 40, H = 10;
    size_t nin = (size_t)N * C * H * H, nout = (size_t)N * K * H * H, nw = (size_t)K * C * 9;
    float *in = filled(nin, 0), *w = filled(nw, 0), *b = filled(K, 0.25f), *out[2];
    for (size_t i = 0; i < nin; i++)
        in[i] = sinf(0.29f * i);
    for (size_t i = 0; i < nw; i++)
        w[i] = cosf(0.7f * i) / 3;
    for (int t = 0; t < 2; t++) {
        omp_set_num_threads(t + 1);
        out[t] = filled(nout, 0);
        CHECK(lcae_conv2d_forward(nn, out[t], in, w, b, N, C, H, H, K, 3, 1, 1) == LCAE_OK);
    }
    CHECK_MSG(!memcmp(out[0], out[1], sizeof(float) * nout),
              "Winograd forward (%s) differs between 1 and 2 threads", getenv("LCAE_CONV"));
    free(in), free(w), free(b), free(out[0]), free(out[1]);
}

int main(void)
{
    lcae_nn *nn;
    CHECK(lcae_nn_create(&nn) == LCAE_OK);
    g_nn = nn;
    const char *convs[] = {"conv_first", "conv_3x3", "conv_down", "conv_down_odd",
                           "conv_down_wide"};
    for (size_t i = 0; i < sizeof convs / sizeof *convs; i++)
        check_conv(nn, convs[i], 0);
    /* the conv_wino cases (tools/make_winograd_fixture.py) go through Winograd: with the
     * per-layer rule (F(4x4) for conv_wino4, F(2x2) for the others), then each with
     * F(2x2, 3x3) and with F(4x4, 3x3) forced */
    const char *winos[] = {"conv_wino", "conv_wino_pad0", "conv_wino_deep", "conv_wino4"};
    const char *forced[] = {NULL, "winograd-2x2", "winograd-4x4"};
    for (int f = 0; f < 3; f++) {
        if (forced[f])
            setenv("LCAE_CONV", forced[f], 1);
        for (size_t i = 0; i < sizeof winos / sizeof *winos; i++)
            check_conv(nn, winos[i], 0);
        CHECK(!strcmp(lcae_conv2d_algorithm(nn, 8, 7, 6, 8, 3, 1, 0),
                      forced[f] ? forced[f] : "winograd-2x2"));
        CHECK(!strcmp(lcae_conv2d_algorithm(nn, 16, 33, 32, 12, 3, 1, 1),
                      forced[f] ? forced[f] : "winograd-4x4"));
    }
    unsetenv("LCAE_CONV");
    CHECK(!strcmp(lcae_conv2d_algorithm(nn, 16, 9, 10, 12, 3, 1, 1), "winograd-2x2"));
    CHECK(!strcmp(lcae_conv2d_algorithm(nn, 64, 8, 8, 64, 3, 1, 1), "winograd-2x2"));
    const char *convts[] = {"convt_up", "convt_rect", "convt_3x3", "convt_wide"};
    for (size_t i = 0; i < sizeof convts / sizeof *convts; i++)
        check_conv(nn, convts[i], 1);
    check_batchnorm("bn");
    check_batchnorm("bn_small");
    check_relu();
    check_linear();
    check_linear_split();
    /* determinism of im2col, then of F(2x2) and F(4x4) forced, at 1 and 2 threads */
    for (int threads = 1; threads <= 2; threads++) {
        omp_set_num_threads(threads);
        check_determinism(nn, 6, 5);
        for (int f = 1; f < 3; f++) {
            setenv("LCAE_CONV", forced[f], 1);
            check_determinism(nn, 16, 12);
        }
        unsetenv("LCAE_CONV");
    }
    for (int f = 1; f < 3; f++) {
        setenv("LCAE_CONV", forced[f], 1);
        check_forward_threads(nn);
    }
    unsetenv("LCAE_CONV");
    lcae_nn_free(nn);
    return test_done("test_nn_layers");
}
