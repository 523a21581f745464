/* Test helpers that write scan files in every input format, independently of lcae's
 * readers (own .npy header code, own MIB headers, the HDF5 library's writer), with
 * known pixel values: value(i) for element i, exactly representable in float32 and in
 * the stored dtype. */
#ifndef LCAE_TEST_IO_WRITERS_H
#define LCAE_TEST_IO_WRITERS_H

#include <hdf5.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lcae/io.h"

/* Element i of a test scan in dtype t: spreads over the dtype's range (negative values
 * for signed types), exactly representable in float32. */
static inline double tw_value(lcae_dtype t, int64_t i)
{
    int64_t k = (i * 7919 + 13) % 251;
    switch (t) {
    case LCAE_DT_U8: return (double)k;
    case LCAE_DT_U16: return (double)(k * 261);             /* up to 65250 */
    case LCAE_DT_U32: return (double)(k * 16777216.0);      /* up to 4.2e9, 2^24 steps */
    case LCAE_DT_I16: return (double)((k - 125) * 261);
    case LCAE_DT_I32: return (double)((k - 125) * 16777216.0);
    case LCAE_DT_F32: return (k - 125) * 0.5;
    case LCAE_DT_F64: return (k - 125) * 0.25;
    default: return 0;
    }
}

/* Stores v as dtype t into dst, big endian if `big`. */
static inline void tw_store(lcae_dtype t, double v, int big, unsigned char *dst)
{
    unsigned char b[8];
    size_t n = lcae_dtype_size(t);
    switch (t) {
    case LCAE_DT_U8: { uint8_t x = (uint8_t)v; memcpy(b, &x, 1); break; }
    case LCAE_DT_U16: { uint16_t x = (uint16_t)v; memcpy(b, &x, 2); break; }
    case LCAE_DT_U32: { uint32_t x = (uint32_t)v; memcpy(b, &x, 4); break; }
    case LCAE_DT_I16: { int16_t x = (int16_t)v; memcpy(b, &x, 2); break; }
    case LCAE_DT_I32: { int32_t x = (int32_t)v; memcpy(b, &x, 4); break; }
    case LCAE_DT_F32: { float x = (float)v; memcpy(b, &x, 4); break; }
    case LCAE_DT_F64: { double x = v; memcpy(b, &x, 8); break; }
    default: memset(b, 0, 8); break;
    }
    for (size_t i = 0; i < n; i++)
        dst[i] = big ? b[n - 1 - i] : b[i]; /* the test machine is little endian */
}

/* .npy of `count` elements value(0..count-1), any version (1-3), either byte order. */
static inline int tw_npy(const char *path, lcae_dtype t, int big, int version, int ndim,
                  const int64_t *shape, int fortran)
{
    static const char *codes[] = {[LCAE_DT_U8] = "u1", [LCAE_DT_U16] = "u2",
                                  [LCAE_DT_U32] = "u4", [LCAE_DT_I16] = "i2",
                                  [LCAE_DT_I32] = "i4", [LCAE_DT_F32] = "f4",
                                  [LCAE_DT_F64] = "f8", [LCAE_DT_I64] = "i8"};
    char dict[256];
    int len = snprintf(dict, sizeof dict, "{'descr': '%c%s', 'fortran_order': %s, 'shape': (",
                       lcae_dtype_size(t) == 1 ? '|' : big ? '>' : '<', codes[t],
                       fortran ? "True" : "False");
    int64_t count = 1;
    for (int i = 0; i < ndim; i++) {
        len += snprintf(dict + len, sizeof dict - (size_t)len, "%lld, ", (long long)shape[i]);
        count *= shape[i];
    }
    len += snprintf(dict + len, sizeof dict - (size_t)len, "), }");
    int pre = version == 1 ? 10 : 12;
    int total = pre + len + 1;
    int pad = (64 - total % 64) % 64;
    int hlen = len + pad + 1;
    FILE *fp = fopen(path, "wb");
    if (!fp)
        return -1;
    unsigned char magic[12] = {0x93, 'N', 'U', 'M', 'P', 'Y', (unsigned char)version, 0,
                               (unsigned char)(hlen & 0xff), (unsigned char)(hlen >> 8), 0, 0};
    fwrite(magic, 1, (size_t)pre, fp);
    fwrite(dict, 1, (size_t)len, fp);
    for (int i = 0; i < pad; i++)
        fputc(' ', fp);
    fputc('\n', fp);
    size_t es = lcae_dtype_size(t);
    for (int64_t i = 0; i < count; i++) {
        unsigned char b[8];
        tw_store(t, tw_value(t, i), big, b);
        fwrite(b, 1, es, fp);
    }
    return fclose(fp);
}

/* EMPAD .raw: n frames of h x w float32 value(i), each followed by 2 rows of w metadata
 * floats (written as 1e30, so reading them as pixels would show). */
static inline int tw_empad(const char *path, int64_t n, int64_t h, int64_t w)
{
    FILE *fp = fopen(path, "wb");
    if (!fp)
        return -1;
    for (int64_t f = 0; f < n; f++) {
        for (int64_t i = 0; i < h * w; i++) {
            float v = (float)tw_value(LCAE_DT_F32, f * h * w + i);
            fwrite(&v, 4, 1, fp);
        }
        for (int64_t i = 0; i < 2 * w; i++) {
            float v = 1e30f;
            fwrite(&v, 4, 1, fp);
        }
    }
    return fclose(fp);
}

static inline int tw_text(const char *path, const char *text)
{
    FILE *fp = fopen(path, "wb");
    if (!fp)
        return -1;
    fputs(text, fp);
    return fclose(fp);
}

/* Merlin .mib: n frames, each a header of `hb` bytes (fields as Merlin writes them, NUL
 * padded) and h x w big-endian pixels of type U08/U16/U32 value(i). */
static inline int tw_mib(const char *path, int64_t n, int64_t h, int64_t w, lcae_dtype t, int hb,
                  int quad)
{
    const char *code = t == LCAE_DT_U8 ? "U08" : t == LCAE_DT_U16 ? "U16" : "U32";
    FILE *fp = fopen(path, "wb");
    if (!fp)
        return -1;
    size_t es = lcae_dtype_size(t);
    for (int64_t f = 0; f < n; f++) {
        char hdr[1024] = {0};
        snprintf(hdr, sizeof hdr, "MQ1,%06lld,%05d,%02d,%04lld,%04lld,%s,   %s,0F,"
                 "2021-04-15 15:04:00.746234,0.001000,0,0,0,2.000000E+0,3RX,MQ1A,"
                 "2021-04-15T14:04:00.746234381Z,1000000ns,12,", (long long)f + 1, hb,
                 quad ? 4 : 1, (long long)w, (long long)h, code, quad ? "2x2" : "1x1");
        fwrite(hdr, 1, (size_t)hb, fp);
        for (int64_t i = 0; i < h * w; i++) {
            unsigned char b[8];
            tw_store(t, tw_value(t, f * h * w + i), 1, b);
            fwrite(b, 1, es, fp);
        }
    }
    return fclose(fp);
}

static inline hid_t tw_h5_type(lcae_dtype t, int big)
{
    switch (t) {
    case LCAE_DT_U8: return H5T_STD_U8LE;
    case LCAE_DT_U16: return big ? H5T_STD_U16BE : H5T_STD_U16LE;
    case LCAE_DT_U32: return big ? H5T_STD_U32BE : H5T_STD_U32LE;
    case LCAE_DT_I16: return big ? H5T_STD_I16BE : H5T_STD_I16LE;
    case LCAE_DT_I32: return big ? H5T_STD_I32BE : H5T_STD_I32LE;
    case LCAE_DT_F32: return big ? H5T_IEEE_F32BE : H5T_IEEE_F32LE;
    default: return big ? H5T_IEEE_F64BE : H5T_IEEE_F64LE;
    }
}

/* Creates every group of `name`'s parent path in file f (like `mkdir -p`). */
static inline void tw_h5_groups(hid_t f, const char *name)
{
    char p[256];
    snprintf(p, sizeof p, "%s", name);
    for (char *s = strchr(p + 1, '/'); s; s = strchr(s + 1, '/')) {
        *s = 0;
        if (H5Lexists(f, p, H5P_DEFAULT) <= 0)
            H5Gclose(H5Gcreate2(f, p, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT));
        *s = '/';
    }
}

/* Adds dataset `name` (any rank, value(i) stored as t) to file f; chunked by one
 * pattern (the last two dimensions; gzip-compressed) when `chunked`. */
static inline int tw_h5_dataset(hid_t f, const char *name, lcae_dtype t, int big, int rank,
                         const hsize_t *dims, int chunked)
{
    tw_h5_groups(f, name);
    hsize_t count = 1;
    for (int i = 0; i < rank; i++)
        count *= dims[i];
    double *v = malloc(sizeof *v * (size_t)count);
    for (hsize_t i = 0; i < count; i++)
        v[i] = tw_value(t, (int64_t)i);
    hid_t space = H5Screate_simple(rank, dims, NULL);
    hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE);
    if (chunked) {
        hsize_t chunk[H5S_MAX_RANK];
        for (int i = 0; i < rank; i++)
            chunk[i] = i < rank - 2 ? 1 : dims[i];
        H5Pset_chunk(dcpl, rank, chunk);
        H5Pset_deflate(dcpl, 4);
    }
    hid_t d = H5Dcreate2(f, name, tw_h5_type(t, big), space, H5P_DEFAULT, dcpl, H5P_DEFAULT);
    herr_t e = H5Dwrite(d, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, v);
    H5Dclose(d);
    H5Pclose(dcpl);
    H5Sclose(space);
    free(v);
    return e < 0 || d < 0 ? -1 : 0;
}

/* A string attribute (emd_group_type and the like) on the object `obj`. */
static inline void tw_h5_attr_int(hid_t f, const char *obj, const char *name, int value)
{
    hid_t o = H5Oopen(f, obj, H5P_DEFAULT);
    hid_t s = H5Screate(H5S_SCALAR);
    hid_t a = H5Acreate2(o, name, H5T_STD_I32LE, s, H5P_DEFAULT, H5P_DEFAULT);
    H5Awrite(a, H5T_NATIVE_INT, &value);
    H5Aclose(a);
    H5Sclose(s);
    H5Oclose(o);
}

#endif
