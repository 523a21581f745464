/* .npy scans: a 4-D (ny, nx, h, w) array, or 3-D (n, h, w) with the scan shape given.
 * C order only; read in place through the raw reader at the header's data offset. */
#include "dataset_internal.h"

/* The dtypes a detector writes; 64-bit integers and int8 are refused (no detector
 * stores them and float32 cannot hold 64-bit counts exactly). */
static int npy_scan_dtype(lcae_dtype t)
{
    return t == LCAE_DT_U8 || t == LCAE_DT_U16 || t == LCAE_DT_U32 || t == LCAE_DT_I16 ||
           t == LCAE_DT_I32 || t == LCAE_DT_F32 || t == LCAE_DT_F64;
}

int io_open_npy(lcae_dataset *ds, const lcae_open_options *opt)
{
    lcae_npy_header h;
    int rc = lcae_npy_read_header(ds->path, &h);
    if (rc)
        return rc;
    if (!npy_scan_dtype(h.dtype))
        return lcae_fail(LCAE_EFAIL, "%s: unsupported dtype for a scan (expected one of u1 u2 "
                         "u4 i2 i4 f4 f8, found %s)", ds->path, lcae_dtype_name(h.dtype));
    if (h.fortran_order)
        return lcae_fail(LCAE_EFAIL, "%s: Fortran-order array (expected C order; save it with "
                         "np.save(path, np.ascontiguousarray(a)))", ds->path);
    if (h.ndim == 4) {
        ds->info.ny = h.shape[0];
        ds->info.nx = h.shape[1];
        ds->info.h = h.shape[2];
        ds->info.w = h.shape[3];
        if (opt->scan_ny && (opt->scan_ny != h.shape[0] || opt->scan_nx != h.shape[1]))
            return lcae_fail(LCAE_EUSAGE, "%s: --scan %lldx%lld does not match the array's "
                             "scan shape (%lld x %lld)", ds->path, (long long)opt->scan_ny,
                             (long long)opt->scan_nx, (long long)h.shape[0],
                             (long long)h.shape[1]);
    } else if (h.ndim == 3) {
        if (!opt->scan_ny || !opt->scan_nx)
            return lcae_fail(LCAE_EUSAGE, "%s: 3-D array of %lld patterns: the scan shape is "
                             "unknown (give --scan NYxNX)", ds->path, (long long)h.shape[0]);
        if (opt->scan_ny * opt->scan_nx != h.shape[0])
            return lcae_fail(LCAE_EUSAGE, "%s: --scan %lldx%lld does not fit the array "
                             "(expected %lld patterns, found %lld)", ds->path,
                             (long long)opt->scan_ny, (long long)opt->scan_nx,
                             (long long)(opt->scan_ny * opt->scan_nx), (long long)h.shape[0]);
        ds->info.ny = opt->scan_ny;
        ds->info.nx = opt->scan_nx;
        ds->info.h = h.shape[1];
        ds->info.w = h.shape[2];
    } else {
        return lcae_fail(LCAE_EFAIL, "%s: expected a 4-D (ny, nx, h, w) or 3-D (n, h, w) array, "
                         "found %d dimensions", ds->path, h.ndim);
    }
    lcae_raw_layout L = {0};
    L.dtype = h.dtype;
    L.swap = h.big_endian; /* lcae runs on little-endian machines only */
    L.data_offset = h.data_offset;
    L.frame_stride = ds->info.h * ds->info.w * (int64_t)lcae_dtype_size(h.dtype);
    return io_raw_attach(ds, &L);
}
