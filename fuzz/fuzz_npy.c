/* libFuzzer: the .npy header parser and loader on arbitrary bytes. */
#include <stdlib.h>

#include "fuzz_util.h"
#include "lcae/io.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *path = fuzz_write_input(data, size, ".npy");
    lcae_npy_header h;
    float *x = NULL;
    if (lcae_npy_load_f32(path, &h, &x) == 0)
        free(x);
    return 0;
}
