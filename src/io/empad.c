/* EMPAD .raw: little-endian float32 frames of 128 columns x 130 rows, the last 2 rows
 * per-frame metadata (dropped). A preset of the raw reader. */
#include "dataset_internal.h"

#define EMPAD_W 128
#define EMPAD_H 128
#define EMPAD_META_ROWS 2

int lcae_open_empad(lcae_dataset *ds, const lcae_open_options *opt)
{
    lcae_open_options o = *opt;
    o.det_h = EMPAD_H;
    o.det_w = EMPAD_W;
    o.dtype = LCAE_DT_F32;
    o.big_endian = 0;
    o.header_bytes = 0;
    o.frame_header_bytes = 0;
    o.frame_footer_bytes = EMPAD_META_ROWS * EMPAD_W * 4;
    if (!o.scan_ny || !o.scan_nx) {
        if (!lcae_scan_shape_from_name(ds->path, &o.scan_ny, &o.scan_nx))
            return lcae_fail(LCAE_EUSAGE, "%s: EMPAD scan shape unknown (no companion .xml "
                             "and no _xNX_yNY in the name; give --scan NYxNX)", ds->path);
    }
    return lcae_open_raw(ds, &o);
}
