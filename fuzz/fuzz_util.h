/* Fuzz harness helper: lcae's readers take paths, so each input is written to a file in
 * /dev/shm (memory) first. */
#ifndef LCAE_FUZZ_UTIL_H
#define LCAE_FUZZ_UTIL_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

/* Writes data to a per-process file named with `suffix` and returns its path. */
static const char *fuzz_write_input(const uint8_t *data, size_t size, const char *suffix)
{
    static char path[256];
    snprintf(path, sizeof path, "/dev/shm/lcae-fuzz-%d%s", (int)getpid(), suffix);
    FILE *fp = fopen(path, "wb");
    if (!fp)
        abort();
    if (size && fwrite(data, 1, size, fp) != size)
        abort();
    fclose(fp);
    return path;
}

#endif
