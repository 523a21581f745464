/* src/nn losses, Adam and rotation against PyTorch / torchvision (tests/fixtures/nn,
 * tools/make_nn_fixtures.py; the MSE's: tools/make_schedule_fixture.py). Losses and their
 * gradients include the kinks: differences exactly at the clip (gradient passes) and
 * exactly 0 (gradient 0). Adam: five steps of torch.optim.Adam, parameters and moments
 * after each. Rotation: torchvision's rotate,
 * bilinear and nearest, with a default and an explicit centre and a non-zero fill. */
#include "nn_fixture.h"

/* the context of the nn calls that need no other state */
static lcae_nn *g_nn;

static const double tol = 1e-4;

/* The two reconstruction losses with a case's parameters (clip and scale; scale). */
static double l1_of(const float *pred, const float *target, float *d, int64_t n,
                    const float *par)
{
    return lcae_clipped_l1(g_nn, pred, target, d, n, par[0], par[1]);
}

static double mse_of(const float *pred, const float *target, float *d, int64_t n,
                     const float *par)
{
    return lcae_mse(g_nn, pred, target, d, n, par[0]);
}

/* A loss case ("l1", "mse"): the loss and dpred against PyTorch, and the loss again
 * without dpred; dpred (n) into d for the checks at the kinks. */
static void check_loss(const char *cs, double (*loss_of)(const float *, const float *,
                                                         float *, int64_t, const float *),
                       float *d, int n, float *par)
{
    float *pred = fx_loadf("%s_pred", cs), *target = fx_loadf("%s_target", cs);
    float *want = fx_loadf("%s_loss", cs);
    CHECK_CLOSE(loss_of(pred, target, d, n, par), want[0], tol);
    fx_comparef(d, n, tol, "%s_dpred", cs);
    CHECK_CLOSE(loss_of(pred, target, NULL, n, par), want[0], tol);
    free(pred), free(target), free(want);
}

/* Clipped L1 at the kinks, exactly: equal (0), at +-clip (+-1/n * scale), beyond (0). */
static void check_clipped_l1(void)
{
    int n;
    fx_meta("l1_meta", &n, 1);
    float *par = fx_load("l1_params", NULL), *d = malloc(sizeof(float) * n);
    check_loss("l1", l1_of, d, n, par);
    float g = par[1] / n;
    CHECK(d[0] == 0 && d[3] == 0);
    CHECK(d[4] == g && d[5] == -g && d[6] == 0 && d[7] == 0);
    free(par), free(d);
}

/* MSE (tools/make_schedule_fixture.py writes its fixture); differences of 0 have
 * gradient exactly 0. */
static void check_mse(void)
{
    int n;
    fx_meta("mse_meta", &n, 1);
    float *par = fx_load("mse_params", NULL), *d = malloc(sizeof(float) * n);
    check_loss("mse", mse_of, d, n, par);
    CHECK(d[0] == 0 && d[4] == 0);
    free(par), free(d);
}

typedef double (*rot_loss_fn)(lcae_nn *, const float *, const float *, float *, float *, int,
                              int, int, float);

/* A rotation loss against its fixture NAME_* (tools/make_nn_fixtures.py): the loss with
 * and without gradients, and both gradients (overwritten everywhere, also outside the
 * first dims). The scaled form ("rotw", its gradient through the batch spread included)
 * is also checked for the property it is for: the loss of c z is the loss of z; and with
 * one pattern (no spread, no gradient through it) the loss stays finite. */
static void check_rot_loss(const char *name, rot_loss_fn loss_fn, int scaled)
{
    char key[32];
    int m[3];
    snprintf(key, sizeof key, "%s_meta", name);
    fx_meta(key, m, 3);
    int N = m[0], D = m[1], dims = m[2];
    float *a[4];
    const char *parts[4] = {"z1", "z2", "params", "loss"};
    for (int k = 0; k < 4; k++) {
        snprintf(key, sizeof key, "%s_%s", name, parts[k]);
        a[k] = fx_load(key, NULL);
    }
    float *z1 = a[0], *z2 = a[1], scale = a[2][0], want = a[3][0];
    float *d1 = malloc(sizeof(float) * N * D), *d2 = malloc(sizeof(float) * N * D);
    for (int i = 0; i < N * D; i++)
        d1[i] = d2[i] = NAN;
    CHECK_CLOSE(loss_fn(g_nn, z1, z2, d1, d2, N, D, dims, scale), want, tol);
    snprintf(key, sizeof key, "%s_dz1", name);
    fx_compare(key, d1, (int64_t)N * D, tol);
    snprintf(key, sizeof key, "%s_dz2", name);
    fx_compare(key, d2, (int64_t)N * D, tol);
    CHECK_CLOSE(loss_fn(g_nn, z1, z2, NULL, NULL, N, D, dims, scale), want, tol);
    if (scaled) {
        for (int i = 0; i < N * D; i++)
            z1[i] *= 4.0f, z2[i] *= 4.0f;
        CHECK_CLOSE(loss_fn(g_nn, z1, z2, NULL, NULL, N, D, dims, scale), want, 1e-3);
        double one = loss_fn(g_nn, z1, z2, d1, d2, 1, D, dims, scale);
        CHECK(isfinite(one) && isfinite(d1[0]));
    }
    for (int k = 0; k < 4; k++)
        free(a[k]);
    free(d1), free(d2);
}

static void check_adam(void)
{
    int m[2];
    fx_meta("adam_meta", m, 2);
    int n = m[0], steps = m[1];
    float *par = fx_load("adam_params", NULL), *p = fx_load("adam_param0", NULL);
    float *mo = calloc(n, sizeof(float)), *v = calloc(n, sizeof(float));
    for (int t = 0; t < steps; t++) {
        float *g = fx_loadf("adam_grad%d", t);
        lcae_adam_step(g_nn, p, g, mo, v, n, t + 1, par[0], par[1], par[2], par[3]);
        fx_comparef(p, n, tol, "adam_param%d", t + 1);
        fx_comparef(mo, n, tol, "adam_m%d", t + 1);
        fx_comparef(v, n, tol, "adam_v%d", t + 1);
        free(g);
    }
    /* the update itself, not just the parameter (which moves by ~lr): compare
     * param - param0 with PyTorch's over all steps */
    float *p0 = fx_load("adam_param0", NULL);
    float *pw = fx_loadf("adam_param%d", steps);
    double worst = 0;
    for (int i = 0; i < n; i++) {
        double dw = (double)pw[i] - p0[i], dg = (double)p[i] - p0[i];
        worst = fmax(worst, fabs(dg - dw) / fmax(fabs(dw), par[0] * 1e-2));
    }
    /* the difference of two floats ~1 carries their rounding (6e-8) against an update of
     * ~5 * lr = 5e-3: 1e-4 relative is at that limit, so 1e-3 */
    CHECK_MSG(worst < 1e-3, "Adam's update differs from PyTorch's by %g relative", worst);
    free(par), free(p), free(mo), free(v), free(p0), free(pw);
}

static void check_rotation(void)
{
    int count;
    fx_meta("rot_count", &count, 1);
    for (int c = 0; c < count; c++) {
        int m[3];
        fx_metaf(m, 3, "rotate%d_meta", c);
        int N = m[0], H = m[1], W = m[2];
        int64_t n = (int64_t)N * H * W;
        float *par = fx_loadf("rotate%d_params", c);
        float *in = fx_loadf("rotate%d_in", c), *out = malloc(sizeof(float) * n);
        float *tie = fx_loadf("rotate%d_tie", c);
        /* float32 parameters: the fixture's centres are exact in float */
        lcae_rotate_bilinear(g_nn, out, in, N, H, W, par[0], par[1], par[2], par[3]);
        fx_comparef(out, n, tol, "rotate%d_bilinear", c);
        lcae_rotate_nearest(g_nn, out, in, N, H, W, par[0], par[1], par[2], par[3]);
        float *want = fx_loadf("rotate%d_nearest", c);
        int bad = 0, ties = 0;
        for (int64_t i = 0; i < n; i++) {
            if (tie[i % (H * W)]) { /* a tie: either neighbour is right */
                ties++;
                continue;
            }
            /* exact but for the fixture's (x - fill) + fill rounding */
            bad += fabsf(out[i] - want[i]) > 1e-6f * fmaxf(1.0f, fabsf(want[i]));
        }
        CHECK_MSG(bad == 0, "rotate%d_nearest: %d of %lld pixels differ from torchvision (%d "
                  "ties skipped)", c, bad, (long long)n, ties);
        CHECK_MSG(ties * 20 < n, "rotate%d_nearest: too many ties to be a test (%d)", c, ties);
        free(par), free(in), free(out), free(tie), free(want);
    }
}

int main(void)
{
    CHECK(lcae_nn_create(&g_nn) == LCAE_OK);
    check_clipped_l1();
    check_mse();
    check_rot_loss("rot", lcae_rot_loss, 0);
    check_rot_loss("rotw", lcae_rot_loss_scaled, 1);
    check_adam();
    check_rotation();
    lcae_nn_free(g_nn);
    return test_done("test_nn_train");
}
