/* The command line: option tables (one per subcommand, which also make its help),
 * dataset options shared by every command that reads a scan, progress on stderr. */
#ifndef LCAE_CLI_H
#define LCAE_CLI_H

#include <stdint.h>

#include "lcae/core.h"
#include "lcae/io.h"
#include "lcae/cluster.h"
#include "lcae/model.h"
#include "lcae/prep.h"
#include "lcae/sim.h"
#include "lcae/stats.h"

typedef enum {
    OPT_FLAG,   /* int: --name sets 1, --no-name sets 0 */
    OPT_INT,    /* int */
    OPT_I64,    /* int64_t */
    OPT_DOUBLE, /* double */
    OPT_STRING, /* const char * */
    OPT_SHAPE,  /* int64_t[2]: "N" (N x N) or "AxB" */
    OPT_FIELD   /* a library table's row: cli_field */
} cli_opt_kind;

typedef struct {
    const char *name;    /* long name without dashes; NULL ends a table */
    char short_name;     /* 0 for none */
    cli_opt_kind kind;
    void *dest;
    const char *metavar; /* NULL for flags */
    const char *help;    /* one line; defaults are stated in it */
} cli_option;

/* An option from a library table (kind OPT_FIELD, dest a cli_field): parsed, checked and
 * shown by its row (lcae_option), which sets the field in the struct s. */
typedef struct {
    const lcae_option *row;
    void *s;
    char name[48]; /* the option's name: the row's, after a prefix */
} cli_field;
/* The rows of a library options table whose flags have none of `skip` and (if `only`)
 * some of `only`, as options --PREFIXNAME (prefix may be NULL) setting the fields of *s:
 * out and fields hold cap entries, out ends with an empty one. */
void cli_options_from(const lcae_option *table, void *s, unsigned skip, unsigned only,
                      const char *prefix, cli_option *out, cli_field *fields, int cap);

typedef struct {
    const char *name;        /* "train" */
    const char *usage;       /* "DATA -o MODEL.safetensors [options]" */
    const char *summary;     /* one line, shown in `lcae --help` */
    const char *description; /* paragraphs shown by `lcae help CMD`, may be NULL */
    const cli_option *const *option_groups; /* NULL-terminated list of tables */
    int min_positional, max_positional;
    int (*run)(int npos, char **pos); /* returns the exit status */
    /* Optional: sees the arguments before they are parsed (lcae run applies its
     * --preset's defaults here, so that the other options override them). */
    void (*init)(int argc, char **argv);
    const struct cli_preset *presets; /* NULL, or named lists of option values: help */
} cli_command;

/* A preset: option values ({"bin", "4"}, ...; a flag's "on" or "off") applied as if given
 * before the command line's own (which override them), listed by the command's help. */
typedef struct cli_preset {
    const char *name;              /* NULL ends a list */
    const char *const (*values)[2]; /* ends with {NULL, NULL} */
} cli_preset;
/* Applies the preset `name` of cmd->presets (an unknown name: nothing; the caller reports
 * it); returns 2 after printing the error if a value does not parse. */
int cli_apply_preset(const cli_command *cmd, const char *name);

/* Parses argv (argv[0] is the command name). Returns 0 and the positional arguments in
 * pos (npos of them; pos must hold argc entries), 2 after printing a usage error, or -1
 * after printing the help (exit 0). */
int cli_parse(const cli_command *cmd, int argc, char **argv, char **pos, int *npos);
void cli_print_help(const cli_command *cmd);
/* The value of --NAME (the last one given) before parsing, for a command's init; the
 * fallback if absent. */
const char *cli_peek_option(int argc, char **argv, const char *name, const char *fallback);
/* 1 if the command line gave the option whose destination is `dest`. */
int cli_given(const void *dest);
/* 1 if it gave the option of `fields` (cli_options_from's, ending with an empty entry)
 * made from the table row named `name`. */
int cli_field_given(const cli_field *fields, const char *name);

/* "lcae: error: MESSAGE" on stderr; returns the exit status for `code`. */
int cli_error(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Prints lcae_last_error() and returns the exit status of a library status code. */
int cli_fail(int status);

/* Set by the global --quiet option (and by each command's --quiet). */
extern int cli_quiet;
extern int cli_verbose; /* --verbose */
/* With --verbose: the backend and each layer's convolution algorithm on stderr. */
void cli_print_layers(const lcae_model_config *cfg);
/* A progress reporter on stderr: a bar on a terminal, one line per step otherwise,
 * nothing with --quiet. */
const lcae_progress *cli_progress(void);
/* One informational line on stderr (not with --quiet). */
void cli_note(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* ---- options every command that opens a scan takes ------------------------------ */
typedef struct {
    const char *format, *dtype, *byte_order;
    int64_t scan[2], det[2];
    int64_t header_bytes, frame_header_bytes, frame_footer_bytes;
} cli_dataset_args;
extern cli_dataset_args cli_dataset;
extern const cli_option cli_dataset_options[];
extern const cli_option cli_common_options[]; /* --quiet, --threads */
extern int cli_threads;                       /* 0: all cores */
/* The options above as the library's (prints a usage error and returns 2 if wrong). */
int cli_dataset_open_options(lcae_open_options *o);
/* Opens a scan with the options above; prints the error and returns the exit status. */
int cli_open_dataset(const char *path, lcae_dataset **ds);

/* Stage options shared by a stage's own command and lcae run (src/cli/cmd_cluster.c),
 * from the library's tables: the parameters they set, and those parameters checked (a
 * usage error printed, 2 returned, when one is wrong). cli_hdbscan: min_cluster_size 0,
 * scaled with the points; cli_smooth: the scan's shape is the caller's to fill in. */
extern lcae_hdbscan_params cli_hdbscan;
extern lcae_smooth_params cli_smooth;
extern cli_option cli_hdbscan_options[], cli_smooth_options[];
/* Fills the parameters with their defaults and the tables (main calls it). */
void cli_hdbscan_defaults(void);
int cli_hdbscan_params(lcae_hdbscan_params *p);
int cli_smooth_params(lcae_smooth_params *sp);

/* Pattern preparation (src/cli/prep_options.c): the library's table (--crop, --bin,
 * --center, --transform, --offset) into cli_prep, and --beam-map. */
extern lcae_prep cli_prep;
extern const char *cli_beam_map_path; /* --beam-map FILE.npy, NULL if not given */
extern cli_option cli_prep_options[];
void cli_prep_defaults(void); /* fills cli_prep and the table (main calls it) */
int cli_prep_get(lcae_prep *p);
/* The beam map for `center` beam (--beam-map, else found in the scan); NULL for none.
 * Prints the error and returns the exit status. */
int cli_beam_map(lcae_dataset *ds, lcae_center center, float **map);

/* The training options (src/cli/cmd_train.c) from lcae_train_option_table but for the
 * preparation's (cli_prep_options) and --rot-loss (lcae train's own). */
extern lcae_train_options cli_train;
extern cli_option cli_train_options[];
/* Fills cli_train with the library's defaults and the tables from the library's (main,
 * before any table is used). */
void cli_train_defaults(void);
int cli_train_options_get(lcae_train_options *o);
/* 1 if the command line gave the training option of that row name ("steps", ...). */
int cli_train_given(const char *name);

/* The option tables built from the library's (main, before any is used): lcae simulate's
 * (src/cli/cmd_simulate.c), lcae run's built-in sample's (src/cli/cmd_run.c) and lcae
 * features' (src/cli/cmd_features.c). */
void cli_sim_defaults(void);
void cli_run_defaults(void);
void cli_features_defaults(void); /* lcae features' (src/cli/cmd_features.c) */

/* Subcommands (one file each, src/cli/cmd_*.c). */
extern const cli_command cmd_info;
extern const cli_command cmd_run;
extern const cli_command cmd_stats;
extern const cli_command cmd_train;
extern const cli_command cmd_encode;
extern const cli_command cmd_features;
extern const cli_command cmd_cluster;
extern const cli_command cmd_simulate;
extern const cli_command cmd_score;

/* Shared by lcae info and lcae stats (src/cli/cmd_stats.c): --exact/--sample/--seed, the
 * statistics pass (prints the error, returns the exit status). */
extern cli_option cli_quantile_options[];
void cli_stats_defaults(void); /* fills the tables (main calls it) */
int cli_compute_stats(lcae_dataset *ds, int virtual_images, int refuse_nonfinite, lcae_stats *st);
const char *cli_quantile_method(const lcae_stats *st, char *buf, size_t n);

#endif
