/* The published autoencoder: its layer table, parameters, forward and backward passes,
 * losses and Adam, over the kernels of lcae/nn.h. */
#include "model/model_internal.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Sizes in arch[]: a positive number is a multiple of base; the others are symbolic. */
enum { SZ_ONE = -1, SZ_LATENT_CH = -2, SZ_FLAT = -3, SZ_HIDDEN = -4, SZ_LATENT = -5 };

/* The published ConvAutoencoder in state_dict order (METHOD.md). The indices missing from
 * the names are the modules without parameters: enc.9 Flatten, enc.11/dec.1/dec.3 ReLU,
 * dec.4 Unflatten. Every conv has padding 1; a block is conv -> BatchNorm -> ReLU. */
static const struct {
    const char *name;
    layer_kind kind;
    int cin, cout, k, stride, relu;
} arch[] = {
    {"enc.0", LY_CONV_BN, SZ_ONE, 1, 3, 1, 1},
    {"enc.1", LY_CONV_BN, 1, 1, 3, 1, 1},
    {"enc.2", LY_CONV_BN, 1, 2, 4, 2, 1},
    {"enc.3", LY_CONV_BN, 2, 2, 3, 1, 1},
    {"enc.4", LY_CONV_BN, 2, 4, 4, 2, 1},
    {"enc.5", LY_CONV_BN, 4, 4, 3, 1, 1},
    {"enc.6", LY_CONV_BN, 4, 8, 4, 2, 1},
    {"enc.7", LY_CONV_BN, 8, 8, 3, 1, 1},
    {"enc.8", LY_CONV_BN, 8, SZ_LATENT_CH, 4, 2, 1},
    {"enc.10", LY_LINEAR, SZ_FLAT, SZ_HIDDEN, 0, 0, 1},
    {"enc.12", LY_LINEAR, SZ_HIDDEN, SZ_LATENT, 0, 0, 0},
    {"dec.0", LY_LINEAR, SZ_LATENT, SZ_HIDDEN, 0, 0, 1},
    {"dec.2", LY_LINEAR, SZ_HIDDEN, SZ_FLAT, 0, 0, 1},
    {"dec.5", LY_DECONV_BN, SZ_LATENT_CH, 8, 4, 2, 1},
    {"dec.6", LY_CONV_BN, 8, 8, 3, 1, 1},
    {"dec.7", LY_DECONV_BN, 8, 4, 4, 2, 1},
    {"dec.8", LY_CONV_BN, 4, 4, 3, 1, 1},
    {"dec.9", LY_DECONV_BN, 4, 2, 4, 2, 1},
    {"dec.10", LY_CONV_BN, 2, 2, 3, 1, 1},
    {"dec.11", LY_DECONV_BN, 2, 1, 4, 2, 1},
    {"dec.12", LY_CONV_BN, 1, 1, 3, 1, 1},
    {"dec.13", LY_CONV, 1, SZ_ONE, 3, 1, 0},
};
#define ARCH_LAYERS ((int)(sizeof arch / sizeof *arch))
#define ARCH_ENCODER 11 /* enc.0 .. enc.12 */

static int resolve(const lcae_model_config *c, int sz)
{
    int s16 = c->input_size / 16;
    switch (sz) {
    case SZ_ONE: return 1;
    case SZ_LATENT_CH: return c->latent_ch;
    case SZ_FLAT: return c->latent_ch * s16 * s16;
    case SZ_HIDDEN: return MODEL_HIDDEN;
    case SZ_LATENT: return c->latent;
    default: return sz * c->base;
    }
}

model_tensor *model_add_tensor(lcae_model *m, const char *layer, const char *suffix,
                               tensor_kind kind, int ndim, const int64_t *shape, int fan_in)
{
    model_tensor *t = &m->tensors[m->ntensors++];
    snprintf(t->name, sizeof t->name, "%s.%s", layer, suffix);
    t->kind = kind;
    t->ndim = ndim;
    t->count = 1;
    for (int d = 0; d < ndim; d++) {
        t->shape[d] = shape[d];
        t->count *= shape[d];
    }
    t->fan_in = fan_in;
    int64_t *next = kind == T_PARAM ? &m->nparams : kind == T_BUFFER ? &m->nbuffers : NULL;
    if (next) {
        t->offset = *next;
        *next += t->count;
    } else {
        t->offset = m->nbn;
    }
    return t;
}

/* Resolves sizes, builds the layer and tensor tables. */
static int build_tables(lcae_model *m)
{
    const lcae_model_config *c = &m->cfg;
    if (c->kind == LCAE_ARCH_POLAR)
        return polar_build_tables(m);
    if (c->input_size < 16 || c->input_size % 16 || c->base < 1 || c->latent_ch < 1 ||
        c->latent < 1 || c->input_size > 65536 || c->base > 4096 || c->latent_ch > 4096 ||
        c->latent > 65536)
        return lcae_fail(LCAE_EUSAGE, "model sizes: expected an input size that is a multiple "
                         "of 16 and positive widths, found input %d, base %d, latent "
                         "channels %d, latent %d", c->input_size, c->base, c->latent_ch,
                         c->latent);
    int side = c->input_size;
    int prev_linear = 0;
    for (int i = 0; i < ARCH_LAYERS; i++) {
        model_layer *L = &m->layers[i];
        L->name = arch[i].name;
        L->kind = arch[i].kind;
        L->cin = resolve(c, arch[i].cin);
        L->cout = resolve(c, arch[i].cout);
        L->k = arch[i].k;
        L->stride = arch[i].stride;
        L->pad = 1;
        L->relu = arch[i].relu;
        L->gamma = L->beta = L->rmean = L->rvar = -1;
        L->bn = -1;
        const char *wname = L->kind == LY_CONV_BN ? "conv.weight"
                            : L->kind == LY_DECONV_BN ? "deconv.weight" : "weight";
        const char *bname = L->kind == LY_CONV_BN ? "conv.bias"
                            : L->kind == LY_DECONV_BN ? "deconv.bias" : "bias";
        if (L->kind == LY_LINEAR) {
            L->hin = L->hout = 1;
            prev_linear = 1;
            int64_t ws[2] = {L->cout, L->cin}, bs[1] = {L->cout};
            L->w = model_add_tensor(m, L->name, wname, T_PARAM, 2, ws, L->cin)->offset;
            L->b = model_add_tensor(m, L->name, bname, T_PARAM, 1, bs, L->cin)->offset;
        } else {
            if (prev_linear) /* Unflatten: (F) -> (latent_ch, H/16, H/16) */
                side = c->input_size / 16;
            prev_linear = 0;
            L->hin = side;
            L->hout = L->kind == LY_DECONV_BN
                          ? (side - 1) * L->stride - 2 * L->pad + L->k
                          : lcae_conv_out_size(side, L->k, L->stride, L->pad);
            side = L->hout;
            int k = L->k;
            /* PyTorch's fan_in is weight.size(1) * k * k: for ConvTranspose2d, whose
             * weight is (in, out, k, k), that is out * k * k */
            int fan = (L->kind == LY_DECONV_BN ? L->cout : L->cin) * k * k;
            int64_t ws[4] = {L->kind == LY_DECONV_BN ? L->cin : L->cout,
                             L->kind == LY_DECONV_BN ? L->cout : L->cin, k, k};
            int64_t bs[1] = {L->cout};
            L->w = model_add_tensor(m, L->name, wname, T_PARAM, 4, ws, fan)->offset;
            L->b = model_add_tensor(m, L->name, bname, T_PARAM, 1, bs, fan)->offset;
            if (L->kind != LY_CONV) {
                L->gamma = model_add_tensor(m, L->name, "norm.weight", T_PARAM, 1, bs, 0)->offset;
                L->beta = model_add_tensor(m, L->name, "norm.bias", T_PARAM, 1, bs, 0)->offset;
                L->rmean = model_add_tensor(m, L->name, "norm.running_mean", T_BUFFER, 1, bs, 0)->offset;
                L->rvar = model_add_tensor(m, L->name, "norm.running_var", T_BUFFER, 1, bs, 0)->offset;
                L->bn = (int)model_add_tensor(m, L->name, "norm.num_batches_tracked", T_COUNT, 0,
                                        NULL, 0)->offset;
                m->nbn++;
            }
        }
        L->in_size = (int64_t)L->cin * L->hin * L->hin;
        L->out_size = (int64_t)L->cout * L->hout * L->hout;
    }
    m->nlayers = ARCH_LAYERS;
    m->nenc = ARCH_ENCODER;
    return LCAE_OK;
}

const model_tensor *model_find_tensor(const lcae_model *m, const char *name)
{
    for (int i = 0; i < m->ntensors; i++)
        if (!strcmp(m->tensors[i].name, name))
            return &m->tensors[i];
    return NULL;
}

float *model_tensor_data(const lcae_model *m, const model_tensor *t)
{
    return t->kind == T_PARAM ? m->params + t->offset
           : t->kind == T_BUFFER ? m->buffers + t->offset : NULL;
}

void model_host_free(model_host *h)
{
    free(h->params);
    free(h->buffers);
    free(h->adam_m);
    free(h->adam_v);
    *h = (model_host){0};
}

int model_host_get(const lcae_model *m, int with_adam, model_host *h)
{
    size_t pb = (size_t)m->nparams * sizeof(float);
    *h = (model_host){.params = lcae_malloc(pb),
                      .buffers = lcae_malloc((size_t)m->nbuffers * sizeof(float) + 1)};
    if (with_adam) {
        h->adam_m = lcae_malloc(pb);
        h->adam_v = lcae_malloc(pb);
    }
    if (!h->params || !h->buffers || (with_adam && (!h->adam_m || !h->adam_v))) {
        model_host_free(h);
        return LCAE_ENOMEM;
    }
    lcae_nn_download(m->nn, h->params, m->params, m->nparams);
    lcae_nn_download(m->nn, h->buffers, m->buffers, m->nbuffers);
    if (with_adam) {
        lcae_nn_download(m->nn, h->adam_m, m->adam_m, m->nparams);
        lcae_nn_download(m->nn, h->adam_v, m->adam_v, m->nparams);
    }
    return LCAE_OK;
}

void model_host_put(lcae_model *m, const model_host *h)
{
    lcae_nn_upload(m->nn, m->params, h->params, m->nparams);
    lcae_nn_upload(m->nn, m->buffers, h->buffers, m->nbuffers);
    if (h->adam_m) {
        lcae_nn_upload(m->nn, m->adam_m, h->adam_m, m->nparams);
        lcae_nn_upload(m->nn, m->adam_v, h->adam_v, m->nparams);
    }
}

float *model_host_tensor(const model_host *h, const model_tensor *t)
{
    return t->kind == T_PARAM ? h->params + t->offset
           : t->kind == T_BUFFER ? h->buffers + t->offset : NULL;
}

/* Draws the parameters as PyTorch's defaults: kaiming_uniform_(a = sqrt(5)) for weights
 * is uniform(+-gain * sqrt(3 / fan_in)) with gain = sqrt(2 / (1 + 5)), i.e. +-1/sqrt(fan_in),
 * the same bound as the biases; BatchNorm weight 1, bias 0, running mean 0, variance 1.
 * Adam's moments and the gradients start at 0. */
static int init_params(lcae_model *m, uint64_t seed)
{
    model_host h;
    int rc = model_host_get(m, 0, &h);
    if (rc)
        return rc;
    model_rng r;
    model_rng_seed(&r, seed, 0x1417);
    for (int i = 0; i < m->ntensors; i++) {
        const model_tensor *t = &m->tensors[i];
        float *d = model_host_tensor(&h, t);
        const char *s = strrchr(t->name, '.') + 1;
        if (t->kind == T_COUNT) {
            m->nbt[t->offset] = 0;
        } else if (t->fan_in > 0) {
            double bound = 1.0 / sqrt((double)t->fan_in);
            for (int64_t j = 0; j < t->count; j++)
                d[j] = (float)((2.0 * model_rng_uniform(&r) - 1.0) * bound);
        } else {
            /* the polar model's target std (lcae_aux_target.std) starts at 1 too */
            float v = !strcmp(s, "weight") || !strcmp(s, "running_var") || !strcmp(s, "std")
                          ? 1.0f : 0.0f;
            for (int64_t j = 0; j < t->count; j++)
                d[j] = v;
        }
    }
    model_host_put(m, &h);
    model_host_free(&h);
    lcae_fill(m->nn, m->grads, 0.0f, m->nparams);
    lcae_fill(m->nn, m->adam_m, 0.0f, m->nparams);
    lcae_fill(m->nn, m->adam_v, 0.0f, m->nparams);
    return LCAE_OK;
}

static void free_work(lcae_model *m)
{
    lcae_nn_release(m->nn, m->work);
    m->work = NULL;
    m->work_batch = 0;
    m->work_train = 0;
    memset(m->pass, 0, sizeof m->pass);
}

void lcae_model_free(lcae_model *m)
{
    if (!m)
        return;
    free(m->nbt);
    free(m->mask_host);
    if (m->nn) {
        float *state[] = {m->params, m->grads, m->adam_m, m->adam_v, m->buffers, m->mask};
        for (size_t i = 0; i < sizeof state / sizeof *state; i++)
            lcae_nn_release(m->nn, state[i]);
        free_work(m);
    }
    polar_free(m->polar, m->nn);
    lcae_nn_free(m->nn);
    free(m);
}

int model_tables(const lcae_model_config *cfg, lcae_model **out)
{
    *out = NULL;
    lcae_model *m = lcae_calloc(1, sizeof *m);
    if (!m)
        return LCAE_ENOMEM;
    m->cfg = *cfg;
    int rc = build_tables(m);
    if (rc) {
        lcae_model_free(m);
        return rc;
    }
    *out = m;
    return LCAE_OK;
}

int lcae_model_create(const lcae_model_config *cfg, uint64_t seed, lcae_model **out)
{
    lcae_model *m;
    int rc = model_tables(cfg, &m);
    if (rc)
        return rc;
    lcae_train_options d; /* a new model's metadata: the training defaults' */
    lcae_train_defaults(&d);
    m->meta = (lcae_model_meta){.prep = {.bin = d.bin, .median = NAN, .scale = NAN},
                                .mask = d.mask, .recon = d.recon, .rot_loss = d.rot_loss,
                                .invariant_dims = d.invariant_dims, .lambda = d.lambda,
                                .seed = seed};
    if (m->meta.invariant_dims > cfg->latent)
        m->meta.invariant_dims = cfg->latent;
    if (cfg->kind == LCAE_ARCH_POLAR) { /* invariant by construction: no rotation loss */
        m->meta.rot_loss = 0;
        m->meta.lambda = 0;
        m->meta.invariant_dims = cfg->invariant;
    }
    m->nbt = lcae_calloc((size_t)m->nbn, sizeof *m->nbt);
    int64_t HH = (int64_t)cfg->input_size * cfg->input_size;
    m->mask_host = lcae_malloc((size_t)HH * sizeof(float));
    /* the parameters, their gradients, Adam's moments and the running statistics are
     * backend memory, touched only by nn calls, uploads and downloads */
    if (!m->nbt || !m->mask_host || (rc = lcae_nn_create(&m->nn)) != LCAE_OK ||
        !(m->params = lcae_nn_alloc(m->nn, m->nparams)) ||
        !(m->grads = lcae_nn_alloc(m->nn, m->nparams)) ||
        !(m->adam_m = lcae_nn_alloc(m->nn, m->nparams)) ||
        !(m->adam_v = lcae_nn_alloc(m->nn, m->nparams)) ||
        !(m->buffers = lcae_nn_alloc(m->nn, m->nbuffers)) ||
        !(m->mask = lcae_nn_alloc(m->nn, HH)) || (rc = init_params(m, seed)) != LCAE_OK) {
        lcae_model_free(m);
        return rc ? rc : LCAE_ENOMEM;
    }
    *out = m;
    return LCAE_OK;
}

const lcae_model_config *lcae_model_get_config(const lcae_model *m) { return &m->cfg; }
lcae_model_meta *lcae_model_get_meta(lcae_model *m) { return &m->meta; }

int lcae_model_describe(const lcae_model_config *cfg, char *buf, size_t size)
{
    lcae_model *m;
    lcae_nn *nn;
    int rc = model_tables(cfg, &m);
    if (rc)
        return rc;
    if ((rc = lcae_nn_create(&nn))) {
        lcae_model_free(m);
        return rc;
    }
    size_t at = (size_t)snprintf(buf, size, "backend %s\n", lcae_nn_describe(nn));
    for (int i = 0; cfg->kind != LCAE_ARCH_POLAR && i < m->nlayers && at < size; i++) {
        const model_layer *L = &m->layers[i];
        int o = L->hout, C = L->cin, K = L->cout, k = L->k, s = L->stride, p = L->pad;
        if (L->kind == LY_LINEAR) {
            at += (size_t)snprintf(buf + at, size - at, "%s linear %d->%d: sgemm\n", L->name,
                                   C, K);
            continue;
        }
        const char *fwd = "im2col", *dx = "im2col", *dw = "im2col";
        if (L->kind != LY_DECONV_BN) { /* a convT is the adjoint of an im2col Conv2d */
            fwd = dw = lcae_conv2d_algorithm(nn, C, L->hin, L->hin, K, k, s, p);
            if (s == 1) /* the flipped-weight Conv2d of lcae_conv2d_backward */
                dx = lcae_conv2d_algorithm(nn, K, o, o, C, k, 1, k - 1 - p);
        }
        at += (size_t)snprintf(buf + at, size - at, "%s %s %d->%d %dx%d k%d/%d: forward %s, "
                               "input gradient %s, weight gradient %s\n", L->name,
                               L->kind == LY_DECONV_BN ? "convT" : "conv", C, K, L->hin,
                               L->hin, k, s, fwd, i ? dx : "none", dw);
    }
    lcae_nn_free(nn);
    lcae_model_free(m);
    return LCAE_OK;
}

double model_forward_flops(const lcae_model *m, int N, int encoder_only)
{
    double f = 0;
    int n = encoder_only ? m->nenc : m->nlayers;
    for (int i = 0; i < n; i++) {
        const model_layer *L = &m->layers[i];
        /* a transposed conv does as many multiply-adds as the conv it transposes */
        double pix = L->kind == LY_DECONV_BN ? (double)L->hin * L->hin
                                             : (double)L->hout * L->hout;
        double kk = L->kind == LY_LINEAR ? 1 : (double)L->k * L->k;
        f += 2.0 * N * L->cin * L->cout * kk * pix;
    }
    return f;
}

int64_t model_fill_mask(lcae_model *m)
{
    int H = m->cfg.input_size;
    double c = (H - 1) / 2.0, r2 = c * c;
    int64_t n = 0;
    for (int y = 0; y < H; y++)
        for (int x = 0; x < H; x++) {
            int in = m->meta.mask == LCAE_MASK_NONE || (y - c) * (y - c) + (x - c) * (x - c) <= r2;
            m->mask_host[y * H + x] = in ? 1.0f : 0.0f;
            n += in;
        }
    lcae_nn_upload(m->nn, m->mask, m->mask_host, (int64_t)H * H);
    return n;
}

/* Work memory for N samples: training (two passes of activations) or encoding only. */
static int ensure_work(lcae_model *m, int N, int train)
{
    if (N <= m->work_batch && (m->work_train || !train))
        return LCAE_OK;
    free_work(m);
    int64_t HH = (int64_t)m->cfg.input_size * m->cfg.input_size, maxl = HH;
    for (int i = 0; i < m->nlayers; i++)
        if (m->layers[i].out_size > maxl)
            maxl = m->layers[i].out_size;
    int64_t per_pass = HH;
    if (train)
        for (int i = 0; i < m->nlayers; i++)
            per_pass += m->layers[i].out_size;
    int64_t total = (int64_t)N * (2 * maxl + (train ? 2 * maxl + 2 * per_pass +
                                              2 * m->cfg.latent + HH : 0));
    /* batch statistics are per channel, not per sample */
    int64_t stats = 0;
    if (train)
        for (int i = 0; i < m->nlayers; i++)
            if (m->layers[i].bn >= 0)
                stats += 4 * (int64_t)m->layers[i].cout;
    m->work = lcae_nn_alloc(m->nn, total + stats);
    if (!m->work)
        return lcae_fail(LCAE_ENOMEM, "out of memory: the model's work memory for a batch of "
                         "%d (%.1f GB)", N, (double)(total + stats) * 4e-9);
    float *p = m->work;
    m->g[0] = p, p += (int64_t)N * maxl;
    m->g[1] = p, p += (int64_t)N * maxl;
    if (train) {
        m->act[0] = p, p += (int64_t)N * maxl;
        m->act[1] = p, p += (int64_t)N * maxl;
        for (int k = 0; k < 2; k++) {
            model_pass *P = &m->pass[k];
            P->x = p, p += (int64_t)N * HH;
            for (int i = 0; i < m->nlayers; i++) {
                const model_layer *L = &m->layers[i];
                if (L->bn >= 0) {
                    P->pre[i] = p, p += (int64_t)N * L->out_size;
                    P->mean[i] = p, p += L->cout;
                    P->invstd[i] = p, p += L->cout;
                } else {
                    P->out[i] = p, p += (int64_t)N * L->out_size;
                }
            }
            m->dz[k] = p, p += (int64_t)N * m->cfg.latent;
        }
        m->lossbuf = p;
    }
    m->work_batch = N;
    m->work_train = train;
    return LCAE_OK;
}

/* Layer i's output in pass P: stored, or (BatchNorm layers) where it was last computed. */
static float *output(lcae_model *m, model_pass *P, int i)
{
    return i < 0 ? P->x : m->layers[i].bn >= 0 ? m->act[i & 1] : P->out[i];
}

/* Recomputes BatchNorm layer i's output relu(bn(pre)) into dst, bit-identical to the
 * forward's, so that the backward pass sees the forward's values. */
static void bn_relu_output(const lcae_model *m, const model_pass *P, int i, int N, float *dst)
{
    const model_layer *L = &m->layers[i];
    lcae_batchnorm_relu_apply(m->nn, dst, P->pre[i], m->params + L->gamma,
                              m->params + L->beta, P->mean[i], P->invstd[i], N, L->cout,
                              L->hout * L->hout);
}

void model_layer_output(lcae_model *m, int k, int i, float *dst)
{
    model_pass *P = &m->pass[k];
    int64_t n = (int64_t)m->step_batch * m->layers[i].out_size;
    if (m->layers[i].bn >= 0)
        bn_relu_output(m, P, i, m->step_batch, dst);
    else
        lcae_nn_download(m->nn, dst, P->out[i], n);
}

/* The layer's Linear, Conv2d or ConvTranspose2d with its bias, before any BatchNorm and
 * ReLU: in -> out for a batch of N (training and encoding share it). */
static int layer_affine_forward(lcae_model *m, const model_layer *L, float *out,
                                const float *in, int N)
{
    const float *w = m->params;
    switch (L->kind) {
    case LY_LINEAR:
        return lcae_linear_forward(m->nn, out, in, w + L->w, w + L->b, N, L->cin, L->cout);
    case LY_CONV:
    case LY_CONV_BN:
        return lcae_conv2d_forward(m->nn, out, in, w + L->w, w + L->b, N, L->cin, L->hin,
                                   L->hin, L->cout, L->k, L->stride, L->pad);
    case LY_DECONV_BN:
        return lcae_convt2d_forward(m->nn, out, in, w + L->w, w + L->b, N, L->cin, L->hin,
                                    L->hin, L->cout, L->k, L->stride, L->pad);
    }
    return LCAE_OK;
}

/* Training-mode forward of all layers of pass P (input P->x), updating running stats. */
static int forward_train(lcae_model *m, model_pass *P, int N)
{
    const float *w = m->params;
    for (int i = 0; i < m->nlayers; i++) {
        const model_layer *L = &m->layers[i];
        const float *in = output(m, P, i - 1);
        float *out = output(m, P, i);
        float *conv_out = L->bn >= 0 ? P->pre[i] : out;
        int rc = layer_affine_forward(m, L, conv_out, in, N);
        if (!rc && L->bn >= 0) { /* the ReLU, if any, in BatchNorm's pass */
            rc = (L->relu ? lcae_batchnorm_relu_forward_train : lcae_batchnorm_forward_train)(
                m->nn, out, P->pre[i], w + L->gamma, w + L->beta, m->buffers + L->rmean,
                m->buffers + L->rvar, P->mean[i], P->invstd[i], N, L->cout, L->hout * L->hout,
                MODEL_BN_MOMENTUM, MODEL_BN_EPS);
            m->nbt[L->bn]++;
        }
        if (rc)
            return rc;
        if (L->relu && L->bn < 0)
            lcae_relu_forward(m->nn, out, (int64_t)N * L->out_size);
    }
    return LCAE_OK;
}

/* Backward of pass P from dpred (in m->g[0], (N, 1, H, H)); dz_extra (N, latent) is the
 * rotation loss's gradient, added where the encoder's output is. Parameter gradients
 * accumulate. */
static int backward(lcae_model *m, model_pass *P, int N, const float *dz_extra)
{
    const float *w = m->params;
    float *g = m->grads;
    int cur = 0;
    for (int i = m->nlayers - 1; i >= 0; i--) {
        const model_layer *L = &m->layers[i];
        float *dout = m->g[cur], *din = i ? m->g[1 - cur] : NULL;
        /* this layer's input, if a BatchNorm layer's output, is recomputed into the other
         * act[] buffer (a BatchNorm layer's own ReLU mask comes from pre; the other
         * layers' outputs are stored) */
        if (i > 0 && m->layers[i - 1].bn >= 0)
            bn_relu_output(m, P, i - 1, N, m->act[(i - 1) & 1]);
        const float *in = output(m, P, i - 1);
        if (i == m->nenc - 1 && dz_extra)
            lcae_add(m->nn, dout, dz_extra, (int64_t)N * L->out_size);
        int rc = LCAE_OK;
        if (L->bn >= 0 && L->relu) /* the ReLU's mask from pre, in BatchNorm's passes */
            rc = lcae_batchnorm_relu_backward(m->nn, dout, g + L->gamma, g + L->beta, dout,
                                              P->pre[i], w + L->gamma, w + L->beta,
                                              P->mean[i], P->invstd[i], N, L->cout,
                                              L->hout * L->hout);
        else if (L->bn >= 0)
            rc = lcae_batchnorm_backward(m->nn, dout, g + L->gamma, g + L->beta, dout, P->pre[i],
                                         w + L->gamma, P->mean[i], P->invstd[i], N, L->cout,
                                         L->hout * L->hout);
        else if (L->relu)
            lcae_relu_backward(m->nn, dout, output(m, P, i), (int64_t)N * L->out_size);
        if (rc)
            return rc;
        switch (L->kind) {
        case LY_LINEAR:
            rc = lcae_linear_backward(m->nn, din, g + L->w, g + L->b, dout, in, w + L->w, N, L->cin,
                                      L->cout);
            break;
        case LY_CONV:
        case LY_CONV_BN:
            rc = lcae_conv2d_backward(m->nn, din, g + L->w, g + L->b, dout, in, w + L->w, N,
                                      L->cin, L->hin, L->hin, L->cout, L->k, L->stride, L->pad);
            break;
        case LY_DECONV_BN:
            rc = lcae_convt2d_backward(m->nn, din, g + L->w, g + L->b, dout, in, w + L->w, N,
                                       L->cin, L->hin, L->hin, L->cout, L->k, L->stride, L->pad);
            break;
        }
        if (rc)
            return rc;
        cur = 1 - cur;
    }
    return LCAE_OK;
}

/* L_recon of pass P inside the mask; writes dpred (scaled by 1) to m->g[0]. The loss
 * kernels average over all n pixels: outside the mask the prediction is replaced by the
 * target (difference 0, gradient 0) and the mean rescaled to the pixels inside. */
static double recon_loss(lcae_model *m, const model_pass *P, int N, int64_t inside)
{
    int64_t HH = (int64_t)m->cfg.input_size * m->cfg.input_size, n = N * HH;
    const float *pred = P->out[m->nlayers - 1];
    if (inside < HH) {
        lcae_mask_select(m->nn, m->lossbuf, pred, P->x, m->mask, N, HH);
        pred = m->lossbuf;
    }
    double s = (double)HH / (double)inside;
    if (m->sync) /* this process's share of the whole batch's mean */
        s *= (double)N / m->sync->batch;
    return s * (m->meta.recon == LCAE_RECON_MSE
                    ? lcae_mse(m->nn, pred, P->x, m->g[0], n, (float)s)
                    : lcae_clipped_l1(m->nn, pred, P->x, m->g[0], n, MODEL_CLIP, (float)s));
}

int lcae_model_step(lcae_model *m, const float *x, int N, double degrees, lcae_interp interp,
                    lcae_losses *losses)
{
    memset(losses, 0, sizeof *losses);
    if (N < 1)
        return lcae_fail(LCAE_EUSAGE, "model step: empty batch");
    if (m->cfg.kind == LCAE_ARCH_POLAR)
        return polar_step(m, x, N, degrees, losses);
    if (m->meta.rot_loss && (m->meta.invariant_dims < 1 || m->meta.invariant_dims > m->cfg.latent))
        return lcae_fail(LCAE_EUSAGE, "model step: the rotation loss needs 1 to %d invariant "
                         "dimensions, found %d", m->cfg.latent, m->meta.invariant_dims);
    int rc = ensure_work(m, N, 1);
    if (rc)
        return rc;
    m->step_batch = N;
    int H = m->cfg.input_size;
    int64_t HH = (int64_t)H * H, n = N * HH, inside = model_fill_mask(m);
    int two = m->meta.rot_loss;
    lcae_fill(m->nn, m->grads, 0.0f, m->nparams);
    model_pass *P0 = &m->pass[0], *P1 = &m->pass[1];
    lcae_nn_upload(m->nn, P0->x, x, n);
    if (two) {
        /* the rotation samples the unmasked input, with zero (the median) outside */
        double c = (H - 1) / 2.0;
        if (interp == LCAE_INTERP_NEAREST)
            lcae_rotate_nearest(m->nn, P1->x, P0->x, N, H, H, degrees, c, c, 0.0f);
        else
            lcae_rotate_bilinear(m->nn, P1->x, P0->x, N, H, H, degrees, c, c, 0.0f);
        lcae_mask_mul(m->nn, P1->x, P1->x, m->mask, N, HH);
    }
    lcae_mask_mul(m->nn, P0->x, P0->x, m->mask, N, HH);
    if ((rc = forward_train(m, P0, N)))
        return rc;
    if (two) {
        if ((rc = forward_train(m, P1, N)))
            return rc;
        int D = m->cfg.latent;
        losses->rot = (m->meta.rot_form == LCAE_ROT_SCALED ? lcae_rot_loss_scaled
                                                           : lcae_rot_loss)(
            m->nn, P0->out[m->nenc - 1], P1->out[m->nenc - 1], m->dz[0], m->dz[1], N, D,
            m->meta.invariant_dims, (float)m->meta.lambda);
        losses->recon_rot = recon_loss(m, P1, N, inside);
        if ((rc = backward(m, P1, N, m->dz[1])))
            return rc;
    }
    losses->recon = recon_loss(m, P0, N, inside);
    if ((rc = backward(m, P0, N, two ? m->dz[0] : NULL)))
        return rc;
    losses->total = losses->recon + losses->recon_rot + m->meta.lambda * losses->rot;
    if (!isfinite(losses->total))
        return lcae_fail(LCAE_EFAIL, "training diverged: the loss is %g (recon %g, rotated "
                         "recon %g, rotation %g)", losses->total, losses->recon,
                         losses->recon_rot, losses->rot);
    return LCAE_OK;
}

void lcae_model_adam(lcae_model *m, double lr, double beta1)
{
    lcae_adam_step(m->nn, m->params, m->grads, m->adam_m, m->adam_v, m->nparams, ++m->adam_step, lr,
                   beta1, 0.999, 1e-8);
}

int lcae_model_encode_batch(lcae_model *m, const float *x, int N, float *z)
{
    if (N < 1)
        return LCAE_OK;
    if (m->cfg.kind == LCAE_ARCH_POLAR)
        return polar_encode_batch(m, x, N, z);
    int rc = ensure_work(m, N, 0);
    if (rc)
        return rc;
    /* the input is masked as in training, into g[1], which layer 0 does not write */
    int64_t HH = (int64_t)m->cfg.input_size * m->cfg.input_size;
    model_fill_mask(m);
    lcae_nn_upload(m->nn, m->g[1], x, N * HH);
    lcae_mask_mul(m->nn, m->g[1], m->g[1], m->mask, N, HH);
    const float *w = m->params, *in = m->g[1];
    for (int i = 0; i < m->nenc; i++) {
        const model_layer *L = &m->layers[i];
        float *out = m->g[i & 1];
        /* BatchNorm folded into the convolution, ReLU in its epilogue */
        if (L->kind == LY_CONV_BN)
            rc = lcae_conv2d_bn_relu_eval(m->nn, out, in, w + L->w, w + L->b, w + L->gamma,
                                          w + L->beta, m->buffers + L->rmean,
                                          m->buffers + L->rvar, MODEL_BN_EPS, L->relu, N,
                                          L->cin, L->hin, L->hin, L->cout, L->k, L->stride,
                                          L->pad);
        else if (!(rc = layer_affine_forward(m, L, out, in, N)) && L->relu)
            lcae_relu_forward(m->nn, out, (int64_t)N * L->out_size);
        if (rc)
            return rc;
        in = out;
    }
    lcae_nn_download(m->nn, z, in, (int64_t)N * m->cfg.latent);
    return LCAE_OK;
}
