/* What every dataset reader provides; shared by src/io only. */
#ifndef LCAE_IO_DATASET_INTERNAL_H
#define LCAE_IO_DATASET_INTERNAL_H

#include "lcae/io.h"

typedef struct {
    /* Patterns first..first+count-1 into out (count*h*w float32); the range is checked
     * by the caller. Must be thread-safe. */
    int (*read)(lcae_dataset *ds, int64_t first, int64_t count, float *out);
    void (*close)(lcae_dataset *ds);
} lcae_reader_ops;

struct lcae_dataset {
    lcae_dataset_info info;
    char *path;                 /* the file, without any ":/hdf5/path" suffix */
    const char *subpath;        /* "/hdf5/path" from FILE.h5:/hdf5/path, else NULL */
    const lcae_reader_ops *ops;
    void *state;                /* the reader's own */
};

/* Each reader fills ds->info, ds->ops and ds->state, or returns an error (message set,
 * nothing left allocated in ds->state). */
int lcae_open_raw(lcae_dataset *ds, const lcae_open_options *opt);
int lcae_open_empad(lcae_dataset *ds, const lcae_open_options *opt);

/* Raw layout reader shared by EMPAD, raw and formats that are raw after a header
 * (npy): fixed-size frames at a fixed stride. */
typedef struct {
    int fd;
    lcae_dtype dtype;
    int swap;
    int64_t data_offset;   /* first frame's first pixel */
    int64_t frame_stride;  /* bytes from one frame's first pixel to the next's */
} lcae_raw_layout;

int lcae_raw_attach(lcae_dataset *ds, const lcae_raw_layout *layout);

/* Scan shape from a name like "scan_x256_y256.raw" (x = columns). 0 if absent. */
int lcae_scan_shape_from_name(const char *path, int64_t *ny, int64_t *nx);

/* Checks and fills info->count; message names `path`. */
int lcae_check_shape(const char *path, lcae_dataset_info *info);

#endif
