/* Raw binary frames at a fixed stride (raw, EMPAD, and any format that is raw after a
 * header), read with pread: no mapping, so a truncated or shrinking file gives an
 * error instead of SIGBUS, and memory stays at one batch. */
#include "dataset_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int raw_read(lcae_dataset *ds, int64_t first, int64_t count, float *out)
{
    const lcae_raw_layout *L = ds->state;
    int64_t px = ds->info.h * ds->info.w;
    int64_t frame_bytes = px * (int64_t)lcae_dtype_size(L->dtype);
    /* one pread per group of frames; groups bounded to ~8 MiB of file bytes */
    int64_t per = L->frame_stride > 0 ? (8 << 20) / L->frame_stride : 1;
    if (per < 1)
        per = 1;
    if (per > count)
        per = count;
    int64_t span = (per - 1) * L->frame_stride + frame_bytes;
    unsigned char *buf = lcae_malloc((size_t)span);
    if (!buf)
        return LCAE_ENOMEM;
    for (int64_t done = 0; done < count; done += per) {
        int64_t n = count - done < per ? count - done : per;
        int64_t want = (n - 1) * L->frame_stride + frame_bytes;
        int64_t off = L->data_offset + (first + done) * L->frame_stride;
        int64_t got = 0;
        while (got < want) {
            ssize_t r = pread(L->fd, buf + got, (size_t)(want - got), off + got);
            if (r < 0 && errno == EINTR)
                continue;
            if (r <= 0) {
                int e = errno;
                free(buf);
                return r < 0 ? lcae_fail(LCAE_EFAIL, "%s: read failed (%s)", ds->path,
                                         strerror(e))
                             : lcae_fail(LCAE_EFAIL, "%s: truncated (pattern %lld is past the "
                                         "end of the file)", ds->path,
                                         (long long)(first + done));
            }
            got += r;
        }
        for (int64_t i = 0; i < n; i++)
            lcae_convert_to_f32(buf + i * L->frame_stride, L->dtype, L->swap, (size_t)px,
                                out + (done + i) * px);
    }
    free(buf);
    return LCAE_OK;
}

static void raw_close(lcae_dataset *ds)
{
    lcae_raw_layout *L = ds->state;
    if (L) {
        close(L->fd);
        free(L);
    }
}

static const lcae_reader_ops raw_ops = {raw_read, raw_close};

int io_raw_attach(lcae_dataset *ds, const lcae_raw_layout *layout)
{
    int rc = io_check_shape(ds->path, &ds->info);
    if (rc)
        return rc;
    int64_t frame_bytes = ds->info.h * ds->info.w * (int64_t)lcae_dtype_size(layout->dtype);
    /* options can ask for absurd strides: a need beyond int64 is simply "too short" */
    int64_t room = INT64_MAX - layout->data_offset - frame_bytes;
    int64_t need = layout->frame_stride > 0 && ds->info.count - 1 > room / layout->frame_stride
                       ? INT64_MAX
                       : layout->data_offset + (ds->info.count - 1) * layout->frame_stride +
                             frame_bytes;
    if (ds->info.file_bytes < need)
        return lcae_fail(LCAE_EFAIL, "%s: file is too short for the shape (expected at least "
                         "%lld bytes for %lld x %lld patterns of %lld x %lld %s, found %lld)",
                         ds->path, (long long)need, (long long)ds->info.ny,
                         (long long)ds->info.nx, (long long)ds->info.h, (long long)ds->info.w,
                         lcae_dtype_name(layout->dtype), (long long)ds->info.file_bytes);
    lcae_raw_layout *L = lcae_malloc(sizeof *L);
    if (!L)
        return LCAE_ENOMEM;
    *L = *layout;
    L->fd = open(ds->path, O_RDONLY);
    if (L->fd < 0) {
        int e = errno;
        free(L);
        return lcae_fail(LCAE_EFAIL, "%s: cannot open (%s)", ds->path, strerror(e));
    }
    ds->info.dtype = layout->dtype;
    ds->state = L;
    ds->ops = &raw_ops;
    return LCAE_OK;
}

int io_open_raw(lcae_dataset *ds, const lcae_open_options *opt)
{
    if (!opt->det_h || !opt->det_w || !opt->dtype)
        return lcae_fail(LCAE_EUSAGE, "%s: raw format needs --det HxW and --dtype", ds->path);
    /* bounds first: the size arithmetic below must not overflow */
    if (opt->header_bytes < 0 || opt->frame_header_bytes < 0 || opt->frame_footer_bytes < 0 ||
        opt->header_bytes > (INT64_C(1) << 40) || opt->frame_header_bytes > (1 << 30) ||
        opt->frame_footer_bytes > (1 << 30) ||
        opt->det_h <= 0 || opt->det_w <= 0 || opt->det_h > (1 << 16) || opt->det_w > (1 << 16))
        return lcae_fail(LCAE_EUSAGE, "%s: raw layout options are out of range (expected "
                         "detector sides 1..65536, header 0..2^40 and per-frame header/footer "
                         "0..2^30 bytes)", ds->path);
    ds->info.h = opt->det_h;
    ds->info.w = opt->det_w;
    lcae_raw_layout L = {0};
    L.dtype = opt->dtype;
    L.swap = opt->big_endian && lcae_dtype_size(opt->dtype) > 1;
    L.data_offset = opt->header_bytes + opt->frame_header_bytes;
    L.frame_stride = opt->frame_header_bytes + opt->frame_footer_bytes +
                     opt->det_h * opt->det_w * (int64_t)lcae_dtype_size(opt->dtype);
    ds->info.ny = opt->scan_ny;
    ds->info.nx = opt->scan_nx;
    if ((!ds->info.ny || !ds->info.nx) &&
        !io_scan_shape_from_name(ds->path, &ds->info.ny, &ds->info.nx))
        return lcae_fail(LCAE_EUSAGE, "%s: scan shape unknown (give --scan NYxNX)", ds->path);
    return io_raw_attach(ds, &L);
}
