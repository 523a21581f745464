/* safetensors: round trip, hostile headers (each refused with a message, never a crash),
 * and model files with a missing or misshapen tensor (the message names it). The
 * reader's agreement with PyTorch-written files is in test_model_torch. */
#include "test_util.h"

#include <stdint.h>

#include "lcae/model.h"
#include "model/model_internal.h"
#include "model/safetensors.h"

static char path[512];

/* A file of an 8-byte length (of `json`, or `len` if >= 0), the JSON, then `data` bytes. */
static void write_raw(const char *json, int64_t len, int data)
{
    FILE *fp = fopen(path, "wb");
    uint64_t n = len >= 0 ? (uint64_t)len : strlen(json);
    unsigned char b[8];
    for (int i = 0; i < 8; i++)
        b[i] = (unsigned char)(n >> (8 * i));
    fwrite(b, 1, 8, fp);
    fwrite(json, 1, strlen(json), fp);
    for (int i = 0; i < data; i++)
        fputc(i, fp);
    fclose(fp);
}

static void expect_refused(const char *what, const char *json, int64_t len, int data,
                           const char *needle)
{
    write_raw(json, len, data);
    model_st_file *f = NULL;
    int rc = model_st_open(path, &f);
    CHECK_MSG(rc == LCAE_EFAIL && f == NULL, "%s: accepted", what);
    const char *msg = lcae_last_error();
    CHECK_MSG(strstr(msg, path) && strstr(msg, needle), "%s: message '%s' lacks '%s'", what,
              msg, needle);
    model_st_close(f);
}

static void test_hostile(void)
{
    FILE *fp = fopen(path, "wb");
    fwrite("abc", 1, 3, fp);
    fclose(fp);
    model_st_file *f = NULL;
    CHECK(model_st_open(path, &f) == LCAE_EFAIL && !f);
    CHECK(strstr(lcae_last_error(), "at least 8 bytes"));
    const char *ok = "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}";
    expect_refused("length past the end", ok, 1000, 8, "header length");
    expect_refused("length 0", "", 0, 8, "header length");
    expect_refused("not JSON", "{\"a\":", -1, 8, "not valid JSON");
    expect_refused("array", "[1,2]", -1, 8, "not a JSON object");
    expect_refused("entry not object", "{\"a\":3}", -1, 8, "not an object");
    expect_refused("no dtype", "{\"a\":{\"shape\":[2],\"data_offsets\":[0,8]}}", -1, 8,
                   "lacks dtype");
    expect_refused("bad dtype", "{\"a\":{\"dtype\":\"Q7\",\"shape\":[2],\"data_offsets\":[0,8]}}",
                   -1, 8, "unsupported dtype");
    expect_refused("negative dim", "{\"a\":{\"dtype\":\"F32\",\"shape\":[-2],\"data_offsets\":[0,8]}}",
                   -1, 8, "non-negative integers");
    expect_refused("fractional dim", "{\"a\":{\"dtype\":\"F32\",\"shape\":[1.5],\"data_offsets\":[0,8]}}",
                   -1, 8, "non-negative integers");
    expect_refused("string dim", "{\"a\":{\"dtype\":\"F32\",\"shape\":[\"2\"],\"data_offsets\":[0,8]}}",
                   -1, 8, "non-negative integers");
    expect_refused("huge shape",
                   "{\"a\":{\"dtype\":\"F32\",\"shape\":[4294967296,4294967296],\"data_offsets\":[0,8]}}",
                   -1, 8, "too large");
    expect_refused("offsets length", "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0]}}",
                   -1, 8, "data_offsets");
    expect_refused("begin > end", "{\"a\":{\"dtype\":\"F32\",\"shape\":[0],\"data_offsets\":[8,0]}}",
                   -1, 8, "data_offsets");
    expect_refused("past the end", ok, -1, 4, "past the end");
    expect_refused("size mismatch", "{\"a\":{\"dtype\":\"F64\",\"shape\":[2],\"data_offsets\":[0,8]}}",
                   -1, 8, "expected 16");
    expect_refused("overlap",
                   "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
                   "\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}",
                   -1, 12, "overlap");
    expect_refused("duplicate",
                   "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},"
                   "\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}",
                   -1, 8, "twice");
    expect_refused("metadata not string", "{\"__metadata__\":{\"k\":1}}", -1, 0,
                   "string value");
    expect_refused("metadata not object", "{\"__metadata__\":[1]}", -1, 0, "not an object");
    expect_refused("too many dims",
                   "{\"a\":{\"dtype\":\"F32\",\"shape\":[1,1,1,1,1,1,1,1,1],\"data_offsets\":[0,4]}}",
                   -1, 4, "too many dimensions");
    /* half precision: 1, -2, the smallest subnormal, the largest finite; bfloat16 1.5 */
    fp = fopen(path, "wb");
    const char *hj = "{\"h\":{\"dtype\":\"F16\",\"shape\":[4],\"data_offsets\":[0,8]},"
                     "\"b\":{\"dtype\":\"BF16\",\"shape\":[1],\"data_offsets\":[8,10]}}";
    uint64_t hl = strlen(hj);
    fwrite(&hl, 8, 1, fp);
    fwrite(hj, 1, hl, fp);
    const unsigned char hd[10] = {0x00, 0x3c, 0x00, 0xc0, 0x01, 0x00, 0xff, 0x7b, 0xc0, 0x3f};
    fwrite(hd, 1, 10, fp);
    fclose(fp);
    CHECK_MSG(model_st_open(path, &f) == LCAE_OK, "%s", lcae_last_error());
    if (f) {
        float h[4] = {0}, bf = 0;
        CHECK(model_st_read_f32(f, model_st_find(f, "h"), h) == LCAE_OK);
        CHECK(h[0] == 1.0f && h[1] == -2.0f && h[2] == ldexpf(1.0f, -24) && h[3] == 65504.0f);
        CHECK(model_st_read_f32(f, model_st_find(f, "b"), &bf) == LCAE_OK && bf == 1.5f);
        model_st_close(f);
    }
    /* a valid file with padding spaces, an empty tensor and a scalar */
    write_raw("{\"e\":{\"dtype\":\"F32\",\"shape\":[0],\"data_offsets\":[0,0]},"
              "\"s\":{\"dtype\":\"I64\",\"shape\":[],\"data_offsets\":[0,8]}}      ", -1, 8);
    CHECK_MSG(model_st_open(path, &f) == LCAE_OK, "%s", lcae_last_error());
    if (f) {
        const model_st_tensor *s = model_st_find(f, "s");
        CHECK(s && s->ndim == 0 && s->count == 1);
        int64_t v = 0;
        CHECK(s && model_st_read_i64(f, s, &v) == LCAE_OK && v == 0x0706050403020100LL);
        float x;
        CHECK(s && model_st_read_f32(f, s, &x) == LCAE_OK); /* integers convert to float */
        model_st_close(f);
    }
}

static void test_roundtrip(void)
{
    float a[6] = {1, -2.5f, 3e-20f, 4, 5, 6};
    int64_t c = 42;
    model_st_entry e[2] = {{.name = "w.x", .dtype = LCAE_DT_F32, .ndim = 2, .shape = {2, 3}, .data = a},
                          {.name = "n", .dtype = LCAE_DT_I64, .ndim = 0, .data = &c}};
    const char *meta[4] = {"lcae.k", "v \"quoted\"", "z", ""};
    CHECK(model_st_write(path, e, 2, meta, 2) == LCAE_OK);
    model_st_file *f = NULL;
    CHECK_MSG(model_st_open(path, &f) == LCAE_OK, "%s", lcae_last_error());
    if (!f)
        return;
    CHECK(model_st_count(f) == 2 && !strcmp(model_st_get(f, 0)->name, "w.x"));
    const model_st_tensor *t = model_st_find(f, "w.x");
    float b[6] = {0};
    CHECK(t && t->ndim == 2 && t->shape[0] == 2 && t->shape[1] == 3 && t->begin % 8 == 0);
    CHECK(t && model_st_read_f32(f, t, b) == LCAE_OK && !memcmp(a, b, sizeof a));
    int64_t d = 0;
    CHECK(model_st_read_i64(f, model_st_find(f, "n"), &d) == LCAE_OK && d == 42);
    CHECK(model_st_read_i64(f, t, &d) == LCAE_EFAIL); /* a float tensor is not an integer */
    CHECK(model_st_meta(f, "lcae.k") && !strcmp(model_st_meta(f, "lcae.k"), "v \"quoted\""));
    CHECK(model_st_meta(f, "z") && !model_st_meta(f, "absent"));
    model_st_close(f);
    /* the data starts 8-byte aligned: the header length is a multiple of 8 */
    FILE *fp = fopen(path, "rb");
    unsigned char lb[8];
    CHECK(fread(lb, 1, 8, fp) == 8 && lb[0] % 8 == 0);
    fclose(fp);
}

/* A model file lacking a tensor, or with one misshapen: the message names it. */
static void test_model_errors(void)
{
    lcae_model_config cfg = {.input_size = 32, .base = 2, .latent_ch = 4, .latent = 16};
    lcae_model *m = NULL;
    CHECK(lcae_model_create(&cfg, 3, &m) == LCAE_OK);
    if (!m)
        return;
    model_st_entry *e = calloc((size_t)m->ntensors, sizeof *e);
    for (int i = 0; i < m->ntensors; i++) {
        const model_tensor *t = &m->tensors[i];
        e[i] = (model_st_entry){.name = t->name, .ndim = t->ndim,
                               .dtype = t->kind == T_COUNT ? LCAE_DT_I64 : LCAE_DT_F32,
                               .data = t->kind == T_COUNT ? (void *)&m->nbt[t->offset]
                                                          : (void *)model_tensor_data(m, t)};
        memcpy(e[i].shape, t->shape, sizeof t->shape);
    }
    lcae_model *r = NULL;
    /* without dec.7.norm.running_var */
    int k = (int)(model_find_tensor(m, "dec.7.norm.running_var") - m->tensors);
    model_st_entry keep = e[k];
    e[k] = e[m->ntensors - 1];
    CHECK(model_st_write(path, e, m->ntensors - 1, NULL, 0) == LCAE_OK);
    CHECK(lcae_model_load(path, &r) == LCAE_EFAIL && !r);
    CHECK_MSG(strstr(lcae_last_error(), "'dec.7.norm.running_var' is missing"), "%s",
              lcae_last_error());
    e[k] = keep;
    /* enc.3.conv.weight with a wrong kernel size */
    k = (int)(model_find_tensor(m, "enc.3.conv.weight") - m->tensors);
    e[k].shape[3] = 2;
    float *z = calloc(10000, sizeof *z);
    e[k].data = z;
    CHECK(model_st_write(path, e, m->ntensors, NULL, 0) == LCAE_OK);
    CHECK(lcae_model_load(path, &r) == LCAE_EFAIL && !r);
    CHECK_MSG(strstr(lcae_last_error(), "'enc.3.conv.weight': expected shape (4, 4, 3, 3), "
                                        "found (4, 4, 3, 2)"), "%s", lcae_last_error());
    /* bad metadata */
    e[k].shape[3] = 3;
    e[k].data = model_tensor_data(m, &m->tensors[k]);
    const char *meta[2] = {"lcae.bin", "two"};
    CHECK(model_st_write(path, e, m->ntensors, meta, 1) == LCAE_OK);
    CHECK(lcae_model_load(path, &r) == LCAE_EFAIL && strstr(lcae_last_error(), "lcae.bin"));
    const char *form[2] = {"lcae.rot_form", "vicreg"};
    CHECK(model_st_write(path, e, m->ntensors, form, 1) == LCAE_OK);
    CHECK(lcae_model_load(path, &r) == LCAE_EFAIL &&
          strstr(lcae_last_error(), "lcae.rot_form: expected paper or scaled, found 'vicreg'"));
    form[1] = "scaled";
    CHECK(model_st_write(path, e, m->ntensors, form, 1) == LCAE_OK);
    CHECK(lcae_model_load(path, &r) == LCAE_OK && lcae_model_get_meta(r)->rot_form == LCAE_ROT_SCALED);
    lcae_model_free(r);
    /* and the good file loads, with identical values and default metadata */
    CHECK(model_st_write(path, e, m->ntensors, NULL, 0) == LCAE_OK);
    CHECK_MSG(lcae_model_load(path, &r) == LCAE_OK, "%s", lcae_last_error());
    CHECK(r && r->cfg.input_size == 32 && r->cfg.base == 2 &&
          !memcmp(r->params, m->params, (size_t)m->nparams * 4) &&
          !memcmp(r->buffers, m->buffers, (size_t)m->nbuffers * 4));
    CHECK(r && isnan(lcae_model_get_meta(r)->prep.median));
    CHECK(r && lcae_model_get_meta(r)->rot_form == LCAE_ROT_PAPER); /* earlier files, PyTorch's */
    lcae_model_free(r);
    free(z);
    free(e);
    lcae_model_free(m);
}

int main(void)
{
    snprintf(path, sizeof path, "%s/t.safetensors", test_tmpdir());
    test_hostile();
    test_roundtrip();
    test_model_errors();
    return test_done("test_safetensors");
}
