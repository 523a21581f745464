/* libFuzzer: a .mib file (frame headers, sizes, pixel data) opened and read whole. */
#include "fuzz_io_util.h"
#include "fuzz_util.h"
#include "io/dataset_internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    io_mib_frame f;
    io_mib_parse_frame_header("fuzz.mib", (const char *)data, size, &f);
    const char *path = fuzz_write_input(data, size, ".mib");
    lcae_open_options o = {.format = LCAE_FMT_MIB};
    lcae_dataset *ds;
    if (lcae_dataset_open(path, &o, &ds) == 0) {
        fuzz_read_all(ds);
        lcae_dataset_close(ds);
    }
    return 0;
}
