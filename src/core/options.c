/* Options declared once: defaults, range checks, text and JSON of an options struct
 * from its table of rows (include/lcae/core.h, lcae_option). */
#include <cjson/cJSON.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lcae/core.h"

static void *field(const lcae_option *o, const void *s)
{
    return (char *)s + o->offset;
}

/* The value of a field as a double (a U64's range is checked on the text parsed, and its
 * JSON is a string: it is not read this way). */
static double get_number(const lcae_option *o, const void *s)
{
    const void *f = field(o, s);
    switch (o->type) {
    case LCAE_OPT_I64: return (double)*(const int64_t *)f;
    case LCAE_OPT_U64: return (double)*(const uint64_t *)f;
    case LCAE_OPT_DOUBLE: return *(const double *)f;
    default: return *(const int *)f; /* int, bool, and a choice's enum */
    }
}

static void put_number(const lcae_option *o, void *s, double v)
{
    void *f = field(o, s);
    switch (o->type) {
    case LCAE_OPT_I64: *(int64_t *)f = (int64_t)v; break;
    case LCAE_OPT_U64: *(uint64_t *)f = (uint64_t)v; break;
    case LCAE_OPT_DOUBLE: *(double *)f = v; break;
    case LCAE_OPT_INT_PAIR: ((int *)f)[1] = (int)v; *(int *)f = (int)v; break;
    default: *(int *)f = (int)v;
    }
}

void lcae_options_defaults(const lcae_option *t, void *s)
{
    for (; t->name; t++)
        put_number(t, s, t->def);
}

const lcae_option *lcae_option_find(const lcae_option *t, const char *name)
{
    for (; t->name; t++)
        if (!strcmp(t->name, name))
            return t;
    return NULL;
}

static int nchoices(const lcae_option *o)
{
    int n = 0;
    while (o->choices[n])
        n++;
    return n;
}

/* "a or b", "a, b or c" */
static void choice_list(const lcae_option *o, char *buf, size_t size)
{
    int n = nchoices(o);
    size_t len = 0;
    buf[0] = 0;
    for (int i = 0; i < n && len < size; i++)
        len += (size_t)snprintf(buf + len, size - len, "%s%s",
                                i == 0 ? "" : i == n - 1 ? " or " : ", ", o->choices[i]);
}

/* A bound as the messages show it: an integer's in full (2^26 = 67108864), a double's in
 * %g (1e+12). */
static void bound_text(const lcae_option *o, double v, char *buf, size_t size)
{
    if (o->type == LCAE_OPT_DOUBLE)
        snprintf(buf, size, "%g", v);
    else
        snprintf(buf, size, "%.15g", v);
}

/* What the range accepts: "2 or more", "more than 0", "0 to 20", "at least 0 and less
 * than 1". */
static void range_text(const lcae_option *o, char *buf, size_t size)
{
    if (o->choices) {
        choice_list(o, buf, size);
        return;
    }
    if (o->type == LCAE_OPT_BOOL) {
        snprintf(buf, size, "on or off");
        return;
    }
    if (o->min == o->max) { /* no range: a double must still be finite */
        snprintf(buf, size, "a finite number");
        return;
    }
    int above = o->flags & LCAE_OPT_ABOVE, below = o->flags & LCAE_OPT_BELOW;
    char min[32], max[32];
    bound_text(o, o->min, min, sizeof min);
    bound_text(o, o->max, max, sizeof max);
    int lo = o->min != -HUGE_VAL, hi = o->max != HUGE_VAL;
    if (lo && hi && !above && !below)
        snprintf(buf, size, "%s to %s", min, max);
    else if (lo && hi)
        snprintf(buf, size, "%s %s and %s %s", above ? "more than" : "at least", min,
                 below ? "less than" : "at most", max);
    else if (lo)
        snprintf(buf, size, "%s %s", above ? "more than" : min, above ? min : "or more");
    else
        snprintf(buf, size, "%s %s", below ? "less than" : max, below ? max : "or less");
}

static int in_range(const lcae_option *o, double v)
{
    if (o->type == LCAE_OPT_CHOICE)
        return v >= 0 && v < nchoices(o);
    if (o->type == LCAE_OPT_BOOL)
        return v == 0 || v == 1;
    if (o->type == LCAE_OPT_DOUBLE && !isfinite(v)) /* no option takes NaN or infinity */
        return 0;
    if (o->min == o->max)
        return 1;
    return (o->flags & LCAE_OPT_ABOVE ? v > o->min : v >= o->min) &&
           (o->flags & LCAE_OPT_BELOW ? v < o->max : v <= o->max);
}

static int out_of_range(const lcae_option *o, const char *found)
{
    char want[160];
    range_text(o, want, sizeof want);
    return lcae_fail(LCAE_EUSAGE, "option --%s: expected %s, found %s", o->name, want, found);
}

void lcae_option_format(const lcae_option *o, const void *s, char *buf, size_t size)
{
    const void *f = field(o, s);
    switch (o->type) {
    case LCAE_OPT_BOOL:
        if (o->choices)
            snprintf(buf, size, "%s", o->choices[*(const int *)f != 0]);
        else
            snprintf(buf, size, "%s", *(const int *)f ? "on" : "off");
        return;
    case LCAE_OPT_INT: snprintf(buf, size, "%d", *(const int *)f); return;
    case LCAE_OPT_INT_PAIR:
        snprintf(buf, size, "%d:%d", ((const int *)f)[0], ((const int *)f)[1]);
        return;
    case LCAE_OPT_I64: snprintf(buf, size, "%lld", (long long)*(const int64_t *)f); return;
    case LCAE_OPT_U64:
        snprintf(buf, size, "%llu", (unsigned long long)*(const uint64_t *)f);
        return;
    case LCAE_OPT_CHOICE: {
        int v = *(const int *)f;
        snprintf(buf, size, "%s", in_range(o, v) ? o->choices[v] : "?");
        return;
    }
    case LCAE_OPT_DOUBLE: {
        double v = *(const double *)f;
        snprintf(buf, size, "%.15g", v); /* the shortest of 15 and 17 digits that reads back */
        if (strtod(buf, NULL) != v)
            snprintf(buf, size, "%.17g", v);
        return;
    }
    }
}

/* A field holding the row's "not given" marker (LCAE_OPT_UNSET). */
static int is_unset(const lcae_option *o, const void *s)
{
    const int *pair = field(o, s);
    return (o->flags & LCAE_OPT_UNSET) && get_number(o, s) == o->def &&
           (o->type != LCAE_OPT_INT_PAIR || pair[1] == o->def);
}

/* A pair's message: "expected R0:R1 (each 0 to 100000, R0 <= R1), found ..." */
static int pair_out_of_range(const lcae_option *o, const char *found)
{
    char want[160];
    range_text(o, want, sizeof want);
    const char *lohi = o->metavar ? o->metavar : "LO:HI", *colon = strchr(lohi, ':');
    return lcae_fail(LCAE_EUSAGE, "option --%s: expected %s (each %s, %.*s <= %s), found %s",
                     o->name, lohi, want, (int)(colon ? colon - lohi : 2), lohi,
                     colon ? colon + 1 : "HI", found);
}

int lcae_options_check(const lcae_option *t, const void *s)
{
    for (; t->name; t++) {
        if (t->type == LCAE_OPT_U64 || is_unset(t, s))
            continue;
        if (t->type == LCAE_OPT_INT_PAIR) {
            const int *pair = field(t, s);
            if (in_range(t, pair[0]) && in_range(t, pair[1]) && pair[0] <= pair[1])
                continue;
            char found[48];
            lcae_option_format(t, s, found, sizeof found);
            return pair_out_of_range(t, found);
        }
        if (in_range(t, get_number(t, s)))
            continue;
        char found[48];
        if (t->type == LCAE_OPT_CHOICE || t->type == LCAE_OPT_BOOL)
            snprintf(found, sizeof found, "%d", *(const int *)field(t, s));
        else
            lcae_option_format(t, s, found, sizeof found);
        return out_of_range(t, found);
    }
    return LCAE_OK;
}

int lcae_option_parse(const lcae_option *o, void *s, const char *text)
{
    char *end = NULL;
    double v;
    errno = 0;
    switch (o->type) {
    case LCAE_OPT_BOOL:
        if (!o->choices) {
            if (!strcmp(text, "on") || !strcmp(text, "1"))
                v = 1;
            else if (!strcmp(text, "off") || !strcmp(text, "0"))
                v = 0;
            else
                return lcae_fail(LCAE_EUSAGE, "option --%s: expected on or off, found '%s'",
                                 o->name, text);
            break;
        } /* fall through - a bool with named values */
    case LCAE_OPT_CHOICE:
        for (int i = 0; o->choices[i]; i++)
            if (!strcmp(text, o->choices[i])) {
                put_number(o, s, i);
                return LCAE_OK;
            }
        char want[160];
        choice_list(o, want, sizeof want);
        return lcae_fail(LCAE_EUSAGE, "option --%s: expected %s, found '%s'", o->name, want,
                         text);
    case LCAE_OPT_INT_PAIR: {
        char quoted[80];
        snprintf(quoted, sizeof quoted, "'%s'", text);
        long lo = strtol(text, &end, 10), hi = 0;
        const char *second = end + 1;
        int ok = !errno && end != text && *end == ':';
        if (ok) {
            hi = strtol(second, &end, 10);
            ok = !errno && end != second && !*end;
        }
        if (!ok || !in_range(o, (double)lo) || !in_range(o, (double)hi) || lo > hi)
            return pair_out_of_range(o, quoted);
        ((int *)field(o, s))[0] = (int)lo;
        ((int *)field(o, s))[1] = (int)hi;
        return LCAE_OK;
    }
    case LCAE_OPT_DOUBLE:
        v = strtod(text, &end);
        if (errno || end == text || *end)
            return lcae_fail(LCAE_EUSAGE, "option --%s: expected a number, found '%s'",
                             o->name, text);
        break;
    default: { /* integers; a U64 is read as a signed number, so "-1" is refused */
        long long x = strtoll(text, &end, 10);
        if (errno || end == text || *end ||
            (o->type == LCAE_OPT_INT && (x < -2147483647 || x > 2147483647)))
            return lcae_fail(LCAE_EUSAGE, "option --%s: expected an integer, found '%s'",
                             o->name, text);
        if (!in_range(o, (double)x))
            return out_of_range(o, text);
        if (o->type == LCAE_OPT_I64) /* stored exactly, not through a double */
            *(int64_t *)field(o, s) = x;
        else if (o->type == LCAE_OPT_U64)
            *(uint64_t *)field(o, s) = (uint64_t)x;
        else
            *(int *)field(o, s) = (int)x;
        return LCAE_OK;
    }
    }
    if (!in_range(o, v))
        return out_of_range(o, text);
    put_number(o, s, v);
    return LCAE_OK;
}

cJSON *lcae_options_json(const lcae_option *t, const void *s)
{
    return lcae_options_json_add(t, s, 0, cJSON_CreateObject());
}

cJSON *lcae_options_json_add(const lcae_option *t, const void *s, unsigned only, cJSON *j)
{
    for (; t->name; t++)
        if (!(t->flags & LCAE_OPT_NO_JSON) && (!only || (t->flags & only)))
            lcae_option_json(t, s, NULL, j);
    return j;
}

void lcae_option_json(const lcae_option *t, const void *s, const char *key_as, cJSON *j)
{
    char key[64], text[48];
    snprintf(key, sizeof key, "%s", key_as ? key_as : t->key ? t->key : t->name);
    for (char *c = key; *c; c++)
        *c = *c == '-' ? '_' : *c;
    lcae_option_format(t, s, text, sizeof text);
    switch (t->type) {
    case LCAE_OPT_INT_PAIR: { /* "r0:r1": r0 the first, r1 the second */
        char *second = strchr(key, ':');
        if (second)
            *second++ = 0;
        cJSON_AddNumberToObject(j, key, ((const int *)field(t, s))[0]);
        cJSON_AddNumberToObject(j, second ? second : key, ((const int *)field(t, s))[1]);
        break;
    }
    case LCAE_OPT_BOOL: cJSON_AddBoolToObject(j, key, *(const int *)field(t, s)); break;
    case LCAE_OPT_U64: /* fall through: JSON numbers cannot hold every 64-bit seed */
    case LCAE_OPT_CHOICE: cJSON_AddStringToObject(j, key, text); break;
    default: cJSON_AddNumberToObject(j, key, get_number(t, s));
    }
}
