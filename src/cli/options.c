/* Option parsing and help text from the same table, so they cannot drift apart. */
#include "cli.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lcae/mpi.h"

int cli_quiet;
int cli_threads;
int cli_verbose;

const cli_option cli_common_options[] = {
    {"quiet", 'q', OPT_FLAG, &cli_quiet, NULL, "no progress or notes on stderr"},
    {"threads", 0, OPT_INT, &cli_threads, "T", "threads to use (default: all cores)"},
    {"verbose", 0, OPT_FLAG, &cli_verbose, NULL,
     "train, encode: each layer's convolution algorithm and the vector instruction set"},
    {0}};

int cli_error(int code, const char *fmt, ...)
{
    if (lcae_mpi_peer_failed()) /* under MPI, the rank that failed says why */
        return code == LCAE_EUSAGE ? 2 : 1;
    va_list ap;
    va_start(ap, fmt);
    fputs("lcae: error: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    return code == LCAE_EUSAGE ? 2 : 1;
}

int cli_fail(int status)
{
    return cli_error(status, "%s", lcae_last_error());
}

void cli_note(const char *fmt, ...)
{
    if (cli_quiet || lcae_mpi_rank()) /* under MPI, rank 0 speaks for all */
        return;
    va_list ap;
    va_start(ap, fmt);
    fputs("lcae: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

void cli_print_layers(const lcae_model_config *cfg)
{
    char buf[4096];
    if (!cli_verbose || lcae_model_describe(cfg, buf, sizeof buf))
        return;
    fprintf(stderr, "%s", buf);
}

static int parse_i64(const char *s, int64_t *v)
{
    char *end;
    errno = 0;
    long long x = strtoll(s, &end, 10);
    if (errno || end == s || *end)
        return -1;
    *v = x;
    return 0;
}

static int parse_value(const cli_option *o, const char *val)
{
    int64_t v;
    switch (o->kind) {
    case OPT_INT:
        if (parse_i64(val, &v) || v < -2147483647 || v > 2147483647)
            return -1;
        *(int *)o->dest = (int)v;
        return 0;
    case OPT_I64:
        return parse_i64(val, (int64_t *)o->dest);
    case OPT_DOUBLE: {
        char *end;
        errno = 0;
        double d = strtod(val, &end);
        if (errno || end == val || *end)
            return -1;
        *(double *)o->dest = d;
        return 0;
    }
    case OPT_STRING:
        *(const char **)o->dest = val;
        return 0;
    case OPT_SHAPE: {
        int64_t *shape = o->dest;
        const char *x = strchr(val, 'x');
        if (!x)
            x = strchr(val, 'X');
        if (!x) {
            if (parse_i64(val, &v) || v <= 0)
                return -1;
            shape[0] = shape[1] = v;
            return 0;
        }
        char first[32];
        if ((size_t)(x - val) >= sizeof first)
            return -1;
        memcpy(first, val, (size_t)(x - val));
        first[x - val] = 0;
        if (parse_i64(first, &shape[0]) || parse_i64(x + 1, &shape[1]) || shape[0] <= 0 ||
            shape[1] <= 0)
            return -1;
        return 0;
    }
    default:
        return -1;
    }
}

static const char *kind_expect(cli_opt_kind k)
{
    switch (k) {
    case OPT_INT: case OPT_I64: return "an integer";
    case OPT_DOUBLE: return "a number";
    case OPT_SHAPE: return "N or NYxNX";
    default: return "a value";
    }
}

/* A flag: --name and --no-name, no value (a bool with named values takes its name). */
static int is_flag(const cli_option *o)
{
    const lcae_option *row = o->kind == OPT_FIELD ? ((const cli_field *)o->dest)->row : NULL;
    return o->kind == OPT_FLAG || (row && row->type == LCAE_OPT_BOOL && !row->choices);
}

static const cli_option *find_option(const cli_command *cmd, const char *name, size_t len,
                                     char short_name, int *negated)
{
    *negated = 0;
    for (const cli_option *const *g = cmd->option_groups; g && *g; g++)
        for (const cli_option *o = *g; o->name; o++) {
            if (short_name) {
                if (o->short_name == short_name)
                    return o;
                continue;
            }
            if (strlen(o->name) == len && !strncmp(o->name, name, len))
                return o;
            if (is_flag(o) && len > 3 && !strncmp(name, "no-", 3) &&
                strlen(o->name) == len - 3 && !strncmp(o->name, name + 3, len - 3)) {
                *negated = 1;
                return o;
            }
        }
    return NULL;
}

const char *cli_peek_option(int argc, char **argv, const char *name, const char *fallback)
{
    size_t n = strlen(name);
    const char *value = fallback;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--"))
            break;
        if (strncmp(a, "--", 2) || strncmp(a + 2, name, n))
            continue;
        if (!a[2 + n] && i + 1 < argc)
            value = argv[i + 1];
        else if (a[2 + n] == '=')
            value = a + 3 + n;
    }
    return value;
}

/* Sets option o from the text val (a flag's: "on" or "off"); 0, or 2 after printing the
 * error. */
static int set_value(const cli_option *o, const char *val)
{
    if (o->kind == OPT_FIELD) {
        const cli_field *f = o->dest;
        if (!lcae_option_parse(f->row, f->s, val))
            return 0;
        /* the message names the row ("option --dose: ..."): named as given here
         * ("--sample-dose") */
        const char *msg = lcae_last_error(), *rest = strchr(msg, ':');
        return cli_error(LCAE_EUSAGE, "option --%s%s", f->name, rest ? rest : "");
    }
    if (o->kind == OPT_FLAG) {
        if (strcmp(val, "on") && strcmp(val, "off"))
            return cli_error(LCAE_EUSAGE, "option --%s takes no value", o->name);
        *(int *)o->dest = !strcmp(val, "on");
        return 0;
    }
    if (parse_value(o, val))
        return cli_error(LCAE_EUSAGE, "option --%s: expected %s, found '%s'", o->name,
                         kind_expect(o->kind), val);
    return 0;
}

int cli_apply_preset(const cli_command *cmd, const char *name)
{
    for (const cli_preset *p = cmd->presets; p && p->name; p++) {
        if (strcmp(p->name, name))
            continue;
        for (const char *const(*v)[2] = p->values; (*v)[0]; v++) {
            int negated;
            const cli_option *o = find_option(cmd, (*v)[0], strlen((*v)[0]), 0, &negated);
            int rc = o ? set_value(o, (*v)[1])
                       : cli_error(LCAE_EUSAGE, "preset %s: no option --%s", name, (*v)[0]);
            if (rc)
                return rc;
        }
    }
    return 0;
}

void cli_options_from(const lcae_option *t, void *s, unsigned skip, unsigned only,
                      const char *prefix, cli_option *out, cli_field *fields, int cap)
{
    int n = 0;
    for (; t->name && n < cap - 1; t++) {
        if ((t->flags & skip) || (only && !(t->flags & only)))
            continue;
        fields[n] = (cli_field){t, s, ""};
        snprintf(fields[n].name, sizeof fields[n].name, "%s%s", prefix ? prefix : "", t->name);
        out[n] = (cli_option){fields[n].name, 0, OPT_FIELD, &fields[n], t->metavar, t->help};
        n++;
    }
    out[n] = (cli_option){0};
}

/* The options the command line gave, by their destinations (see cli_given). */
static const void *given[256];
static int ngiven;

int cli_given(const void *dest)
{
    for (int i = 0; i < ngiven; i++)
        if (given[i] == dest)
            return 1;
    return 0;
}

int cli_field_given(const cli_field *fields, const char *name)
{
    for (; fields->row; fields++)
        if (!strcmp(fields->row->name, name))
            return cli_given(fields);
    return 0;
}

int cli_parse(const cli_command *cmd, int argc, char **argv, char **pos, int *npos)
{
    *npos = 0;
    int only_positional = 0;
    for (int i = 1; i < argc; i++) {
        char *a = argv[i];
        if (only_positional || a[0] != '-' || a[1] == 0) {
            pos[(*npos)++] = a;
            continue;
        }
        if (!strcmp(a, "--")) {
            only_positional = 1;
            continue;
        }
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            cli_print_help(cmd);
            return -1;
        }
        const cli_option *o;
        int negated, rc;
        const char *val = NULL;
        if (a[1] == '-') {
            const char *name = a + 2;
            const char *eq = strchr(name, '=');
            size_t len = eq ? (size_t)(eq - name) : strlen(name);
            o = find_option(cmd, name, len, 0, &negated);
            if (eq)
                val = eq + 1;
        } else {
            if (a[2] != 0) /* -oFILE */
                val = a + 2;
            o = find_option(cmd, NULL, 0, a[1], &negated);
        }
        if (!o)
            return cli_error(LCAE_EUSAGE, "unknown option '%s' for 'lcae %s' (see 'lcae %s "
                             "--help')", a, cmd->name, cmd->name);
        if (ngiven < (int)(sizeof given / sizeof *given))
            given[ngiven++] = o->dest;
        if (is_flag(o) && !val) {
            if ((rc = set_value(o, negated ? "off" : "on")))
                return rc;
            continue;
        }
        if (!val) {
            if (i + 1 >= argc)
                return cli_error(LCAE_EUSAGE, "option --%s needs a value (%s)", o->name,
                                 o->metavar ? o->metavar : kind_expect(o->kind));
            val = argv[++i];
        }
        if ((rc = set_value(o, val)))
            return rc;
    }
    if (*npos < cmd->min_positional || *npos > cmd->max_positional)
        return cli_error(LCAE_EUSAGE, "usage: lcae %s %s (see 'lcae %s --help')", cmd->name,
                         cmd->usage, cmd->name);
    return 0;
}

/* The value an option holds now, as help shows it; 0 if it has none to show. */
static int value_now(const cli_option *o, char *now, size_t n)
{
    if (o->kind == OPT_FIELD) {
        const cli_field *f = o->dest;
        lcae_option_format(f->row, f->s, now, n);
        return 1;
    }
    switch (o->kind) {
    case OPT_INT: snprintf(now, n, "%d", *(const int *)o->dest); return 1;
    case OPT_I64: snprintf(now, n, "%lld", (long long)*(const int64_t *)o->dest); return 1;
    case OPT_DOUBLE: snprintf(now, n, "%g", *(const double *)o->dest); return 1;
    case OPT_FLAG: snprintf(now, n, "%s", *(const int *)o->dest ? "on" : "off"); return 1;
    case OPT_STRING:
        if (!*(const char *const *)o->dest)
            return 0;
        snprintf(now, n, "%s", *(const char *const *)o->dest);
        return 1;
    default: return 0;
    }
}

/* The help line with its default showing the value the option holds now: "(default)",
 * "(default;" or "(default," in the table (an option whose default is the library's, not
 * written in the table) gets the value, "(default V)"; a written "(default V" is rewritten when a command's init (lcae run's
 * presets) changed the value; "(default: ...)" stays as written. */
static void help_now(const cli_option *o, char *buf, size_t n)
{
    snprintf(buf, n, "%s", o->help);
    char now[64];
    if (!value_now(o, now, sizeof now))
        return;
    const char *bare = strstr(o->help, "(default");
    if (bare && strchr(");,", bare[8])) {
        snprintf(buf, n, "%.*s(default %s%s", (int)(bare - o->help), o->help, now, bare + 8);
        return;
    }
    const char *at = strstr(o->help, "(default ");
    if (!at)
        return;
    const char *v = at + 9, *e = v + strcspn(v, " ),;:");
    if (e == v)
        return;
    char written[64];
    snprintf(written, sizeof written, "%.*s", (int)(e - v), v);
    /* the same value written another way (1e-4 and 0.0001) is left as written */
    char *end;
    double a = strtod(written, &end);
    if (o->kind != OPT_STRING && o->kind != OPT_FLAG && !*end && a == strtod(now, NULL))
        return;
    if (!strcmp(written, now))
        return;
    snprintf(buf, n, "%.*s%s%s", (int)(v - o->help), o->help, now, e);
}

void cli_print_help(const cli_command *cmd)
{
    printf("usage: lcae %s %s\n\n%s\n", cmd->name, cmd->usage, cmd->summary);
    if (cmd->description)
        printf("\n%s\n", cmd->description);
    for (const cli_preset *p = cmd->presets; p && p->name; p++) {
        if (p == cmd->presets)
            printf("\npresets:\n");
        int col = printf("  %-6s", p->name);
        for (const char *const(*v)[2] = p->values; (*v)[0]; v++) {
            int negated;
            const cli_option *o = find_option(cmd, (*v)[0], strlen((*v)[0]), 0, &negated);
            char item[96];
            if (o && is_flag(o)) /* a flag's "on" or "off" */
                snprintf(item, sizeof item, " --%s%s", strcmp((*v)[1], "off") ? "" : "no-",
                         (*v)[0]);
            else
                snprintf(item, sizeof item, " --%s %s", (*v)[0], (*v)[1]);
            if (col + (int)strlen(item) > 88)
                col = printf("\n  %-6s", "") - 1;
            col += printf("%s", item);
        }
        printf("\n");
    }
    printf("\noptions:\n");
    for (const cli_option *const *g = cmd->option_groups; g && *g; g++)
        for (const cli_option *o = *g; o->name; o++) {
            char left[64], shortpart[8] = "    ";
            if (o->short_name)
                snprintf(shortpart, sizeof shortpart, "-%c, ", o->short_name);
            snprintf(left, sizeof left, "%s--%s%s%s", shortpart, o->name,
                     o->metavar ? " " : "", o->metavar ? o->metavar : "");
            char help[512];
            help_now(o, help, sizeof help);
            printf("  %-28s %s\n", left, help);
        }
    printf("  %-28s %s\n", "-h, --help", "show this help");
}
