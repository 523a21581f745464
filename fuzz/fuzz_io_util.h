/* Shared by the dataset fuzzers: reads every pattern of an opened dataset in small
 * batches (memory stays bounded whatever the file claims). */
#ifndef LCAE_FUZZ_IO_UTIL_H
#define LCAE_FUZZ_IO_UTIL_H

#include <stdlib.h>

#include "lcae/io.h"

static void fuzz_read_all(lcae_dataset *ds)
{
    const lcae_dataset_info *in = lcae_dataset_get_info(ds);
    int64_t px = in->h * in->w;
    int64_t per = px > 0 && px < (1 << 20) ? (1 << 20) / px : 1;
    float *buf = malloc(sizeof(float) * (size_t)(per * px));
    if (!buf)
        return;
    for (int64_t i = 0; i < in->count; i += per) {
        int64_t n = in->count - i < per ? in->count - i : per;
        if (lcae_dataset_read(ds, i, n, buf))
            break;
    }
    free(buf);
}

#endif
