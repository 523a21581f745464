/* libFuzzer: an .npy file opened as a scan (4-D, or 3-D as one scan row) and read whole
 * through the raw reader. */
#include "fuzz_io_util.h"
#include "fuzz_util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *path = fuzz_write_input(data, size, ".npy");
    lcae_open_options o = {.format = LCAE_FMT_NPY};
    lcae_npy_header h;
    if (lcae_npy_read_header(path, &h) == 0 && h.ndim == 3) {
        o.scan_ny = 1;
        o.scan_nx = h.shape[0];
    }
    lcae_dataset *ds;
    if (lcae_dataset_open(path, &o, &ds) == 0) {
        fuzz_read_all(ds);
        lcae_dataset_close(ds);
    }
    return 0;
}
