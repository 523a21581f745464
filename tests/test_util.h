/* Minimal test helpers: CHECK records a failure and goes on; the test's exit status is
 * non-zero if any check failed. Paths of the source tree and ../shared come from ctest. */
#ifndef LCAE_TEST_UTIL_H
#define LCAE_TEST_UTIL_H

#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#include "lcae/io.h"

/* SANITIZED: built with AddressSanitizer (clang's __has_feature, gcc's macro), where the
 * largest brute-force checks would take minutes. */
#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SANITIZED 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__) && !defined(SANITIZED)
#define SANITIZED 1
#endif

static int test_failures;
static int test_checks;

#define CHECK(cond)                                                                        \
    do {                                                                               \
        test_checks++;                                                                 \
        if (!(cond)) {                                                                 \
            test_failures++;                                                           \
            fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond);    \
        }                                                                              \
    } while (0)

#define CHECK_MSG(cond, ...)                                                               \
    do {                                                                               \
        test_checks++;                                                                 \
        if (!(cond)) {                                                                 \
            test_failures++;                                                           \
            fprintf(stderr, "%s:%d: CHECK failed: %s: ", __FILE__, __LINE__, #cond);    \
            fprintf(stderr, __VA_ARGS__);                                              \
            fputc('\n', stderr);                                                       \
        }                                                                              \
    } while (0)

/* |a - b| <= tol * max(1, |b|) */
#define CHECK_CLOSE(a, b, tol)                                                             \
    CHECK_MSG(fabs((double)(a) - (double)(b)) <= (tol) * fmax(1.0, fabs((double)(b))),      \
              "%.9g vs %.9g (tol %g)", (double)(a), (double)(b), (double)(tol))

static inline int test_done(const char *name)
{
    printf("%s: %d checks, %d failed\n", name, test_checks, test_failures);
    return test_failures ? 1 : 0;
}

/* A fresh temporary folder for this test; tests write only inside it. It is removed at
 * exit when every check passed, and kept (its path printed) for a look when one failed.
 * Only the process that made it removes it: a forked child's exit leaves it alone. */
/* rm -r of a folder the test made (no symbolic links are followed: lstat). */
static void test_remove_tree(const char *path)
{
    struct stat st;
    if (lstat(path, &st) != 0)
        return;
    if (S_ISDIR(st.st_mode)) {
        DIR *d = opendir(path);
        struct dirent *e;
        while (d && (e = readdir(d))) {
            if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
                continue;
            char child[4096];
            snprintf(child, sizeof child, "%s/%s", path, e->d_name);
            test_remove_tree(child);
        }
        if (d)
            closedir(d);
        rmdir(path);
    } else {
        unlink(path);
    }
}

static char test_tmpdir_path[] = "/tmp/lcae-test-XXXXXX";
static pid_t test_tmpdir_owner;

static void test_tmpdir_cleanup(void)
{
    if (getpid() != test_tmpdir_owner)
        return;
    if (test_failures)
        fprintf(stderr, "test files kept in %s\n", test_tmpdir_path);
    else
        test_remove_tree(test_tmpdir_path);
}

static inline const char *test_tmpdir(void)
{
    if (!test_tmpdir_owner) {
        if (!mkdtemp(test_tmpdir_path)) {
            perror("mkdtemp");
            exit(1);
        }
        test_tmpdir_owner = getpid();
        atexit(test_tmpdir_cleanup);
    }
    return test_tmpdir_path;
}

/* The project's reference data (../shared: real detector files, the hdbscan library's
 * answers) sits beside the project, not in it: CI has it; a bare clone may not. Tests
 * that need it say so and exit with test_skip_status(): TEST_SKIP (ctest reports them as
 * skipped), except under CI (the variable CI set, neither empty nor "false"), where
 * every test must run, so a missing piece is a failure. */
#define TEST_SKIP 77
static inline int test_in_ci(void)
{
    const char *ci = getenv("CI");
    return ci && *ci && strcmp(ci, "false");
}

static inline int test_skip_status(void) { return test_in_ci() ? 1 : TEST_SKIP; }

static inline int test_shared_missing(const char *what)
{
    const char *dir = getenv("LCAE_SHARED_DIR");
    if (dir && access(dir, R_OK | X_OK) == 0)
        return 0;
    if (test_in_ci())
        fprintf(stderr, "FAIL: %s: %s is not beside the project (CI=%s: nothing may be "
                "skipped)\n", what, dir ? dir : "../shared", getenv("CI"));
    else
        printf("skipped: %s: %s is not beside the project\n", what, dir ? dir : "../shared");
    return 1;
}

/* The names in `dir` (hidden ones too: temporary outputs start with '.'), sorted and
 * joined by spaces, into buf ("" for an empty folder; "?" if it cannot be read). */
static inline const char *test_dir_names(const char *dir, char *buf, size_t n)
{
    struct dirent **list;
    int k = scandir(dir, &list, NULL, alphasort);
    snprintf(buf, n, "%s", k < 0 ? "?" : "");
    for (int i = 0; i < k; i++) {
        const char *name = list[i]->d_name;
        if (strcmp(name, ".") && strcmp(name, "..")) {
            size_t len = strlen(buf);
            snprintf(buf + len, n - len, "%s%s", len ? " " : "", name);
        }
        free(list[i]);
    }
    if (k >= 0)
        free(list);
    return buf;
}

static inline const char *test_env(const char *name)
{
    const char *v = getenv(name);
    if (!v) {
        fprintf(stderr, "%s is not set (run through ctest)\n", name);
        exit(1);
    }
    return v;
}

/* A whole file in memory (NUL-terminated, at most 256 MB), its length in *n; NULL if it
 * cannot be read. */
static inline char *test_slurp(const char *path, size_t *n)
{
    char *t = NULL;
    if (lcae_read_text_file(path, (size_t)256 << 20, &t, n) != 0) {
        free(t);
        return NULL;
    }
    return t;
}

#endif
