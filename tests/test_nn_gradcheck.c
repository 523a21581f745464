/* Finite-difference checks of every backward function in src/nn: for a scalar
 * L = sum(out * R) with fixed random R, the analytic gradients (from backward, given
 * dout = R) against central differences (L(x + h) - L(x - h)) / 2h, one element at a time,
 * with L accumulated in double from the float outputs. Conv, convT and Linear are linear
 * in each argument, so the difference quotient is exact but for float rounding (h = 0.05,
 * bound 1e-4 relative to max(1, |gradient|); measured 1e-5); BatchNorm, ReLU and the
 * losses are smooth away from their kinks, which the inputs avoid, and the quotient's
 * float rounding grows as 1/h (h = 1e-3, bound 2e-3; measured 1.3e-4). */
#include <omp.h>

#include "test_util.h"

#include "lcae/nn.h"

static uint64_t rng = 88172645463325252ull;
static float randu(void) /* uniform in [-1, 1) */
{
    rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
    return (float)((rng >> 11) * (1.0 / 9007199254740992.0)) * 2 - 1;
}
static float *randv(int64_t n, float scale)
{
    float *x = malloc(sizeof(float) * (n ? n : 1));
    for (int64_t i = 0; i < n; i++)
        x[i] = randu() * scale;
    return x;
}

/* A layer as a function of its argument buffers: forward writes `out` from args, the
 * loss is sum(out * R). */
typedef struct layer layer;
struct layer {
    const char *name;
    float *args[4];  /* perturbed buffers (input, weight, bias, ...) */
    int64_t len[4];  /* their lengths */
    float *grad[4];  /* analytic gradients of L wrt each */
    int nargs;
    float *out, *R;
    int64_t nout;
    void (*forward)(layer *);
    void *ctx;
    int shape[8];
};

static double loss_of(layer *l)
{
    l->forward(l);
    double s = 0;
    for (int64_t i = 0; i < l->nout; i++)
        s += (double)l->out[i] * l->R[i];
    return s;
}

static void gradcheck(layer *l, float h, double bound)
{
    for (int a = 0; a < l->nargs; a++) {
        double worst = 0;
        int64_t worst_i = 0;
        double worst_fd = 0;
        for (int64_t i = 0; i < l->len[a]; i++) {
            float keep = l->args[a][i];
            l->args[a][i] = keep + h;
            double up = loss_of(l);
            l->args[a][i] = keep - h;
            double down = loss_of(l);
            l->args[a][i] = keep;
            /* the step actually taken in float */
            double fd = (up - down) / ((double)(keep + h) - (double)(keep - h));
            double err = fabs(fd - l->grad[a][i]) / fmax(1.0, fabs(fd));
            if (!(err <= worst)) {
                worst = isnan(err) ? INFINITY : err;
                worst_i = i;
                worst_fd = fd;
            }
        }
        CHECK_MSG(worst <= bound, "%s: gradient of argument %d [%lld]: %.7g vs difference %.7g",
                  l->name, a, (long long)worst_i, l->grad[a][worst_i], worst_fd);
    }
}

/* ---- the layers ------------------------------------------------------------------- */
static void conv_fwd(layer *l)
{
    int *s = l->shape;
    int rc = s[7] ? lcae_convt2d_forward(l->ctx, l->out, l->args[0], l->args[1], l->args[2],
                                         s[0], s[1], s[2], s[3], s[4], s[5], s[6], 1)
                  : lcae_conv2d_forward(l->ctx, l->out, l->args[0], l->args[1], l->args[2],
                                        s[0], s[1], s[2], s[3], s[4], s[5], s[6], 1);
    CHECK(rc == LCAE_OK);
}

/* N, C, H, W, K, k, stride (pad 1), transposed */
static void check_conv(lcae_nn *nn, const char *name, int N, int C, int H, int W, int K, int k,
                       int stride, int transposed)
{
    int Ho = transposed ? (H - 1) * stride - 2 + k : lcae_conv_out_size(H, k, stride, 1);
    int Wo = transposed ? (W - 1) * stride - 2 + k : lcae_conv_out_size(W, k, stride, 1);
    layer l = {.name = name, .nargs = 3, .forward = conv_fwd, .ctx = nn,
               .shape = {N, C, H, W, K, k, stride, transposed}};
    l.len[0] = (int64_t)N * C * H * W;
    l.len[1] = (int64_t)K * C * k * k;
    l.len[2] = K;
    l.nout = (int64_t)N * K * Ho * Wo;
    for (int a = 0; a < 3; a++) {
        l.args[a] = randv(l.len[a], 1);
        l.grad[a] = calloc(l.len[a], sizeof(float));
    }
    l.out = malloc(sizeof(float) * l.nout);
    l.R = randv(l.nout, 1);
    int rc = transposed ? lcae_convt2d_backward(nn, l.grad[0], l.grad[1], l.grad[2], l.R,
                                                l.args[0], l.args[1], N, C, H, W, K, k, stride, 1)
                        : lcae_conv2d_backward(nn, l.grad[0], l.grad[1], l.grad[2], l.R,
                                               l.args[0], l.args[1], N, C, H, W, K, k, stride, 1);
    CHECK(rc == LCAE_OK);
    gradcheck(&l, 0.05f, 1e-4);
    for (int a = 0; a < 3; a++)
        free(l.args[a]), free(l.grad[a]);
    free(l.out), free(l.R);
}

static float bn_rm[8], bn_rv[8], bn_sm[8], bn_si[8];
static void bn_fwd(layer *l)
{
    int *s = l->shape;
    CHECK(lcae_batchnorm_forward_train(l->out, l->args[0], l->args[1], l->args[2], bn_rm, bn_rv,
                                       bn_sm, bn_si, s[0], s[1], s[2], 0.1f, 1e-5f) == LCAE_OK);
}

static void check_batchnorm(void)
{
    int N = 3, C = 2, HW = 6;
    layer l = {.name = "batchnorm", .nargs = 3, .forward = bn_fwd, .shape = {N, C, HW}};
    l.len[0] = (int64_t)N * C * HW;
    l.len[1] = l.len[2] = C;
    l.nout = l.len[0];
    for (int a = 0; a < 3; a++) {
        l.args[a] = randv(l.len[a], 1);
        l.grad[a] = calloc(l.len[a], sizeof(float));
    }
    l.out = malloc(sizeof(float) * l.nout);
    l.R = randv(l.nout, 1);
    bn_fwd(&l);
    CHECK(lcae_batchnorm_backward(l.grad[0], l.grad[1], l.grad[2], l.R, l.args[0], l.args[1],
                                  bn_sm, bn_si, N, C, HW) == LCAE_OK);
    gradcheck(&l, 1e-3f, 2e-3);
    for (int a = 0; a < 3; a++)
        free(l.args[a]), free(l.grad[a]);
    free(l.out), free(l.R);
}

static void relu_fwd(layer *l)
{
    memcpy(l->out, l->args[0], sizeof(float) * l->nout);
    lcae_relu_forward(l->out, l->nout);
}

static void check_relu(void)
{
    layer l = {.name = "relu", .nargs = 1, .forward = relu_fwd, .nout = 40};
    l.len[0] = 40;
    l.args[0] = randv(40, 1);
    for (int i = 0; i < 40; i++) /* away from the kink by more than h */
        l.args[0][i] += l.args[0][i] > 0 ? 0.01f : -0.01f;
    l.out = malloc(sizeof(float) * 40);
    l.R = randv(40, 1);
    l.grad[0] = malloc(sizeof(float) * 40);
    relu_fwd(&l);
    memcpy(l.grad[0], l.R, sizeof(float) * 40);
    lcae_relu_backward(l.grad[0], l.out, 40);
    gradcheck(&l, 1e-3f, 2e-3);
    free(l.args[0]), free(l.grad[0]), free(l.out), free(l.R);
}

static void linear_fwd(layer *l)
{
    CHECK(lcae_linear_forward(l->out, l->args[0], l->args[1], l->args[2], l->shape[0],
                              l->shape[1], l->shape[2]) == LCAE_OK);
}

static void check_linear(void)
{
    int N = 3, I = 5, O = 4;
    layer l = {.name = "linear", .nargs = 3, .forward = linear_fwd, .shape = {N, I, O}};
    l.len[0] = N * I;
    l.len[1] = O * I;
    l.len[2] = O;
    l.nout = N * O;
    for (int a = 0; a < 3; a++) {
        l.args[a] = randv(l.len[a], 1);
        l.grad[a] = calloc(l.len[a], sizeof(float));
    }
    l.out = malloc(sizeof(float) * l.nout);
    l.R = randv(l.nout, 1);
    CHECK(lcae_linear_backward(l.grad[0], l.grad[1], l.grad[2], l.R, l.args[0], l.args[1], N,
                               I, O) == LCAE_OK);
    gradcheck(&l, 0.05f, 1e-4);
    for (int a = 0; a < 3; a++)
        free(l.args[a]), free(l.grad[a]);
    free(l.out), free(l.R);
}

/* The losses are scalars: out is the loss itself and R = 1. */
static float loss_target[64];
static void l1_fwd(layer *l)
{
    l->out[0] = (float)lcae_clipped_l1(l->args[0], loss_target, NULL, l->len[0], 1.0f, 2.5f) *
                2.5f;
}
static void rot_fwd(layer *l)
{
    l->out[0] = (float)lcae_rot_loss(l->args[0], l->args[1], NULL, NULL, 4, 6, 4, 3.0f) * 3.0f;
}

static void rot_scaled_fwd(layer *l)
{
    l->out[0] = (float)lcae_rot_loss_scaled(l->args[0], l->args[1], NULL, NULL, 4, 6, 4, 3.0f) *
                3.0f;
}

static void check_losses(void)
{
    float one = 1, out;
    /* clipped L1 with clip 1: differences in (-3, 3), at least h away from 0 and +-1 */
    layer l = {.name = "clipped_l1", .nargs = 1, .forward = l1_fwd, .nout = 1, .out = &out,
               .R = &one};
    l.len[0] = 64;
    l.args[0] = randv(64, 3);
    for (int i = 0; i < 64; i++) {
        loss_target[i] = randu();
        float d = l.args[0][i] - loss_target[i];
        if (fabsf(d) < 0.01f || fabsf(fabsf(d) - 1) < 0.01f)
            l.args[0][i] += 0.05f;
    }
    l.grad[0] = malloc(sizeof(float) * 64);
    lcae_clipped_l1(l.args[0], loss_target, l.grad[0], 64, 1.0f, 2.5f);
    gradcheck(&l, 1e-3f, 2e-3);
    free(l.args[0]), free(l.grad[0]);

    layer r = {.name = "rot_loss", .nargs = 2, .forward = rot_fwd, .nout = 1, .out = &out,
               .R = &one};
    r.len[0] = r.len[1] = 24;
    r.args[0] = randv(24, 1);
    r.args[1] = randv(24, 1);
    for (int i = 0; i < 24; i++)
        if (fabsf(r.args[0][i] - r.args[1][i]) < 0.01f)
            r.args[0][i] += 0.05f;
    r.grad[0] = malloc(sizeof(float) * 24);
    r.grad[1] = malloc(sizeof(float) * 24);
    lcae_rot_loss(r.args[0], r.args[1], r.grad[0], r.grad[1], 4, 6, 4, 3.0f);
    gradcheck(&r, 1e-3f, 2e-3);
    /* the scaled form: the same pairs, its gradient through the batch spread included */
    r.name = "rot_loss_scaled";
    r.forward = rot_scaled_fwd;
    lcae_rot_loss_scaled(r.args[0], r.args[1], r.grad[0], r.grad[1], 4, 6, 4, 3.0f);
    gradcheck(&r, 1e-3f, 2e-3);
    free(r.args[0]), free(r.args[1]), free(r.grad[0]), free(r.grad[1]);
}

int main(void)
{
    /* thousands of tiny calls: one thread, so that none waits at a barrier for a core
     * that another job holds (test_nn_layers covers the threaded paths) */
    omp_set_num_threads(1);
    lcae_nn *nn;
    CHECK(lcae_nn_create(&nn) == LCAE_OK);
    check_conv(nn, "conv 3x3", 2, 2, 5, 6, 3, 3, 1, 0);
    check_conv(nn, "conv 4x4/2", 2, 2, 6, 6, 3, 4, 2, 0);
    check_conv(nn, "conv C=1", 1, 1, 7, 7, 2, 3, 1, 0);
    check_conv(nn, "convT 4x4/2", 2, 3, 3, 4, 2, 4, 2, 1);
    check_conv(nn, "conv 4x4/2 wide", 1, 1, 6, 21, 2, 4, 2, 0);
    check_conv(nn, "convT 4x4/2 wide", 1, 1, 3, 11, 2, 4, 2, 1);
    check_batchnorm();
    check_relu();
    check_linear();
    check_losses();
    lcae_nn_free(nn);
    return test_done("test_nn_gradcheck");
}
