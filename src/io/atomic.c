/* Atomic output: temporary file beside the destination, checked writes, rename. */
#include "lcae/io.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static void atomic_free(lcae_atomic_file *af)
{
    free(af->path);
    free(af->tmp_path);
    memset(af, 0, sizeof *af);
}

int lcae_atomic_open(lcae_atomic_file *af, const char *path)
{
    memset(af, 0, sizeof *af);
    size_t n = strlen(path);
    af->path = lcae_malloc(n + 1);
    af->tmp_path = lcae_malloc(n + 32);
    if (!af->path || !af->tmp_path) {
        atomic_free(af);
        return LCAE_ENOMEM;
    }
    memcpy(af->path, path, n + 1);
    /* same folder as the destination, so that rename() is atomic (one filesystem) */
    const char *slash = strrchr(path, '/');
    size_t dirlen = slash ? (size_t)(slash - path + 1) : 0;
    snprintf(af->tmp_path, n + 32, "%.*s.%s.tmp.XXXXXX", (int)dirlen, path,
             path + dirlen);
    int fd = mkstemp(af->tmp_path);
    if (fd >= 0) {
        /* mkstemp creates 0600; outputs get the usual 0666 less the umask (reading the
         * umask means setting it: outputs are opened from one thread, never concurrently) */
        mode_t mask = umask(0);
        umask(mask);
        if (fchmod(fd, 0666 & ~mask) == 0)
            af->fp = fdopen(fd, "wb");
    }
    if (!af->fp) {
        int e = errno;
        if (fd >= 0) {
            close(fd);
            unlink(af->tmp_path);
        }
        atomic_free(af);
        return lcae_fail(LCAE_EFAIL, "%s: cannot create output (%s)", path, strerror(e));
    }
    return LCAE_OK;
}

void lcae_atomic_abort(lcae_atomic_file *af)
{
    if (!af->tmp_path)
        return;
    if (af->fp)
        fclose(af->fp);
    unlink(af->tmp_path);
    atomic_free(af);
}

int lcae_atomic_commit(lcae_atomic_file *af)
{
    /* ferror catches any failed fwrite since open; fflush/fclose catch a full disk */
    int bad = ferror(af->fp) || fflush(af->fp) != 0;
    int e = errno;
    if (fclose(af->fp) != 0 && !bad) {
        bad = 1;
        e = errno;
    }
    af->fp = NULL;
    if (bad) {
        int rc = lcae_fail(LCAE_EFAIL, "%s: write failed (%s)", af->path, strerror(e));
        unlink(af->tmp_path);
        atomic_free(af);
        return rc;
    }
    if (rename(af->tmp_path, af->path) != 0) {
        e = errno;
        int rc = lcae_fail(LCAE_EFAIL, "%s: cannot replace output (%s)", af->path,
                           strerror(e));
        unlink(af->tmp_path);
        atomic_free(af);
        return rc;
    }
    atomic_free(af);
    return LCAE_OK;
}

int lcae_write_file_atomic(const char *path, const void *data, size_t bytes)
{
    lcae_atomic_file af;
    int rc = lcae_atomic_open(&af, path);
    if (rc)
        return rc;
    if (bytes && fwrite(data, 1, bytes, af.fp) != bytes) {
        int e = errno;
        lcae_atomic_abort(&af);
        return lcae_fail(LCAE_EFAIL, "%s: write failed (%s)", path, strerror(e));
    }
    return lcae_atomic_commit(&af);
}
