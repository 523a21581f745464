/* The nn operations of the polar model against PyTorch (tests/fixtures/nn,
 * tools/make_nn_fixtures.py): circular padding, every stride-th row, roll, mean-max and
 * adaptive average pooling, the power mean (forward and backward by autograd), polar sampling
 * (grid_sample), DFT magnitudes (torch.fft.rfft), standardization; and by brute force
 * the block copy (the z concatenation), fill and the data-parallel sum hook. Copies are
 * compared exactly (tolerance 0: they move floats without arithmetic, except the
 * circular padding's backward, which adds two floats as PyTorch does); sums of at most
 * 96 terms in double within 1e-6; the sampling, which PyTorch computes in double here
 * and lcae in float weights, within 1e-5. */
#include "nn_fixture.h"

static lcae_nn *g_nn;

static float *zeros(int64_t n)
{
    return calloc((size_t)(n ? n : 1), sizeof(float));
}

static void check_pad_circular(void)
{
    int m[3];
    fx_meta("padc_meta", m, 3);
    int64_t n = m[0], h = m[1], w = m[2], np = n * (h + 2) * (w + 2);
    float *in = fx_load("padc_in", NULL), *dout = fx_load("padc_dout", NULL);
    float *out = zeros(np), *din = zeros(n * h * w);
    lcae_pad_circular_forward(g_nn, out, in, n, (int)h, (int)w);
    fx_compare("padc_out", out, np, 0);
    lcae_pad_circular_backward(g_nn, din, dout, n, (int)h, (int)w);
    fx_compare("padc_din", din, n * h * w, 1e-6);
    free(in), free(dout), free(out), free(din);
}

/* Mean and maximum (meanmax: meta N, C, L) or power mean (pmeanP: meta N, C, L, P). The
 * backward must overwrite din. */
static void check_meanmax(const char *cs, const int *m)
{
    int N = m[0], C = m[1], L = m[2], order = strcmp(cs, "meanmax") ? m[3] : 0;
    float *in = fx_loadf("%s_in", cs), *dout = fx_loadf("%s_dout", cs);
    float *out = zeros((int64_t)N * 2 * C), *din = zeros((int64_t)N * C * L);
    for (int64_t j = 0; j < (int64_t)N * C * L; j++)
        din[j] = 5.0f;
    lcae_meanmax_pool_forward(g_nn, out, in, N, C, L, order);
    fx_comparef(out, (int64_t)N * 2 * C, 1e-6, "%s_out", cs);
    lcae_meanmax_pool_backward(g_nn, din, dout, in, N, C, L, order);
    fx_comparef(din, (int64_t)N * C * L, 1e-6, "%s_din", cs);
    free(in), free(dout), free(out), free(din);
}

/* Every stride-th row: meta n, h, w, stride. */
static void check_rows(const char *cs, const int *m)
{
    int64_t n = m[0], h = m[1], w = m[2], ho = (h - 1) / m[3] + 1;
    float *in = fx_loadf("%s_in", cs), *dout = fx_loadf("%s_dout", cs);
    float *out = zeros(n * ho * w), *din = zeros(n * h * w);
    for (int64_t j = 0; j < n * h * w; j++) /* the backward must overwrite */
        din[j] = 5.0f;
    lcae_row_stride_forward(g_nn, out, in, n, (int)h, (int)w, m[3]);
    fx_comparef(out, n * ho * w, 0, "%s_out", cs);
    lcae_row_stride_backward(g_nn, din, dout, n, (int)h, (int)w, m[3]);
    fx_comparef(din, n * h * w, 0, "%s_din", cs);
    free(in), free(dout), free(out), free(din);
}

/* all cases roll the same input (rows, w) by their shift */
static void check_roll(const char *cs, const int *m)
{
    float *in = fx_load("roll_in", NULL), *out = zeros((int64_t)m[0] * m[1]);
    lcae_roll(g_nn, out, in, m[0], m[1], m[2]);
    fx_comparef(out, (int64_t)m[0] * m[1], 0, "%s_out", cs);
    free(in), free(out);
}

/* The backward adds to din: it starts at 1 here, and 1 is taken off before comparing. */
static void check_adaptive_avg(const char *cs, const int *m)
{
    int64_t rows = m[0], L = m[1], bins = m[2];
    float *in = fx_loadf("%s_in", cs), *dout = fx_loadf("%s_dout", cs);
    float *out = zeros(rows * bins), *din = zeros(rows * L);
    lcae_adaptive_avg_pool_forward(g_nn, out, in, rows, (int)L, (int)bins);
    fx_comparef(out, rows * bins, 1e-6, "%s_out", cs);
    for (int64_t j = 0; j < rows * L; j++)
        din[j] = 1.0f;
    lcae_adaptive_avg_pool_backward(g_nn, din, dout, rows, (int)L, (int)bins);
    for (int64_t j = 0; j < rows * L; j++)
        din[j] -= 1.0f;
    fx_comparef(din, rows * L, 1e-6, "%s_din", cs);
    free(in), free(dout), free(out), free(din);
}

static void check_polar_sample(const char *cs, const int *m)
{
    int N = m[0], H = m[1], W = m[2], nr = m[3], nt = m[4];
    float *in = fx_loadf("%s_in", cs), *par = fx_loadf("%s_params", cs);
    float *out = zeros((int64_t)N * nr * nt);
    lcae_polar_sample(g_nn, out, in, N, H, W, nr, nt, par[0], par[1], par[2], par[3]);
    fx_comparef(out, (int64_t)N * nr * nt, 1e-5, "%s_out", cs);
    free(in), free(par), free(out);
}

static const struct {
    const char *family; /* the cases' names, "%d" their index */
    int cases, nmeta;
    void (*check)(const char *cs, const int *m);
} families[] = {
    {"rows%d", 3, 4, check_rows},
    {"roll%d", 4, 3, check_roll},
    {"apool%d", 3, 3, check_adaptive_avg},
    {"psample%d", 2, 5, check_polar_sample},
};

static void check_families(void)
{
    for (size_t f = 0; f < sizeof families / sizeof *families; f++)
        for (int i = 0; i < families[f].cases; i++) {
            char cs[16];
            int m[8];
            snprintf(cs, sizeof cs, families[f].family, i);
            fx_metaf(m, families[f].nmeta, "%s_meta", cs);
            families[f].check(cs, m);
        }
}

static void check_dft(void)
{
    int m[3];
    fx_meta("dft_meta", m, 3);
    float *in = fx_load("dft_in", NULL), *out = zeros((int64_t)m[0] * m[2]);
    CHECK(lcae_dft_magnitudes(g_nn, out, in, m[0], m[1], m[2]) == LCAE_OK);
    fx_compare("dft_out", out, (int64_t)m[0] * m[2], 1e-6);
    free(in), free(out);
}

static void check_standardize(void)
{
    int m[2];
    fx_meta("stdz_meta", m, 2);
    float *x = fx_load("stdz_in", NULL), *mean = fx_load("stdz_mean", NULL);
    float *sd = fx_load("stdz_std", NULL), *par = fx_load("stdz_params", NULL);
    lcae_standardize(g_nn, x, mean, sd, par[0], m[0], m[1]);
    fx_compare("stdz_out", x, (int64_t)m[0] * m[1], 1e-6);
    free(x), free(mean), free(sd), free(par);
}

/* The concatenation of two blocks of columns and its backward (one part added, one
 * copied), and fill, against index loops. */
static void check_copy_block_fill(void)
{
    enum { N = 5, A = 3, B = 4, D = A + B };
    float a[N * A], b[N * B], z[N * D], da[N * A], db[N * B];
    for (int i = 0; i < N * A; i++)
        a[i] = (float)i + 0.25f, da[i] = 100.0f;
    for (int i = 0; i < N * B; i++)
        b[i] = -(float)i, db[i] = 7.0f;
    lcae_copy_block(g_nn, z, D, a, A, N, A, 0);
    lcae_copy_block(g_nn, z + A, D, b, B, N, B, 0);
    int exact = 1;
    for (int n = 0; n < N; n++)
        for (int j = 0; j < D; j++)
            exact &= z[n * D + j] == (j < A ? a[n * A + j] : b[n * B + j - A]);
    CHECK_MSG(exact, "copy_block: the concatenation differs from [a | b]");
    lcae_copy_block(g_nn, da, A, z, D, N, A, 1);
    lcae_copy_block(g_nn, db, B, z + A, D, N, B, 0);
    exact = 1;
    for (int n = 0; n < N; n++) {
        for (int j = 0; j < A; j++)
            exact &= da[n * A + j] == 100.0f + a[n * A + j];
        for (int j = 0; j < B; j++)
            exact &= db[n * B + j] == b[n * B + j];
    }
    CHECK_MSG(exact, "copy_block: the split (one part added, one copied) differs");
    float f[70000]; /* past the one-thread threshold */
    lcae_fill(g_nn, f, -2.5f, 70000);
    exact = 1;
    for (int i = 0; i < 70000; i++)
        exact &= f[i] == -2.5f;
    CHECK_MSG(exact, "fill: a value differs from -2.5");
}

/* The data-parallel sum: without a hook a no-op; with one, the hook's result (a fake
 * "other process" that adds 1 to every value) in place, and its status passed on. */
static int add_one(float *x, int64_t n)
{
    for (int64_t i = 0; i < n; i++)
        x[i] += 1.0f;
    return LCAE_OK;
}

static int fails(float *x, int64_t n)
{
    (void)x, (void)n;
    return LCAE_EFAIL;
}

static void check_sync_sum(void)
{
    float g[4] = {1, 2, 3, 4};
    CHECK(lcae_nn_sync_sum(g_nn, g, 4) == LCAE_OK && g[0] == 1 && g[3] == 4);
    lcae_nn_sync s = {.sum_floats = add_one, .batch = 8};
    lcae_nn_set_sync(g_nn, &s);
    CHECK(lcae_nn_sync_sum(g_nn, g, 4) == LCAE_OK && g[0] == 2 && g[3] == 5);
    s.sum_floats = fails;
    CHECK(lcae_nn_sync_sum(g_nn, g, 4) == LCAE_EFAIL);
    lcae_nn_set_sync(g_nn, NULL);
}

int main(void)
{
    CHECK(lcae_nn_create(&g_nn) == LCAE_OK);
    check_pad_circular();
    {
        const struct {
            const char *cs;
            int nmeta;
        } pools[] = {{"meanmax", 3}, {"pmean4", 4}, {"pmean3", 4}};
        for (int k = 0; k < 3; k++) {
            int m[4];
            fx_metaf(m, pools[k].nmeta, "%s_meta", pools[k].cs);
            check_meanmax(pools[k].cs, m);
        }
    }
    check_families();
    check_dft();
    check_standardize();
    check_copy_block_fill();
    check_sync_sum();
    lcae_nn_free(g_nn);
    return test_done("test_nn_polar");
}
