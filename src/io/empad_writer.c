/* EMPAD writer: h x w float32 frames plus 2 zero metadata rows, streamed, atomic. */
#include "lcae/io.h"

#include <stdlib.h>

struct lcae_empad_writer {
    lcae_atomic_file af;
    int64_t h, w;
    float *meta; /* 2 rows of zeros */
};

int lcae_empad_writer_open_in(lcae_empad_writer **out, lcae_output_set *set, const char *path,
                              int64_t h, int64_t w)
{
    *out = NULL;
    lcae_empad_writer *wr = lcae_calloc(1, sizeof *wr);
    if (!wr)
        return LCAE_ENOMEM;
    wr->h = h;
    wr->w = w;
    wr->meta = lcae_calloc((size_t)(2 * w), sizeof(float));
    if (!wr->meta) {
        free(wr);
        return LCAE_ENOMEM;
    }
    int rc = lcae_atomic_open_in(&wr->af, set, path);
    if (rc) {
        free(wr->meta);
        free(wr);
        return rc;
    }
    *out = wr;
    return LCAE_OK;
}

int lcae_empad_writer_open(lcae_empad_writer **out, const char *path, int64_t h, int64_t w)
{
    return lcae_empad_writer_open_in(out, NULL, path, h, w);
}

int lcae_empad_writer_write(lcae_empad_writer *wr, const float *frames, int64_t n)
{
    size_t px = (size_t)(wr->h * wr->w);
    for (int64_t i = 0; i < n; i++) {
        fwrite(frames + (size_t)i * px, sizeof(float), px, wr->af.fp);
        fwrite(wr->meta, sizeof(float), (size_t)(2 * wr->w), wr->af.fp);
    }
    /* errors are sticky in the FILE: reported by ferror() at close */
    return ferror(wr->af.fp) ? lcae_fail(LCAE_EFAIL, "%s: write failed", wr->af.path) : LCAE_OK;
}

int lcae_empad_writer_close(lcae_empad_writer *wr, int commit)
{
    if (!wr)
        return LCAE_OK;
    int rc = LCAE_OK;
    if (commit)
        rc = lcae_atomic_commit(&wr->af);
    else
        lcae_atomic_abort(&wr->af);
    free(wr->meta);
    free(wr);
    return rc;
}
