/* Atomic files and all-or-nothing output sets (src/io/atomic.c): a set's members appear
 * together or not at all, a failed set leaves no temporary file, older outputs stay as
 * they were, and a rename failing midway (the test hook LCAE_TEST_FAIL_RENAME) removes
 * again the outputs that were new and names those it could not restore. Failures are
 * made without permissions (the tests may run as root): a folder in a destination's
 * place, a destination under a regular file, a missing folder. */
#include <sys/stat.h>

#include "lcae/io.h"
#include "test_util.h"

static char dir[600], names[4096];

/* A fresh empty folder for one case. */
static const char *fresh(const char *name)
{
    snprintf(dir, sizeof dir, "%s/%s", test_tmpdir(), name);
    CHECK(mkdir(dir, 0777) == 0);
    return dir;
}

static const char *in_dir(const char *name)
{
    static char p[8][700];
    static int k;
    k = (k + 1) % 8;
    snprintf(p[k], sizeof p[k], "%s/%s", dir, name);
    return p[k];
}

static void put(const char *name, const char *text)
{
    CHECK(lcae_write_file_atomic(in_dir(name), text, strlen(text)) == LCAE_OK);
}

static int holds(const char *name, const char *text)
{
    char *got;
    size_t n;
    if (lcae_read_text_file(in_dir(name), 1 << 20, &got, &n))
        return 0;
    int same = n == strlen(text) && !memcmp(got, text, n);
    free(got);
    return same;
}

static const char *listing(void) { return test_dir_names(dir, names, sizeof names); }

#define CHECK_FILES(want) CHECK_MSG(!strcmp(listing(), want), "%s holds [%s], expected [%s]", \
                                    dir, names, want)

/* Three members a, b, c written as a set; `fail_at` 0..3 makes member k's creation fail
 * (its destination under a regular file: ENOTDIR). Returns the status of the whole. */
static int write_set(const char *tag, int fail_at)
{
    lcae_output_set *set;
    int rc = lcae_output_set_new(&set);
    const char *member[3] = {"a", "b", "c"};
    for (int k = 0; k < 3 && !rc; k++) {
        char text[64];
        snprintf(text, sizeof text, "%s %s", tag, member[k]);
        const char *path = k + 1 == fail_at ? in_dir("plain/x") : in_dir(member[k]);
        rc = lcae_write_file_in(set, path, text, strlen(text));
    }
    int closed = lcae_output_set_close(set, !rc);
    return rc ? rc : closed;
}

static void check_sets(void)
{
    /* all written: every member under its name, no temporary file */
    fresh("whole");
    CHECK(write_set("new", 0) == LCAE_OK);
    CHECK_FILES("a b c");
    CHECK(holds("a", "new a") && holds("b", "new b") && holds("c", "new c"));

    /* a member that cannot be created: none of the set appears */
    fresh("create");
    put("plain", "a regular file");
    CHECK(write_set("new", 3) == LCAE_EFAIL);
    CHECK(strstr(lcae_last_error(), "plain/x: cannot create output") != NULL);
    CHECK_FILES("plain");
    /* ... and older outputs are kept, the first two members' too */
    put("a", "old a");
    put("b", "old b");
    CHECK(write_set("new", 3) == LCAE_EFAIL);
    CHECK_FILES("a b plain");
    CHECK(holds("a", "old a") && holds("b", "old b"));

    /* a folder in a member's place is found before any rename */
    fresh("folder");
    put("a", "old a");
    CHECK(mkdir(in_dir("b"), 0777) == 0);
    CHECK(write_set("new", 0) == LCAE_EFAIL);
    CHECK_MSG(strstr(lcae_last_error(), "/b: cannot replace output (a folder is in its "
                     "place); no output of the set written"), "%s", lcae_last_error());
    CHECK_FILES("a b");
    CHECK(holds("a", "old a"));

    /* a rename failing midway, into a fresh folder: the new outputs are removed again */
    fresh("midway");
    setenv("LCAE_TEST_FAIL_RENAME", "3", 1);
    CHECK(write_set("new", 0) == LCAE_EFAIL);
    CHECK_MSG(strstr(lcae_last_error(), "/c: cannot replace output (Input/output error); no "
                     "output of the set written"), "%s", lcae_last_error());
    CHECK_FILES("");
    /* ... over older outputs: the one already replaced is named, the rest are as before */
    put("a", "old a");
    put("c", "old c");
    CHECK(write_set("new", 0) == LCAE_EFAIL);
    CHECK_MSG(strstr(lcae_last_error(), "; 1 older output of the set already replaced by "
                     "the new one ("), "%s", lcae_last_error());
    CHECK(strstr(lcae_last_error(), "/a), the others left as they were") != NULL);
    CHECK_FILES("a c");
    CHECK(holds("a", "new a") && holds("c", "old c"));
    unsetenv("LCAE_TEST_FAIL_RENAME");

    /* closing without commit (the caller failed elsewhere) removes every member */
    fresh("abort");
    lcae_output_set *set;
    CHECK(lcae_output_set_new(&set) == LCAE_OK);
    int64_t shape[1] = {3};
    const int32_t v[3] = {1, 2, 3};
    CHECK(lcae_npy_write_in(set, in_dir("v.npy"), LCAE_DT_I32, 1, shape, v) == LCAE_OK);
    lcae_atomic_file af;
    CHECK(lcae_atomic_open_in(&af, set, in_dir("w.txt")) == LCAE_OK);
    fputs("w", af.fp);
    CHECK(lcae_atomic_commit(&af) == LCAE_OK);
    CHECK(lcae_atomic_open_in(&af, set, in_dir("x.txt")) == LCAE_OK);
    lcae_atomic_abort(&af); /* a member given up on its own */
    CHECK(strstr(listing(), ".v.npy.tmp.") && strstr(names, ".w.txt.tmp.") &&
          !strstr(names, "x.txt")); /* written, not yet renamed */
    CHECK(lcae_output_set_close(set, 0) == LCAE_OK);
    CHECK_FILES("");
    CHECK(lcae_output_set_close(NULL, 1) == LCAE_OK);
}

/* A single atomic file: replaced whole, and a failed one leaves the old file. */
static void check_single(void)
{
    fresh("single");
    put("f", "old");
    put("f", "new");
    CHECK(holds("f", "new"));
    CHECK_FILES("f");
    CHECK(mkdir(in_dir("d"), 0777) == 0);
    CHECK(lcae_write_file_atomic(in_dir("d"), "x", 1) == LCAE_EFAIL);
    CHECK(strstr(lcae_last_error(), "/d: cannot replace output") != NULL);
    CHECK(lcae_write_file_atomic(in_dir("none/f"), "x", 1) == LCAE_EFAIL);
    CHECK_FILES("d f");
    /* the hook is for sets only: a single file is renamed as usual */
    setenv("LCAE_TEST_FAIL_RENAME", "1", 1);
    put("g", "g");
    unsetenv("LCAE_TEST_FAIL_RENAME");
    CHECK(holds("g", "g"));
}

int main(void)
{
    check_sets();
    check_single();
    return test_done("test_outputs");
}
