/* The autoencoder against PyTorch (tools/make_model_fixture.py, float64 reference):
 * every layer's output of both passes, the three loss terms, every gradient, the weights
 * and running statistics after two Adam steps, the --mask none losses, evaluation-mode
 * latents of a PyTorch-written model on a scan (crop and bin included), and the layer
 * table against the published state_dict names and shapes (../shared).
 *
 * Tolerance: per tensor, max |lcae - torch| <= 1e-4 * max |torch| (relative to the
 * tensor's scale: element-wise relative error is meaningless where values cross 0).
 * lcae computes in float32, the reference in float64. */
#include "model_fixture.h"

#include "lcae/model.h"
#include "model/model_internal.h"

static lcae_model *load_weights(const char *dir)
{
    char path[1100];
    snprintf(path, sizeof path, "%s/weights.safetensors", dir);
    lcae_model *m = NULL;
    int rc = lcae_model_load(path, &m);
    CHECK_MSG(rc == LCAE_OK, "%s", lcae_last_error());
    if (m) {
        lcae_model_meta *me = lcae_model_get_meta(m);
        me->mask = LCAE_MASK_DISK;
        me->rot_loss = 1;
        me->invariant_dims = (int)meta_value("invariant_dims");
        me->lambda = meta_value("lambda");
    }
    return m;
}

/* The bias of a convolution followed by BatchNorm: its gradient is 0 in exact arithmetic
 * (BatchNorm subtracts the batch mean), so in float32 it is rounding noise in lcae as in
 * PyTorch, and Adam turns that noise into steps of up to lr in either direction. */
static int prebn_bias(const model_tensor *t)
{
    return strstr(t->name, ".conv.bias") || strstr(t->name, ".deconv.bias");
}

/* Weights, running statistics and counters after an Adam step against "PREFIX.NAME".
 * Pre-BatchNorm biases: each Adam step moves them by at most lr (noise-driven, see
 * prebn_bias), so they are checked to stay within that of where they were (prev, after
 * the previous step) and, after the first step, within 2 lr of PyTorch's; the running
 * mean of their layer then differs from PyTorch's by exactly 0.19 times their difference
 * after step 1 (momentum 0.1: the two passes of step 2 weigh 0.1 * 0.9 + 0.1). */
static void compare_state(lcae_model *m, const char *prefix, const float *prev, double lr)
{
    char name[96];
    for (int i = 0; i < m->ntensors; i++) {
        const model_tensor *t = &m->tensors[i];
        snprintf(name, sizeof name, "%s.%s", prefix, t->name);
        if (t->kind == T_COUNT) {
            const model_st_tensor *e = model_st_find(exp_file, name);
            int64_t v = -1;
            CHECK(e && model_st_read_i64(exp_file, e, &v) == LCAE_OK);
            CHECK_MSG(m->nbt[t->offset] == v, "%s: %lld vs %lld", name,
                      (long long)m->nbt[t->offset], (long long)v);
            continue;
        }
        const float *got = model_tensor_data(m, t);
        int64_t n;
        float *ref = read_expected(name, &n);
        CHECK(n == t->count);
        if (t->kind == T_PARAM && prebn_bias(t)) {
            double moved = 0, off = 0;
            for (int64_t j = 0; j < n; j++) {
                if (prev)
                    moved = fmax(moved, fabs(got[j] - prev[t->offset + j]));
                off = fmax(off, fabs(got[j] - ref[j]));
            }
            CHECK_MSG(moved <= 1.01 * lr, "%s moved by %.3g in one step (lr %g)", name, moved, lr);
            CHECK_MSG(prev || off <= 2.01 * lr, "%s: %.3g from PyTorch's (lr %g)", name, off, lr);
        } else if (prev && strstr(t->name, "running_mean")) {
            char b[64], b1name[96];
            snprintf(b, sizeof b, "%.*s", (int)(strlen(t->name) - strlen("norm.running_mean")),
                     t->name);
            const model_tensor *bt = model_find_tensor(m, strcat(b, "conv.bias"));
            if (!bt) {
                snprintf(b, sizeof b, "%.*sdeconv.bias",
                         (int)(strlen(t->name) - strlen("norm.running_mean")), t->name);
                bt = model_find_tensor(m, b);
            }
            snprintf(b1name, sizeof b1name, "step1.%s", bt->name);
            int64_t nb;
            float *b1ref = read_expected(b1name, &nb);
            float *adj = malloc((size_t)n * sizeof *adj);
            for (int64_t j = 0; j < n; j++)
                adj[j] = got[j] - 0.19f * (prev[bt->offset + j] - b1ref[j]);
            compare(name, adj, n, NULL, 1e-4);
            free(adj);
            free(b1ref);
        } else {
            compare(name, got, n, NULL, 1e-4);
        }
        free(ref);
    }
}

static void test_training_step(const char *dir)
{
    lcae_model *m = load_weights(dir);
    if (!m)
        return;
    const lcae_model_config *c = lcae_model_get_config(m);
    CHECK(c->input_size == 32 && c->base == 4 && c->latent_ch == 4 && c->latent == 16);
    int64_t n;
    float *x = read_expected("input", &n);
    int N = (int)(n / (32 * 32));
    CHECK(N == 4);

    /* the rotation, against the script's numpy computation of the same convention */
    float *xr = malloc((size_t)n * sizeof *xr);
    lcae_rotate_bilinear(m->nn, xr, x, N, 32, 32, meta_value("psi1"), 15.5, 15.5, 0.0f);
    compare("input_rot_unmasked", xr, n, NULL, 1e-5);
    free(xr);

    double lr = meta_value("lr");
    lcae_losses L;
    int rc = lcae_model_step(m, x, N, meta_value("psi1"), LCAE_INTERP_BILINEAR, &L);
    CHECK_MSG(rc == LCAE_OK, "%s", lcae_last_error());
    CHECK_CLOSE(L.recon, meta_value("loss.recon"), 1e-5);
    CHECK_CLOSE(L.recon_rot, meta_value("loss.recon_rot"), 1e-5);
    CHECK_CLOSE(L.rot, meta_value("loss.rot"), 1e-4);
    CHECK_CLOSE(L.total, meta_value("loss.total"), 1e-4);
    CHECK_MSG(fabs(L.rot - meta_value("loss.rot")) <= 1e-4 * meta_value("loss.rot"),
              "rot %.9g vs %.9g", L.rot, meta_value("loss.rot"));
    char name[96], wname[96];
    for (int k = 0; k < 2; k++)
        for (int i = 0; i < m->nlayers; i++) {
            snprintf(name, sizeof name, "act%d.%s", k, m->layers[i].name);
            float *a = malloc((size_t)N * m->layers[i].out_size * sizeof *a);
            model_layer_output(m, k, i, a);
            compare(name, a, N * m->layers[i].out_size, NULL, 1e-4);
            free(a);
        }
    for (int i = 0; i < m->ntensors; i++) {
        const model_tensor *t = &m->tensors[i];
        if (t->kind != T_PARAM)
            continue;
        snprintf(name, sizeof name, "grad.%s", t->name);
        /* a pre-BatchNorm bias: 0 in exact arithmetic, only float32 cancellation noise is
         * left, small on the scale of the layer's weight gradient */
        weight_grad_name(wname, sizeof wname, t->name);
        compare(name, m->grads + t->offset, t->count, prebn_bias(t) ? wname : NULL, 1e-4);
    }
    lcae_model_adam(m, lr, 0.9);
    float *b1 = malloc((size_t)m->nparams * sizeof *b1);
    memcpy(b1, m->params, (size_t)m->nparams * sizeof *b1);
    compare_state(m, "step1", NULL, lr);
    rc = lcae_model_step(m, x, N, meta_value("psi2"), LCAE_INTERP_BILINEAR, &L);
    CHECK_MSG(rc == LCAE_OK, "%s", lcae_last_error());
    lcae_model_adam(m, lr, 0.9);
    compare_state(m, "step2", b1, lr);
    free(b1);
    lcae_model_free(m);

    /* --mask none: the published code's zero fill, loss over every pixel */
    m = load_weights(dir);
    lcae_model_get_meta(m)->mask = LCAE_MASK_NONE;
    rc = lcae_model_step(m, x, N, meta_value("psi1"), LCAE_INTERP_BILINEAR, &L);
    CHECK_MSG(rc == LCAE_OK, "%s", lcae_last_error());
    CHECK_CLOSE(L.recon, meta_value("none.loss.recon"), 1e-5);
    CHECK_CLOSE(L.recon_rot, meta_value("none.loss.recon_rot"), 1e-5);
    CHECK_CLOSE(L.total, meta_value("none.loss.total"), 1e-4);
    lcae_model_free(m);
    free(x);
}

/* A model PyTorch wrote (with lcae's metadata) encodes a scan to the script's latents. */
static void test_encode(const char *dir)
{
    char path[1100];
    snprintf(path, sizeof path, "%s/trained.safetensors", dir);
    lcae_model *m = NULL;
    int rc = lcae_model_load(path, &m);
    CHECK_MSG(rc == LCAE_OK, "%s", lcae_last_error());
    if (!m)
        return;
    CHECK(lcae_model_get_meta(m)->prep.bin == 2 && lcae_model_get_meta(m)->prep.crop == 64);
    snprintf(path, sizeof path, "%s/scan.npy", dir);
    lcae_dataset *ds = NULL;
    rc = lcae_dataset_open(path, NULL, &ds);
    CHECK_MSG(rc == LCAE_OK, "%s", lcae_last_error());
    if (ds) {
        float z[6 * 16];
        for (int batch = 1; batch <= 4; batch += 3) { /* one batch of 4 and a rest of 2 */
            rc = lcae_encode(m, ds, NULL, batch, z, NULL);
            CHECK_MSG(rc == LCAE_OK, "%s", lcae_last_error());
            compare("latent", z, 6 * 16, NULL, 1e-4);
        }
        lcae_dataset_close(ds);
    }
    lcae_model_free(m);
}

/* The layer table at the published sizes gives exactly the published state_dict. */
static void test_table(const char *dir)
{
    char path[1100], line[256], want[256];
    snprintf(path, sizeof path, "%s/reference-state-dict-keys.txt", dir);
    FILE *fp = fopen(path, "r");
    CHECK_MSG(fp != NULL, "cannot open %s", path);
    if (!fp)
        return;
    lcae_model_config cfg = {.input_size = 128, .base = 64, .latent_ch = 4, .latent = 16};
    lcae_model *m = NULL;
    CHECK(lcae_model_create(&cfg, 1, &m) == LCAE_OK);
    int i = 0;
    while (m && fgets(line, sizeof line, fp)) {
        if (line[0] == '#' || line[0] == '\n')
            continue;
        line[strcspn(line, "\n")] = 0;
        CHECK_MSG(i < m->ntensors, "reference has more than %d tensors", m->ntensors);
        if (i >= m->ntensors)
            break;
        const model_tensor *t = &m->tensors[i++];
        int at = snprintf(want, sizeof want, "%s (", t->name);
        for (int d = 0; d < t->ndim; d++)
            at += snprintf(want + at, sizeof want - (size_t)at, "%s%lld", d ? ", " : "",
                           (long long)t->shape[d]);
        snprintf(want + at, sizeof want - (size_t)at, t->ndim == 1 ? ",)" : ")");
        CHECK_MSG(!strcmp(want, line), "tensor %d: lcae '%s', reference '%s'", i - 1, want,
                  line);
    }
    CHECK(m && i == m->ntensors && i == 129);
    fclose(fp);
    lcae_model_free(m);
}

int main(void)
{
    char dir[1024];
    if (open_expected("model", dir, sizeof dir))
        return 1;
    test_table(dir); /* a copy of ../shared/reference-state-dict-keys.txt */
    test_training_step(dir);
    test_encode(dir);
    printf("worst error / scale over all compared tensors: %.3g\n", worst_ratio);
    model_st_close(exp_file);
    return test_done("test_model_torch");
}
