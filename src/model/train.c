/* Training on a scan (shuffled batches, Adam, a checkpoint and a log line per epoch) and
 * encoding a scan. */
#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lcae/mpi.h"
#include "model/model_file.h"
#include "model/model_internal.h"

/* Random streams, one per purpose, so that e.g. resuming at epoch e draws what an
 * uninterrupted run would. */
enum {
    STREAM_SUBSET = 0x5b5e7,
    STREAM_PROBE = 0x960be,
    STREAM_RESTART = 0x7e57a,
    STREAM_EPOCH = 0xe90c0000
};

/* Patterns of the probe set: each epoch's latent spread and invariance error. */
#define PROBE_PATTERNS 512

static const char *const arch_names[] = {"cae", "polar", NULL};
static const char *const rot_form_names[] = {"paper", "scaled", NULL};
static const char *const recon_names[] = {"l1", "mse", NULL};
static const char *const schedule_names[] = {"constant", "onecycle", NULL};
static const char *const mask_names[] = {"disk", "none", NULL};
static const char *const interp_names[] = {"bilinear", "nearest", NULL};

#define AT(field) offsetof(lcae_train_options, field)
#define ANY 0, 0 /* no range */
#define MIN(v) v, HUGE_VAL
#define RESUME LCAE_TRAIN_RESUME

/* The paper's settings (METHOD.md) but for the rotation loss's form: the scaled one, which
 * cannot be met by collapsing the invariant features, at its natural weight 1 (measured:
 * docs/model.md); the paper's is rot_form paper, lambda 50. In the order of the JSON
 * (the training log's "options", run.json's "train"). Not here: arch.input_size (from the
 * data), arch.invariant (invariant_dims's) and resume (how, not what, to train). */
const lcae_option lcae_train_option_table[] = {
    {"epochs", NULL, LCAE_OPT_INT, AT(epochs), 10, MIN(0), NULL, "N",
     "passes over the training positions, used when --steps is 0 (default)", 0},
    {"steps", NULL, LCAE_OPT_I64, AT(steps), 0, MIN(0), NULL, "N",
     "optimizer steps in all, 0: --epochs decide (default); N: ceil(N / steps per epoch) "
     "reshuffled passes, the last one stopping at step N (checkpoint and log per pass)", 0},
    {"batch", NULL, LCAE_OPT_INT, AT(batch), 32, MIN(2), NULL, "B", "patterns per step (default)",
     RESUME},
    {"lr", NULL, LCAE_OPT_DOUBLE, AT(lr), 1e-4, MIN(0), NULL, "LR",
     "Adam learning rate; onecycle's maximum (default)", RESUME | LCAE_OPT_ABOVE},
    {"lr-schedule", NULL, LCAE_OPT_CHOICE, AT(lr_schedule), LCAE_LR_CONSTANT, ANY, schedule_names,
     "constant|onecycle",
     "constant or PyTorch's OneCycleLR over all steps (pct_start 0.25, cosine, from LR/25 "
     "up to LR, down to LR/25e4; Adam's beta1 0.95 -> 0.85 -> 0.95) (default)", RESUME},
    {"recon", NULL, LCAE_OPT_CHOICE, AT(recon), LCAE_RECON_L1, ANY, recon_names, "l1|mse",
     "reconstruction loss inside the mask: l1 (the paper's clipped L1) or mse (default)",
     RESUME},
    {"rot-loss", NULL, LCAE_OPT_BOOL, AT(rot_loss), 1, ANY, NULL, NULL,
     "rotation-invariance loss and rotated pass (default; --no-rot-loss: the paper's "
     "standard model, L_recon(x) only)", RESUME | LCAE_TRAIN_ONE_MODEL},
    {"rot-loss-form", NULL, LCAE_OPT_CHOICE, AT(rot_form), LCAE_ROT_SCALED, ANY, rot_form_names,
     "paper|scaled",
     "the rotation loss: scaled, each invariant feature's |E(x) - E(Rx)| divided by its "
     "spread over the batch, which shrinking the features cannot lower; paper, the "
     "published mean |E(x) - E(Rx)| (with --lambda 50), met by collapsing the invariant "
     "features (default)", RESUME},
    {"invariant-dims", NULL, LCAE_OPT_INT, AT(invariant_dims), 10, MIN(1), NULL, "N",
     "latent features the rotation loss applies to (default; 16 = the published code)",
     RESUME},
    {"lambda", NULL, LCAE_OPT_DOUBLE, AT(lambda), 1, MIN(0), NULL, "L",
     "weight of the rotation loss (default; the paper's form: 50)", RESUME},
    {"max-angle", NULL, LCAE_OPT_DOUBLE, AT(max_angle), 360, MIN(0), NULL, "DEG",
     "rotation angle uniform in [0, DEG) per batch (default; 260 = the published code)",
     RESUME},
    {"seed", NULL, LCAE_OPT_U64, AT(seed), 0, MIN(0), NULL, "S",
     "initialization, shuffling, angles, subset, normalization sample (default)", RESUME},
    {"subset", NULL, LCAE_OPT_I64, AT(subset), 0, MIN(0), NULL, "K",
     "train on K randomly drawn positions, 0: all (default; encode covers all)", RESUME},
    {"bin", NULL, LCAE_OPT_INT, AT(bin), 1, ANY, NULL, "B", "sum-binning: 1, 2 or 4 (default)",
     RESUME | LCAE_TRAIN_PREP},
    {"crop", NULL, LCAE_OPT_INT, AT(crop), 0, MIN(0), NULL, "H",
     "centre crop of H x H detector pixels, 0: none (default)", RESUME | LCAE_TRAIN_PREP},
    {"transform", NULL, LCAE_OPT_CHOICE, AT(transform), LCAE_TRANSFORM_NONE, ANY,
     lcae_transform_names, "none|sqrt|log", "intensity transform (default)",
     RESUME | LCAE_TRAIN_PREP},
    {"offset", NULL, LCAE_OPT_DOUBLE, AT(offset), 0, ANY, NULL, "ADU",
     "detector offset per pixel (default)", RESUME | LCAE_TRAIN_PREP},
    {"center", NULL, LCAE_OPT_CHOICE, AT(center), LCAE_CENTER_NONE, ANY, lcae_center_names,
     "beam|none", "centring on the direct beam (default)", RESUME | LCAE_TRAIN_PREP},
    {"exact-norm", NULL, LCAE_OPT_BOOL, AT(exact_norm), 0, ANY, NULL, NULL,
     "exact median and scale of the prepared pixels (a second pass; default: from the "
     "statistics' sample of 2^23 pixels of every pattern, its standard error in the log)", 0},
    {"mask", NULL, LCAE_OPT_CHOICE, AT(mask), LCAE_MASK_DISK, ANY, mask_names, "disk|none",
     "disk: inputs of both passes masked to the inscribed disk, loss inside it; none: the "
     "published zero fill (default)", RESUME},
    {"interp", NULL, LCAE_OPT_CHOICE, AT(interp), LCAE_INTERP_BILINEAR, ANY, interp_names,
     "bilinear|nearest", "sampling of the rotation (default; nearest = the published code)",
     RESUME},
    {"restarts", NULL, LCAE_OPT_INT, AT(restarts), 1, MIN(1), NULL, "K",
     "train K times from K initializations on the same batches and angles and keep the "
     "model of lowest final loss (the mean loss of the last quarter of the steps) "
     "(default)", 0},
    {"arch", NULL, LCAE_OPT_CHOICE, AT(arch.kind), LCAE_ARCH_CAE, ANY, arch_names, "cae|polar",
     "cae: the paper's autoencoder; polar: invariant by construction (polar image, circular "
     "convs, the first --invariant-dims features pooled over the angle, an auxiliary head; "
     "no rotation loss); in lcae run, the rotation-invariant model's (default)", RESUME},
    {"angle-pool", NULL, LCAE_OPT_INT, AT(arch.angle_pool), 0, 0, LCAE_ANGLE_POOL_MAX, NULL,
     "P", "polar: the invariant features from the mean and, over the angle, the maximum (0, "
     "the prototype's) or the power mean of order P, smooth under rotations by a fraction "
     "of an angular step (default; lcae run's CPU preset: 4, docs/model.md)", RESUME},
    {"base", NULL, LCAE_OPT_INT, AT(arch.base), 64, MIN(1), NULL, "W",
     "width of the first block, 64 in the paper (default)", RESUME},
    {"latent-channels", NULL, LCAE_OPT_INT, AT(arch.latent_ch), 4, MIN(1), NULL, "C",
     "channels at 1/16 size (default)", RESUME},
    {"latent", NULL, LCAE_OPT_INT, AT(arch.latent), 16, MIN(1), NULL, "D",
     "latent features (default)", RESUME},
    {0}};

void lcae_train_defaults(lcae_train_options *o)
{
    *o = (lcae_train_options){0};
    lcae_options_defaults(lcae_train_option_table, o);
}

int lcae_train_check(const lcae_train_options *o)
{
    int rc = lcae_options_check(lcae_train_option_table, o);
    if (rc)
        return rc;
    if (o->steps == 0 && o->epochs < 1)
        return lcae_fail(LCAE_EUSAGE, "option --epochs: expected 1 or more (or --steps), "
                         "found %d", o->epochs);
    if ((o->rot_loss || o->arch.kind == LCAE_ARCH_POLAR) && o->invariant_dims > o->arch.latent)
        return lcae_fail(LCAE_EUSAGE, "option --invariant-dims: expected 1 to %d (--latent), "
                         "found %d", o->arch.latent, o->invariant_dims);
    return LCAE_OK;
}

/* OneCycleLR's cosine annealing from start to end as pct goes from 0 to 1. */
static double anneal_cos(double start, double end, double pct)
{
    return end + (start - end) / 2.0 * (cos(3.14159265358979323846 * pct) + 1); /* math.pi */
}

void lcae_lr_at(lcae_lr_schedule schedule, double lr, int64_t done, int64_t total,
                double *lr_out, double *beta1_out)
{
    if (schedule == LCAE_LR_CONSTANT) {
        *lr_out = lr;
        *beta1_out = 0.9;
        return;
    }
    /* OneCycleLR.get_lr with last_epoch = done: phase 1 ends at the (fractional) step
     * pct_start * total - 1, phase 2 at total - 1 */
    double initial = lr / 25.0, final = initial / 1e4;
    double end1 = 0.25 * (double)total - 1, end2 = (double)(total - 1), k = (double)done;
    if (k <= end1) {
        double pct = k / end1;
        *lr_out = anneal_cos(initial, lr, pct);
        *beta1_out = anneal_cos(0.95, 0.85, pct);
    } else {
        double pct = (k - end1) / (end2 - end1);
        *lr_out = anneal_cos(lr, final, pct);
        *beta1_out = anneal_cos(0.85, 0.95, pct);
    }
}

/* NAME.safetensors -> NAME<suffix> (any other name: name + suffix). */
static char *beside(const char *model_path, const char *suffix)
{
    size_t n = strlen(model_path), e = strlen(".safetensors");
    if (n > e && !strcmp(model_path + n - e, ".safetensors"))
        n -= e;
    char *s = lcae_malloc(n + strlen(suffix) + 1);
    if (s) {
        memcpy(s, model_path, n);
        strcpy(s + n, suffix);
    }
    return s;
}

/* Reads patterns idx[0..n-1] and prepares them as model inputs x (n, H, H); refuses
 * non-finite values (they would turn every weight into NaN). */
static int load_batch(lcae_dataset *ds, const lcae_model_meta *meta, const float *beam_map,
                      int size, const int64_t *idx, int n, float *raw, float *x)
{
    const lcae_dataset_info *in = lcae_dataset_get_info(ds);
    int rc = lcae_prep_read(ds, &meta->prep, size, beam_map, idx, n, raw, x);
    if (rc)
        return rc;
    int64_t S = (int64_t)size * size;
    for (int i = 0; i < n; i++)
        for (int64_t j = 0; j < S; j++)
            if (!isfinite(x[i * S + j]))
                return lcae_fail(LCAE_EFAIL, "%s: pattern %lld (scan position %lld, %lld) "
                                 "holds a non-finite value", lcae_dataset_path(ds),
                                 (long long)idx[i], (long long)(idx[i] / in->nx),
                                 (long long)(idx[i] % in->nx));
    return LCAE_OK;
}

/* The checkpoint's metadata: the epochs done, Adam's step, the run's length and every
 * option a resumed run must share with it (LCAE_TRAIN_RESUME, as lcae.train.KEY = its
 * text); lcae.total_steps must match too when the schedule depends on it (onecycle) or
 * the run is a step budget (whose last epoch may be cut short); lcae.epochs may grow. */
enum { RUN_META_FIXED = 4, RUN_META_MAX = 48 };
typedef struct {
    int n;
    char key[RUN_META_MAX][48], value[RUN_META_MAX][48];
    const char *kv[2 * RUN_META_MAX];
} run_meta;

static void run_meta_add(run_meta *r, const char *key, const char *value)
{
    snprintf(r->key[r->n], sizeof r->key[0], "%s", key);
    snprintf(r->value[r->n], sizeof r->value[0], "%s", value);
    r->kv[2 * r->n] = r->key[r->n];
    r->kv[2 * r->n + 1] = r->value[r->n];
    r->n++;
}

static void fill_run_meta(run_meta *r, const lcae_train_options *o, int epochs, int64_t total,
                          int epochs_done, int64_t adam_step)
{
    char v[48];
    r->n = 0;
    snprintf(v, sizeof v, "%d", epochs_done);
    run_meta_add(r, "lcae.epoch", v);
    snprintf(v, sizeof v, "%lld", (long long)adam_step);
    run_meta_add(r, "lcae.adam_step", v);
    snprintf(v, sizeof v, "%d", epochs);
    run_meta_add(r, "lcae.epochs", v);
    snprintf(v, sizeof v, "%lld", (long long)total);
    run_meta_add(r, "lcae.total_steps", v);
    for (const lcae_option *t = lcae_train_option_table; t->name; t++)
        if (t->flags & LCAE_TRAIN_RESUME) {
            char key[48];
            snprintf(key, sizeof key, "lcae.train.%s", t->name);
            lcae_option_format(t, o, v, sizeof v);
            run_meta_add(r, key, v);
        }
}

/* Resuming: the checkpoint must be of the same run (every option but --epochs, --steps
 * within the same total, and --exact-norm, whose normalization is the checkpoint's). */
static int check_resume(model_st_file *f, const char *ckpt, const lcae_model *m,
                        const lcae_train_options *o, int64_t total, int *epochs_done,
                        int64_t *adam_step)
{
    if (o->arch.input_size != m->cfg.input_size)
        return lcae_fail(LCAE_EUSAGE, "%s: cannot resume: the input size is %d here and %d "
                         "in the checkpoint", ckpt, o->arch.input_size, m->cfg.input_size);
    run_meta want;
    fill_run_meta(&want, o, 0, total, 0, 0);
    int same_total = o->lr_schedule == LCAE_LR_ONECYCLE || o->steps > 0;
    for (int i = RUN_META_FIXED - same_total; i < want.n; i++) {
        const char *v = model_st_meta(f, want.key[i]);
        if (!v || strcmp(v, want.value[i]))
            return lcae_fail(LCAE_EUSAGE, "%s: cannot resume: %s%s is %s here and %s in the "
                             "checkpoint", ckpt, i < RUN_META_FIXED ? "" : "--",
                             want.key[i] + (i < RUN_META_FIXED ? 5 : 11), want.value[i],
                             v ? v : "absent");
    }
    double e, s;
    if (model_meta_number(f, ckpt, "lcae.epoch", 0, 1e9, 1, &e) ||
        model_meta_number(f, ckpt, "lcae.adam_step", 0, 1e18, 1, &s))
        return lcae_fail(LCAE_EFAIL, "%s: not a training checkpoint (lcae.epoch or "
                         "lcae.adam_step missing or invalid)", ckpt);
    *epochs_done = (int)e;
    *adam_step = (int64_t)s;
    return LCAE_OK;
}

/* The log: options, normalization, one object per epoch; rewritten atomically. */
static cJSON *new_log(const lcae_train_options *o, const lcae_model *m, const char *data,
                      int64_t ntrain, const lcae_stats *norm)
{
    cJSON *log = cJSON_CreateObject(), *op = lcae_options_json(lcae_train_option_table, o);
    cJSON_AddItemToObject(log, "options", op);
    cJSON_AddStringToObject(log, "data", data);
    cJSON_AddNumberToObject(op, "input_size", m->cfg.input_size);
    cJSON_AddItemToObject(log, "prep", lcae_prep_json(&m->meta.prep));
    if (norm) { /* how the normalization was estimated (a resumed run keeps the log's) */
        cJSON *n = cJSON_AddObjectToObject(log, "normalization");
        cJSON_AddStringToObject(n, "method", norm->exact ? "exact" : "sampled");
        cJSON_AddNumberToObject(n, "values", (double)norm->sample_size);
        cJSON_AddNumberToObject(n, "median_se", norm->median_se);
        cJSON_AddNumberToObject(n, "sigma68_se", norm->sigma68_se);
        cJSON_AddNumberToObject(n, "sigma68", norm->sigma68);
        cJSON_AddNumberToObject(n, "std", norm->std);
    }
    cJSON_AddNumberToObject(log, "patterns_per_epoch", (double)ntrain);
    cJSON_AddArrayToObject(log, "epochs");
    return log;
}

/* On resume, the epochs already logged (up to the checkpoint's) are kept. */
static void keep_logged_epochs(cJSON *log, const char *path, int done)
{
    FILE *fp = fopen(path, "rb");
    if (!fp)
        return;
    char *text = NULL;
    long n = fseek(fp, 0, SEEK_END) == 0 ? ftell(fp) : -1;
    if (n > 0 && n < (64L << 20) && fseek(fp, 0, SEEK_SET) == 0 && (text = malloc((size_t)n)) &&
        fread(text, 1, (size_t)n, fp) == (size_t)n) {
        cJSON *old = cJSON_ParseWithLength(text, (size_t)n);
        cJSON *ep = cJSON_GetObjectItemCaseSensitive(old, "epochs");
        cJSON *norm = cJSON_GetObjectItemCaseSensitive(old, "normalization");
        if (norm && !cJSON_GetObjectItemCaseSensitive(log, "normalization"))
            cJSON_AddItemToObject(log, "normalization", cJSON_Duplicate(norm, 1));
        cJSON *dst = cJSON_GetObjectItemCaseSensitive(log, "epochs");
        cJSON *e;
        cJSON_ArrayForEach(e, ep) {
            cJSON *k = cJSON_GetObjectItemCaseSensitive(e, "epoch");
            if (cJSON_IsNumber(k) && k->valuedouble <= done)
                cJSON_AddItemToArray(dst, cJSON_Duplicate(e, 1));
        }
        cJSON_Delete(old);
    }
    free(text);
    fclose(fp);
}

static int write_log(cJSON *log, const char *path)
{
    char *text = cJSON_Print(log);
    if (!text)
        return lcae_fail(LCAE_ENOMEM, "out of memory");
    size_t n = strlen(text);
    text[n] = '\n';
    int rc = lcae_write_file_atomic(path, text, n + 1);
    free(text);
    return rc;
}

/* The last message, prefixed with the scan's path. */
static int with_path(int rc, lcae_dataset *ds)
{
    char msg[512];
    snprintf(msg, sizeof msg, "%s", lcae_last_error());
    return lcae_fail(rc, "%s: %s", lcae_dataset_path(ds), msg);
}

/* The probe set: PROBE_PATTERNS training patterns drawn once from the seed, each with a
 * rotated copy, encoded after every epoch in evaluation mode through the public
 * lcae_model_encode_batch only (so any architecture is measured the same way). */
typedef struct {
    int n;
    float *x, *xr; /* (n, H, H): the prepared patterns and their rotated copies */
    float *z, *zr; /* (n, latent) */
} probe_set;

static void probe_free(probe_set *q)
{
    free(q->x);
    free(q->xr);
    free(q->z);
    free(q->zr);
}

/* Draws the probe positions from train[0..ntrain-1] (scratch: ntrain values), reads and
 * prepares them (batches of `batch`, through raw), rotates each copy by its own angle,
 * uniform in [0, 360). The rotation is about the frame centre ((H - 1) / 2, as the
 * training's rotated pass): lcae_prep puts the direct beam there when the patterns are
 * centred (--center beam; a centred crop and the binning keep it at the centre), so R is
 * then a rotation about the beam. Outside the frame it samples 0, the median. */
static int probe_load(probe_set *q, lcae_dataset *ds, const lcae_model *m, const float *beam_map,
                      const int64_t *train, int64_t ntrain, uint64_t seed, int batch,
                      int64_t *scratch, float *raw)
{
    int H = m->cfg.input_size, D = m->cfg.latent;
    int64_t HH = (int64_t)H * H;
    q->n = (int)(ntrain < PROBE_PATTERNS ? ntrain : PROBE_PATTERNS);
    q->x = lcae_malloc((size_t)q->n * HH * sizeof(float));
    q->xr = lcae_malloc((size_t)q->n * HH * sizeof(float));
    q->z = lcae_malloc((size_t)q->n * D * sizeof(float));
    q->zr = lcae_malloc((size_t)q->n * D * sizeof(float));
    if (!q->x || !q->xr || !q->z || !q->zr)
        return LCAE_ENOMEM;
    model_rng r;
    model_rng_seed(&r, seed, STREAM_PROBE);
    memcpy(scratch, train, (size_t)ntrain * sizeof *scratch);
    for (int i = 0; i < q->n; i++) {
        int64_t j = i + (int64_t)model_rng_below(&r, (uint64_t)(ntrain - i)), t = scratch[i];
        scratch[i] = scratch[j];
        scratch[j] = t;
    }
    double c = (H - 1) / 2.0;
    for (int b0 = 0; b0 < q->n; b0 += batch) {
        int n = q->n - b0 < batch ? q->n - b0 : batch;
        int rc = load_batch(ds, &m->meta, beam_map, H, scratch + b0, n, raw, q->x + b0 * HH);
        if (rc)
            return rc;
    }
    for (int i = 0; i < q->n; i++)
        lcae_rotate_bilinear(m->nn, q->xr + i * HH, q->x + i * HH, 1, H, H,
                             360.0 * model_rng_uniform(&r), c, c, 0.0f);
    return LCAE_OK;
}

/* Encodes the probe set and its rotated copy; adds to the epoch's log object e the
 * spread (population standard deviation over the probe set) of every latent feature
 * and, for the first `invariant` features, the invariance error mean |E(x) - E(Rx)| /
 * spread (null where the spread is 0); writes a summary for the progress line. */
static int probe_measure(probe_set *q, lcae_model *m, int batch, int invariant, cJSON *e,
                         char *summary, size_t summary_size)
{
    int H = m->cfg.input_size, D = m->cfg.latent;
    int64_t HH = (int64_t)H * H;
    for (int b0 = 0; b0 < q->n; b0 += batch) {
        int n = q->n - b0 < batch ? q->n - b0 : batch;
        int rc = lcae_model_encode_batch(m, q->x + b0 * HH, n, q->z + (size_t)b0 * D);
        if (!rc && invariant)
            rc = lcae_model_encode_batch(m, q->xr + b0 * HH, n, q->zr + (size_t)b0 * D);
        if (rc)
            return rc;
    }
    cJSON *sp = cJSON_AddArrayToObject(e, "latent_spread");
    cJSON *ie = invariant ? cJSON_AddArrayToObject(e, "invariance_error") : NULL;
    double spread_min = INFINITY, spread_max = 0, err_sum = 0;
    int err_n = 0;
    for (int j = 0; j < D; j++) {
        double s1 = 0, s2 = 0, dev = 0;
        for (int i = 0; i < q->n; i++)
            s1 += q->z[(size_t)i * D + j];
        double mean = s1 / q->n;
        for (int i = 0; i < q->n; i++) {
            double d = q->z[(size_t)i * D + j] - mean;
            s2 += d * d;
            if (j < invariant)
                dev += fabs((double)q->z[(size_t)i * D + j] - q->zr[(size_t)i * D + j]);
        }
        double spread = sqrt(s2 / q->n);
        spread_min = spread < spread_min ? spread : spread_min;
        spread_max = spread > spread_max ? spread : spread_max;
        cJSON_AddItemToArray(sp, cJSON_CreateNumber(spread));
        if (j < invariant) {
            double rel = spread > 0 ? dev / q->n / spread : NAN;
            cJSON_AddItemToArray(ie, isfinite(rel) ? cJSON_CreateNumber(rel) : cJSON_CreateNull());
            if (isfinite(rel)) {
                err_sum += rel;
                err_n++;
            }
        }
    }
    int len = snprintf(summary, summary_size, "; latent spread %.3g..%.3g", spread_min,
                       spread_max);
    if (invariant && len > 0 && (size_t)len < summary_size)
        snprintf(summary + len, summary_size - (size_t)len, ", invariance error %.3g",
                 err_n ? err_sum / err_n : NAN);
    return LCAE_OK;
}

typedef struct {
    char *ckpt, *log;
    int64_t *order, *train;
    float *raw, *x;
    cJSON *json;
    lcae_model *m;
    probe_set probe;
    int spread; /* data-parallel over the MPI ranks */
} train_state;

static void train_free(train_state *s)
{
    probe_free(&s->probe);
    free(s->ckpt);
    free(s->log);
    free(s->order);
    free(s->train);
    free(s->raw);
    free(s->x);
    cJSON_Delete(s->json);
    lcae_model_free(s->m);
}

/* Data-parallel training under MPI (docs/mpi.md): every rank runs the same loop over the
 * same global batches (the shuffle, angles and seed of one process), takes its contiguous
 * share of each batch (lcae_mpi_range), and the model's batch statistics and loss means are
 * over the whole batch (lcae_nn_sync); the gradients are summed over the ranks, so that the
 * replicas take the same Adam step. Rank 0 measures the probe set and writes the files. */
static int sync_sum(double *x, int64_t n)
{
    return lcae_mpi_sum_f64(x, n);
}

static int sync_share(float *x, int64_t n)
{
    return lcae_mpi_bcast(x, (size_t)n * sizeof *x, 0);
}

static int sync_sum_floats(float *x, int64_t n)
{
    return lcae_mpi_sum_f32(x, n);
}

/* One optimizer step's gradients and losses on this rank's share of the global batch
 * idx[0..n-1]; under MPI the gradients and losses are summed over the ranks. */
static int train_step(train_state *s, lcae_dataset *ds, const float *beam_map, int H,
                      const int64_t *idx, int n, double angle, lcae_interp interp,
                      lcae_losses *L)
{
    if (!s->spread) {
        int rc = load_batch(ds, &s->m->meta, beam_map, H, idx, n, s->raw, s->x);
        return rc ? rc : lcae_model_step(s->m, s->x, n, angle, interp, L);
    }
    int64_t lo, hi;
    lcae_mpi_range(n, &lo, &hi);
    lcae_nn_sync sync = {.sum = sync_sum, .share = sync_share, .sum_floats = sync_sum_floats,
                         .batch = n};
    int rc = lcae_mpi_check(load_batch(ds, &s->m->meta, beam_map, H, idx + lo, (int)(hi - lo),
                                       s->raw, s->x));
    if (rc)
        return rc;
    s->m->sync = &sync;
    lcae_nn_set_sync(s->m->nn, &sync);
    rc = lcae_mpi_check(lcae_model_step(s->m, s->x, (int)(hi - lo), angle, interp, L));
    if (!rc) /* the gradient block, in the backend's memory */
        rc = lcae_nn_sync_sum(s->m->nn, s->m->grads, s->m->nparams);
    s->m->sync = NULL;
    lcae_nn_set_sync(s->m->nn, NULL);
    double terms[4] = {L->total, L->recon, L->recon_rot, L->rot};
    if (!rc)
        rc = lcae_mpi_sum_f64(terms, 4);
    *L = (lcae_losses){.total = terms[0], .recon = terms[1], .recon_rot = terms[2],
                       .rot = terms[3]};
    return rc;
}

/* Under MPI rank 0 writes (status: its own), and every rank learns how that went. */
static int written(int status)
{
    return lcae_mpi_check(status);
}

/* The polar model's auxiliary target standardization, over the training positions
 * (once, before training; a resumed run has it in its checkpoint). */
static int fit_polar_target(lcae_dataset *ds, const lcae_train_options *o,
                            const float *beam_map, const int64_t *train, int64_t ntrain,
                            float *raw, float *x, lcae_model *m, const lcae_progress *p)
{
    int rc = polar_target_begin(m);
    lcae_progress_begin(p, "polar target statistics", ntrain, "patterns");
    for (int64_t b0 = 0; b0 < ntrain && !rc; b0 += o->batch) {
        int n = (int)(ntrain - b0 < o->batch ? ntrain - b0 : o->batch);
        rc = load_batch(ds, &m->meta, beam_map, o->arch.input_size, train + b0, n, raw, x);
        if (!rc)
            rc = polar_target_add(m, x, n);
        lcae_progress_update(p, b0 + n, NULL);
    }
    if (!rc)
        rc = polar_target_end(m);
    lcae_progress_end(p, rc ? "failed" : NULL);
    return rc;
}

/* The mean loss of the last quarter of the steps, from the log's epochs (so a resumed
 * training has it too): the epochs' tail losses taken with this budget of `total` steps
 * (a training resumed to a larger budget counts the new tail's steps trained after the
 * resume; its restarts are all counted alike); NaN if none was logged. */
static double logged_final_loss(const cJSON *log, int64_t total)
{
    double sum = 0, seen = 0;
    const cJSON *e;
    cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(log, "epochs")) {
        const cJSON *l = cJSON_GetObjectItemCaseSensitive(e, "tail_loss");
        const cJSON *n = cJSON_GetObjectItemCaseSensitive(e, "tail_patterns");
        const cJSON *of = cJSON_GetObjectItemCaseSensitive(e, "tail_of_steps");
        if (cJSON_IsNumber(l) && cJSON_IsNumber(n) && cJSON_IsNumber(of) &&
            of->valuedouble == (double)total) {
            sum += l->valuedouble * n->valuedouble;
            seen += n->valuedouble;
        }
    }
    return seen > 0 ? sum / seen : NAN;
}

/* One training: the model initialized from init_seed (the batches, angles and the rest
 * from o->seed); label prefixes the progress lines; *final_loss (if not NULL): the log's
 * "final_loss"; *diverged (if not NULL) is set when it failed because the loss became
 * non-finite (in one process only: under MPI the ranks could disagree). */
static int train_one(lcae_dataset *ds, const lcae_train_options *opt, const float *beam_map,
                     const char *model_path, uint64_t init_seed, const char *label,
                     const lcae_progress *p, double *final_loss, int *diverged)
{
    lcae_train_options o = *opt;
    const lcae_dataset_info *in = lcae_dataset_get_info(ds);
    if (o.arch.kind == LCAE_ARCH_POLAR) { /* invariant by construction: no rotation pass */
        o.rot_loss = 0;
        o.arch.invariant = o.invariant_dims;
    }
    int rc = lcae_train_check(&o);
    if (rc)
        return rc;
    rc = lcae_model_input_size(in->h, in->w, o.crop, o.bin, &o.arch.input_size);
    if (rc)
        return with_path(rc, ds);
    if (o.center == LCAE_CENTER_BEAM && !beam_map)
        return lcae_fail(LCAE_EUSAGE, "training centred on the beam needs the beam map");
    if (o.center != LCAE_CENTER_BEAM)
        beam_map = NULL;
    /* the polar model is not spread (its step has no batch synchronisation): under MPI
     * every rank trains it whole, alike, and rank 0 writes it */
    train_state s = {.spread = lcae_mpi_size() > 1 && o.arch.kind != LCAE_ARCH_POLAR};
    s.ckpt = beside(model_path, ".ckpt.safetensors");
    s.log = beside(model_path, ".log.json");
    int64_t ntrain = o.subset && o.subset < in->count ? o.subset : in->count;
    if (ntrain < 2)
        return lcae_fail(LCAE_EUSAGE, "%s: training needs at least 2 positions, found %lld",
                         lcae_dataset_path(ds), (long long)ntrain);
    /* Epochs and steps: an epoch is one reshuffled pass over the training positions in
     * batches (a last batch of one sample joins none: it has no batch statistics). A step
     * budget runs ceil(steps / per_epoch) epochs, the last one stopping at the budget;
     * without one, epochs * per_epoch steps. The checkpoint and log follow every epoch. */
    int64_t per_epoch = ntrain / o.batch + (ntrain % o.batch >= 2);
    int64_t total = o.steps ? o.steps : (int64_t)o.epochs * per_epoch;
    int epochs = o.steps ? (int)((o.steps + per_epoch - 1) / per_epoch) : o.epochs;
    int ranks = lcae_mpi_size(), writer = lcae_mpi_rank() == 0;
    int64_t last = ntrain % o.batch; /* the last batch's size, if it is one (>= 2) */
    if (ranks > 1 && o.arch.kind != LCAE_ARCH_POLAR &&
        (o.batch < ranks || (last >= 2 && last < ranks)))
        return lcae_fail(LCAE_EUSAGE, "training on %d MPI ranks: expected at least one "
                         "pattern per rank in every batch, found batches of %d and %lld",
                         ranks, o.batch, (long long)(last >= 2 ? last : o.batch));
    if (o.lr_schedule == LCAE_LR_ONECYCLE && total < 5)
        return lcae_fail(LCAE_EUSAGE, "training options: the onecycle schedule needs at least 5 "
                         "steps, found %lld", (long long)total);
    int H = o.arch.input_size;
    s.order = lcae_malloc((size_t)in->count * sizeof *s.order);
    s.train = lcae_malloc((size_t)in->count * sizeof *s.train);
    s.raw = lcae_malloc((size_t)o.batch * in->h * in->w * sizeof(float));
    s.x = lcae_malloc((size_t)o.batch * H * H * sizeof(float));
    if (!s.ckpt || !s.log || !s.order || !s.train || !s.raw || !s.x) {
        train_free(&s);
        return LCAE_ENOMEM;
    }
    int done = 0;
    lcae_stats norm = {0};
    int fitted = 0;
    int64_t step = 0;
    if (o.resume) {
        model_st_file *f;
        if ((rc = model_file_read(s.ckpt, 1, &s.m, &f))) {
            train_free(&s);
            return rc;
        }
        rc = check_resume(f, s.ckpt, s.m, &o, total, &done, &step);
        model_st_close(f);
        if (rc) {
            train_free(&s);
            return rc;
        }
        s.m->adam_step = step;
    } else {
        if ((rc = lcae_model_create(&o.arch, init_seed, &s.m))) {
            train_free(&s);
            return rc;
        }
        lcae_model_meta *me = &s.m->meta;
        me->prep = (lcae_prep){.crop = o.crop, .bin = o.bin, .center = o.center,
                               .transform = o.transform, .offset = o.offset};
        me->mask = o.mask;
        me->recon = o.recon;
        me->rot_loss = o.rot_loss;
        me->rot_form = o.rot_loss ? o.rot_form : LCAE_ROT_PAPER;
        me->invariant_dims = o.rot_loss || o.arch.kind == LCAE_ARCH_POLAR ? o.invariant_dims : 0;
        me->lambda = o.rot_loss ? o.lambda : 0;
        me->seed = o.seed;
        lcae_stats_options so = {.exact = o.exact_norm, .seed = o.seed};
        if ((rc = lcae_prep_fit(ds, &me->prep, beam_map, &so, p, &norm))) {
            train_free(&s);
            return rc;
        }
        fitted = 1;
    }
    /* the training positions: all, or `subset` of them drawn once from the seed */
    model_rng r;
    model_rng_seed(&r, o.seed, STREAM_SUBSET);
    for (int64_t i = 0; i < in->count; i++)
        s.train[i] = i;
    if (ntrain < in->count)
        for (int64_t i = 0; i < ntrain; i++) {
            int64_t j = i + (int64_t)model_rng_below(&r, (uint64_t)(in->count - i)), t = s.train[i];
            s.train[i] = s.train[j];
            s.train[j] = t;
        }
    if (fitted && o.arch.kind == LCAE_ARCH_POLAR &&
        (rc = fit_polar_target(ds, &o, beam_map, s.train, ntrain, s.raw, s.x, s.m, p))) {
        train_free(&s);
        return rc;
    }
    if (writer && (rc = probe_load(&s.probe, ds, s.m, beam_map, s.train, ntrain, o.seed,
                                   o.batch, s.order, s.raw))) {
        train_free(&s);
        return rc;
    }
    s.json = new_log(&o, s.m, lcae_dataset_path(ds), ntrain, fitted ? &norm : NULL);
    if (!s.json) {
        train_free(&s);
        return lcae_fail(LCAE_ENOMEM, "out of memory");
    }
    if (o.resume)
        keep_logged_epochs(s.json, s.log, done);
    cJSON_AddNumberToObject(s.json, "steps_per_epoch", (double)per_epoch);
    cJSON_AddNumberToObject(s.json, "total_steps", (double)total);
    int invariant = lcae_model_get_meta(s.m)->invariant_dims;
    /* the final loss's steps: the last quarter (the learning rate's last descent under
     * onecycle), so that trainings compare by where they ended, not how they began */
    int64_t tail = total / 4 > 0 ? total / 4 : 1;
    for (int epoch = done; epoch < epochs && s.m->adam_step < total; epoch++) {
        model_rng_seed(&r, o.seed, STREAM_EPOCH + (uint64_t)epoch);
        memcpy(s.order, s.train, (size_t)ntrain * sizeof *s.order);
        for (int64_t i = ntrain - 1; i > 0; i--) {
            int64_t j = (int64_t)model_rng_below(&r, (uint64_t)i + 1), t = s.order[i];
            s.order[i] = s.order[j];
            s.order[j] = t;
        }
        int64_t left = total - s.m->adam_step, nsteps = left < per_epoch ? left : per_epoch;
        int64_t planned = nsteps * o.batch < ntrain ? nsteps * o.batch : ntrain, seen = 0;
        char what[64], extra[256], probe_note[96];
        snprintf(what, sizeof what, "%s%sepoch %d/%d", label ? label : "", label ? ", " : "",
                 epoch + 1, epochs);
        lcae_progress_begin(p, what, planned, "patterns");
        double t0 = core_now_s(), sum[4] = {0}, lr = o.lr, beta1 = 0.9, tail_sum = 0;
        int64_t tail_seen = 0;
        for (int64_t k = 0; k < nsteps; k++) {
            int64_t b0 = k * o.batch, global_step = s.m->adam_step;
            int n = (int)(ntrain - b0 < o.batch ? ntrain - b0 : o.batch);
            double angle = model_rng_uniform(&r) * o.max_angle;
            lcae_losses L = {0};
            if ((rc = train_step(&s, ds, beam_map, H, s.order + b0, n, angle, o.interp, &L))) {
                if (diverged && !isfinite(L.total) && lcae_mpi_size() == 1)
                    *diverged = 1;
                lcae_progress_end(p, "failed");
                train_free(&s);
                return rc;
            }
            lcae_lr_at(o.lr_schedule, o.lr, s.m->adam_step, total, &lr, &beta1);
            lcae_model_adam(s.m, lr, beta1);
            seen += n;
            sum[0] += L.total * n;
            sum[1] += L.recon * n;
            sum[2] += L.recon_rot * n;
            sum[3] += L.rot * n;
            if (global_step >= total - tail) {
                tail_sum += L.total * n;
                tail_seen += n;
            }
            snprintf(extra, sizeof extra, "loss %.4f", sum[0] / (double)seen);
            lcae_progress_update(p, seen, extra);
        }
        double secs = core_now_s() - t0;
        cJSON *e = cJSON_CreateObject();
        cJSON_AddNumberToObject(e, "epoch", epoch + 1);
        cJSON_AddNumberToObject(e, "step", (double)s.m->adam_step);
        cJSON_AddNumberToObject(e, "lr", lr); /* of the epoch's last step */
        cJSON_AddNumberToObject(e, "loss", sum[0] / (double)seen);
        cJSON_AddNumberToObject(e, "recon", sum[1] / (double)seen);
        cJSON_AddNumberToObject(e, "recon_rot", sum[2] / (double)seen);
        cJSON_AddNumberToObject(e, "rot", sum[3] / (double)seen);
        if (tail_seen) {
            cJSON_AddNumberToObject(e, "tail_loss", tail_sum / (double)tail_seen);
            cJSON_AddNumberToObject(e, "tail_patterns", (double)tail_seen);
            cJSON_AddNumberToObject(e, "tail_of_steps", (double)total);
        }
        cJSON_AddNumberToObject(e, "seconds", secs);
        cJSON_AddNumberToObject(e, "patterns_per_s", (double)seen / secs);
        cJSON_AddItemToArray(cJSON_GetObjectItemCaseSensitive(s.json, "epochs"), e);
        run_meta rm;
        fill_run_meta(&rm, &o, epochs, total, epoch + 1, s.m->adam_step);
        probe_note[0] = 0;
        if (writer && !(rc = probe_measure(&s.probe, s.m, o.batch, invariant, e, probe_note,
                                           sizeof probe_note)) &&
            !(rc = model_file_write(s.m, s.ckpt, 1, rm.kv, rm.n)))
            rc = write_log(s.json, s.log);
        if ((rc = written(rc))) {
            lcae_progress_end(p, "failed");
            train_free(&s);
            return rc;
        }
        snprintf(extra, sizeof extra, "loss %.5f (recon %.5f, rotated %.5f, rotation %.5f)%s",
                 sum[0] / (double)seen, sum[1] / (double)seen, sum[2] / (double)seen,
                 sum[3] / (double)seen, probe_note);
        lcae_progress_end(p, extra);
    }
    double loss = logged_final_loss(s.json, total);
    cJSON_AddItemToObject(s.json, "final_loss",
                          isfinite(loss) ? cJSON_CreateNumber(loss) : cJSON_CreateNull());
    if (final_loss)
        *final_loss = loss;
    /* the model itself is put in place only when training ends (also when a resumed run
     * finds every epoch done): a model file is always a finished one */
    rc = writer ? write_log(s.json, s.log) : LCAE_OK;
    rc = written(rc ? rc : writer ? lcae_model_save(s.m, model_path) : LCAE_OK);
    train_free(&s);
    return rc;
}

char *lcae_model_restart_path(const char *model_path, int restart, const char *kind)
{
    char suffix[64];
    snprintf(suffix, sizeof suffix, ".restart%d.%s", restart, kind);
    return beside(model_path, suffix);
}

/* Copies restart `chosen`'s model to model_path and its log, with the list of the
 * restarts and the rule that chose it ("restart_choice") added, to the log beside
 * model_path. */
static int keep_restart(const char *model_path, cJSON *restarts, int chosen, const char *rule)
{
    char *chosen_model = lcae_model_restart_path(model_path, chosen, "safetensors");
    char *chosen_log = lcae_model_restart_path(model_path, chosen, "log.json");
    char *log_path = beside(model_path, ".log.json"), *bytes = NULL, *text = NULL;
    size_t n = 0, tn = 0;
    cJSON *log = NULL;
    int rc = chosen_model && chosen_log && log_path ? LCAE_OK : LCAE_ENOMEM;
    if (!rc)
        rc = lcae_read_text_file(chosen_model, SIZE_MAX / 2, &bytes, &n);
    if (!rc)
        rc = lcae_read_text_file(chosen_log, 64u << 20, &text, &tn);
    if (!rc && !(log = cJSON_ParseWithLength(text, tn)))
        rc = lcae_fail(LCAE_EFAIL, "%s: not JSON", chosen_log);
    if (!rc) {
        cJSON_AddNumberToObject(log, "chosen_restart", chosen);
        cJSON_AddStringToObject(log, "restart_choice", rule);
        cJSON_AddItemReferenceToObject(log, "restarts", restarts);
        rc = lcae_write_file_atomic(model_path, bytes, n);
    }
    if (!rc)
        rc = write_log(log, log_path);
    cJSON_Delete(log);
    free(bytes);
    free(text);
    free(chosen_model);
    free(chosen_log);
    free(log_path);
    return rc;
}

/* The restart to keep (numbered from 1; 0: none has a finite final loss), of `restarts`
 * as the log lists them: agreement NULL, the lowest final loss (ties: the first); else
 * the highest agreement[i] (NaN: none), within 1e-9 the lower final loss. *score: the
 * kept one's final loss or agreement. */
static int choose_restart(const cJSON *restarts, const double *agreement, double *score)
{
    int i = 0, chosen = 0;
    double best = -INFINITY, best_loss = INFINITY;
    const cJSON *r;
    cJSON_ArrayForEach(r, restarts) {
        const cJSON *loss = cJSON_GetObjectItemCaseSensitive(r, "final_loss");
        double l = cJSON_IsNumber(loss) ? loss->valuedouble : INFINITY;
        /* by loss: every finite loss has the same "agreement", so the loss decides */
        double a = agreement ? agreement[i] : isfinite(l) ? 0 : NAN;
        i++;
        if (isfinite(a) && (!chosen || a > best + 1e-9 || (a >= best - 1e-9 && l < best_loss))) {
            chosen = i;
            best = a;
            best_loss = l;
        }
    }
    *score = agreement ? best : best_loss;
    return chosen;
}

/* lcae_model_keep_restart_by's work, on rank 0; *chosen, *score: as choose_restart */
static int keep_restart_by(const char *model_path, const double *agreement, int *chosen,
                           double *score)
{
    char *log_path = beside(model_path, ".log.json"), *text = NULL;
    size_t tn = 0;
    cJSON *log = NULL, *restarts, *r;
    int rc = log_path ? lcae_read_text_file(log_path, 64u << 20, &text, &tn) : LCAE_ENOMEM;
    if (!rc && !(log = cJSON_ParseWithLength(text, tn)))
        rc = lcae_fail(LCAE_EFAIL, "%s: not JSON", log_path);
    restarts = log ? cJSON_GetObjectItemCaseSensitive(log, "restarts") : NULL;
    if (!rc && !cJSON_IsArray(restarts))
        rc = lcae_fail(LCAE_EFAIL, "%s: expected the list of restarts (\"restarts\"), found "
                       "none", log_path);
    *chosen = rc ? 0 : choose_restart(restarts, agreement, score);
    int i = 0;
    cJSON *list = rc ? NULL : restarts;
    cJSON_ArrayForEach(r, list) { /* each restart's agreement, if any */
        cJSON_DeleteItemFromObjectCaseSensitive(r, "agreement");
        if (agreement)
            cJSON_AddItemToObject(r, "agreement", isfinite(agreement[i])
                                                      ? cJSON_CreateNumber(agreement[i])
                                                      : cJSON_CreateNull());
        i++;
    }
    if (!rc && !*chosen)
        rc = lcae_fail(LCAE_EFAIL, "%s: no restart to keep (every one diverged)", log_path);
    if (!rc)
        rc = keep_restart(model_path, restarts, *chosen, agreement ? "agreement" : "final_loss");
    cJSON_Delete(log);
    free(text);
    free(log_path);
    return rc;
}

int lcae_model_keep_restart_by(const char *model_path, const double *agreement,
                               const lcae_progress *p)
{
    int chosen = 0;
    double score = NAN;
    int rc = written(lcae_mpi_rank() == 0 ? keep_restart_by(model_path, agreement, &chosen,
                                                            &score) : LCAE_OK);
    char summary[96];
    snprintf(summary, sizeof summary, "kept restart %d, %s %.5f", chosen,
             agreement ? "agreement" : "final loss", score);
    lcae_progress_begin(p, agreement ? "restart by agreement" : "restart by final loss", 0,
                        NULL);
    lcae_progress_end(p, rc ? "failed" : summary);
    return rc;
}

int lcae_train(lcae_dataset *ds, const lcae_train_options *opt, const float *beam_map,
               const char *model_path, const lcae_progress *p)
{
    int rc = lcae_train_check(opt);
    if (rc || opt->restarts == 1)
        return rc ? rc : train_one(ds, opt, beam_map, model_path, opt->seed, NULL, p, NULL, NULL);
    /* restarts are numbered from 1; restart 1 is the plain training, the others'
     * initializations are drawn from the seed */
    model_rng r;
    model_rng_seed(&r, opt->seed, STREAM_RESTART);
    cJSON *restarts = cJSON_CreateArray();
    if (!restarts)
        rc = LCAE_ENOMEM;
    for (int i = 1; !rc && i <= opt->restarts; i++) {
        uint64_t init_seed = i > 1 ? model_rng_next(&r) : opt->seed;
        char label[48], seed_text[24];
        snprintf(label, sizeof label, "restart %d/%d", i, opt->restarts);
        char *model = lcae_model_restart_path(model_path, i, "safetensors");
        if (!model) {
            rc = LCAE_ENOMEM;
            break;
        }
        double loss = NAN;
        int diverged = 0;
        rc = train_one(ds, opt, beam_map, model, init_seed, label, p, &loss, &diverged);
        free(model);
        if (rc && !diverged)
            break;
        if (rc) { /* a restart whose loss became non-finite is left out, said, and logged */
            lcae_progress_begin(p, label, 0, NULL);
            lcae_progress_end(p, lcae_last_error());
            rc = LCAE_OK;
        }
        snprintf(seed_text, sizeof seed_text, "%llu", (unsigned long long)init_seed);
        cJSON *e = cJSON_CreateObject();
        cJSON_AddNumberToObject(e, "restart", i);
        cJSON_AddStringToObject(e, "init_seed", seed_text); /* 64 bits: a string */
        cJSON_AddItemToObject(e, "final_loss",
                              isfinite(loss) ? cJSON_CreateNumber(loss) : cJSON_CreateNull());
        cJSON_AddBoolToObject(e, "diverged", diverged);
        cJSON_AddItemToArray(restarts, e);
    }
    double best = NAN;
    int chosen = rc ? 0 : choose_restart(restarts, NULL, &best);
    if (!rc && !chosen)
        rc = lcae_fail(LCAE_EFAIL, "%s: every restart diverged or ended with a non-finite loss "
                       "(a lower --lr?)", model_path);
    if (!rc) {
        rc = written(lcae_mpi_rank() == 0 ? keep_restart(model_path, restarts, chosen, "final_loss")
                                          : LCAE_OK);
        char what[64], summary[96];
        snprintf(what, sizeof what, "restarts (%d)", opt->restarts);
        snprintf(summary, sizeof summary, "kept restart %d/%d, final loss %.5f", chosen,
                 opt->restarts, best);
        lcae_progress_begin(p, what, 0, NULL);
        lcae_progress_end(p, rc ? "failed" : summary);
    }
    cJSON_Delete(restarts);
    return rc;
}

int lcae_encode(lcae_model *m, lcae_dataset *ds, const float *beam_map, int batch, float *z,
                const lcae_progress *p)
{
    const lcae_dataset_info *in = lcae_dataset_get_info(ds);
    const lcae_prep *pr = &m->meta.prep;
    int size;
    if (batch < 1)
        return lcae_fail(LCAE_EUSAGE, "encode: expected a batch of at least 1, found %d", batch);
    if (!isfinite(pr->median) || !(pr->scale > 0))
        return lcae_fail(LCAE_EFAIL, "the model has no normalization (metadata lcae.median "
                         "and lcae.scale, as a PyTorch user's model may lack)");
    if (pr->center == LCAE_CENTER_BEAM && !beam_map)
        return lcae_fail(LCAE_EUSAGE, "the model was trained centred on the beam: encoding "
                         "needs the beam map");
    int rc = lcae_model_input_size(in->h, in->w, pr->crop, pr->bin, &size);
    if (rc)
        return with_path(rc, ds);
    if (size != m->cfg.input_size)
        return lcae_fail(LCAE_EFAIL, "%s: the model takes %d x %d inputs, the scan's %lld x "
                         "%lld patterns (crop %d, bin %d) give %d x %d", lcae_dataset_path(ds),
                         m->cfg.input_size, m->cfg.input_size, (long long)in->h,
                         (long long)in->w, pr->crop, pr->bin, size, size);
    float *raw = lcae_malloc((size_t)batch * in->h * in->w * sizeof(float));
    float *x = lcae_malloc((size_t)batch * size * size * sizeof(float));
    int64_t *idx = lcae_malloc((size_t)batch * sizeof *idx);
    if (!raw || !x || !idx) {
        free(raw);
        free(x);
        free(idx);
        return LCAE_ENOMEM;
    }
    /* Under MPI each rank encodes a contiguous range of whole batches, the batches one
     * process would encode (so the same numbers), and every rank gets every row. */
    int64_t nbatches = (in->count + batch - 1) / batch, blo, bhi;
    lcae_mpi_range(nbatches, &blo, &bhi);
    int64_t lo = blo * batch, hi = bhi * batch < in->count ? bhi * batch : in->count;
    lcae_progress_begin(p, "encode", hi - lo, "patterns");
    for (int64_t b0 = lo; b0 < hi && !rc; b0 += batch) {
        int n = (int)(hi - b0 < batch ? hi - b0 : batch);
        for (int i = 0; i < n; i++)
            idx[i] = b0 + i;
        rc = lcae_prep_read(ds, pr, size, beam_map, idx, n, raw, x);
        if (!rc)
            rc = lcae_model_encode_batch(m, x, n, z + (size_t)b0 * m->cfg.latent);
        lcae_progress_update(p, b0 + n - lo, NULL);
    }
    lcae_progress_end(p, rc ? "failed" : NULL);
    rc = lcae_mpi_check(rc);
    if (!rc)
        rc = lcae_mpi_gather_rows(z, lo, hi, (size_t)m->cfg.latent * sizeof *z, -1);
    free(raw);
    free(x);
    free(idx);
    return rc;
}
