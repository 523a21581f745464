/* The monotonic clock, for stage and epoch timings. */
#include <time.h>

#include "core/util.h"

double core_now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}
