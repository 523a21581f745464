/* The polar autoencoder, invariant by construction (tools/research/train.py's PolarAE
 * with the auxiliary head of --invdec 1; include/lcae/model.h): its layer and tensor
 * tables (the prototype's state_dict names, so that a PyTorch user loads the file with
 * load_state_dict(strict=False): the two lcae_aux_target tensors are lcae's own), the
 * polar resampling, forward, backward and loss, over the kernels of lcae/nn.h.
 *
 * Shapes (N samples, nr radii, nt = LCAE_POLAR_ANGLES angles, b = base):
 *   polar image (N, 1, nr, nt): row = radius, column = angle;
 *   encoder enc.0..5: conv 3x3 + BatchNorm + ReLU, zero padding 1 along r, circular
 *     padding 1 along theta, stride (2, 1) in enc.1, 3, 4, 5; widths b b 2b 2b 4b 4b
 *     -> f (N, C = 4b, R = nr / 16, nt);
 *   invariant head: g (N, 2C, R) = [mean over theta, max (or power mean: cfg.angle_pool)
 *     over theta] -> inv.0 (256)
 *     ReLU -> inv.2 -> z[:, :ninv];
 *   non-invariant head: adaptive average over theta to 12 bins (N, C, R, 12) -> var.0
 *     (256) ReLU -> var.2 -> z[:, ninv:];
 *   decoder dec.fc.0 (1024) ReLU dec.fc.2 (c * nr/16 * nt/16) ReLU -> (N, c, nr/16, nt/16)
 *     -> 4 x [ConvTranspose 4x4/2 + BN + ReLU, conv 3x3 + BN + ReLU] -> conv 3x3 -> (N, 1,
 *     nr, nt), zero padding (the decoder is the CAE's, as in the prototype);
 *   auxiliary head aux.0 (256) ReLU aux.2 (7 nr) from z[:, :ninv] alone; its target is
 *     the standardized |rfft| along theta of the polar image, orders 0..6, / nt,
 *     flattened (r, order).
 * Every activation of a training step is kept (the model is small); the CAE's
 * recomputation of BatchNorm outputs is not needed here. */
#include "model/model_internal.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

typedef enum { PL_CIRC, PL_CONV, PL_DECONV, PL_LINEAR } pl_kind;

typedef struct {
    char wname[16], bnname[16]; /* module paths of the weights and of the BatchNorm ("") */
    pl_kind kind;
    int cin, cout, hin, win, hout, wout; /* Linear: hin = win = hout = wout = 1 */
    int stride;                          /* PL_CIRC: along r (1 or 2) */
    int relu;
    int64_t in_size, out_size;           /* values per sample */
    int64_t w, b, gamma, beta, rmean, rvar;
    int bn;                              /* index into nbt, -1 without BatchNorm */
} pl_layer;

/* Layer ranges in p->L: the encoder, the two heads, the decoder (fc then net), aux. */
enum { ENC0 = 0, INV0 = 6, VAR0 = 8, FC0 = 10, NET0 = 12, AUX0 = 21, NLAYERS = 23 };

struct model_polar {
    int H, nr, nt, ninv, nvar, C, R;
    pl_layer L[NLAYERS];
    int64_t tmean, tstd;   /* buffer offsets of lcae_aux_target.mean / .std (7 nr) */
    double *tsum, *tsumsq; /* target statistics being accumulated (7 nr each) */
    int64_t tcount;
    /* work memory (an nn buffer) for up to work_batch samples */
    int work_batch, work_train;
    float *work;
    float *x, *img, *img_raw, *gpool, *apool, *z, *target;
    float *in[NLAYERS], *pre[NLAYERS], *out[NLAYERS], *mean[NLAYERS], *invstd[NLAYERS];
    float *pad[NLAYERS], *full[NLAYERS];
    float *gbuf[2], *dpad, *dfull, *df, *dz, *dzi, *dzv, *dy, *daux, *dg, *da;
};

/* Adds one layer and its tensors (state_dict order: weight, bias, then the BatchNorm's). */
static void add_layer(lcae_model *m, int i, pl_kind kind, const char *wname,
                      const char *bnname, int cin, int cout, int hin, int win, int stride,
                      int relu)
{
    pl_layer *L = &m->polar->L[i];
    snprintf(L->wname, sizeof L->wname, "%s", wname);
    snprintf(L->bnname, sizeof L->bnname, "%s", bnname ? bnname : "");
    L->kind = kind;
    L->cin = cin;
    L->cout = cout;
    L->hin = hin;
    L->win = win;
    L->stride = stride;
    L->relu = relu;
    L->hout = kind == PL_CIRC ? (hin - 1) / stride + 1 : kind == PL_DECONV ? 2 * hin : hin;
    L->wout = kind == PL_DECONV ? 2 * win : win;
    L->in_size = (int64_t)cin * hin * win;
    L->out_size = (int64_t)cout * L->hout * L->wout;
    L->gamma = L->beta = L->rmean = L->rvar = -1;
    L->bn = -1;
    int k = kind == PL_DECONV ? 4 : 3;
    /* PyTorch's fan_in is weight.size(1) * k * k: out * k * k for ConvTranspose2d */
    int fan = kind == PL_LINEAR ? cin : (kind == PL_DECONV ? cout : cin) * k * k;
    int64_t ws[4] = {kind == PL_DECONV ? cin : cout, kind == PL_DECONV ? cout : cin, k, k};
    int64_t bs[1] = {cout};
    L->w = model_add_tensor(m, wname, "weight", T_PARAM, kind == PL_LINEAR ? 2 : 4, ws,
                            fan)->offset;
    L->b = model_add_tensor(m, wname, "bias", T_PARAM, 1, bs, fan)->offset;
    if (bnname) {
        L->gamma = model_add_tensor(m, bnname, "weight", T_PARAM, 1, bs, 0)->offset;
        L->beta = model_add_tensor(m, bnname, "bias", T_PARAM, 1, bs, 0)->offset;
        L->rmean = model_add_tensor(m, bnname, "running_mean", T_BUFFER, 1, bs, 0)->offset;
        L->rvar = model_add_tensor(m, bnname, "running_var", T_BUFFER, 1, bs, 0)->offset;
        L->bn = (int)model_add_tensor(m, bnname, "num_batches_tracked", T_COUNT, 0, NULL,
                                      0)->offset;
        m->nbn++;
    }
}

int polar_build_tables(lcae_model *m)
{
    const lcae_model_config *c = &m->cfg;
    if (c->input_size < 32 || c->input_size % 32 || c->input_size > 4096 || c->base < 1 ||
        c->base > 1024 || c->latent_ch < 1 || c->latent_ch > 1024 || c->invariant < 1 ||
        c->latent <= c->invariant || c->latent > 4096)
        return lcae_fail(LCAE_EUSAGE, "polar model sizes: expected an input size that is a "
                         "multiple of 32, positive widths and 1 <= invariant < latent, found "
                         "input %d, base %d, decoder channels %d, invariant %d, latent %d",
                         c->input_size, c->base, c->latent_ch, c->invariant, c->latent);
    model_polar *p = lcae_calloc(1, sizeof *p);
    if (!p)
        return LCAE_ENOMEM;
    m->polar = p;
    int b = c->base, nr = c->input_size / 2, nt = LCAE_POLAR_ANGLES;
    p->H = c->input_size;
    p->nr = nr;
    p->nt = nt;
    p->ninv = c->invariant;
    p->nvar = c->latent - c->invariant;
    static const int enc_in[6] = {0, 1, 1, 2, 2, 4}, enc_out[6] = {1, 1, 2, 2, 4, 4},
                     enc_stride[6] = {1, 2, 1, 2, 2, 2};
    int h = nr;
    char wn[16], bn[16];
    for (int i = 0; i < 6; i++) {
        snprintf(wn, sizeof wn, "enc.%d.conv", i);
        snprintf(bn, sizeof bn, "enc.%d.bn", i);
        add_layer(m, ENC0 + i, PL_CIRC, wn, bn, i ? enc_in[i] * b : 1, enc_out[i] * b, h, nt,
                  enc_stride[i], 1);
        h = p->L[ENC0 + i].hout;
    }
    p->C = 4 * b;
    p->R = h; /* nr / 16: four halvings of a multiple of 16 */
    int CR = p->C * p->R;
    add_layer(m, INV0, PL_LINEAR, "inv.0", NULL, 2 * CR, POLAR_HIDDEN, 1, 1, 1, 1);
    add_layer(m, INV0 + 1, PL_LINEAR, "inv.2", NULL, POLAR_HIDDEN, p->ninv, 1, 1, 1, 0);
    add_layer(m, VAR0, PL_LINEAR, "var.0", NULL, CR * POLAR_BINS, POLAR_HIDDEN, 1, 1, 1, 1);
    add_layer(m, VAR0 + 1, PL_LINEAR, "var.2", NULL, POLAR_HIDDEN, p->nvar, 1, 1, 1, 0);
    int dh = nr / 16, dw = nt / 16;
    add_layer(m, FC0, PL_LINEAR, "dec.fc.0", NULL, c->latent, MODEL_HIDDEN, 1, 1, 1, 1);
    add_layer(m, FC0 + 1, PL_LINEAR, "dec.fc.2", NULL, MODEL_HIDDEN, c->latent_ch * dh * dw,
              1, 1, 1, 1);
    /* dec.net: ConvTranspose (4i), its BatchNorm (4i+1), ReLU (4i+2), block (4i+3: conv
     * .0, BatchNorm .1), then the final conv (16); channels c, 8b, 4b, 2b, b */
    int ch[5] = {c->latent_ch, 8 * b, 4 * b, 2 * b, b};
    for (int i = 0; i < 4; i++) {
        snprintf(wn, sizeof wn, "dec.net.%d", 4 * i);
        snprintf(bn, sizeof bn, "dec.net.%d", 4 * i + 1);
        add_layer(m, NET0 + 2 * i, PL_DECONV, wn, bn, ch[i], ch[i + 1], dh, dw, 2, 1);
        dh *= 2;
        dw *= 2;
        snprintf(wn, sizeof wn, "dec.net.%d.0", 4 * i + 3);
        snprintf(bn, sizeof bn, "dec.net.%d.1", 4 * i + 3);
        add_layer(m, NET0 + 2 * i + 1, PL_CONV, wn, bn, ch[i + 1], ch[i + 1], dh, dw, 1, 1);
    }
    add_layer(m, NET0 + 8, PL_CONV, "dec.net.16", NULL, b, 1, dh, dw, 1, 0);
    add_layer(m, AUX0, PL_LINEAR, "aux.0", NULL, p->ninv, POLAR_HIDDEN, 1, 1, 1, 1);
    add_layer(m, AUX0 + 1, PL_LINEAR, "aux.2", NULL, POLAR_HIDDEN, POLAR_ORDERS * nr, 1, 1, 1,
              0);
    int64_t ts[1] = {(int64_t)POLAR_ORDERS * nr};
    p->tmean = model_add_tensor(m, "lcae_aux_target", "mean", T_BUFFER, 1, ts, 0)->offset;
    p->tstd = model_add_tensor(m, "lcae_aux_target", "std", T_BUFFER, 1, ts, 0)->offset;
    return LCAE_OK;
}

static void free_work(model_polar *p, lcae_nn *nn)
{
    lcae_nn_release(nn, p->work);
    p->work = NULL;
    p->work_batch = p->work_train = 0;
}

void polar_free(model_polar *p, lcae_nn *nn)
{
    if (!p)
        return;
    free_work(p, nn);
    free(p->tsum);
    free(p->tsumsq);
    free(p);
}

/* Sets the pointers into the work memory at `base` (NULL: counts only); returns the
 * floats needed. Encoding needs the encoder and the two heads only. */
static int64_t layout(model_polar *p, float *base, int N, int train)
{
    int64_t at = 0, maxio = 0, maxpad = 0, maxfull = 0;
#define TAKE(n) (at += (n), base ? base + at - (n) : NULL)
    int64_t img = (int64_t)N * p->nr * p->nt, CR = (int64_t)p->C * p->R;
    p->x = TAKE((int64_t)N * p->H * p->H);
    p->img = TAKE(img);
    int nl = train ? NLAYERS : FC0;
    for (int i = 0; i < nl; i++) {
        const pl_layer *L = &p->L[i];
        int64_t n = (int64_t)N * L->out_size;
        p->out[i] = TAKE(n);
        p->pre[i] = train && L->bn >= 0 ? TAKE(n) : p->out[i];
        p->mean[i] = train && L->bn >= 0 ? TAKE(L->cout) : NULL;
        p->invstd[i] = train && L->bn >= 0 ? TAKE(L->cout) : NULL;
        int64_t padn = L->kind == PL_CIRC ? (int64_t)N * L->cin * (L->hin + 2) * (L->win + 2) : 0;
        int64_t fulln = L->kind == PL_CIRC && L->stride > 1 ? (int64_t)N * L->cout * L->hin * L->win : 0;
        p->pad[i] = padn ? TAKE(padn) : NULL;
        p->full[i] = fulln ? TAKE(fulln) : NULL;
        int64_t io = (int64_t)N * (L->in_size > L->out_size ? L->in_size : L->out_size);
        maxio = io > maxio ? io : maxio;
        maxpad = padn > maxpad ? padn : maxpad;
        maxfull = fulln > maxfull ? fulln : maxfull;
    }
    p->gpool = TAKE(N * 2 * CR);
    p->apool = TAKE(N * CR * POLAR_BINS);
    p->z = TAKE((int64_t)N * (p->ninv + p->nvar));
    int64_t nT = (int64_t)N * POLAR_ORDERS * p->nr;
    p->target = TAKE(nT);
    if (train) {
        p->img_raw = TAKE(img);
        p->gbuf[0] = TAKE(maxio);
        p->gbuf[1] = TAKE(maxio);
        p->dpad = TAKE(maxpad);
        p->dfull = TAKE(maxfull);
        p->df = TAKE(N * CR * p->nt);
        p->dz = TAKE((int64_t)N * (p->ninv + p->nvar));
        p->dzi = TAKE((int64_t)N * p->ninv);
        p->dzv = TAKE((int64_t)N * p->nvar);
        p->dy = TAKE(img);
        p->daux = TAKE(nT);
        p->dg = TAKE(N * 2 * CR);
        p->da = TAKE(N * CR * POLAR_BINS);
    }
#undef TAKE
    return at;
}

static int ensure_work(lcae_model *m, int N, int train)
{
    model_polar *p = m->polar;
    if (N <= p->work_batch && (p->work_train || !train))
        return LCAE_OK;
    free_work(p, m->nn);
    int64_t n = layout(p, NULL, N, train);
    p->work = lcae_nn_alloc(m->nn, n);
    if (!p->work) {
        return lcae_fail(LCAE_ENOMEM, "out of memory: the polar model's work memory for a "
                         "batch of %d (%.1f GB)", N, (double)n * 4e-9);
    }
    layout(p, p->work, N, train);
    p->work_batch = N;
    p->work_train = train;
    return LCAE_OK;
}

void polar_image(const lcae_model *m, const float *x, int N, float *out)
{
    /* radii 1 .. H/2 - 1 (torch.linspace(1, H/2 - 1, nr)) about the frame centre, where
     * lcae_prep puts the beam */
    const model_polar *p = m->polar;
    double c = (p->H - 1) / 2.0;
    lcae_polar_sample(m->nn, out, x, N, p->H, p->H, p->nr, p->nt, 1, p->H / 2.0 - 1, c, c);
}

/* The polar image dst (N, nr, nt, an nn buffer) of prepared patterns x (N, H, H, host
 * memory), through p->x. */
static void polar_input(lcae_model *m, const float *x, int N, float *dst)
{
    model_polar *p = m->polar;
    lcae_nn_upload(m->nn, p->x, x, (int64_t)N * p->H * p->H);
    polar_image(m, p->x, N, dst);
}

/* One layer's forward (affine, BatchNorm in training or evaluation mode, ReLU).
 * The circular conv with stride (2, 1) is computed at stride 1 and its even rows kept:
 * row 2i of the stride-1 output (same padding) is row i of the stride-(2, 1) output;
 * lcae_conv2d has one stride for both axes. */
static int layer_forward(lcae_model *m, int i, const float *in, int N, int train)
{
    model_polar *p = m->polar;
    const pl_layer *L = &p->L[i];
    const float *w = m->params;
    float *out = p->out[i], *conv_out = p->pre[i];
    int rc = LCAE_OK;
    p->in[i] = (float *)in;
    switch (L->kind) {
    case PL_CIRC: {
        lcae_pad_circular_forward(m->nn, p->pad[i], in, (int64_t)N * L->cin, L->hin, L->win);
        float *dst = L->stride > 1 ? p->full[i] : conv_out;
        rc = lcae_conv2d_forward(m->nn, dst, p->pad[i], w + L->w, w + L->b, N, L->cin,
                                 L->hin + 2, L->win + 2, L->cout, 3, 1, 0);
        if (!rc && L->stride > 1)
            lcae_row_stride_forward(m->nn, conv_out, dst, (int64_t)N * L->cout, L->hin,
                                    L->win, L->stride);
        break;
    }
    case PL_CONV:
        rc = lcae_conv2d_forward(m->nn, conv_out, in, w + L->w, w + L->b, N, L->cin, L->hin,
                                 L->win, L->cout, 3, 1, 1);
        break;
    case PL_DECONV:
        rc = lcae_convt2d_forward(m->nn, conv_out, in, w + L->w, w + L->b, N, L->cin, L->hin,
                                  L->win, L->cout, 4, 2, 1);
        break;
    case PL_LINEAR:
        rc = lcae_linear_forward(m->nn, conv_out, in, w + L->w, w + L->b, N, L->cin, L->cout);
        break;
    }
    if (!rc && L->bn >= 0) {
        int HW = L->hout * L->wout;
        if (train) {
            rc = lcae_batchnorm_forward_train(m->nn, out, conv_out, w + L->gamma, w + L->beta,
                                              m->buffers + L->rmean, m->buffers + L->rvar,
                                              p->mean[i], p->invstd[i], N, L->cout, HW,
                                              MODEL_BN_MOMENTUM, MODEL_BN_EPS);
            m->nbt[L->bn]++;
        } else {
            rc = lcae_batchnorm_forward_eval(m->nn, out, conv_out, w + L->gamma, w + L->beta,
                                             m->buffers + L->rmean, m->buffers + L->rvar, N,
                                             L->cout, HW, MODEL_BN_EPS);
        }
    }
    if (!rc && L->relu)
        lcae_relu_forward(m->nn, out, (int64_t)N * L->out_size);
    return rc;
}

/* Backward of layer i from dout (overwritten) to din (NULL: not needed); parameter
 * gradients accumulate. */
static int layer_backward(lcae_model *m, int i, float *dout, float *din, int N)
{
    model_polar *p = m->polar;
    const pl_layer *L = &p->L[i];
    const float *w = m->params;
    float *g = m->grads;
    int rc = LCAE_OK;
    if (L->relu)
        lcae_relu_backward(m->nn, dout, p->out[i], (int64_t)N * L->out_size);
    if (L->bn >= 0 &&
        (rc = lcae_batchnorm_backward(m->nn, dout, g + L->gamma, g + L->beta, dout, p->pre[i],
                                      w + L->gamma, p->mean[i], p->invstd[i], N, L->cout,
                                      L->hout * L->wout)))
        return rc;
    switch (L->kind) {
    case PL_CIRC: {
        const float *d = dout;
        if (L->stride > 1) { /* the stride-1 output's gradient: dout on the even rows */
            lcae_row_stride_backward(m->nn, p->dfull, dout, (int64_t)N * L->cout, L->hin,
                                     L->win, L->stride);
            d = p->dfull;
        }
        rc = lcae_conv2d_backward(m->nn, din ? p->dpad : NULL, g + L->w, g + L->b, d,
                                  p->pad[i], w + L->w, N, L->cin, L->hin + 2, L->win + 2,
                                  L->cout, 3, 1, 0);
        if (!rc && din)
            lcae_pad_circular_backward(m->nn, din, p->dpad, (int64_t)N * L->cin, L->hin,
                                       L->win);
        break;
    }
    case PL_CONV:
        rc = lcae_conv2d_backward(m->nn, din, g + L->w, g + L->b, dout, p->in[i], w + L->w, N,
                                  L->cin, L->hin, L->win, L->cout, 3, 1, 1);
        break;
    case PL_DECONV:
        rc = lcae_convt2d_backward(m->nn, din, g + L->w, g + L->b, dout, p->in[i], w + L->w,
                                   N, L->cin, L->hin, L->win, L->cout, 4, 2, 1);
        break;
    case PL_LINEAR:
        rc = lcae_linear_backward(m->nn, din, g + L->w, g + L->b, dout, p->in[i], w + L->w, N,
                                  L->cin, L->cout);
        break;
    }
    return rc;
}

/* Layers [lo, hi) in order from `in`; the result is p->out[hi - 1]. */
static int seq_forward(lcae_model *m, int lo, int hi, const float *in, int N, int train)
{
    for (int i = lo; i < hi; i++) {
        int rc = layer_forward(m, i, in, N, train);
        if (rc)
            return rc;
        in = m->polar->out[i];
    }
    return LCAE_OK;
}

/* Layers [lo, hi) backward from dout (the gradient of out[hi - 1], not modified) to din
 * (the gradient of layer lo's input; NULL: not needed), through gbuf[]. */
static int seq_backward(lcae_model *m, int lo, int hi, const float *dout, float *din, int N)
{
    model_polar *p = m->polar;
    int cur = 0;
    int64_t n = (int64_t)N * p->L[hi - 1].out_size;
    lcae_copy_block(m->nn, p->gbuf[0], n, dout, n, 1, n, 0);
    for (int i = hi - 1; i >= lo; i--) {
        int rc = layer_backward(m, i, p->gbuf[cur], i == lo ? din : p->gbuf[1 - cur], N);
        if (rc)
            return rc;
        cur = 1 - cur;
    }
    return LCAE_OK;
}

/* Encoder and heads from p->img: p->z (N, latent) = [inv.2's output, var.2's output].
 * The heads' inputs from f (N, C, R, nt): gpool (N, 2C R) = [mean, max over theta],
 * apool (N, C, R, 12) = the angular bins' means. */
static int encode_forward(lcae_model *m, int N, int train)
{
    model_polar *p = m->polar;
    int rc;
    if ((rc = seq_forward(m, ENC0, INV0, p->img, N, train)))
        return rc;
    const float *f = p->out[INV0 - 1];
    int64_t CR = (int64_t)p->C * p->R;
    lcae_meanmax_pool_forward(m->nn, p->gpool, f, N, CR, p->nt, m->cfg.angle_pool);
    lcae_adaptive_avg_pool_forward(m->nn, p->apool, f, N * CR, p->nt, POLAR_BINS);
    if ((rc = seq_forward(m, INV0, VAR0, p->gpool, N, train)) ||
        (rc = seq_forward(m, VAR0, FC0, p->apool, N, train)))
        return rc;
    int L = p->ninv + p->nvar;
    lcae_copy_block(m->nn, p->z, L, p->out[INV0 + 1], p->ninv, N, p->ninv, 0);
    lcae_copy_block(m->nn, p->z + p->ninv, L, p->out[VAR0 + 1], p->nvar, N, p->nvar, 0);
    return LCAE_OK;
}

int polar_step(lcae_model *m, const float *x, int N, double degrees, lcae_losses *losses)
{
    model_polar *p = m->polar;
    int rc = ensure_work(m, N, 1);
    if (rc)
        return rc;
    m->step_batch = N;
    lcae_fill(m->nn, m->grads, 0.0f, m->nparams);
    /* the rotation: a cyclic shift by s angle steps, img[t] = raw[t - s] (torch.roll) */
    int nt = p->nt, shift = (int)(lround(degrees / 360.0 * nt) % nt);
    polar_input(m, x, N, p->img_raw);
    lcae_roll(m->nn, p->img, p->img_raw, (int64_t)N * p->nr, nt, shift);
    if ((rc = encode_forward(m, N, 1)) ||
        (rc = seq_forward(m, FC0, AUX0, p->z, N, 1)) ||
        (rc = seq_forward(m, AUX0, NLAYERS, p->out[INV0 + 1], N, 1)))
        return rc;
    int64_t nT = (int64_t)N * POLAR_ORDERS * p->nr, nimg = (int64_t)N * p->nr * nt;
    if ((rc = lcae_dft_magnitudes(m->nn, p->target, p->img, (int64_t)N * p->nr, nt,
                                  POLAR_ORDERS)))
        return rc;
    lcae_standardize(m->nn, p->target, m->buffers + p->tmean, m->buffers + p->tstd,
                     POLAR_STD_EPS, N, (int64_t)POLAR_ORDERS * p->nr);
    losses->recon = lcae_mse(m->nn, p->out[AUX0 - 1], p->img, p->dy, nimg, 1.0f);
    losses->aux = lcae_mse(m->nn, p->out[NLAYERS - 1], p->target, p->daux, nT,
                           (float)POLAR_AUX_WEIGHT);
    losses->total = losses->recon + POLAR_AUX_WEIGHT * losses->aux;
    if (!isfinite(losses->total))
        return lcae_fail(LCAE_EFAIL, "training diverged: the loss is %g (recon %g, auxiliary "
                         "%g)", losses->total, losses->recon, losses->aux);
    /* decoder -> dz; aux -> dzi; z's two parts -> the heads -> df -> the encoder */
    int L = p->ninv + p->nvar;
    if ((rc = seq_backward(m, FC0, AUX0, p->dy, p->dz, N)) ||
        (rc = seq_backward(m, AUX0, NLAYERS, p->daux, p->dzi, N)))
        return rc;
    lcae_copy_block(m->nn, p->dzi, p->ninv, p->dz, L, N, p->ninv, 1);
    lcae_copy_block(m->nn, p->dzv, p->nvar, p->dz + p->ninv, L, N, p->nvar, 0);
    if ((rc = seq_backward(m, INV0, VAR0, p->dzi, p->dg, N)) ||
        (rc = seq_backward(m, VAR0, FC0, p->dzv, p->da, N)))
        return rc;
    /* the pools' gradients: mean-max's written, the bins' added */
    const float *f = p->out[INV0 - 1];
    int64_t CR = (int64_t)p->C * p->R;
    lcae_meanmax_pool_backward(m->nn, p->df, p->dg, f, N, CR, nt, m->cfg.angle_pool);
    lcae_adaptive_avg_pool_backward(m->nn, p->df, p->da, N * CR, nt, POLAR_BINS);
    return seq_backward(m, ENC0, INV0, p->df, NULL, N);
}

/* z (N, latent) of prepared patterns x (N, H, H), or (x NULL) of polar images img
 * (N, nr, nt); host memory. */
static int encode_host(lcae_model *m, const float *x, const float *img, int N, float *z)
{
    model_polar *p = m->polar;
    int rc = ensure_work(m, N, 0);
    if (rc)
        return rc;
    if (x)
        polar_input(m, x, N, p->img);
    else
        lcae_nn_upload(m->nn, p->img, img, (int64_t)N * p->nr * p->nt);
    if (!(rc = encode_forward(m, N, 0)))
        lcae_nn_download(m->nn, z, p->z, (int64_t)N * (p->ninv + p->nvar));
    return rc;
}

int polar_encode_batch(lcae_model *m, const float *x, int N, float *z)
{
    return encode_host(m, x, NULL, N, z);
}

int polar_encode_image(lcae_model *m, const float *img, int N, float *z)
{
    return encode_host(m, NULL, img, N, z);
}

void polar_last_step(const lcae_model *m, const float **z, const float **recon,
                     const float **aux)
{
    const model_polar *p = m->polar;
    *z = p->z;
    *recon = p->out[AUX0 - 1];
    *aux = p->out[NLAYERS - 1];
}

int polar_target_begin(lcae_model *m)
{
    model_polar *p = m->polar;
    size_t n = (size_t)POLAR_ORDERS * p->nr;
    free(p->tsum);
    free(p->tsumsq);
    p->tsum = lcae_calloc(n, sizeof *p->tsum);
    p->tsumsq = lcae_calloc(n, sizeof *p->tsumsq);
    p->tcount = 0;
    return p->tsum && p->tsumsq ? LCAE_OK : LCAE_ENOMEM;
}

int polar_target_add(lcae_model *m, const float *x, int N)
{
    model_polar *p = m->polar;
    int nT = POLAR_ORDERS * p->nr;
    float *T = lcae_malloc((size_t)N * nT * sizeof *T);
    int rc = T ? ensure_work(m, N, 0) : LCAE_ENOMEM;
    if (!rc) {
        polar_input(m, x, N, p->img);
        rc = lcae_dft_magnitudes(m->nn, p->target, p->img, (int64_t)N * p->nr, p->nt,
                                 POLAR_ORDERS);
    }
    if (rc) {
        free(T);
        return rc;
    }
    lcae_nn_download(m->nn, T, p->target, (int64_t)N * nT);
    for (int n = 0; n < N; n++)
        for (int j = 0; j < nT; j++) {
            double v = T[(int64_t)n * nT + j];
            p->tsum[j] += v;
            p->tsumsq[j] += v * v;
        }
    p->tcount += N;
    free(T);
    return LCAE_OK;
}

int polar_target_end(lcae_model *m)
{
    model_polar *p = m->polar;
    if (p->tcount < 2)
        return lcae_fail(LCAE_EUSAGE, "polar model: the target's standardization needs at "
                         "least 2 patterns, found %lld", (long long)p->tcount);
    double n = (double)p->tcount;
    int nT = POLAR_ORDERS * p->nr;
    float *mean_std = lcae_malloc(2 * (size_t)nT * sizeof *mean_std); /* (2, nT) */
    if (!mean_std)
        return LCAE_ENOMEM;
    for (int j = 0; j < nT; j++) {
        double mean = p->tsum[j] / n, var = (p->tsumsq[j] - n * mean * mean) / (n - 1);
        mean_std[j] = (float)mean;
        mean_std[nT + j] = (float)sqrt(var > 0 ? var : 0);
    }
    lcae_nn_upload(m->nn, m->buffers + p->tmean, mean_std, nT);
    lcae_nn_upload(m->nn, m->buffers + p->tstd, mean_std + nT, nT);
    free(mean_std);
    return LCAE_OK;
}
