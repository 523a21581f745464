/* Minimal test helpers: CHECK records a failure and goes on; the test's exit status is
 * non-zero if any check failed. Paths of the source tree and ../shared come from ctest. */
#ifndef LCAE_TEST_UTIL_H
#define LCAE_TEST_UTIL_H

#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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

/* A fresh temporary folder for this test (removed by the OS's tmp cleaning; tests
 * write only inside it). */
static inline const char *test_tmpdir(void)
{
    static char dir[] = "/tmp/lcae-test-XXXXXX";
    static int made;
    if (!made) {
        if (!mkdtemp(dir)) {
            perror("mkdtemp");
            exit(1);
        }
        made = 1;
    }
    return dir;
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

#endif
