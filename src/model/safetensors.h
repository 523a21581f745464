/* safetensors files (https://github.com/huggingface/safetensors): an 8-byte little-endian
 * header length N, N bytes of JSON {"NAME": {"dtype": "F32", "shape": [..],
 * "data_offsets": [begin, end]}, ..., "__metadata__": {"key": "string", ...}}, then the
 * data; offsets are relative to the end of the header, tensors little-endian, C order. */
#ifndef LCAE_SAFETENSORS_H
#define LCAE_SAFETENSORS_H

#include <stdint.h>

#include "lcae/io.h"

#define LCAE_ST_MAXDIM 8

/* Half-precision types have no lcae_dtype; they are read (converted) only. */
enum { LCAE_ST_F16 = 100, LCAE_ST_BF16 = 101 };

typedef struct {
    char *name;
    int dtype;          /* an lcae_dtype, or LCAE_ST_F16 / LCAE_ST_BF16 */
    int ndim;
    int64_t shape[LCAE_ST_MAXDIM];
    int64_t count;      /* product of shape (1 for a scalar) */
    int64_t begin, end; /* bytes, relative to the data section */
} model_st_tensor;

typedef struct model_st_file model_st_file;

/* Opens and validates the whole header (offsets inside the file, sizes matching the
 * shapes, no overlaps, metadata values strings). */
int model_st_open(const char *path, model_st_file **out);
void model_st_close(model_st_file *f);
int model_st_count(const model_st_file *f);
const model_st_tensor *model_st_get(const model_st_file *f, int i);
const model_st_tensor *model_st_find(const model_st_file *f, const char *name);
/* A metadata value, or NULL. */
const char *model_st_meta(const model_st_file *f, const char *key);
/* Reads tensor t converted to float32 (F32, F64, F16, BF16, integer types) into dst
 * (t->count values). */
int model_st_read_f32(model_st_file *f, const model_st_tensor *t, float *dst);
/* Reads an integer tensor (I64, I32, ...) into dst (t->count values). */
int model_st_read_i64(model_st_file *f, const model_st_tensor *t, int64_t *dst);

/* ---- writing ---- */
typedef struct {
    const char *name;
    lcae_dtype dtype; /* LCAE_DT_F32 or LCAE_DT_I64 */
    int ndim;
    int64_t shape[LCAE_ST_MAXDIM];
    const void *data; /* native (little-endian) values */
} model_st_entry;

/* Writes n tensors (in the given order) and nmeta key/value string pairs
 * (meta[2*i], meta[2*i+1]) to path atomically. */
int model_st_write(const char *path, const model_st_entry *e, int n, const char *const *meta,
                  int nmeta);

#endif
