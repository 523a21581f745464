/* A check shared by the reader tests (after test_util.h): opening fails with a one-line
 * message that contains `what`. */
#ifndef LCAE_TEST_IO_CHECK_H
#define LCAE_TEST_IO_CHECK_H

#include "lcae/io.h"

static inline void check_error(const char *spec, const lcae_open_options *o, const char *what)
{
    lcae_dataset *ds = NULL;
    int rc = lcae_dataset_open(spec, o, &ds);
    const char *msg = lcae_last_error();
    CHECK_MSG(rc != 0 && strstr(msg, what) && !strchr(msg, '\n'),
              "%s: rc %d, message '%s' (expected '%s')", spec, rc, msg, what);
    lcae_dataset_close(ds);
}

#endif
