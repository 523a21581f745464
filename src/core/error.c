/* Status messages (thread-local) and checked allocation. */
#include "lcae/core.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

static _Thread_local char last_error[1024];

const char *lcae_version(void) { return LCAE_VERSION; }

const char *lcae_last_error(void) { return last_error; }

int lcae_fail(int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(last_error, sizeof last_error, fmt, ap);
    va_end(ap);
    return code;
}

void *lcae_malloc(size_t bytes)
{
    void *p = malloc(bytes ? bytes : 1);
    if (!p)
        lcae_fail(LCAE_ENOMEM, "out of memory (asked for %zu bytes)", bytes);
    return p;
}

void *lcae_calloc(size_t count, size_t size)
{
    void *p = calloc(count ? count : 1, size ? size : 1);
    if (!p)
        lcae_fail(LCAE_ENOMEM, "out of memory (asked for %zu x %zu bytes)", count, size);
    return p;
}
