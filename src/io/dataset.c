/* Opening a dataset: format from the options, the content or the extension, then the
 * reader for that format. */
#include "dataset_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *const format_names[] = {
    [LCAE_FMT_AUTO] = "auto", [LCAE_FMT_EMPAD] = "empad", [LCAE_FMT_RAW] = "raw",
    [LCAE_FMT_NPY] = "npy",   [LCAE_FMT_MIB] = "mib",     [LCAE_FMT_HDF5] = "hdf5", NULL};

#define OPEN(field) offsetof(lcae_open_options, field)

/* In the order of lcae run's records (run.json, the stage keys): a new row goes last. */
const lcae_option lcae_open_option_table[] = {
    {"format", NULL, LCAE_OPT_CHOICE, OPEN(format), LCAE_FMT_AUTO, 0, 0, format_names, "FMT",
     "the file's format (default: from content and extension)", 0},
    {"scan-ny", NULL, LCAE_OPT_I64, OPEN(scan_ny), 0, 0, HUGE_VAL, NULL, "NY",
     "scan rows, 0: from the file (default)", 0},
    {"scan-nx", NULL, LCAE_OPT_I64, OPEN(scan_nx), 0, 0, HUGE_VAL, NULL, "NX",
     "scan columns, 0: from the file (default)", 0},
    {"det-h", NULL, LCAE_OPT_I64, OPEN(det_h), 0, 0, HUGE_VAL, NULL, "H",
     "raw: detector rows (default)", 0},
    {"det-w", NULL, LCAE_OPT_I64, OPEN(det_w), 0, 0, HUGE_VAL, NULL, "W",
     "raw: detector columns (default)", 0},
    {"dtype", NULL, LCAE_OPT_CHOICE, OPEN(dtype), LCAE_DT_INVALID, 0, 0, lcae_dtype_names, "T",
     "raw: element type, invalid: from the file (default)", 0},
    {"big-endian", NULL, LCAE_OPT_BOOL, OPEN(big_endian), 0, 0, 0, NULL, NULL,
     "raw: big-endian elements (default)", 0},
    {"header-bytes", NULL, LCAE_OPT_I64, OPEN(header_bytes), 0, 0, HUGE_VAL, NULL, "N",
     "raw: bytes before the first frame (default)", 0},
    {"frame-header-bytes", NULL, LCAE_OPT_I64, OPEN(frame_header_bytes), 0, 0, HUGE_VAL, NULL,
     "N", "raw: bytes before each frame (default)", 0},
    {"frame-footer-bytes", NULL, LCAE_OPT_I64, OPEN(frame_footer_bytes), 0, 0, HUGE_VAL, NULL,
     "N", "raw: bytes after each frame (default)", 0},
    {0}};

const char *lcae_format_name(lcae_format f)
{
    return f >= LCAE_FMT_AUTO && f <= LCAE_FMT_HDF5 ? format_names[f] : "unknown";
}

lcae_format lcae_format_from_name(const char *name)
{
    for (int f = LCAE_FMT_EMPAD; f <= LCAE_FMT_HDF5; f++)
        if (!strcmp(name, format_names[f]))
            return (lcae_format)f;
    if (!strcmp(name, "h5") || !strcmp(name, "emd"))
        return LCAE_FMT_HDF5;
    return LCAE_FMT_AUTO;
}

int io_check_shape(const char *path, lcae_dataset_info *info)
{
    /* 2^40 patterns or 2^24-pixel sides are no real detector or scan: refuse early
     * rather than overflow a size computation */
    if (info->ny <= 0 || info->nx <= 0 || info->h <= 0 || info->w <= 0 ||
        info->ny > (1 << 24) || info->nx > (1 << 24) || info->h > (1 << 16) ||
        info->w > (1 << 16) || info->ny * info->nx > (INT64_C(1) << 36))
        return lcae_fail(LCAE_EFAIL, "%s: implausible shape (scan %lld x %lld, detector "
                         "%lld x %lld)", path, (long long)info->ny, (long long)info->nx,
                         (long long)info->h, (long long)info->w);
    info->count = info->ny * info->nx;
    return LCAE_OK;
}

int io_scan_shape_from_name(const char *path, int64_t *ny, int64_t *nx)
{
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    const char *x = strstr(base, "_x");
    while (x) {
        long long vx, vy;
        int used = 0;
        if (sscanf(x, "_x%lld_y%lld%n", &vx, &vy, &used) == 2 && used > 0 && vx > 0 && vy > 0) {
            *nx = vx;
            *ny = vy;
            return 1;
        }
        x = strstr(x + 2, "_x");
    }
    return 0;
}

/* Content first (magic numbers), then the extension. */
static lcae_format sniff_format(const char *path)
{
    unsigned char m[8] = {0};
    int fd = open(path, O_RDONLY);
    if (fd >= 0) {
        ssize_t n = pread(fd, m, sizeof m, 0);
        close(fd);
        if (n >= 6 && !memcmp(m, "\x93NUMPY", 6))
            return LCAE_FMT_NPY;
        if (n == 8 && !memcmp(m, "\x89HDF\r\n\x1a\n", 8))
            return LCAE_FMT_HDF5;
        if (n >= 3 && !memcmp(m, "MQ1", 3))
            return LCAE_FMT_MIB;
    }
    const char *dot = strrchr(path, '.');
    if (dot && (!strcmp(dot, ".h5") || !strcmp(dot, ".hdf5") || !strcmp(dot, ".emd")))
        return LCAE_FMT_HDF5;
    if (dot && !strcmp(dot, ".mib"))
        return LCAE_FMT_MIB;
    if (dot && !strcmp(dot, ".npy"))
        return LCAE_FMT_NPY;
    if (dot && !strcmp(dot, ".raw"))
        return LCAE_FMT_EMPAD;
    return LCAE_FMT_AUTO;
}

typedef int (*opener)(lcae_dataset *ds, const lcae_open_options *opt);

static opener opener_for(lcae_format f)
{
    switch (f) {
    case LCAE_FMT_EMPAD: return io_open_empad;
    case LCAE_FMT_RAW: return io_open_raw;
    case LCAE_FMT_NPY: return io_open_npy;
    case LCAE_FMT_MIB: return io_open_mib;
    case LCAE_FMT_HDF5: return io_open_hdf5;
    default: return NULL;
    }
}

int lcae_dataset_open(const char *spec, const lcae_open_options *opt_in, lcae_dataset **out)
{
    *out = NULL;
    lcae_open_options opt = {0};
    if (opt_in)
        opt = *opt_in;
    lcae_dataset *ds = lcae_calloc(1, sizeof *ds);
    if (!ds)
        return LCAE_ENOMEM;
    /* FILE.h5:/path/in/file names an HDF5 dataset inside a file */
    size_t len = strlen(spec);
    ds->path = lcae_malloc(len + 1);
    if (!ds->path) {
        free(ds);
        return LCAE_ENOMEM;
    }
    memcpy(ds->path, spec, len + 1);
    char *colon = strstr(ds->path, ":/");
    struct stat st;
    if (colon && stat(ds->path, &st) != 0) {
        *colon = 0;
        ds->subpath = colon + 1;
        if (!opt.format)
            opt.format = LCAE_FMT_HDF5;
    }

    int rc;
    if (stat(ds->path, &st) != 0) {
        rc = lcae_fail(LCAE_EFAIL, "%s: cannot open (%s)", ds->path, strerror(errno));
        goto fail;
    }
    if (!S_ISREG(st.st_mode)) {
        rc = lcae_fail(LCAE_EFAIL, "%s: not a regular file (expected a scan file, found %s)",
                       ds->path, S_ISDIR(st.st_mode) ? "a directory" : "something else");
        goto fail;
    }
    ds->info.file_bytes = st.st_size;
    if (!opt.format)
        opt.format = (opt.det_h || opt.det_w || opt.dtype) ? LCAE_FMT_RAW : sniff_format(ds->path);
    opener op = opener_for(opt.format);
    if (!op) {
        rc = opt.format == LCAE_FMT_AUTO
                 ? lcae_fail(LCAE_EUSAGE, "%s: unknown file format (expected .raw, .npy, .mib "
                             "or HDF5; give --format)", ds->path)
                 : lcae_fail(LCAE_EUSAGE, "%s: no reader for format %s in this build",
                             ds->path, lcae_format_name(opt.format));
        goto fail;
    }
    ds->info.format = opt.format;
    rc = op(ds, &opt);
    if (rc)
        goto fail;
    *out = ds;
    return LCAE_OK;
fail:
    free(ds->path);
    free(ds);
    return rc;
}

int io_dataset_new(const char *name, size_t state_size, lcae_dataset **ds, void **state)
{
    size_t len = strlen(name);
    *ds = lcae_calloc(1, sizeof **ds);
    *state = lcae_calloc(1, state_size);
    char *path = lcae_malloc(len + 1);
    if (!*ds || !*state || !path) {
        free(*ds);
        free(*state);
        free(path);
        *ds = NULL;
        *state = NULL;
        return LCAE_ENOMEM;
    }
    memcpy(path, name, len + 1);
    (*ds)->path = path;
    return LCAE_OK;
}

void lcae_dataset_close(lcae_dataset *ds)
{
    if (!ds)
        return;
    if (ds->ops && ds->ops->close)
        ds->ops->close(ds);
    free(ds->path);
    free(ds);
}

const lcae_dataset_info *lcae_dataset_get_info(const lcae_dataset *ds) { return &ds->info; }

const char *lcae_dataset_path(const lcae_dataset *ds) { return ds->path; }

int lcae_dataset_read(lcae_dataset *ds, int64_t first, int64_t count, float *out)
{
    if (first < 0 || count < 0 || first + count > ds->info.count)
        return lcae_fail(LCAE_EUSAGE, "%s: patterns %lld..%lld requested, the scan has %lld",
                         ds->path, (long long)first, (long long)(first + count - 1),
                         (long long)ds->info.count);
    if (count == 0)
        return LCAE_OK;
    return ds->ops->read(ds, first, count, out);
}
