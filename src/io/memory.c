/* A scan held in memory by the caller (a numpy array from the Python package): patterns
 * are read from the caller's buffer directly, converted to float32 batch by batch. */
#include <stdlib.h>

#include "dataset_internal.h"

typedef struct {
    const uint8_t *data;
    size_t pattern_bytes;
} memory_state;

static int memory_read(lcae_dataset *ds, int64_t first, int64_t count, float *out)
{
    const memory_state *s = ds->state;
    lcae_convert_to_f32(s->data + (size_t)first * s->pattern_bytes, ds->info.dtype, 0,
                        (size_t)(count * ds->info.h * ds->info.w), out);
    return LCAE_OK;
}

static void memory_close(lcae_dataset *ds)
{
    free(ds->state);
}

static const lcae_reader_ops memory_ops = {memory_read, memory_close};

int lcae_dataset_from_memory(const void *data, lcae_dtype dtype, int64_t ny, int64_t nx,
                             int64_t h, int64_t w, const char *name, lcae_dataset **out)
{
    *out = NULL;
    name = name ? name : "(memory)";
    if (!data || !lcae_dtype_size(dtype))
        return lcae_fail(LCAE_EUSAGE, "%s: no data or an unknown element type", name);
    lcae_dataset *ds;
    memory_state *s;
    if (io_dataset_new(name, sizeof *s, &ds, (void **)&s))
        return LCAE_ENOMEM;
    ds->info = (lcae_dataset_info){.format = LCAE_FMT_NPY, .ny = ny, .nx = nx, .h = h, .w = w,
                                   .dtype = dtype};
    int rc = io_check_shape(name, &ds->info);
    if (rc) {
        lcae_dataset_close(ds);
        free(s);
        return rc;
    }
    ds->info.file_bytes = ds->info.count * h * w * (int64_t)lcae_dtype_size(dtype);
    s->data = data;
    s->pattern_bytes = (size_t)(h * w) * lcae_dtype_size(dtype);
    ds->state = s;
    ds->ops = &memory_ops;
    *out = ds;
    return LCAE_OK;
}
