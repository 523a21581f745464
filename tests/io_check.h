/* Checks shared by the reader tests (after test_util.h). */
#ifndef LCAE_TEST_IO_CHECK_H
#define LCAE_TEST_IO_CHECK_H

#include "lcae/io.h"

/* Opening fails with a one-line message that contains `what`. */
static inline void check_error(const char *spec, const lcae_open_options *o, const char *what)
{
    lcae_dataset *ds = NULL;
    int rc = lcae_dataset_open(spec, o, &ds);
    const char *msg = lcae_last_error();
    CHECK_MSG(rc != 0 && strstr(msg, what) && !strchr(msg, '\n'),
              "%s: rc %d, message '%s' (expected '%s')", spec, rc, msg, what);
    lcae_dataset_close(ds);
}

/* Opens spec, checking that it opens (else the message) and its shape, dtype and, when
 * fmt >= 0, format; the dataset, or NULL if it did not open. */
static inline lcae_dataset *open_checked(const char *spec, const lcae_open_options *o,
                                         int fmt, int64_t ny, int64_t nx, int64_t h,
                                         int64_t w, lcae_dtype t)
{
    lcae_dataset *ds = NULL;
    int rc = lcae_dataset_open(spec, o, &ds);
    CHECK_MSG(rc == 0, "%s: %s", spec, lcae_last_error());
    if (rc)
        return NULL;
    const lcae_dataset_info *in = lcae_dataset_get_info(ds);
    CHECK_MSG((fmt < 0 || in->format == (lcae_format)fmt) && in->ny == ny && in->nx == nx &&
                  in->h == h && in->w == w && in->dtype == t,
              "%s: got %s %lldx%lld %lldx%lld %s", spec, lcae_format_name(in->format),
              (long long)in->ny, (long long)in->nx, (long long)in->h, (long long)in->w,
              lcae_dtype_name(in->dtype));
    return ds;
}

#endif
