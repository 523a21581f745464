/* The polar autoencoder against PyTorch (tools/make_polar_fixture.py, float64 reference,
 * the prototype's modules), with the maximum over the angle and with the power mean of
 * order 4: the file as a PyTorch user writes it (no metadata but lcae.angle_pool), the
 * auxiliary target's standardization, the polar image, one training step with a cyclic
 * shift (z, reconstruction, auxiliary output, both losses, every gradient, the running
 * statistics), evaluation-mode z; then the invariance of z[:N] under cyclic shifts of
 * the polar image and the save/load round trip.
 *
 * Tolerance: per tensor, max |lcae - torch| <= TOL * max |torch| (relative to the
 * tensor's scale: element-wise relative error is meaningless where values cross 0).
 * lcae computes in float32, the reference in float64. The biases of convolutions
 * followed by BatchNorm have a gradient that is 0 in exact arithmetic (rounding noise on
 * both sides): they are compared against the scale of their weight's gradient. */
#include "model_fixture.h"

#include "lcae/model.h"
#include "model/model_internal.h"

#define TOL 1e-4

/* A convolution's bias followed by BatchNorm: "enc.I.conv.bias", the ConvTranspose
 * "dec.net.{0,4,8,12}.bias", the blocks' "dec.net.J.0.bias". */
static int prebn_bias(const char *name)
{
    int j;
    char tail[16];
    if (strstr(name, ".conv.bias"))
        return 1;
    if (sscanf(name, "dec.net.%d.%15s", &j, tail) != 2)
        return 0;
    return (!strcmp(tail, "bias") && j % 4 == 0 && j < 16) || !strcmp(tail, "0.bias");
}

static void test_step(lcae_model *m, const float *x, int N)
{
    int nr = m->cfg.input_size / 2, nt = LCAE_POLAR_ANGLES, L = m->cfg.latent;
    int shift = (int)meta_value("shift");
    lcae_losses loss;
    int rc = lcae_model_step(m, x, N, shift * 360.0 / nt, LCAE_INTERP_BILINEAR, &loss);
    CHECK_MSG(rc == LCAE_OK, "%s", lcae_last_error());
    if (rc)
        return;
    CHECK_CLOSE(loss.recon, meta_value("loss.recon"), 1e-5 * meta_value("loss.recon"));
    CHECK_CLOSE(loss.aux, meta_value("loss.aux"), 1e-5 * meta_value("loss.aux"));
    CHECK_CLOSE(loss.total, meta_value("loss.total"), 1e-5 * meta_value("loss.total"));
    CHECK(loss.rot == 0 && loss.recon_rot == 0);
    const float *z, *y, *aux;
    polar_last_step(m, &z, &y, &aux);
    compare("z", z, (int64_t)N * L, NULL, TOL);
    compare("y", y, (int64_t)N * nr * nt, NULL, TOL);
    compare("aux", aux, (int64_t)N * POLAR_ORDERS * nr, NULL, TOL);
    char name[96], wname[96];
    int nbias = 0;
    for (int i = 0; i < m->ntensors; i++) {
        const model_tensor *t = &m->tensors[i];
        if (t->kind == T_PARAM) {
            snprintf(name, sizeof name, "grad.%s", t->name);
            const char *scale = NULL;
            if (prebn_bias(t->name)) {
                weight_grad_name(wname, sizeof wname, t->name);
                scale = wname;
                nbias++;
            }
            compare(name, m->grads + t->offset, t->count, scale, TOL);
        } else if (t->kind == T_BUFFER && strstr(t->name, "running")) {
            snprintf(name, sizeof name, "after.%s", t->name);
            compare(name, m->buffers + t->offset, t->count, NULL, TOL);
        } else if (t->kind == T_COUNT) {
            CHECK_MSG(m->nbt[t->offset] == 1, "%s: %lld, expected 1", t->name,
                      (long long)m->nbt[t->offset]);
        }
    }
    CHECK_MSG(nbias == 6 + 8, "%d biases before BatchNorm, expected 14", nbias);
}

/* z[:ninv] of cyclically shifted polar images equals z[:ninv] of the originals to float
 * rounding (the sums over theta change order); the other features change. */
static void test_invariance(lcae_model *m, const float *x, int N)
{
    int nr = m->cfg.input_size / 2, nt = LCAE_POLAR_ANGLES, L = m->cfg.latent;
    int ninv = m->cfg.invariant;
    float *img = malloc(sizeof(float) * N * nr * nt), *rolled = malloc(sizeof(float) * N * nr * nt);
    float *z0 = malloc(sizeof(float) * N * L), *z1 = malloc(sizeof(float) * N * L);
    polar_image(m, x, N, img);
    for (int shift = 1; shift < nt; shift += 29) {
        for (int row = 0; row < N * nr; row++)
            for (int t = 0; t < nt; t++)
                rolled[row * nt + t] = img[row * nt + (t - shift + nt) % nt];
        CHECK(polar_encode_image(m, img, N, z0) == LCAE_OK);
        CHECK(polar_encode_image(m, rolled, N, z1) == LCAE_OK);
        double scale = 0, err = 0, scale_v = 0, diff_v = 0;
        for (int n = 0; n < N; n++)
            for (int j = 0; j < L; j++) {
                double a = z0[n * L + j], d = fabs(a - z1[n * L + j]);
                if (j < ninv) {
                    scale = fmax(scale, fabs(a));
                    err = fmax(err, d);
                } else {
                    scale_v = fmax(scale_v, fabs(a));
                    diff_v = fmax(diff_v, d);
                }
            }
        printf("shift %2d: invariant features max |dz| / max |z| = %.3g, the others %.3g\n",
               shift, err / scale, diff_v / scale_v);
        CHECK_MSG(err <= 1e-6 * scale, "shift %d: invariant features moved by %.3g (scale "
                  "%.3g)", shift, err, scale);
        CHECK_MSG(diff_v > 1e-4 * scale_v, "shift %d: the non-invariant features did not "
                  "change (%.3g)", shift, diff_v);
    }
    free(img);
    free(rolled);
    free(z0);
    free(z1);
}

static void test_roundtrip(lcae_model *m, const float *x, int N)
{
    char path[1100];
    snprintf(path, sizeof path, "%s/polar.safetensors", test_tmpdir());
    int L = m->cfg.latent;
    float *z0 = malloc(sizeof(float) * N * L), *z1 = malloc(sizeof(float) * N * L);
    CHECK(lcae_model_encode_batch(m, x, N, z0) == LCAE_OK);
    m->meta.prep.median = 0; /* a PyTorch user's file has no normalization; lcae's has */
    m->meta.prep.scale = 1;
    CHECK_MSG(lcae_model_save(m, path) == LCAE_OK, "%s", lcae_last_error());
    lcae_model *m2 = NULL;
    int rc = lcae_model_load(path, &m2);
    CHECK_MSG(rc == LCAE_OK, "%s", lcae_last_error());
    if (m2) {
        model_st_file *f;
        CHECK(model_st_open(path, &f) == LCAE_OK);
        const char *arch = model_st_meta(f, "lcae.arch");
        CHECK(arch && !strcmp(arch, "polar"));
        model_st_close(f);
        CHECK(m2->cfg.kind == LCAE_ARCH_POLAR && m2->cfg.input_size == m->cfg.input_size &&
              m2->cfg.invariant == m->cfg.invariant &&
              m2->cfg.angle_pool == m->cfg.angle_pool && m2->meta.rot_loss == 0);
        CHECK(lcae_model_encode_batch(m2, x, N, z1) == LCAE_OK);
        CHECK_MSG(!memcmp(z0, z1, sizeof(float) * N * L), "z differs after save and load");
    }
    lcae_model_free(m2);
    remove(path);
    free(z0);
    free(z1);
}

/* One fixture: tests/fixtures/<name>, its weights' angle pool `order` (the maximum's
 * file has no metadata: a PyTorch user's, and an earlier lcae's, load as the maximum). */
static void test_fixture(const char *name, int order)
{
    char dir[1024], path[1100];
    if (open_expected(name, dir, sizeof dir)) {
        CHECK_MSG(0, "tests/fixtures/%s is missing", name);
        return;
    }
    snprintf(path, sizeof path, "%s/weights.safetensors", dir);
    lcae_model *m = NULL;
    int rc = lcae_model_load(path, &m);
    CHECK_MSG(rc == LCAE_OK, "%s", lcae_last_error());
    if (!m)
        return;
    CHECK(m->cfg.kind == LCAE_ARCH_POLAR && m->cfg.input_size == 32 && m->cfg.base == 2 &&
          m->cfg.invariant == 10 && m->cfg.latent == 16 && m->cfg.latent_ch == 4);
    CHECK_MSG(m->cfg.angle_pool == order, "%s: angle pool %d, expected %d", name,
              m->cfg.angle_pool, order);
    int64_t nx, ntrain;
    float *x = read_expected("x", &nx), *xtrain = read_expected("train_x", &ntrain);
    int H = m->cfg.input_size, N = (int)(nx / (H * H)), nr = H / 2;
    /* the target's standardization, recomputed from the training patterns */
    const model_tensor *tm = model_find_tensor(m, "lcae_aux_target.mean");
    const model_tensor *ts = model_find_tensor(m, "lcae_aux_target.std");
    CHECK(tm && ts);
    float *want = malloc(sizeof(float) * 2 * tm->count);
    memcpy(want, m->buffers + tm->offset, sizeof(float) * tm->count);
    memcpy(want + tm->count, m->buffers + ts->offset, sizeof(float) * tm->count);
    CHECK(polar_target_begin(m) == LCAE_OK);
    CHECK(polar_target_add(m, xtrain, 5) == LCAE_OK);
    CHECK(polar_target_add(m, xtrain + 5 * H * H, (int)(ntrain / (H * H)) - 5) == LCAE_OK);
    CHECK(polar_target_end(m) == LCAE_OK);
    for (int64_t j = 0; j < tm->count; j++) {
        CHECK_CLOSE(m->buffers[tm->offset + j], want[j], 1e-5 * fmax(1, fabs(want[j])));
        CHECK_CLOSE(m->buffers[ts->offset + j], want[tm->count + j],
                    1e-5 * fmax(1, fabs(want[tm->count + j])));
    }
    free(want);
    float *img = malloc(sizeof(float) * N * nr * LCAE_POLAR_ANGLES);
    polar_image(m, x, N, img);
    compare("polar", img, (int64_t)N * nr * LCAE_POLAR_ANGLES, NULL, 1e-6);
    free(img);
    test_step(m, x, N);
    float *z = malloc(sizeof(float) * N * m->cfg.latent);
    CHECK(lcae_model_encode_batch(m, x, N, z) == LCAE_OK);
    compare("z_eval", z, (int64_t)N * m->cfg.latent, NULL, TOL);
    free(z);
    test_invariance(m, x, N);
    test_roundtrip(m, x, N);
    printf("%s: worst error / scale over all compared tensors: %.3g\n", name, worst_ratio);
    free(x);
    free(xtrain);
    lcae_model_free(m);
    model_st_close(exp_file);
    worst_ratio = 0;
}

int main(void)
{
    test_fixture("polar", 0);
    test_fixture("polar_pmean4", 4);
    return test_done("test_model_polar");
}
