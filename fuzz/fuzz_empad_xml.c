/* libFuzzer: the XML reader and the EMPAD metadata it extracts, on arbitrary bytes. */
#include <stddef.h>
#include <stdint.h>

#include "io/dataset_internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    lcae_empad_meta m;
    io_empad_xml_parse("fuzz.xml", (const char *)data, size, &m);
    return 0;
}
