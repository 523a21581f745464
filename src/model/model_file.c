/* The model file: the state_dict as safetensors, with lcae's metadata. */
#include "model/model_file.h"

#include <errno.h>
#include <stdarg.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model/model_internal.h"

/* Metadata values are strings; numbers are written so that they read back exactly.
 * META_MAX: room for every key model_file_write adds (17 today). */
#define META_MAX 24
typedef struct {
    char buf[META_MAX][48];
    const char *kv[2 * META_MAX];
    int n;
} meta_list;

static void meta_add(meta_list *l, const char *key, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void meta_add(meta_list *l, const char *key, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(l->buf[l->n], sizeof l->buf[l->n], fmt, ap);
    va_end(ap);
    l->kv[2 * l->n] = key;
    l->kv[2 * l->n + 1] = l->buf[l->n];
    l->n++;
}

int model_file_write(const lcae_model *m, const char *path, int with_adam,
                     const char *const *extra_meta, int nextra)
{
    const lcae_model_meta *me = &m->meta;
    meta_list ml = {.n = 0};
    const lcae_prep *pr = &me->prep;
    meta_add(&ml, "lcae.median", "%.17g", pr->median);
    meta_add(&ml, "lcae.scale", "%.17g", pr->scale);
    meta_add(&ml, "lcae.norm", "%s", lcae_norm_rule_name(pr->norm));
    if (pr->norm == LCAE_NORM_SIGMA68) /* the name earlier versions read */
        meta_add(&ml, "lcae.sigma68", "%.17g", pr->scale);
    meta_add(&ml, "lcae.transform", "%s", lcae_transform_name(pr->transform));
    meta_add(&ml, "lcae.offset", "%.17g", pr->offset);
    meta_add(&ml, "lcae.center", "%s", lcae_center_name(pr->center));
    meta_add(&ml, "lcae.input_size", "%d", m->cfg.input_size);
    meta_add(&ml, "lcae.bin", "%d", pr->bin);
    meta_add(&ml, "lcae.crop", "%d", pr->crop);
    meta_add(&ml, "lcae.mask", "%s", me->mask == LCAE_MASK_NONE ? "none" : "disk");
    meta_add(&ml, "lcae.recon", "%s", me->recon == LCAE_RECON_MSE ? "mse" : "l1");
    meta_add(&ml, "lcae.rot_loss", "%d", me->rot_loss);
    meta_add(&ml, "lcae.rot_form", "%s", me->rot_form == LCAE_ROT_SCALED ? "scaled" : "paper");
    meta_add(&ml, "lcae.invariant_dims", "%d", me->invariant_dims);
    meta_add(&ml, "lcae.lambda", "%.17g", me->lambda);
    meta_add(&ml, "lcae.seed", "%llu", (unsigned long long)me->seed);
    meta_add(&ml, "lcae.version", "%s", lcae_version());
    meta_add(&ml, "lcae.arch", "%s", m->cfg.kind == LCAE_ARCH_POLAR ? "polar" : "cae");
    if (m->cfg.kind == LCAE_ARCH_POLAR)
        meta_add(&ml, "lcae.angle_pool", "%d", m->cfg.angle_pool);
    int nmeta = ml.n + nextra;
    const char **kv = lcae_malloc(2 * (size_t)nmeta * sizeof *kv);
    int nt = m->ntensors, ne = nt;
    if (with_adam)
        for (int i = 0; i < nt; i++)
            ne += m->tensors[i].kind == T_PARAM ? 2 : 0;
    model_st_entry *e = lcae_calloc((size_t)ne, sizeof *e);
    char(*names)[48] = lcae_calloc((size_t)ne, sizeof *names);
    model_host h; /* the values, downloaded from the backend */
    int rc = model_host_get(m, with_adam, &h);
    if (!kv || !e || !names || rc) {
        free(kv);
        free(e);
        free(names);
        model_host_free(&h);
        return LCAE_ENOMEM;
    }
    memcpy(kv, ml.kv, 2 * (size_t)ml.n * sizeof *kv);
    if (nextra)
        memcpy(kv + 2 * ml.n, extra_meta, 2 * (size_t)nextra * sizeof *kv);
    int k = 0;
    for (int pass = 0; pass < (with_adam ? 3 : 1); pass++)
        for (int i = 0; i < nt; i++) {
            const model_tensor *t = &m->tensors[i];
            if (pass && t->kind != T_PARAM)
                continue;
            model_st_entry *x = &e[k];
            snprintf(names[k], sizeof names[k], "%s%s", pass == 0 ? "" : pass == 1 ? "adam.m." : "adam.v.", t->name);
            x->name = names[k];
            x->ndim = t->ndim;
            memcpy(x->shape, t->shape, sizeof t->shape);
            if (t->kind == T_COUNT) {
                x->dtype = LCAE_DT_I64;
                x->data = &m->nbt[t->offset];
            } else {
                x->dtype = LCAE_DT_F32;
                x->data = pass == 0 ? model_host_tensor(&h, t)
                          : (pass == 1 ? h.adam_m : h.adam_v) + t->offset;
            }
            k++;
        }
    rc = model_st_write(path, e, ne, kv, nmeta);
    free(kv);
    free(e);
    free(names);
    model_host_free(&h);
    return rc;
}

int lcae_model_save(const lcae_model *m, const char *path)
{
    return model_file_write(m, path, 0, NULL, 0);
}

static void shape_str(char *buf, size_t n, int ndim, const int64_t *shape)
{
    size_t at = (size_t)snprintf(buf, n, "(");
    for (int d = 0; d < ndim && at < n; d++)
        at += (size_t)snprintf(buf + at, n - at, "%s%lld", d ? ", " : "", (long long)shape[d]);
    if (at < n)
        snprintf(buf + at, n - at, ndim == 1 ? ",)" : ")");
}

/* A tensor that must be there with `ndim` dimensions; its shape. */
static int need(model_st_file *f, const char *path, const char *name, int ndim,
                const model_st_tensor **t)
{
    *t = model_st_find(f, name);
    if (!*t)
        return lcae_fail(LCAE_EFAIL, "%s: tensor '%s' is missing (not a model of the "
                         "published architecture?)", path, name);
    if ((*t)->ndim != ndim)
        return lcae_fail(LCAE_EFAIL, "%s: tensor '%s': expected %d dimensions, found %d", path,
                         name, ndim, (*t)->ndim);
    return LCAE_OK;
}

/* A metadata name (its index as from_name gives it; 0 if the key is absent). */
static int meta_name(model_st_file *f, const char *path, const char *key, const char *expected,
                     int (*from_name)(const char *), int *value)
{
    const char *text = model_st_meta(f, key);
    *value = text ? from_name(text) : 0;
    if (*value < 0)
        return lcae_fail(LCAE_EFAIL, "%s: metadata %s: expected %s, found '%.40s'", path, key,
                         expected, text);
    return LCAE_OK;
}

/* A metadata name of two choices: *second is 1 for `b`, 0 for `a` or when the key is
 * absent (earlier versions, PyTorch users: `a` is the paper's choice). */
static int meta_choice(model_st_file *f, const char *path, const char *key, const char *a,
                       const char *b, int *second)
{
    const char *text = model_st_meta(f, key);
    if (text && strcmp(text, a) && strcmp(text, b))
        return lcae_fail(LCAE_EFAIL, "%s: metadata %s: expected %s or %s, found '%.40s'", path,
                         key, a, b, text);
    *second = text && !strcmp(text, b);
    return LCAE_OK;
}

int model_meta_number(model_st_file *f, const char *path, const char *key, double lo,
                      double hi, int integer, double *v)
{
    const char *s = model_st_meta(f, key);
    if (!s)
        return -1;
    char *end;
    errno = 0;
    double d = strtod(s, &end);
    if (errno || end == s || *end || !(d >= lo && d <= hi) || (integer && d != floor(d)))
        return lcae_fail(LCAE_EFAIL, "%s: metadata %s: expected %s in [%g, %g], found '%.40s'",
                         path, key, integer ? "an integer" : "a number", lo, hi, s);
    *v = d;
    return LCAE_OK;
}

/* The architecture and its sizes from the tensors' shapes: lcae.arch, or (a PyTorch
 * user's file) polar if the invariant head inv.0 is there; the input size from
 * lcae.input_size, else from the shapes (the CAE's first Linear takes
 * latent_ch * (H/16)^2; the polar target has 7 * H/2 values). */
static int read_config(model_st_file *f, const char *path, lcae_model_config *cfg)
{
    const char *arch = model_st_meta(f, "lcae.arch");
    if (arch && strcmp(arch, "cae") && strcmp(arch, "polar"))
        return lcae_fail(LCAE_EFAIL, "%s: metadata lcae.arch: expected cae or polar, found "
                         "'%.40s'", path, arch);
    int polar = arch ? !strcmp(arch, "polar") : model_st_find(f, "inv.0.weight") != NULL;
    const model_st_tensor *t0, *t8, *t10, *t12;
    int rc;
    if (polar) {
        if ((rc = need(f, path, "enc.0.conv.weight", 4, &t0)) ||
            (rc = need(f, path, "dec.net.0.weight", 4, &t8)) ||
            (rc = need(f, path, "inv.2.weight", 2, &t10)) ||
            (rc = need(f, path, "var.2.weight", 2, &t12)))
            return rc;
        *cfg = (lcae_model_config){.base = (int)t0->shape[0], .latent_ch = (int)t8->shape[0],
                                   .invariant = (int)t10->shape[0],
                                   .latent = (int)(t10->shape[0] + t12->shape[0]),
                                   .kind = LCAE_ARCH_POLAR};
        /* absent (earlier versions, the prototype's files): the maximum */
        double order;
        rc = model_meta_number(f, path, "lcae.angle_pool", 0, LCAE_ANGLE_POOL_MAX, 1, &order);
        if (rc > 0)
            return rc;
        cfg->angle_pool = rc == LCAE_OK ? (int)order : 0;
    } else {
        if ((rc = need(f, path, "enc.0.conv.weight", 4, &t0)) ||
            (rc = need(f, path, "enc.8.conv.weight", 4, &t8)) ||
            (rc = need(f, path, "enc.10.weight", 2, &t10)) ||
            (rc = need(f, path, "enc.12.weight", 2, &t12)))
            return rc;
        *cfg = (lcae_model_config){.base = (int)t0->shape[0], .latent_ch = (int)t8->shape[0],
                                   .latent = (int)t12->shape[0], .kind = LCAE_ARCH_CAE};
    }
    double v;
    rc = model_meta_number(f, path, "lcae.input_size", 16, 65536, 1, &v);
    if (rc > 0)
        return rc;
    if (rc == LCAE_OK) {
        cfg->input_size = (int)v;
    } else if (polar) {
        const model_st_tensor *t = model_st_find(f, "lcae_aux_target.mean");
        if (!t)
            return lcae_fail(LCAE_EFAIL, "%s: tensor 'lcae_aux_target.mean' is missing (a "
                             "polar model needs its target's standardization)", path);
        cfg->input_size = (int)(2 * (t->count / POLAR_ORDERS));
    } else {
        double s = cfg->latent_ch > 0 ? sqrt((double)t10->shape[1] / cfg->latent_ch) : 0;
        cfg->input_size = 16 * (int)lround(s);
    }
    return LCAE_OK;
}

int model_file_read(const char *path, int with_adam, lcae_model **out, model_st_file **fout)
{
    *out = NULL;
    model_st_file *f;
    int rc = model_st_open(path, &f);
    if (rc)
        return rc;
    lcae_model *m = NULL;
    lcae_model_config cfg;
    double v;
    if ((rc = read_config(f, path, &cfg)))
        goto fail;
    /* every tensor present and of the right shape before the model is allocated: the
     * allocation is then bounded by the file's size, whatever its header claims */
    if ((rc = model_tables(&cfg, &m)))
        goto fail;
    char want[96], found[96];
    for (int i = 0; i < m->ntensors; i++) {
        const model_tensor *mt = &m->tensors[i];
        const model_st_tensor *t = model_st_find(f, mt->name);
        if (!t) {
            shape_str(want, sizeof want, mt->ndim, mt->shape);
            rc = lcae_fail(LCAE_EFAIL, "%s: tensor '%s' is missing (expected shape %s)", path,
                           mt->name, want);
            goto fail;
        }
        int same = t->ndim == mt->ndim;
        for (int d = 0; same && d < mt->ndim; d++)
            same = t->shape[d] == mt->shape[d];
        if (!same) {
            shape_str(want, sizeof want, mt->ndim, mt->shape);
            shape_str(found, sizeof found, t->ndim, t->shape);
            rc = lcae_fail(LCAE_EFAIL, "%s: tensor '%s': expected shape %s, found %s", path,
                           mt->name, want, found);
            goto fail;
        }
    }
    lcae_model_free(m);
    m = NULL;
    model_host h = {0}; /* the file's values, uploaded to the backend when all are read */
    if ((rc = lcae_model_create(&cfg, 0, &m)) || (rc = model_host_get(m, with_adam, &h)))
        goto fail;
    for (int i = 0; i < m->ntensors && !rc; i++) {
        const model_tensor *mt = &m->tensors[i];
        const model_st_tensor *t = model_st_find(f, mt->name);
        rc = mt->kind == T_COUNT ? model_st_read_i64(f, t, &m->nbt[mt->offset])
                                 : model_st_read_f32(f, t, model_host_tensor(&h, mt));
        if (!rc && with_adam && mt->kind == T_PARAM) {
            char name[64];
            for (int k = 0; k < 2 && !rc; k++) {
                snprintf(name, sizeof name, "%s%s", k ? "adam.v." : "adam.m.", mt->name);
                const model_st_tensor *a = model_st_find(f, name);
                if (!a || a->count != mt->count)
                    rc = lcae_fail(LCAE_EFAIL, "%s: checkpoint tensor '%s' is missing or "
                                   "misshapen", path, name);
                else
                    rc = model_st_read_f32(f, a, (k ? h.adam_v : h.adam_m) + mt->offset);
            }
        }
    }
    if (!rc)
        model_host_put(m, &h);
    model_host_free(&h);
    if (rc)
        goto fail;
    lcae_model_meta *me = &m->meta;
    lcae_prep *pr = &me->prep;
    pr->median = pr->scale = NAN;
    struct {
        const char *key;
        double lo, hi;
        int integer;
        double *d;
        int *i;
    } num[] = {
        {"lcae.median", -HUGE_VAL, HUGE_VAL, 0, &pr->median, NULL},
        /* earlier versions' name for the scale; lcae.scale, read after it, wins */
        {"lcae.sigma68", 0, HUGE_VAL, 0, &pr->scale, NULL},
        {"lcae.scale", 0, HUGE_VAL, 0, &pr->scale, NULL},
        {"lcae.offset", -HUGE_VAL, HUGE_VAL, 0, &pr->offset, NULL},
        {"lcae.bin", 1, 64, 1, NULL, &pr->bin},
        {"lcae.crop", 0, 1 << 20, 1, NULL, &pr->crop},
        {"lcae.rot_loss", 0, 1, 1, NULL, &me->rot_loss},
        {"lcae.invariant_dims", 0, cfg.latent, 1, NULL, &me->invariant_dims},
        {"lcae.lambda", 0, HUGE_VAL, 0, &me->lambda, NULL},
    };
    for (size_t i = 0; i < sizeof num / sizeof *num; i++) {
        rc = model_meta_number(f, path, num[i].key, num[i].lo, num[i].hi, num[i].integer, &v);
        if (rc > 0)
            goto fail;
        if (rc == 0) {
            if (num[i].d)
                *num[i].d = v;
            else
                *num[i].i = (int)v;
        }
    }
    rc = model_meta_number(f, path, "lcae.seed", 0, 1.8446744073709552e19, 1, &v);
    if (rc > 0)
        goto fail;
    const char *seed = model_st_meta(f, "lcae.seed");
    if (seed)
        me->seed = strtoull(seed, NULL, 10);
    int mask_none, mse, scaled;
    if ((rc = meta_choice(f, path, "lcae.mask", "disk", "none", &mask_none)) ||
        (rc = meta_choice(f, path, "lcae.recon", "l1", "mse", &mse)) ||
        (rc = meta_choice(f, path, "lcae.rot_form", "paper", "scaled", &scaled)))
        goto fail;
    me->mask = mask_none ? LCAE_MASK_NONE : LCAE_MASK_DISK;
    me->recon = mse ? LCAE_RECON_MSE : LCAE_RECON_L1;
    me->rot_form = scaled ? LCAE_ROT_SCALED : LCAE_ROT_PAPER;
    /* the preparation's names; absent (earlier versions, PyTorch users): the paper's */
    int norm, transform, center;
    if ((rc = meta_name(f, path, "lcae.norm", "sigma68 or std", lcae_norm_rule_from_name,
                        &norm)) ||
        (rc = meta_name(f, path, "lcae.transform", "none, sqrt or log",
                        lcae_transform_from_name, &transform)) ||
        (rc = meta_name(f, path, "lcae.center", "none or beam", lcae_center_from_name,
                        &center)))
        goto fail;
    pr->norm = (lcae_norm_rule)norm;
    pr->transform = (lcae_transform)transform;
    pr->center = (lcae_center)center;
    if (fout)
        *fout = f;
    else
        model_st_close(f);
    *out = m;
    return LCAE_OK;
fail:
    lcae_model_free(m);
    model_st_close(f);
    return rc ? rc : LCAE_EFAIL;
}

int lcae_model_load(const char *path, lcae_model **out)
{
    return model_file_read(path, 0, out, NULL);
}
