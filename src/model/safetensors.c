/* safetensors reader and writer. The header is untrusted input: every number is checked
 * (integral, in range), sizes must match shapes, tensors must lie inside the file and
 * must not overlap. */
#include "model/safetensors.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Larger headers are refused: the reference implementation's limit is 100 MB. */
#define ST_MAX_HEADER (100LL << 20)

struct model_st_file {
    char *path;
    FILE *fp;
    int64_t data_start, data_bytes;
    int n;
    model_st_tensor *t;
    int nmeta;
    char **meta; /* key, value, key, value, ... */
};

static const struct {
    const char *name;
    lcae_dtype dt;
} st_dtypes[] = {{"F32", LCAE_DT_F32}, {"F64", LCAE_DT_F64}, {"I64", LCAE_DT_I64},
                 {"I32", LCAE_DT_I32}, {"I16", LCAE_DT_I16}, {"I8", LCAE_DT_I8},
                 {"U8", LCAE_DT_U8},   {"U16", LCAE_DT_U16}, {"U32", LCAE_DT_U32},
                 {"U64", LCAE_DT_U64}};

static int st_dtype_from_name(const char *s)
{
    for (size_t i = 0; i < sizeof st_dtypes / sizeof *st_dtypes; i++)
        if (!strcmp(s, st_dtypes[i].name))
            return st_dtypes[i].dt;
    if (!strcmp(s, "F16"))
        return LCAE_ST_F16;
    if (!strcmp(s, "BF16"))
        return LCAE_ST_BF16;
    return LCAE_DT_INVALID;
}

static const char *st_dtype_name(int dt)
{
    for (size_t i = 0; i < sizeof st_dtypes / sizeof *st_dtypes; i++)
        if ((int)st_dtypes[i].dt == dt)
            return st_dtypes[i].name;
    return dt == LCAE_ST_F16 ? "F16" : dt == LCAE_ST_BF16 ? "BF16" : "?";
}

static size_t st_dtype_size(int dt)
{
    return dt == LCAE_ST_F16 || dt == LCAE_ST_BF16 ? 2 : lcae_dtype_size((lcae_dtype)dt);
}

void model_st_close(model_st_file *f)
{
    if (!f)
        return;
    if (f->fp)
        fclose(f->fp);
    for (int i = 0; i < f->n; i++)
        free(f->t[i].name);
    free(f->t);
    for (int i = 0; i < 2 * f->nmeta; i++)
        free(f->meta[i]);
    free(f->meta);
    free(f->path);
    free(f);
}

static char *dup_str(const char *s)
{
    size_t n = strlen(s) + 1;
    char *d = lcae_malloc(n);
    if (d)
        memcpy(d, s, n);
    return d;
}

/* A JSON number that is an integer in [0, 2^53]. */
static int json_count(const cJSON *j, int64_t *v)
{
    if (!cJSON_IsNumber(j))
        return -1;
    double d = j->valuedouble;
    if (!(d >= 0 && d <= 9007199254740992.0) || d != (double)(int64_t)d)
        return -1;
    *v = (int64_t)d;
    return 0;
}

static int cmp_name(const void *a, const void *b)
{
    return strcmp(((const model_st_tensor *)a)->name, ((const model_st_tensor *)b)->name);
}

static int cmp_begin(const void *a, const void *b)
{
    const model_st_tensor *x = a, *y = b;
    return x->begin < y->begin ? -1 : x->begin > y->begin ? 1 : (x->end > y->end) - (x->end < y->end);
}

static int parse_tensor(model_st_file *f, const cJSON *j, model_st_tensor *t)
{
    const char *p = f->path;
    if (!cJSON_IsObject(j))
        return lcae_fail(LCAE_EFAIL, "%s: safetensors header: entry '%s' is not an object",
                         p, j->string);
    const cJSON *dt = cJSON_GetObjectItemCaseSensitive(j, "dtype");
    const cJSON *sh = cJSON_GetObjectItemCaseSensitive(j, "shape");
    const cJSON *off = cJSON_GetObjectItemCaseSensitive(j, "data_offsets");
    if (!cJSON_IsString(dt) || !cJSON_IsArray(sh) || !cJSON_IsArray(off))
        return lcae_fail(LCAE_EFAIL, "%s: safetensors header: tensor '%s' lacks dtype, "
                         "shape or data_offsets", p, j->string);
    t->dtype = st_dtype_from_name(dt->valuestring);
    if (t->dtype == LCAE_DT_INVALID)
        return lcae_fail(LCAE_EFAIL, "%s: tensor '%s': unsupported dtype (expected F32, F64, "
                         "F16, BF16 or an integer type, found '%.20s')", p, j->string,
                         dt->valuestring);
    int nd = cJSON_GetArraySize(sh);
    if (nd > LCAE_ST_MAXDIM)
        return lcae_fail(LCAE_EFAIL, "%s: tensor '%s': too many dimensions (expected at most "
                         "%d, found %d)", p, j->string, LCAE_ST_MAXDIM, nd);
    t->ndim = nd;
    t->count = 1;
    int i = 0;
    for (const cJSON *d = sh->child; d; d = d->next, i++) {
        if (json_count(d, &t->shape[i]))
            return lcae_fail(LCAE_EFAIL, "%s: tensor '%s': shape is not a list of "
                             "non-negative integers", p, j->string);
        /* 2^53 bounds the product: no overflow in the multiplications that follow */
        if (t->shape[i] && t->count > (INT64_C(1) << 53) / t->shape[i])
            return lcae_fail(LCAE_EFAIL, "%s: tensor '%s': shape too large", p, j->string);
        t->count *= t->shape[i];
    }
    if (cJSON_GetArraySize(off) != 2 || json_count(off->child, &t->begin) ||
        json_count(off->child->next, &t->end) || t->begin > t->end)
        return lcae_fail(LCAE_EFAIL, "%s: tensor '%s': data_offsets is not [begin, end] with "
                         "begin <= end", p, j->string);
    if (t->end > f->data_bytes)
        return lcae_fail(LCAE_EFAIL, "%s: tensor '%s' ends past the end of the file (expected "
                         "at most %lld data bytes, found offset %lld)", p, j->string,
                         (long long)f->data_bytes, (long long)t->end);
    if ((double)t->count * (double)st_dtype_size(t->dtype) != (double)(t->end - t->begin))
        return lcae_fail(LCAE_EFAIL, "%s: tensor '%s': %lld bytes for %lld values of %s "
                         "(expected %lld)", p, j->string, (long long)(t->end - t->begin),
                         (long long)t->count, st_dtype_name(t->dtype),
                         (long long)(t->count * (int64_t)st_dtype_size(t->dtype)));
    t->name = dup_str(j->string);
    return t->name ? LCAE_OK : LCAE_ENOMEM;
}

static int parse_header(model_st_file *f, const char *text, int64_t len)
{
    const char *p = f->path;
    cJSON *root = cJSON_ParseWithLength(text, (size_t)len);
    if (!root)
        return lcae_fail(LCAE_EFAIL, "%s: safetensors header is not valid JSON", p);
    int rc = LCAE_OK;
    if (!cJSON_IsObject(root)) {
        rc = lcae_fail(LCAE_EFAIL, "%s: safetensors header is not a JSON object", p);
        goto done;
    }
    int n = 0;
    for (const cJSON *c = root->child; c; c = c->next)
        if (strcmp(c->string, "__metadata__"))
            n++;
    f->t = lcae_calloc((size_t)n + 1, sizeof *f->t);
    if (!f->t) {
        rc = LCAE_ENOMEM;
        goto done;
    }
    for (const cJSON *c = root->child; c; c = c->next) {
        if (!strcmp(c->string, "__metadata__")) {
            if (f->meta) {
                rc = lcae_fail(LCAE_EFAIL, "%s: safetensors header: __metadata__ twice", p);
                goto done;
            }
            if (!cJSON_IsObject(c)) {
                rc = lcae_fail(LCAE_EFAIL, "%s: safetensors __metadata__ is not an object", p);
                goto done;
            }
            int m = cJSON_GetArraySize(c);
            f->meta = lcae_calloc(2 * (size_t)m + 1, sizeof *f->meta);
            if (!f->meta) {
                rc = LCAE_ENOMEM;
                goto done;
            }
            for (const cJSON *kv = c->child; kv; kv = kv->next) {
                if (!cJSON_IsString(kv)) {
                    rc = lcae_fail(LCAE_EFAIL, "%s: safetensors metadata '%s': expected a "
                                   "string value", p, kv->string);
                    goto done;
                }
                f->meta[2 * f->nmeta] = dup_str(kv->string);
                f->meta[2 * f->nmeta + 1] = dup_str(kv->valuestring);
                f->nmeta++;
                if (!f->meta[2 * f->nmeta - 2] || !f->meta[2 * f->nmeta - 1]) {
                    rc = LCAE_ENOMEM;
                    goto done;
                }
            }
            continue;
        }
        rc = parse_tensor(f, c, &f->t[f->n]);
        if (rc)
            goto done;
        f->n++;
    }
    /* duplicate names and overlapping data are refused (sorted copies keep file order) */
    model_st_tensor *s = lcae_malloc(((size_t)f->n + 1) * sizeof *s);
    if (!s) {
        rc = LCAE_ENOMEM;
        goto done;
    }
    memcpy(s, f->t, (size_t)f->n * sizeof *s);
    qsort(s, (size_t)f->n, sizeof *s, cmp_name);
    for (int i = 1; i < f->n && !rc; i++)
        if (!strcmp(s[i].name, s[i - 1].name))
            rc = lcae_fail(LCAE_EFAIL, "%s: tensor '%s' appears twice", p, s[i].name);
    qsort(s, (size_t)f->n, sizeof *s, cmp_begin);
    for (int i = 1; i < f->n && !rc; i++)
        if (s[i].begin < s[i - 1].end && s[i].begin < s[i].end)
            rc = lcae_fail(LCAE_EFAIL, "%s: tensors '%s' and '%s' overlap", p, s[i - 1].name,
                           s[i].name);
    free(s);
done:
    cJSON_Delete(root);
    return rc;
}

int model_st_open(const char *path, model_st_file **out)
{
    *out = NULL;
    model_st_file *f = lcae_calloc(1, sizeof *f);
    if (!f)
        return LCAE_ENOMEM;
    int rc = LCAE_OK;
    char *text = NULL;
    f->path = dup_str(path);
    if (!f->path) {
        rc = LCAE_ENOMEM;
        goto fail;
    }
    f->fp = fopen(path, "rb");
    if (!f->fp) {
        rc = lcae_fail(LCAE_EFAIL, "%s: cannot open (%s)", path, strerror(errno));
        goto fail;
    }
    if (fseeko(f->fp, 0, SEEK_END) != 0) {
        rc = lcae_fail(LCAE_EFAIL, "%s: cannot seek (%s)", path, strerror(errno));
        goto fail;
    }
    int64_t size = (int64_t)ftello(f->fp);
    unsigned char lenb[8];
    if (size < 8 || fseeko(f->fp, 0, SEEK_SET) != 0 || fread(lenb, 1, 8, f->fp) != 8) {
        rc = lcae_fail(LCAE_EFAIL, "%s: not a safetensors file (expected at least 8 bytes, "
                       "found %lld)", path, (long long)(size < 0 ? 0 : size));
        goto fail;
    }
    uint64_t hlen = 0;
    for (int i = 7; i >= 0; i--)
        hlen = hlen << 8 | lenb[i];
    if (hlen < 2 || hlen > (uint64_t)(size - 8) || hlen > (uint64_t)ST_MAX_HEADER) {
        rc = lcae_fail(LCAE_EFAIL, "%s: not a safetensors file (header length %llu, file of "
                       "%lld bytes)", path, (unsigned long long)hlen, (long long)size);
        goto fail;
    }
    text = lcae_malloc((size_t)hlen);
    if (!text) {
        rc = LCAE_ENOMEM;
        goto fail;
    }
    if (fread(text, 1, (size_t)hlen, f->fp) != (size_t)hlen) {
        rc = lcae_fail(LCAE_EFAIL, "%s: cannot read the safetensors header", path);
        goto fail;
    }
    f->data_start = 8 + (int64_t)hlen;
    f->data_bytes = size - f->data_start;
    rc = parse_header(f, text, (int64_t)hlen);
    if (rc)
        goto fail;
    free(text);
    *out = f;
    return LCAE_OK;
fail:
    free(text);
    model_st_close(f);
    return rc;
}

int model_st_count(const model_st_file *f) { return f->n; }

const model_st_tensor *model_st_get(const model_st_file *f, int i)
{
    return i >= 0 && i < f->n ? &f->t[i] : NULL;
}

const model_st_tensor *model_st_find(const model_st_file *f, const char *name)
{
    for (int i = 0; i < f->n; i++)
        if (!strcmp(f->t[i].name, name))
            return &f->t[i];
    return NULL;
}

const char *model_st_meta(const model_st_file *f, const char *key)
{
    for (int i = 0; i < f->nmeta; i++)
        if (!strcmp(f->meta[2 * i], key))
            return f->meta[2 * i + 1];
    return NULL;
}

/* The tensor's bytes, malloc'd. */
static int read_bytes(model_st_file *f, const model_st_tensor *t, void **buf)
{
    size_t n = (size_t)(t->end - t->begin);
    *buf = lcae_malloc(n ? n : 1);
    if (!*buf)
        return LCAE_ENOMEM;
    if (fseeko(f->fp, (off_t)(f->data_start + t->begin), SEEK_SET) != 0 ||
        fread(*buf, 1, n, f->fp) != n) {
        free(*buf);
        *buf = NULL;
        return lcae_fail(LCAE_EFAIL, "%s: cannot read tensor '%s'", f->path, t->name);
    }
    return LCAE_OK;
}

static float half_to_f32(uint16_t h)
{
    int s = h >> 15, e = (h >> 10) & 31, m = h & 1023;
    float v = e == 0 ? ldexpf((float)m, -24)
              : e == 31 ? (m ? NAN : INFINITY)
                        : ldexpf((float)(m | 1024), e - 25);
    return s ? -v : v;
}

int model_st_read_f32(model_st_file *f, const model_st_tensor *t, float *dst)
{
    void *buf;
    int rc = read_bytes(f, t, &buf);
    if (rc)
        return rc;
    const uint16_t *h = buf;
    if (t->dtype == LCAE_ST_F16) {
        for (int64_t i = 0; i < t->count; i++)
            dst[i] = half_to_f32(h[i]);
    } else if (t->dtype == LCAE_ST_BF16) {
        for (int64_t i = 0; i < t->count; i++) {
            uint32_t u = (uint32_t)h[i] << 16;
            memcpy(&dst[i], &u, 4);
        }
    } else {
        lcae_convert_to_f32(buf, t->dtype, 0, (size_t)t->count, dst);
    }
    free(buf);
    return LCAE_OK;
}

int model_st_read_i64(model_st_file *f, const model_st_tensor *t, int64_t *dst)
{
    if (t->dtype == LCAE_ST_F16 || t->dtype == LCAE_ST_BF16 || t->dtype == LCAE_DT_F32 ||
        t->dtype == LCAE_DT_F64 || t->dtype == LCAE_DT_U64)
        return lcae_fail(LCAE_EFAIL, "%s: tensor '%s': expected an integer dtype such as I64, "
                         "found %s", f->path, t->name, st_dtype_name(t->dtype));
    void *buf;
    int rc = read_bytes(f, t, &buf);
    if (rc)
        return rc;
    const unsigned char *b = buf;
    size_t sz = lcae_dtype_size(t->dtype);
    for (int64_t i = 0; i < t->count; i++) {
        const unsigned char *e = b + (size_t)i * sz;
        switch (t->dtype) {
        case LCAE_DT_I64: { int64_t v; memcpy(&v, e, 8); dst[i] = v; break; }
        case LCAE_DT_I32: { int32_t v; memcpy(&v, e, 4); dst[i] = v; break; }
        case LCAE_DT_I16: { int16_t v; memcpy(&v, e, 2); dst[i] = v; break; }
        case LCAE_DT_I8: dst[i] = (int8_t)e[0]; break;
        case LCAE_DT_U8: dst[i] = e[0]; break;
        case LCAE_DT_U16: { uint16_t v; memcpy(&v, e, 2); dst[i] = v; break; }
        default: { uint32_t v; memcpy(&v, e, 4); dst[i] = v; break; }
        }
    }
    free(buf);
    return LCAE_OK;
}

int model_st_write(const char *path, const model_st_entry *e, int n, const char *const *meta,
                  int nmeta)
{
    cJSON *root = cJSON_CreateObject();
    if (!root)
        return lcae_fail(LCAE_ENOMEM, "out of memory");
    int rc = LCAE_OK;
    char *text = NULL;
    if (nmeta > 0) {
        cJSON *m = cJSON_AddObjectToObject(root, "__metadata__");
        for (int i = 0; m && i < nmeta; i++)
            if (!cJSON_AddStringToObject(m, meta[2 * i], meta[2 * i + 1]))
                m = NULL;
        if (!m) {
            rc = lcae_fail(LCAE_ENOMEM, "out of memory");
            goto done;
        }
    }
    int64_t off = 0;
    for (int i = 0; i < n; i++) {
        int64_t count = 1;
        for (int d = 0; d < e[i].ndim; d++)
            count *= e[i].shape[d];
        int64_t bytes = count * (int64_t)lcae_dtype_size(e[i].dtype);
        cJSON *t = cJSON_AddObjectToObject(root, e[i].name);
        cJSON *sh = t ? cJSON_AddArrayToObject(t, "shape") : NULL;
        cJSON *of = sh ? cJSON_AddArrayToObject(t, "data_offsets") : NULL;
        int ok = of && cJSON_AddStringToObject(t, "dtype", st_dtype_name(e[i].dtype));
        for (int d = 0; ok && d < e[i].ndim; d++)
            ok = cJSON_AddItemToArray(sh, cJSON_CreateNumber((double)e[i].shape[d]));
        ok = ok && cJSON_AddItemToArray(of, cJSON_CreateNumber((double)off)) &&
             cJSON_AddItemToArray(of, cJSON_CreateNumber((double)(off + bytes)));
        if (!ok) {
            rc = lcae_fail(LCAE_ENOMEM, "out of memory");
            goto done;
        }
        off += bytes;
    }
    text = cJSON_PrintUnformatted(root);
    if (!text) {
        rc = lcae_fail(LCAE_ENOMEM, "out of memory");
        goto done;
    }
    /* the header is padded with spaces so that the data starts 8-byte aligned */
    size_t len = strlen(text), padded = (len + 7) & ~(size_t)7;
    unsigned char lenb[8];
    for (int i = 0; i < 8; i++)
        lenb[i] = (unsigned char)((uint64_t)padded >> (8 * i));
    lcae_atomic_file af;
    rc = lcae_atomic_open(&af, path);
    if (rc)
        goto done;
    fwrite(lenb, 1, 8, af.fp);
    fwrite(text, 1, len, af.fp);
    for (size_t i = len; i < padded; i++)
        fputc(' ', af.fp);
    for (int i = 0; i < n; i++) {
        int64_t count = 1;
        for (int d = 0; d < e[i].ndim; d++)
            count *= e[i].shape[d];
        fwrite(e[i].data, lcae_dtype_size(e[i].dtype), (size_t)count, af.fp);
    }
    rc = lcae_atomic_commit(&af);
done:
    free(text);
    cJSON_Delete(root);
    return rc;
}
