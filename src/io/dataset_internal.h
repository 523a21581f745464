/* What every dataset reader provides; shared by src/io only. */
#ifndef LCAE_IO_DATASET_INTERNAL_H
#define LCAE_IO_DATASET_INTERNAL_H

#include "lcae/io.h"

#include <stddef.h>

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

/* A dataset not opened from a file (a caller's array, a sub-grid view): *ds zeroed, its
 * path a copy of `name`, and *state a zeroed block of state_size bytes for the reader to
 * fill and set as ds->state. On failure nothing is left allocated. */
int io_dataset_new(const char *name, size_t state_size, lcae_dataset **ds, void **state);

/* Each reader fills ds->info, ds->ops and ds->state, or returns an error (message set,
 * nothing left allocated in ds->state). */
int io_open_raw(lcae_dataset *ds, const lcae_open_options *opt);
int io_open_empad(lcae_dataset *ds, const lcae_open_options *opt);
int io_open_npy(lcae_dataset *ds, const lcae_open_options *opt);
int io_open_mib(lcae_dataset *ds, const lcae_open_options *opt);
int io_open_hdf5(lcae_dataset *ds, const lcae_open_options *opt);

/* Raw layout reader shared by EMPAD, raw and formats that are raw after a header
 * (npy): fixed-size frames at a fixed stride. */
typedef struct {
    int fd;
    lcae_dtype dtype;
    int swap;
    int64_t data_offset;   /* first frame's first pixel */
    int64_t frame_stride;  /* bytes from one frame's first pixel to the next's */
} lcae_raw_layout;

int io_raw_attach(lcae_dataset *ds, const lcae_raw_layout *layout);

/* Scan shape from a name like "scan_x256_y256.raw" (x = columns). 0 if absent. */
int io_scan_shape_from_name(const char *path, int64_t *ny, int64_t *nx);

/* Checks and fills info->count; message names `path`. */
int io_check_shape(const char *path, lcae_dataset_info *info);


/* ---- parsers, exposed for tests and fuzzers ------------------------------------ */
/* EMPAD acquisition XML: what lcae reads from it (zero/empty: not recorded). */
typedef struct {
    char raw_file[256];       /* basename of <raw_file filename=...> */
    int64_t scan_ny, scan_nx; /* <pix_y>/<pix_x>, else scan_parameters mode="acquire" */
    int64_t det_h, det_w;     /* <detector_height>/<detector_width> (lcae's extension) */
} lcae_empad_meta;
int io_empad_xml_parse(const char *xml_path, const char *text, size_t n, lcae_empad_meta *m);

/* Merlin .mib per-frame header ("MQ1,000001,00384,01,0256,0256,U08,   1x1,..."). */
typedef struct {
    int64_t seq;          /* frame number, from 1 */
    int64_t header_bytes; /* this header's size, data follow it */
    int64_t chips;        /* 1 or 4 */
    int64_t w, h;         /* pixels: columns, rows */
    lcae_dtype dtype;     /* U08/U16/U32/U64 (stored big endian); INVALID for RAW */
    int raw_mode;         /* R64: undecoded counter bits */
    int depth;            /* counter depth (1, 6, 12, 24) from the "MQ1A" fields; 0 unknown */
} io_mib_frame;
/* RAW (R64) 1-bit frame of a single chip (w x h) or a quad (header w x h = 4*256 x 256,
 * decoded to 2h x w/2) into out, pixel values 0 or 1. */
void io_mib_decode_r1(const unsigned char *in, int64_t w, int64_t h, int quad, float *out);
int io_mib_parse_frame_header(const char *path, const char *text, size_t n, io_mib_frame *f);

/* Merlin .hdr acquisition sidecar: the fields that give the scan shape (0: absent). */
typedef struct {
    int64_t frames;             /* Frames in Acquisition (Number) */
    int64_t frames_per_trigger; /* Frames per Trigger (Number): one scan row */
    int64_t scan_x, scan_y;     /* ScanX / ScanY (newer Merlin software) */
} io_mib_hdr;
int io_mib_parse_hdr(const char *path, const char *text, size_t n, io_mib_hdr *h);

#endif
