/* lcae core: status codes, error messages, progress reporting.
 *
 * Every library function that can fail returns an int status: LCAE_OK (0) or one of
 * the codes below, and leaves a one-line message for the caller in a thread-local
 * buffer, read with lcae_last_error(). Messages follow the form the CLI prints
 * verbatim after "lcae: error: ":  "FILE: what is wrong (expected ..., found ...)".
 * Library code never prints and never exits.
 */
#ifndef LCAE_CORE_H
#define LCAE_CORE_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

enum {
    LCAE_OK = 0,
    LCAE_EFAIL = 1,  /* bad input, I/O failure, numerical failure: CLI exit status 1 */
    LCAE_EUSAGE = 2, /* the caller asked for something that makes no sense: exit 2 */
    LCAE_ENOMEM = 3  /* allocation failed: exit 1 */
};

const char *lcae_version(void);

/* The message of the last failure on this thread ("" if none). */
const char *lcae_last_error(void);

/* Sets the message (printf-style) and returns `code`, so that a failing path reads
 * `return lcae_fail(LCAE_EFAIL, "%s: truncated (expected %lld bytes, found %lld)", ...)`. */
int lcae_fail(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Allocation that records an error message on failure (returns NULL, message set). */
void *lcae_malloc(size_t bytes);
void *lcae_calloc(size_t count, size_t size);

/* Progress of long work. Library functions take an optional `const lcae_progress *`
 * (NULL: silent) and report through it; the CLI supplies one that draws a bar on a
 * terminal or writes one line per step otherwise. `unit` names what is counted
 * ("patterns"); `extra` is a short status such as "loss 0.123" (may be NULL). */
typedef struct lcae_progress {
    void (*begin)(void *ctx, const char *what, int64_t total, const char *unit);
    void (*update)(void *ctx, int64_t done, const char *extra);
    void (*end)(void *ctx, const char *summary);
    void *ctx;
} lcae_progress;

void lcae_progress_begin(const lcae_progress *p, const char *what, int64_t total,
                         const char *unit);
void lcae_progress_update(const lcae_progress *p, int64_t done, const char *extra);
void lcae_progress_end(const lcae_progress *p, const char *summary);

/* Job j of a parallel pass on thread `thread` (0..nthreads-1): sets *patterns to the
 * patterns it covered (for the progress) and returns a status. */
typedef int (*lcae_job_fn)(void *ctx, int thread, int64_t job, int64_t *patterns);
/* Runs jobs 0..njobs-1 on nthreads OpenMP threads, job j on thread j % nthreads; after
 * the first failure no job starts and that failure's status and message are returned.
 * Progress: `what`, `total` patterns. */
int lcae_parallel_jobs(int nthreads, int64_t njobs, int64_t total, const char *what,
                       const lcae_progress *progress, lcae_job_fn job, void *ctx);

#ifdef __cplusplus
}
#endif
#endif
