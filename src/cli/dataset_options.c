/* The options that say how to read a scan file, shared by every command that opens one. */
#include "cli.h"

#include <string.h>

cli_dataset_args cli_dataset;

const cli_option cli_dataset_options[] = {
    {"format", 0, OPT_STRING, &cli_dataset.format, "FMT",
     "empad|raw|npy|mib|hdf5 (default: from content and extension)"},
    {"scan", 0, OPT_SHAPE, cli_dataset.scan, "NYxNX",
     "scan shape, where the file does not say it"},
    {"det", 0, OPT_SHAPE, cli_dataset.det, "HxW", "raw: detector shape"},
    {"dtype", 0, OPT_STRING, &cli_dataset.dtype, "T",
     "raw: u1 u2 u4 i2 i4 f4 f8 (or uint16, float32, ...)"},
    {"byte-order", 0, OPT_STRING, &cli_dataset.byte_order, "little|big",
     "raw: byte order (default little)"},
    {"header-bytes", 0, OPT_I64, &cli_dataset.header_bytes, "N",
     "raw: bytes before the first frame (default 0)"},
    {"frame-header-bytes", 0, OPT_I64, &cli_dataset.frame_header_bytes, "N",
     "raw: bytes before each frame (default 0)"},
    {"frame-footer-bytes", 0, OPT_I64, &cli_dataset.frame_footer_bytes, "N",
     "raw: bytes after each frame (default 0)"},
    {0}};

int cli_dataset_open_options(lcae_open_options *out)
{
    lcae_open_options o = {0};
    const cli_dataset_args *a = &cli_dataset;
    if (a->format) {
        o.format = lcae_format_from_name(a->format);
        if (!o.format)
            return cli_error(LCAE_EUSAGE, "option --format: expected empad, raw, npy, mib or "
                             "hdf5, found '%s'", a->format);
    }
    if (a->dtype) {
        o.dtype = lcae_dtype_from_name(a->dtype);
        if (!o.dtype)
            return cli_error(LCAE_EUSAGE, "option --dtype: expected u1 u2 u4 i2 i4 f4 f8, "
                             "found '%s'", a->dtype);
    }
    if (a->byte_order) {
        if (strcmp(a->byte_order, "little") && strcmp(a->byte_order, "big"))
            return cli_error(LCAE_EUSAGE, "option --byte-order: expected little or big, "
                             "found '%s'", a->byte_order);
        o.big_endian = !strcmp(a->byte_order, "big");
    }
    o.scan_ny = a->scan[0];
    o.scan_nx = a->scan[1];
    o.det_h = a->det[0];
    o.det_w = a->det[1];
    o.header_bytes = a->header_bytes;
    o.frame_header_bytes = a->frame_header_bytes;
    o.frame_footer_bytes = a->frame_footer_bytes;
    *out = o;
    return 0;
}

int cli_open_dataset(const char *path, lcae_dataset **ds)
{
    lcae_open_options o;
    int rc = cli_dataset_open_options(&o);
    if (rc)
        return rc;
    rc = lcae_dataset_open(path, &o, ds);
    return rc ? cli_fail(rc) : 0;
}
