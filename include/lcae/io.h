/* lcae io: atomic output files and sets, .npy arrays, and 4D-STEM datasets in any format.
 *
 * A dataset is a scan of ny x nx probe positions, each with an h x w diffraction
 * pattern. Pattern i is scan position (i / nx, i % nx) (row-major, x fastest).
 * Readers hand out patterns as float32, h*w values per pattern, row-major
 * (detector row first), whatever the stored dtype; they read the file piece by piece
 * (pread or chunked library reads), never the whole file.
 */
#ifndef LCAE_IO_H
#define LCAE_IO_H

#include <stdint.h>
#include <stdio.h>

#include "lcae/core.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- element types ---------------------------------------------------------- */
typedef enum {
    LCAE_DT_INVALID = 0,
    LCAE_DT_U8, LCAE_DT_U16, LCAE_DT_U32, LCAE_DT_U64,
    LCAE_DT_I8, LCAE_DT_I16, LCAE_DT_I32, LCAE_DT_I64,
    LCAE_DT_F32, LCAE_DT_F64
} lcae_dtype;

size_t lcae_dtype_size(lcae_dtype t);
extern const char *const lcae_dtype_names[];        /* by value, NULL-terminated */
const char *lcae_dtype_name(lcae_dtype t);          /* "uint16", "float32", ... */
lcae_dtype lcae_dtype_from_name(const char *name);  /* numpy names: "u2" "uint16" "f4" ... */

/* Converts n elements stored as `t` (byte-swapped if `swap`) to float32. */
void lcae_convert_to_f32(const void *src, lcae_dtype t, int swap, size_t n, float *dst);

/* ---- atomic output ------------------------------------------------------------
 * Write to a temporary file in the destination's folder (".NAME.tmp.XXXXXX"), then
 * rename over the destination: a crash never leaves a half-written output nor destroys
 * the old one. The file is synced to the disk before the rename and its folder after,
 * so that a power cut leaves either the old file or the whole new one, never an empty
 * or partial file under the final name. (A process killed while writing leaves its
 * temporary file behind; nothing else does.) */
typedef struct lcae_output_set lcae_output_set;

typedef struct {
    FILE *fp;
    char *path;     /* final destination */
    char *tmp_path; /* the temporary file being written */
    lcae_output_set *set; /* the set it belongs to, or NULL (renamed at commit) */
} lcae_atomic_file;

int lcae_atomic_open(lcae_atomic_file *af, const char *path);
/* Checks every write made through af->fp, syncs, closes and renames (for a member of a
 * set: syncs, closes and hands it to the set, which renames it). On failure the
 * temporary file is removed and the destination left as it was. */
int lcae_atomic_commit(lcae_atomic_file *af);
void lcae_atomic_abort(lcae_atomic_file *af);
/* Whole buffer to `path`, atomically. */
int lcae_write_file_atomic(const char *path, const void *data, size_t bytes);

/* ---- all-or-nothing output sets ---------------------------------------------------
 * The outputs of one command (labels, probabilities and tree; the sample's scan and
 * truth; a report's files): each member is written and synced under its temporary name
 * as above, and nothing is renamed until lcae_output_set_close(set, 1), which renames
 * them all, in the order written, then syncs each folder. A failure before that (a
 * member that cannot be created or written: the caller closes with commit 0) removes
 * every temporary file and leaves every destination as it was.
 *   What is guaranteed: no failed set leaves a member or a temporary file behind, except
 * a rename that fails midway (an I/O error, a full disk, a file system made read-only;
 * a folder in a destination's place is refused before any rename). Then the outputs
 * renamed before it that had no older file are removed again, and the message names
 * the older outputs already replaced (the set on disk is then a mix of old and new).
 *   What is not: a crash or power cut during the renames leaves the members renamed so
 * far (each whole, never a partial file) beside the older or missing others; no rename
 * of several files is atomic on POSIX file systems.
 *   Test hook: LCAE_TEST_FAIL_RENAME=K makes the K-th rename of every set fail with EIO. */
int lcae_output_set_new(lcae_output_set **out);
/* Opens a member of `set` (NULL: a plain atomic file, as lcae_atomic_open). */
int lcae_atomic_open_in(lcae_atomic_file *af, lcae_output_set *set, const char *path);
int lcae_write_file_in(lcae_output_set *set, const char *path, const void *data,
                       size_t bytes);
/* commit 1: renames every member (see above); 0: removes them. Frees the set either
 * way (NULL: nothing to do). */
int lcae_output_set_close(lcae_output_set *set, int commit);

/* ---- paths and folders ------------------------------------------------------------ */
/* "dir/name" (malloc'd; NULL with a message if out of memory). */
char *lcae_path_join(const char *dir, const char *name);
/* mkdir -p: creates `dir` and its parents; fails if a part exists but is not a folder. */
int lcae_make_dirs(const char *dir);
/* A whole small file (metadata, JSON) into *text, NUL-terminated (malloc'd), its length
 * in *n; refused if it is not a regular file of at most max_bytes. */
int lcae_read_text_file(const char *path, size_t max_bytes, char **text, size_t *n);

/* ---- .npy arrays ---------------------------------------------------------------- */
#define LCAE_NPY_MAXDIM 8
typedef struct {
    lcae_dtype dtype;
    int big_endian;      /* stored byte order ('>' in descr) */
    int fortran_order;
    int ndim;
    int64_t shape[LCAE_NPY_MAXDIM];
    int64_t count;       /* product of shape */
    int64_t data_offset; /* bytes from the start of the file to the first element */
} lcae_npy_header;

/* Parses and validates the header (versions 1-3); checks the file is long enough. */
int lcae_npy_read_header(const char *path, lcae_npy_header *hdr);
/* Whole array converted to float32 / float64 / int32 (malloc'd into *out, C order).
 * Fortran-order arrays are refused with a message. */
int lcae_npy_load_f32(const char *path, lcae_npy_header *hdr, float **out);
int lcae_npy_load_f64(const char *path, lcae_npy_header *hdr, double **out);
int lcae_npy_load_i32(const char *path, lcae_npy_header *hdr, int32_t **out);
/* Writes a little-endian C-order array atomically (version 1 header); _in: as a member
 * of `set`. */
int lcae_npy_write(const char *path, lcae_dtype dtype, int ndim, const int64_t *shape,
                   const void *data);
int lcae_npy_write_in(lcae_output_set *set, const char *path, lcae_dtype dtype, int ndim,
                      const int64_t *shape, const void *data);
/* The same, streamed: the header at open, then the elements in C order in pieces of any
 * size, into `path` atomically when closed (_in: as a member of `set`). Memory does not
 * grow with the array. Close with commit fails (and leaves no file) unless every element
 * of the shape was written. */
typedef struct lcae_npy_writer lcae_npy_writer;
int lcae_npy_writer_open(lcae_npy_writer **out, const char *path, lcae_dtype dtype, int ndim,
                         const int64_t *shape);
int lcae_npy_writer_open_in(lcae_npy_writer **out, lcae_output_set *set, const char *path,
                            lcae_dtype dtype, int ndim, const int64_t *shape);
/* n elements of the writer's dtype, little endian; more than the shape holds is refused. */
int lcae_npy_writer_write(lcae_npy_writer *wr, const void *data, int64_t n);
int lcae_npy_writer_close(lcae_npy_writer *wr, int commit);

/* ---- datasets ------------------------------------------------------------------- */
typedef enum {
    LCAE_FMT_AUTO = 0, LCAE_FMT_EMPAD, LCAE_FMT_RAW, LCAE_FMT_NPY, LCAE_FMT_MIB,
    LCAE_FMT_HDF5
} lcae_format;

const char *lcae_format_name(lcae_format f); /* "empad", "raw", "npy", "mib", "hdf5" */
lcae_format lcae_format_from_name(const char *name);

/* What the user tells lcae about a file; zero means "from the file". */
typedef struct {
    lcae_format format;
    int64_t scan_ny, scan_nx;       /* scan shape (3-D npy, raw, mib without .hdr) */
    /* raw binary layout */
    int64_t det_h, det_w;
    lcae_dtype dtype;
    int big_endian;
    int64_t header_bytes;           /* once, at the start of the file */
    int64_t frame_header_bytes;     /* before each frame */
    int64_t frame_footer_bytes;     /* after each frame (EMPAD: 2 rows of 128 float32) */
} lcae_open_options;

/* The table (lcae/core.h, lcae_option) of lcae_open_options: its defaults (all "from the
 * file") and its JSON (format, scan_ny, scan_nx, det_h, det_w, dtype, big_endian,
 * header_bytes, frame_header_bytes, frame_footer_bytes). The command line's dataset
 * options are shaped for typing (--scan NYxNX, --det HxW, --byte-order, dtype aliases:
 * src/cli/dataset_options.c). */
extern const lcae_option lcae_open_option_table[];

typedef struct {
    lcae_format format;
    int64_t ny, nx;        /* scan shape */
    int64_t h, w;          /* detector shape */
    lcae_dtype dtype;      /* as stored */
    int64_t file_bytes;
    int64_t count;         /* ny * nx patterns */
} lcae_dataset_info;

typedef struct lcae_dataset lcae_dataset;

/* `path` may be FILE.h5:/path/in/file for HDF5. `opt` may be NULL (all from the file). */
int lcae_dataset_open(const char *path, const lcae_open_options *opt, lcae_dataset **out);
void lcae_dataset_close(lcae_dataset *ds);
const lcae_dataset_info *lcae_dataset_get_info(const lcae_dataset *ds);
const char *lcae_dataset_path(const lcae_dataset *ds);
/* Patterns first .. first+count-1 into out (count*h*w float32). Safe to call from
 * several threads at once (readers whose library is not thread-safe serialize). */
int lcae_dataset_read(lcae_dataset *ds, int64_t first, int64_t count, float *out);
/* The sub-grid of parent's probe positions (y, x) = (i step, j step), i, j = 0, 1, ...:
 * a dataset of ceil(ny / step) x ceil(nx / step) patterns, read through parent (which
 * must outlive it; closing the view leaves parent open). step 1 is every position. */
int lcae_dataset_subgrid(lcae_dataset *parent, int64_t step, lcae_dataset **out);
/* The parent's position (row-major over its parent_nx columns) of the sub-grid's position
 * i (row-major over its grid_nx columns): (i / grid_nx step, i % grid_nx step). */
int64_t lcae_subgrid_parent(int64_t i, int64_t grid_nx, int64_t parent_nx, int64_t step);
/* The smallest step whose sub-grid of an ny x nx scan has at most max_positions
 * positions (1 for max_positions 0: every position). */
int64_t lcae_subgrid_step(int64_t ny, int64_t nx, int64_t max_positions);
/* A scan the caller holds in memory, C order (ny, nx, h, w) of `dtype` in native byte
 * order (a numpy array): read in place, so `data` must outlive the dataset. `name` names
 * it in messages. */
int lcae_dataset_from_memory(const void *data, lcae_dtype dtype, int64_t ny, int64_t nx,
                             int64_t h, int64_t w, const char *name, lcae_dataset **out);

/* ---- EMPAD writer (the simulator's output, test files) ---------------------------
 * Frames of h x w float32 little endian followed by 2 metadata rows of w float32
 * (written as zeros), into `path` atomically when closed (_in: as a member of `set`). */
typedef struct lcae_empad_writer lcae_empad_writer;
int lcae_empad_writer_open(lcae_empad_writer **out, const char *path, int64_t h, int64_t w);
int lcae_empad_writer_open_in(lcae_empad_writer **out, lcae_output_set *set, const char *path,
                              int64_t h, int64_t w);
/* Frames must be written in scan order; n frames of h*w floats. */
int lcae_empad_writer_write(lcae_empad_writer *wr, const float *frames, int64_t n);
int lcae_empad_writer_close(lcae_empad_writer *wr, int commit);

#ifdef __cplusplus
}
#endif
#endif
