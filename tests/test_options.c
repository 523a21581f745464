/* The option table machinery (src/core/options.c) on a table of its own, against values
 * written out here: defaults, parsing (numbers, bounds, choices, bools, 64-bit seeds
 * exactly), the messages of a refused value, the text form (the shortest decimal that
 * reads back), a JSON key of its own, an excluded maximum, a bool with named values, rows
 * left out of the JSON, a pair of ints, "not given" markers, and the JSON (of a table and
 * of its flagged rows). */
#include "test_util.h"

#include <cjson/cJSON.h>
#include <stddef.h>

#include "lcae/core.h"

typedef struct {
    int count, flag, pick;
    int64_t big;
    uint64_t seed;
    double rate, free, share;
    int named, quiet;
    int span[2], level;
} toy;

static const char *const picks[] = {"red", "green", "blue", NULL};
static const char *const modes[] = {"strict", "lenient", NULL};

static const lcae_option toy_table[] = {
    {"count", NULL, LCAE_OPT_INT, offsetof(toy, count), 7, 2, 9, NULL, "N", "", 0},
    {"flag", NULL, LCAE_OPT_BOOL, offsetof(toy, flag), 1, 0, 0, NULL, NULL, "", 0},
    {"pick-one", NULL, LCAE_OPT_CHOICE, offsetof(toy, pick), 2, 0, 0, picks, "C", "", 0},
    {"big", NULL, LCAE_OPT_I64, offsetof(toy, big), -3, -HUGE_VAL, 5, NULL, "N", "", 0},
    {"seed", NULL, LCAE_OPT_U64, offsetof(toy, seed), 0, 0, HUGE_VAL, NULL, "S", "", 0},
    {"rate", NULL, LCAE_OPT_DOUBLE, offsetof(toy, rate), 1e-4, 0, HUGE_VAL, NULL, "R", "",
     LCAE_OPT_ABOVE},
    {"free", NULL, LCAE_OPT_DOUBLE, offsetof(toy, free), -2.5, 0, 0, NULL, "X", "", 0},
    {"share", "share_of_all", LCAE_OPT_DOUBLE, offsetof(toy, share), 0.5, 0, 1, NULL, "P", "",
     LCAE_OPT_BELOW},
    {"mode", "lenient_mode", LCAE_OPT_BOOL, offsetof(toy, named), 0, 0, 0, modes, "M", "", 0},
    {"quiet", NULL, LCAE_OPT_INT, offsetof(toy, quiet), 4, 0, 0, NULL, "N", "",
     LCAE_OPT_NO_JSON},
    {"span", "lo:hi", LCAE_OPT_INT_PAIR, offsetof(toy, span), -1, 0, 100, NULL, "LO:HI", "",
     LCAE_OPT_UNSET | (1u << 8)},
    {"level", NULL, LCAE_OPT_INT, offsetof(toy, level), -1, 1, 5, NULL, "L", "",
     LCAE_OPT_UNSET | (1u << 8)},
    {0}};

static const lcae_option *row(const char *name)
{
    return lcae_option_find(toy_table, name);
}

/* parse `text` into option `name` of *t: expect status `want` and, if it fails, the
 * message `msg` */
static void parse(toy *t, const char *name, const char *text, int want, const char *msg)
{
    int rc = lcae_option_parse(row(name), t, text);
    CHECK_MSG(rc == want, "--%s %s: status %d", name, text, rc);
    if (msg)
        CHECK_MSG(!strcmp(lcae_last_error(), msg), "--%s %s: '%s'", name, text,
                  lcae_last_error());
}

static void text_is(const toy *t, const char *name, const char *want)
{
    char buf[64];
    lcae_option_format(row(name), t, buf, sizeof buf);
    CHECK_MSG(!strcmp(buf, want), "--%s: '%s', expected '%s'", name, buf, want);
}

int main(void)
{
    toy t;
    memset(&t, 0xff, sizeof t);
    lcae_options_defaults(toy_table, &t);
    CHECK(t.count == 7 && t.flag == 1 && t.pick == 2 && t.big == -3 && t.seed == 0 &&
          t.rate == 1e-4 && t.free == -2.5 && t.share == 0.5 && t.named == 0 && t.quiet == 4);
    CHECK(t.span[0] == -1 && t.span[1] == -1 && t.level == -1);
    /* "not given" (-1, out of the range) passes the check; given, it must be in range */
    CHECK(lcae_options_check(toy_table, &t) == LCAE_OK);
    text_is(&t, "span", "-1:-1");
    parse(&t, "level", "-1", LCAE_EUSAGE, "option --level: expected 1 to 5, found -1");
    t.level = 0;
    CHECK(lcae_options_check(toy_table, &t) == LCAE_EUSAGE &&
          !strcmp(lcae_last_error(), "option --level: expected 1 to 5, found 0"));
    t.level = -1;
    parse(&t, "span", "3:40", LCAE_OK, NULL);
    CHECK(t.span[0] == 3 && t.span[1] == 40);
    text_is(&t, "span", "3:40");
    const char *pair_want = "option --span: expected LO:HI (each 0 to 100, LO <= HI), found ";
    char msg[128];
    const char *bad_spans[] = {"5", "5:", ":5", "9:2", "0:101", "-1:-1", "1:2:3"};
    for (size_t i = 0; i < sizeof bad_spans / sizeof *bad_spans; i++) {
        snprintf(msg, sizeof msg, "%s'%s'", pair_want, bad_spans[i]);
        parse(&t, "span", bad_spans[i], LCAE_EUSAGE, msg);
    }
    CHECK(t.span[0] == 3 && t.span[1] == 40);
    t.span[0] = -1; /* half a marker is a value */
    snprintf(msg, sizeof msg, "%s-1:40", pair_want);
    CHECK(lcae_options_check(toy_table, &t) == LCAE_EUSAGE && !strcmp(lcae_last_error(), msg));
    t.span[0] = 3;
    CHECK(row("nothing") == NULL);

    parse(&t, "count", "9", LCAE_OK, NULL);
    CHECK(t.count == 9);
    parse(&t, "count", "10", LCAE_EUSAGE, "option --count: expected 2 to 9, found 10");
    parse(&t, "count", "1", LCAE_EUSAGE, "option --count: expected 2 to 9, found 1");
    parse(&t, "count", "3x", LCAE_EUSAGE, "option --count: expected an integer, found '3x'");
    parse(&t, "count", "4294967296", LCAE_EUSAGE,
          "option --count: expected an integer, found '4294967296'");
    CHECK(t.count == 9); /* a refused value leaves the field */
    parse(&t, "flag", "off", LCAE_OK, NULL);
    CHECK(t.flag == 0);
    parse(&t, "flag", "maybe", LCAE_EUSAGE, "option --flag: expected on or off, found 'maybe'");
    parse(&t, "pick-one", "red", LCAE_OK, NULL);
    CHECK(t.pick == 0);
    parse(&t, "pick-one", "pink", LCAE_EUSAGE,
          "option --pick-one: expected red, green or blue, found 'pink'");
    parse(&t, "big", "-9007199254740993", LCAE_OK, NULL); /* 2^53 + 1: not a double */
    CHECK(t.big == -9007199254740993LL);
    parse(&t, "big", "6", LCAE_EUSAGE, "option --big: expected 5 or less, found 6");
    parse(&t, "seed", "9007199254740993", LCAE_OK, NULL);
    CHECK(t.seed == 9007199254740993ULL);
    parse(&t, "seed", "-1", LCAE_EUSAGE, "option --seed: expected 0 or more, found -1");
    parse(&t, "rate", "0", LCAE_EUSAGE, "option --rate: expected more than 0, found 0");
    parse(&t, "rate", "nan", LCAE_EUSAGE, "option --rate: expected more than 0, found nan");
    parse(&t, "rate", "0.1", LCAE_OK, NULL);
    parse(&t, "free", "-1e300", LCAE_OK, NULL);
    parse(&t, "free", "inf", LCAE_EUSAGE, "option --free: expected a finite number, found inf");
    parse(&t, "share", "1", LCAE_EUSAGE,
          "option --share: expected at least 0 and less than 1, found 1");
    parse(&t, "share", "0", LCAE_OK, NULL);
    parse(&t, "mode", "lenient", LCAE_OK, NULL);
    CHECK(t.named == 1);
    parse(&t, "mode", "on", LCAE_EUSAGE, "option --mode: expected strict or lenient, found 'on'");
    text_is(&t, "mode", "lenient");

    /* text: the shortest decimal that reads back (0.1 + 0.2 needs 17 digits) */
    text_is(&t, "count", "9");
    text_is(&t, "flag", "off");
    text_is(&t, "pick-one", "red");
    text_is(&t, "big", "-9007199254740993");
    text_is(&t, "seed", "9007199254740993");
    text_is(&t, "rate", "0.1");
    t.rate = 0.1 + 0.2;
    text_is(&t, "rate", "0.30000000000000004");
    t.rate = 2e-3;
    text_is(&t, "rate", "0.002");

    /* the library's check names the first field out of range, with its value */
    t.count = 1;
    CHECK(lcae_options_check(toy_table, &t) == LCAE_EUSAGE &&
          !strcmp(lcae_last_error(), "option --count: expected 2 to 9, found 1"));
    t.count = 3;
    t.pick = 3;
    CHECK(lcae_options_check(toy_table, &t) == LCAE_EUSAGE &&
          !strcmp(lcae_last_error(), "option --pick-one: expected red, green or blue, found 3"));
    t.pick = 1;
    t.rate = -1;
    CHECK(lcae_options_check(toy_table, &t) == LCAE_EUSAGE &&
          !strcmp(lcae_last_error(), "option --rate: expected more than 0, found -1"));
    t.rate = 0.5;

    /* JSON: keys with '_', bools, choices by name, a 64-bit seed as a string (a JSON
     * number is a double: an I64 beyond 2^53 would not be exact) */
    t.big = -4000000000;
    cJSON *j = lcae_options_json(toy_table, &t);
    char *s = cJSON_PrintUnformatted(j);
    const char *want = "{\"count\":3,\"flag\":false,\"pick_one\":\"green\","
                       "\"big\":-4000000000,\"seed\":\"9007199254740993\","
                       "\"rate\":0.5,\"free\":-1e+300,\"share_of_all\":0,"
                       "\"lenient_mode\":true,\"lo\":3,\"hi\":40,\"level\":-1}";
    CHECK_MSG(!strcmp(s, want), "%s", s);
    free(s);
    cJSON_Delete(j);
    /* the flagged rows only, into an object of the caller's */
    j = lcae_options_json_add(toy_table, &t, 1u << 8, cJSON_CreateObject());
    s = cJSON_PrintUnformatted(j);
    CHECK_MSG(!strcmp(s, "{\"lo\":3,\"hi\":40,\"level\":-1}"), "%s", s);
    free(s);
    cJSON_Delete(j);
    return test_done("test_options");
}
