/* Atomic output: a temporary file beside the destination, checked writes, fsync, rename;
 * and output sets, whose members are all renamed only once every one is written. */
#include "lcae/io.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* One written member of a set: its temporary file, closed and synced. */
typedef struct {
    char *path, *tmp_path;
    int existed; /* the destination existed when the set was committed */
} set_member;

struct lcae_output_set {
    set_member *m;
    int n, cap;
};

static void atomic_free(lcae_atomic_file *af)
{
    free(af->path);
    free(af->tmp_path);
    memset(af, 0, sizeof *af);
}

int lcae_atomic_open_in(lcae_atomic_file *af, lcae_output_set *set, const char *path)
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
    af->set = set;
    return LCAE_OK;
}

int lcae_atomic_open(lcae_atomic_file *af, const char *path)
{
    return lcae_atomic_open_in(af, NULL, path);
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

/* fsync, except where the file system cannot sync this kind of file (EINVAL), where
 * nothing better can be done. */
static int sync_fd(int fd)
{
    return fsync(fd) == 0 || errno == EINVAL ? 0 : -1;
}

/* Syncs the folder holding `path`, so that a rename into it survives a power cut. */
static int sync_folder(const char *path)
{
    const char *slash = strrchr(path, '/');
    char *dir = slash ? strndup(path, slash == path ? 1 : (size_t)(slash - path)) : NULL;
    if (slash && !dir)
        return lcae_fail(LCAE_ENOMEM, "out of memory");
    int fd = open(dir ? dir : ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    int ok = fd >= 0 && sync_fd(fd) == 0;
    int e = errno;
    if (fd >= 0)
        close(fd);
    int rc = ok ? LCAE_OK
                : lcae_fail(LCAE_EFAIL, "%s: written, but its folder could not be synced (%s): "
                            "it may not survive a power cut", path, strerror(e));
    free(dir);
    return rc;
}

/* The folder part of `path` ("" for none), compared to decide which folders to sync. */
static size_t folder_len(const char *path)
{
    const char *slash = strrchr(path, '/');
    return slash ? (size_t)(slash - path) + 1 : 0;
}

/* Checks every write made through af->fp, flushes the file to the disk and closes it;
 * on failure removes the temporary file (af freed either way but for its paths). */
static int finish_temporary(lcae_atomic_file *af)
{
    /* ferror catches any failed fwrite since open; fflush/fsync/fclose catch a full
     * disk; the fsync before the rename is what keeps a power cut from leaving an
     * empty or partial file under the final name (the rename may reach the disk first) */
    int bad = ferror(af->fp) || fflush(af->fp) != 0 || sync_fd(fileno(af->fp)) != 0;
    int e = errno;
    if (fclose(af->fp) != 0 && !bad) {
        bad = 1;
        e = errno;
    }
    af->fp = NULL;
    if (!bad)
        return LCAE_OK;
    int rc = lcae_fail(LCAE_EFAIL, "%s: write failed (%s)", af->path, strerror(e));
    unlink(af->tmp_path);
    atomic_free(af);
    return rc;
}

int lcae_atomic_commit(lcae_atomic_file *af)
{
    int rc = finish_temporary(af);
    if (rc)
        return rc;
    lcae_output_set *set = af->set;
    if (set) { /* the set renames it with the others */
        if (set->n == set->cap) {
            int cap = set->cap ? 2 * set->cap : 8;
            set_member *m = realloc(set->m, (size_t)cap * sizeof *m);
            if (!m) {
                unlink(af->tmp_path);
                atomic_free(af);
                return lcae_fail(LCAE_ENOMEM, "out of memory");
            }
            set->m = m;
            set->cap = cap;
        }
        set->m[set->n++] = (set_member){.path = af->path, .tmp_path = af->tmp_path};
        memset(af, 0, sizeof *af);
        return LCAE_OK;
    }
    if (rename(af->tmp_path, af->path) != 0) {
        int e = errno;
        rc = lcae_fail(LCAE_EFAIL, "%s: cannot replace output (%s)", af->path, strerror(e));
        unlink(af->tmp_path);
        atomic_free(af);
        return rc;
    }
    rc = sync_folder(af->path);
    atomic_free(af);
    return rc;
}

int lcae_write_file_in(lcae_output_set *set, const char *path, const void *data,
                       size_t bytes)
{
    lcae_atomic_file af;
    int rc = lcae_atomic_open_in(&af, set, path);
    if (rc)
        return rc;
    if (bytes && fwrite(data, 1, bytes, af.fp) != bytes) {
        int e = errno;
        lcae_atomic_abort(&af);
        return lcae_fail(LCAE_EFAIL, "%s: write failed (%s)", path, strerror(e));
    }
    return lcae_atomic_commit(&af);
}

int lcae_write_file_atomic(const char *path, const void *data, size_t bytes)
{
    return lcae_write_file_in(NULL, path, data, bytes);
}

/* ---- output sets ----------------------------------------------------------------- */

int lcae_output_set_new(lcae_output_set **out)
{
    *out = lcae_calloc(1, sizeof **out);
    return *out ? LCAE_OK : LCAE_ENOMEM;
}

/* Removes the temporaries of members first..n-1 and frees the set. */
static void set_free(lcae_output_set *set, int first)
{
    for (int i = 0; i < set->n; i++) {
        if (i >= first)
            unlink(set->m[i].tmp_path);
        free(set->m[i].path);
        free(set->m[i].tmp_path);
    }
    free(set->m);
    free(set);
}

/* The test hook LCAE_TEST_FAIL_RENAME=K: the K-th rename of every set (1-based) fails
 * as an I/O error would, so that the tests can reach the one failure that cannot be
 * checked for beforehand. 0 (unset): none. */
static int rename_to_fail(void)
{
    const char *v = getenv("LCAE_TEST_FAIL_RENAME");
    return v ? atoi(v) : 0;
}

/* A rename failed midway: undoes what can be undone (outputs that did not exist before
 * are removed again) and says what could not (older files already replaced). */
static int fail_midway(lcae_output_set *set, int failed, int e)
{
    int replaced = 0, first = -1;
    for (int i = 0; i < failed; i++) {
        if (!set->m[i].existed) {
            unlink(set->m[i].path);
        } else {
            replaced++;
            first = first < 0 ? i : first;
        }
    }
    int rc = replaced
                 ? lcae_fail(LCAE_EFAIL, "%s: cannot replace output (%s); %d older output%s of "
                             "the set already replaced by the new one%s (%s%s), the others "
                             "left as they were", set->m[failed].path, strerror(e), replaced,
                             replaced > 1 ? "s" : "", replaced > 1 ? "s" : "",
                             set->m[first].path, replaced > 1 ? ", ..." : "")
                 : lcae_fail(LCAE_EFAIL, "%s: cannot replace output (%s); no output of the "
                             "set written", set->m[failed].path, strerror(e));
    set_free(set, failed);
    return rc;
}

static int set_commit(lcae_output_set *set)
{
    /* a folder in a destination's place would fail its rename after others had been
     * renamed: checked before any */
    for (int i = 0; i < set->n; i++) {
        struct stat sb;
        set->m[i].existed = lstat(set->m[i].path, &sb) == 0;
        if (set->m[i].existed && S_ISDIR(sb.st_mode)) {
            int rc = lcae_fail(LCAE_EFAIL, "%s: cannot replace output (a folder is in its "
                               "place); no output of the set written", set->m[i].path);
            set_free(set, 0);
            return rc;
        }
    }
    int fail = rename_to_fail();
    for (int i = 0; i < set->n; i++) {
        if (i + 1 == fail || rename(set->m[i].tmp_path, set->m[i].path) != 0)
            return fail_midway(set, i, i + 1 == fail ? EIO : errno);
    }
    int rc = LCAE_OK;
    for (int i = 0; i < set->n && !rc; i++) { /* each folder once */
        size_t len = folder_len(set->m[i].path);
        int seen = 0;
        for (int j = 0; j < i && !seen; j++)
            seen = folder_len(set->m[j].path) == len &&
                   !strncmp(set->m[j].path, set->m[i].path, len);
        if (!seen)
            rc = sync_folder(set->m[i].path);
    }
    set_free(set, set->n);
    return rc;
}

int lcae_output_set_close(lcae_output_set *set, int commit)
{
    if (!set)
        return LCAE_OK;
    if (commit)
        return set_commit(set);
    set_free(set, 0);
    return LCAE_OK;
}
