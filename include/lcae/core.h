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

/* ---- options declared once ----------------------------------------------------------
 * An options struct (lcae_train_options, ...) is described by a table of rows, one per
 * field, ending with a row whose name is NULL. The table gives each field's defaults,
 * its range check, its JSON (key: the name with '-' as '_'), its text form (checkpoint
 * metadata, help) and its parsing from text (the command line, presets), so that an
 * option is added by adding its row. */
struct cJSON;
typedef enum {
    LCAE_OPT_BOOL,   /* int, 0 or 1 (JSON true/false); with choices, their two names
                        (off, on) are its text, else "off" and "on" */
    LCAE_OPT_INT,    /* int */
    LCAE_OPT_I64,    /* int64_t */
    LCAE_OPT_U64,    /* uint64_t: written as a decimal string (JSON numbers are doubles);
                        the range applies to the text given (negative text is refused) */
    LCAE_OPT_DOUBLE, /* double */
    LCAE_OPT_CHOICE, /* an enum (int-sized) whose value i is named choices[i] */
    LCAE_OPT_INT_PAIR /* two ints, the field and the next (int lo, hi;), lo <= hi: text
                         "LO:HI", each in the range; JSON: two numbers, keyed by the key
                         split at ':' ("r0:r1") */
} lcae_option_type;

enum {
    LCAE_OPT_ABOVE = 1u << 0,  /* the minimum itself is out of range (lr > 0) */
    LCAE_OPT_BELOW = 1u << 1,  /* the maximum itself is out of range */
    LCAE_OPT_NO_JSON = 1u << 2, /* not in the JSON (it does not change a result) */
    LCAE_OPT_UNSET = 1u << 3    /* the default is "not given", a value outside the range
                                   (-1): defaults set it, the check accepts it, the JSON
                                   records it as it is; the table's owner resolves it
                                   before use (e.g. by a method: lcae_features_resolve);
                                   a text given must be in the range */
    /* bits from 1u << 8 are the table owner's (e.g. LCAE_TRAIN_RESUME in lcae/model.h) */
};

typedef struct {
    const char *name;            /* "max-angle": --max-angle */
    const char *key;             /* the JSON key; NULL: the name with '-' as '_' */
    lcae_option_type type;
    size_t offset;               /* offsetof(struct, field) */
    double def;                  /* the default (a choice: its value, a bool: 0 or 1) */
    double min, max;             /* numbers: the accepted range, inclusive (see
                                    LCAE_OPT_ABOVE, _BELOW); +-HUGE_VAL for no bound;
                                    min == max: no range */
    const char *const *choices;  /* LCAE_OPT_CHOICE (a bool may have two): names by value,
                                    NULL-terminated */
    const char *metavar;         /* for the help: "N", "DEG"; NULL for a bool */
    const char *help;            /* one line; "(default)" shows the value held */
    unsigned flags;
} lcae_option;

/* Every field of *s set to its default. */
void lcae_options_defaults(const lcae_option *table, void *s);
/* LCAE_OK if every number of *s is in its range and every choice valid; else
 * LCAE_EUSAGE with "option --NAME: expected RANGE, found VALUE" for the first that is not. */
int lcae_options_check(const lcae_option *table, const void *s);
/* The row named `name` ("max-angle"), NULL if none. */
const lcae_option *lcae_option_find(const lcae_option *table, const char *name);
/* Parses `text` into the field of row o of *s ("on"/"off"/"1"/"0" for a bool, a name
 * for a choice) and checks its range; LCAE_EUSAGE with "option --NAME: expected ...,
 * found '...'" if it does not fit (the field is then unchanged). */
int lcae_option_parse(const lcae_option *o, void *s, const char *text);
/* The field's value as text: the shortest decimal that reads back to the same number,
 * the choice's name, "on"/"off" for a bool. */
void lcae_option_format(const lcae_option *o, const void *s, char *buf, size_t size);
/* Every field of *s as a JSON object, in the table's order (but LCAE_OPT_NO_JSON's). */
struct cJSON *lcae_options_json(const lcae_option *table, const void *s);
/* The same into the object j, of the rows whose flags have some of `only` (0: every row);
 * returns j. */
struct cJSON *lcae_options_json_add(const lcae_option *table, const void *s, unsigned only,
                                    struct cJSON *j);
/* Row o of *s into the object j, under key_as (NULL: the row's key). */
void lcae_option_json(const lcae_option *o, const void *s, const char *key_as,
                      struct cJSON *j);

#ifdef __cplusplus
}
#endif
#endif
