/* .npy reader (format versions 1-3, any byte order) and writer (version 1, little
 * endian, C order; whole or streamed in pieces). The header is a Python dict literal;
 * only its three keys matter. */
#include "lcae/io.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define NPY_MAX_HEADER (1 << 20) /* numpy itself refuses headers over 10^4 bytes */

/* Finds 'key' followed by ':' and returns a pointer just after the colon. */
static const char *dict_value(const char *h, const char *key)
{
    char pat[32];
    snprintf(pat, sizeof pat, "'%s'", key);
    const char *p = strstr(h, pat);
    if (!p) {
        snprintf(pat, sizeof pat, "\"%s\"", key);
        p = strstr(h, pat);
    }
    if (!p)
        return NULL;
    p += strlen(pat);
    while (isspace((unsigned char)*p))
        p++;
    if (*p != ':')
        return NULL;
    p++;
    while (isspace((unsigned char)*p))
        p++;
    return p;
}

static int parse_header_text(const char *path, const char *h, lcae_npy_header *hdr)
{
    const char *d = dict_value(h, "descr");
    if (!d || (*d != '\'' && *d != '"'))
        return lcae_fail(LCAE_EFAIL, "%s: npy header has no 'descr' string", path);
    char q = *d++;
    const char *e = strchr(d, q);
    if (!e || e - d > 15)
        return lcae_fail(LCAE_EFAIL, "%s: npy header 'descr' is malformed", path);
    char descr[16];
    memcpy(descr, d, (size_t)(e - d));
    descr[e - d] = 0;
    hdr->dtype = lcae_dtype_from_name(descr);
    if (hdr->dtype == LCAE_DT_INVALID)
        return lcae_fail(LCAE_EFAIL,
                         "%s: unsupported npy dtype (expected one of u1 u2 u4 u8 i1 i2 i4 "
                         "i8 f4 f8, found '%s')", path, descr);
    hdr->big_endian = descr[0] == '>' && lcae_dtype_size(hdr->dtype) > 1;

    const char *f = dict_value(h, "fortran_order");
    if (!f)
        return lcae_fail(LCAE_EFAIL, "%s: npy header has no 'fortran_order'", path);
    if (!strncmp(f, "True", 4))
        hdr->fortran_order = 1;
    else if (!strncmp(f, "False", 5))
        hdr->fortran_order = 0;
    else
        return lcae_fail(LCAE_EFAIL, "%s: npy header 'fortran_order' is malformed", path);

    const char *s = dict_value(h, "shape");
    if (!s || *s != '(')
        return lcae_fail(LCAE_EFAIL, "%s: npy header has no 'shape' tuple", path);
    s++;
    hdr->ndim = 0;
    hdr->count = 1;
    for (;;) {
        while (isspace((unsigned char)*s) || *s == ',')
            s++;
        if (*s == ')')
            break;
        if (!isdigit((unsigned char)*s))
            return lcae_fail(LCAE_EFAIL, "%s: npy header 'shape' is malformed", path);
        if (hdr->ndim == LCAE_NPY_MAXDIM)
            return lcae_fail(LCAE_EFAIL, "%s: npy array has too many dimensions "
                             "(expected at most %d)", path, LCAE_NPY_MAXDIM);
        errno = 0;
        char *end;
        long long v = strtoll(s, &end, 10);
        if (errno || v < 0)
            return lcae_fail(LCAE_EFAIL, "%s: npy header 'shape' is malformed", path);
        s = end;
        hdr->shape[hdr->ndim++] = v;
        /* overflow guard: counts beyond 2^62 cannot be real files */
        if (v != 0 && hdr->count > (INT64_C(1) << 62) / v)
            return lcae_fail(LCAE_EFAIL, "%s: npy shape is absurdly large", path);
        hdr->count *= v;
    }
    return LCAE_OK;
}

int lcae_npy_read_header(const char *path, lcae_npy_header *hdr)
{
    memset(hdr, 0, sizeof *hdr);
    FILE *fp = fopen(path, "rb");
    if (!fp)
        return lcae_fail(LCAE_EFAIL, "%s: cannot open (%s)", path, strerror(errno));
    struct stat st;
    if (fstat(fileno(fp), &st) != 0 || !S_ISREG(st.st_mode)) {
        fclose(fp);
        return lcae_fail(LCAE_EFAIL, "%s: not a regular file", path);
    }
    unsigned char pre[12];
    size_t got = fread(pre, 1, sizeof pre, fp);
    if (got < 10 || memcmp(pre, "\x93NUMPY", 6) != 0) {
        fclose(fp);
        return lcae_fail(LCAE_EFAIL, "%s: not an .npy file (no \\x93NUMPY magic)", path);
    }
    int major = pre[6];
    int64_t hlen, start;
    if (major == 1) {
        hlen = pre[8] | (pre[9] << 8);
        start = 10;
    } else if (major == 2 || major == 3) {
        if (got < 12) {
            fclose(fp);
            return lcae_fail(LCAE_EFAIL, "%s: truncated npy header", path);
        }
        hlen = (int64_t)pre[8] | ((int64_t)pre[9] << 8) | ((int64_t)pre[10] << 16) |
               ((int64_t)pre[11] << 24);
        start = 12;
    } else {
        fclose(fp);
        return lcae_fail(LCAE_EFAIL, "%s: unsupported npy version (expected 1-3, found %d)",
                         path, major);
    }
    if (hlen <= 0 || hlen > NPY_MAX_HEADER || start + hlen > st.st_size) {
        fclose(fp);
        return lcae_fail(LCAE_EFAIL, "%s: npy header length %lld does not fit the file "
                         "(%lld bytes)", path, (long long)hlen, (long long)st.st_size);
    }
    char *text = lcae_malloc((size_t)hlen + 1);
    if (!text) {
        fclose(fp);
        return LCAE_ENOMEM;
    }
    if (fseek(fp, start, SEEK_SET) != 0 || fread(text, 1, (size_t)hlen, fp) != (size_t)hlen) {
        free(text);
        fclose(fp);
        return lcae_fail(LCAE_EFAIL, "%s: truncated npy header", path);
    }
    fclose(fp);
    text[hlen] = 0;
    int rc = parse_header_text(path, text, hdr);
    free(text);
    if (rc)
        return rc;
    hdr->data_offset = start + hlen;
    if (hdr->count > INT64_MAX / 8)
        return lcae_fail(LCAE_EFAIL, "%s: npy shape is absurdly large (%lld elements)", path,
                         (long long)hdr->count);
    int64_t need = hdr->count * (int64_t)lcae_dtype_size(hdr->dtype);
    if (st.st_size - hdr->data_offset < need)
        return lcae_fail(LCAE_EFAIL, "%s: truncated npy data (expected %lld bytes for the "
                         "shape, found %lld)", path, (long long)need,
                         (long long)(st.st_size - hdr->data_offset));
    return LCAE_OK;
}

/* Reads the whole array into float64 or float32 or int32 (C order only). */
static int npy_load(const char *path, lcae_npy_header *hdr, lcae_dtype want, void **out)
{
    *out = NULL;
    int rc = lcae_npy_read_header(path, hdr);
    if (rc)
        return rc;
    if (hdr->fortran_order && hdr->ndim > 1)
        return lcae_fail(LCAE_EFAIL, "%s: Fortran-order arrays are not supported (expected "
                         "C order; save with np.ascontiguousarray)", path);
    size_t es = lcae_dtype_size(hdr->dtype);
    size_t n = (size_t)hdr->count;
    void *raw = lcae_malloc(n * es);
    void *dst = lcae_malloc(n * lcae_dtype_size(want));
    FILE *fp = fopen(path, "rb");
    if (!raw || !dst || !fp) {
        free(raw);
        free(dst);
        if (fp)
            fclose(fp);
        return raw && dst ? lcae_fail(LCAE_EFAIL, "%s: cannot open (%s)", path, strerror(errno))
                          : LCAE_ENOMEM;
    }
    if (fseek(fp, hdr->data_offset, SEEK_SET) != 0 || fread(raw, es, n, fp) != n) {
        fclose(fp);
        free(raw);
        free(dst);
        return lcae_fail(LCAE_EFAIL, "%s: truncated npy data", path);
    }
    fclose(fp);
    int swap = hdr->big_endian; /* lcae runs on little-endian machines only */
    if (want == LCAE_DT_F32) {
        lcae_convert_to_f32(raw, hdr->dtype, swap, n, dst);
    } else {
        /* float64 and int32 go through a per-element path: exactness matters there */
        for (size_t i = 0; i < n; i++) {
            unsigned char b[8] = {0};
            memcpy(b, (unsigned char *)raw + i * es, es < 8 ? es : 8);
            if (swap)
                for (size_t k = 0; k < es / 2 && k < 4; k++) {
                    unsigned char t = b[k];
                    b[k] = b[es - 1 - k];
                    b[es - 1 - k] = t;
                }
            double v;
            switch (hdr->dtype) {
            case LCAE_DT_U8: v = *(uint8_t *)b; break;
            case LCAE_DT_I8: v = *(int8_t *)b; break;
            case LCAE_DT_U16: { uint16_t x; memcpy(&x, b, 2); v = x; break; }
            case LCAE_DT_I16: { int16_t x; memcpy(&x, b, 2); v = x; break; }
            case LCAE_DT_U32: { uint32_t x; memcpy(&x, b, 4); v = x; break; }
            case LCAE_DT_I32: { int32_t x; memcpy(&x, b, 4); v = x; break; }
            case LCAE_DT_U64: { uint64_t x; memcpy(&x, b, 8); v = (double)x; break; }
            case LCAE_DT_I64: { int64_t x; memcpy(&x, b, 8); v = (double)x; break; }
            case LCAE_DT_F32: { float x; memcpy(&x, b, 4); v = x; break; }
            default: { double x; memcpy(&x, b, 8); v = x; break; }
            }
            if (want == LCAE_DT_F64) {
                ((double *)dst)[i] = v;
            } else {
                if (!(v >= INT32_MIN && v <= INT32_MAX) || v != (double)(int64_t)v) {
                    free(raw);
                    free(dst);
                    return lcae_fail(LCAE_EFAIL, "%s: element %zu is not an int32 value "
                                     "(expected integer labels, found %g)", path, i, v);
                }
                ((int32_t *)dst)[i] = (int32_t)v;
            }
        }
    }
    free(raw);
    *out = dst;
    return LCAE_OK;
}

int lcae_npy_load_f32(const char *path, lcae_npy_header *hdr, float **out)
{
    return npy_load(path, hdr, LCAE_DT_F32, (void **)out);
}

int lcae_npy_load_f64(const char *path, lcae_npy_header *hdr, double **out)
{
    return npy_load(path, hdr, LCAE_DT_F64, (void **)out);
}

int lcae_npy_load_i32(const char *path, lcae_npy_header *hdr, int32_t **out)
{
    return npy_load(path, hdr, LCAE_DT_I32, (void **)out);
}

struct lcae_npy_writer {
    lcae_atomic_file af;
    size_t elem;            /* bytes per element */
    int64_t count, written; /* elements the shape holds, elements written so far */
};

int lcae_npy_writer_open_in(lcae_npy_writer **out, lcae_output_set *set, const char *path,
                            lcae_dtype dtype, int ndim, const int64_t *shape)
{
    static const char *codes[] = {
        [LCAE_DT_U8] = "|u1", [LCAE_DT_U16] = "<u2", [LCAE_DT_U32] = "<u4",
        [LCAE_DT_U64] = "<u8", [LCAE_DT_I8] = "|i1", [LCAE_DT_I16] = "<i2",
        [LCAE_DT_I32] = "<i4", [LCAE_DT_I64] = "<i8", [LCAE_DT_F32] = "<f4",
        [LCAE_DT_F64] = "<f8"};
    *out = NULL;
    if (dtype <= LCAE_DT_INVALID || dtype > LCAE_DT_F64 || ndim < 0 || ndim > LCAE_NPY_MAXDIM)
        return lcae_fail(LCAE_EUSAGE, "%s: cannot write npy (bad dtype or rank)", path);
    char text[256];
    int len = snprintf(text, sizeof text, "{'descr': '%s', 'fortran_order': False, 'shape': (",
                       codes[dtype]);
    int64_t count = 1;
    for (int i = 0; i < ndim; i++) {
        len += snprintf(text + len, sizeof text - (size_t)len, "%lld,%s",
                        (long long)shape[i], i + 1 < ndim ? " " : "");
        count *= shape[i];
    }
    if (ndim > 1) /* Python writes (3,) for one dimension, (3, 4) otherwise */
        len--;
    len += snprintf(text + len, sizeof text - (size_t)len, "), }");
    /* pad with spaces so that the data starts on a 64-byte boundary, then '\n' */
    int total = 10 + len + 1;
    int pad = (64 - total % 64) % 64;
    unsigned char pre[10] = {0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0, 0, 0};
    int hlen = len + pad + 1;
    pre[8] = (unsigned char)(hlen & 0xff);
    pre[9] = (unsigned char)(hlen >> 8);

    lcae_npy_writer *wr = lcae_calloc(1, sizeof *wr);
    if (!wr)
        return LCAE_ENOMEM;
    wr->elem = lcae_dtype_size(dtype);
    wr->count = count;
    int rc = lcae_atomic_open_in(&wr->af, set, path);
    if (rc) {
        free(wr);
        return rc;
    }
    fwrite(pre, 1, sizeof pre, wr->af.fp);
    fwrite(text, 1, (size_t)len, wr->af.fp);
    for (int i = 0; i < pad; i++)
        fputc(' ', wr->af.fp);
    fputc('\n', wr->af.fp);
    *out = wr;
    return LCAE_OK; /* write errors are sticky in the FILE: reported at close */
}

int lcae_npy_writer_open(lcae_npy_writer **out, const char *path, lcae_dtype dtype, int ndim,
                         const int64_t *shape)
{
    return lcae_npy_writer_open_in(out, NULL, path, dtype, ndim, shape);
}

int lcae_npy_writer_write(lcae_npy_writer *wr, const void *data, int64_t n)
{
    if (n < 0 || n > wr->count - wr->written)
        return lcae_fail(LCAE_EUSAGE, "%s: %lld more elements do not fit the array (expected "
                         "at most %lld)", wr->af.path, (long long)n,
                         (long long)(wr->count - wr->written));
    if (n)
        fwrite(data, wr->elem, (size_t)n, wr->af.fp);
    wr->written += n;
    return ferror(wr->af.fp) ? lcae_fail(LCAE_EFAIL, "%s: write failed", wr->af.path) : LCAE_OK;
}

int lcae_npy_writer_close(lcae_npy_writer *wr, int commit)
{
    if (!wr)
        return LCAE_OK;
    int rc = LCAE_OK;
    if (commit && wr->written != wr->count) {
        rc = lcae_fail(LCAE_EFAIL, "%s: incomplete array (expected %lld elements, found %lld)",
                       wr->af.path, (long long)wr->count, (long long)wr->written);
        commit = 0;
    }
    if (commit)
        rc = lcae_atomic_commit(&wr->af); /* checks ferror() of every write */
    else
        lcae_atomic_abort(&wr->af);
    free(wr);
    return rc;
}

int lcae_npy_write_in(lcae_output_set *set, const char *path, lcae_dtype dtype, int ndim,
                      const int64_t *shape, const void *data)
{
    lcae_npy_writer *wr;
    int rc = lcae_npy_writer_open_in(&wr, set, path, dtype, ndim, shape);
    if (rc)
        return rc;
    rc = lcae_npy_writer_write(wr, data, wr->count);
    int rc2 = lcae_npy_writer_close(wr, !rc);
    return rc ? rc : rc2;
}

int lcae_npy_write(const char *path, lcae_dtype dtype, int ndim, const int64_t *shape,
                   const void *data)
{
    return lcae_npy_write_in(NULL, path, dtype, ndim, shape, data);
}
