/* libFuzzer: the Merlin .hdr parser on arbitrary bytes. */
#include <stddef.h>
#include <stdint.h>

#include "io/dataset_internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    io_mib_hdr h;
    io_mib_parse_hdr("fuzz.hdr", (const char *)data, size, &h);
    return 0;
}
