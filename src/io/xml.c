/* A small recursive-descent XML reader (see xml.h). Bounded: input size, nesting depth
 * and element count, so a hostile file costs at most a few times its size in memory. */
#include "xml.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define XML_MAX_BYTES (64u << 20)
#define XML_MAX_DEPTH 128
#define XML_MAX_NODES 1000000

struct io_xml {
    char *name;
    char *text;
    size_t text_len, text_cap;
    char **attrs; /* name, value, name, value, ... */
    int nattrs;
    io_xml *child, *last_child, *next;
};

typedef struct {
    const char *p, *end;
    int line;
    int nodes;
    char *err;
    size_t errlen;
    int failed;
} parser;

static int fail(parser *ps, const char *fmt, ...)
{
    if (!ps->failed) {
        char msg[160];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(msg, sizeof msg, fmt, ap);
        va_end(ap);
        snprintf(ps->err, ps->errlen, "line %d: %s", ps->line, msg);
    }
    ps->failed = 1;
    return -1;
}

static int at(const parser *ps, const char *s)
{
    size_t n = strlen(s);
    return (size_t)(ps->end - ps->p) >= n && !memcmp(ps->p, s, n);
}

static void advance(parser *ps, size_t n)
{
    for (size_t i = 0; i < n && ps->p < ps->end; i++)
        if (*ps->p++ == '\n')
            ps->line++;
}

static void skip_space(parser *ps)
{
    while (ps->p < ps->end && (*ps->p == ' ' || *ps->p == '\t' || *ps->p == '\r' ||
                               *ps->p == '\n'))
        advance(ps, 1);
}

/* Skips past the next `close` ("-->", "?>"); error if the input ends first. */
static int skip_past(parser *ps, const char *close, const char *what)
{
    while (ps->p < ps->end && !at(ps, close))
        advance(ps, 1);
    if (ps->p >= ps->end)
        return fail(ps, "unterminated %s", what);
    advance(ps, strlen(close));
    return 0;
}

/* <!DOCTYPE ...> with an optional [internal subset]: skipped, never interpreted. */
static int skip_doctype(parser *ps)
{
    int bracket = 0;
    while (ps->p < ps->end) {
        char c = *ps->p;
        advance(ps, 1);
        if (c == '[')
            bracket++;
        else if (c == ']' && bracket > 0)
            bracket--;
        else if (c == '>' && bracket == 0)
            return 0;
    }
    return fail(ps, "unterminated <!DOCTYPE");
}

static int append(parser *ps, char **buf, size_t *len, size_t *cap, const char *s, size_t n)
{
    if (*len + n + 1 > *cap) {
        size_t nc = *cap ? *cap : 32;
        while (nc < *len + n + 1)
            nc *= 2;
        char *nb = realloc(*buf, nc);
        if (!nb)
            return fail(ps, "out of memory");
        *buf = nb;
        *cap = nc;
    }
    memcpy(*buf + *len, s, n);
    *len += n;
    (*buf)[*len] = 0;
    return 0;
}

static size_t utf8_encode(uint32_t c, char *out)
{
    if (c < 0x80) {
        out[0] = (char)c;
        return 1;
    }
    if (c < 0x800) {
        out[0] = (char)(0xc0 | (c >> 6));
        out[1] = (char)(0x80 | (c & 0x3f));
        return 2;
    }
    if (c < 0x10000) {
        out[0] = (char)(0xe0 | (c >> 12));
        out[1] = (char)(0x80 | ((c >> 6) & 0x3f));
        out[2] = (char)(0x80 | (c & 0x3f));
        return 3;
    }
    out[0] = (char)(0xf0 | (c >> 18));
    out[1] = (char)(0x80 | ((c >> 12) & 0x3f));
    out[2] = (char)(0x80 | ((c >> 6) & 0x3f));
    out[3] = (char)(0x80 | (c & 0x3f));
    return 4;
}

/* At '&': decodes one entity reference into out (at most 4 bytes), returns its length. */
static int entity(parser *ps, char *out)
{
    static const struct { const char *ref; char c; } named[] = {
        {"&lt;", '<'}, {"&gt;", '>'}, {"&amp;", '&'}, {"&quot;", '"'}, {"&apos;", '\''}};
    for (size_t i = 0; i < sizeof named / sizeof *named; i++)
        if (at(ps, named[i].ref)) {
            advance(ps, strlen(named[i].ref));
            out[0] = named[i].c;
            return 1;
        }
    if (at(ps, "&#")) {
        advance(ps, 2);
        int hex = ps->p < ps->end && *ps->p == 'x';
        if (hex)
            advance(ps, 1);
        uint32_t c = 0;
        int digits = 0;
        while (ps->p < ps->end && *ps->p != ';') {
            char d = *ps->p;
            int v = d >= '0' && d <= '9'                 ? d - '0'
                    : hex && d >= 'a' && d <= 'f'         ? d - 'a' + 10
                    : hex && d >= 'A' && d <= 'F'         ? d - 'A' + 10
                                                          : -1;
            if (v < 0 || ++digits > 8)
                return fail(ps, "malformed character reference");
            c = c * (hex ? 16 : 10) + (uint32_t)v;
            advance(ps, 1);
        }
        if (ps->p >= ps->end || digits == 0 || c == 0 || c > 0x10ffff)
            return fail(ps, "malformed character reference");
        advance(ps, 1);
        return (int)utf8_encode(c, out);
    }
    return fail(ps, "unknown entity reference");
}

static int is_name_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           c == '_' || c == ':' || c == '-' || c == '.' || (unsigned char)c >= 0x80;
}

static char *read_name(parser *ps)
{
    const char *s = ps->p;
    while (ps->p < ps->end && is_name_char(*ps->p))
        ps->p++;
    if (ps->p == s) {
        fail(ps, "expected a name");
        return NULL;
    }
    char *name = malloc((size_t)(ps->p - s) + 1);
    if (!name) {
        fail(ps, "out of memory");
        return NULL;
    }
    memcpy(name, s, (size_t)(ps->p - s));
    name[ps->p - s] = 0;
    return name;
}

static void node_free(io_xml *e)
{
    while (e) {
        io_xml *next = e->next;
        node_free(e->child);
        for (int i = 0; i < 2 * e->nattrs; i++)
            free(e->attrs[i]);
        free(e->attrs);
        free(e->name);
        free(e->text);
        free(e);
        e = next;
    }
}

static int parse_attrs(parser *ps, io_xml *e)
{
    for (;;) {
        skip_space(ps);
        if (ps->p >= ps->end)
            return fail(ps, "unterminated start tag <%s", e->name);
        if (*ps->p == '>' || *ps->p == '/')
            return 0;
        char *name = read_name(ps);
        if (!name)
            return -1;
        char **na = realloc(e->attrs, sizeof *na * (size_t)(2 * e->nattrs + 2));
        if (!na) {
            free(name);
            return fail(ps, "out of memory");
        }
        e->attrs = na;
        e->attrs[2 * e->nattrs] = name;
        e->attrs[2 * e->nattrs + 1] = NULL;
        e->nattrs++;
        skip_space(ps);
        if (ps->p >= ps->end || *ps->p != '=')
            return fail(ps, "expected '=' after attribute %s", name);
        advance(ps, 1);
        skip_space(ps);
        if (ps->p >= ps->end || (*ps->p != '"' && *ps->p != '\''))
            return fail(ps, "expected a quoted value for attribute %s", name);
        char q = *ps->p;
        advance(ps, 1);
        char *v = NULL;
        size_t len = 0, cap = 0;
        if (append(ps, &v, &len, &cap, "", 0))
            return -1;
        e->attrs[2 * e->nattrs - 1] = v;
        while (ps->p < ps->end && *ps->p != q) {
            char buf[4];
            size_t n = 1;
            if (*ps->p == '<')
                return fail(ps, "'<' in the value of attribute %s", name);
            if (*ps->p == '&') {
                int r = entity(ps, buf);
                if (r < 0)
                    return -1;
                n = (size_t)r;
            } else {
                buf[0] = *ps->p;
                advance(ps, 1);
            }
            if (append(ps, &e->attrs[2 * e->nattrs - 1], &len, &cap, buf, n))
                return -1;
        }
        if (ps->p >= ps->end)
            return fail(ps, "unterminated value of attribute %s", name);
        advance(ps, 1);
    }
}

/* At '<' of a start tag: parses the element and its content into a new node. */
static io_xml *parse_element(parser *ps, int depth)
{
    if (depth > XML_MAX_DEPTH) {
        fail(ps, "elements nested deeper than %d", XML_MAX_DEPTH);
        return NULL;
    }
    if (++ps->nodes > XML_MAX_NODES) {
        fail(ps, "more than %d elements", XML_MAX_NODES);
        return NULL;
    }
    advance(ps, 1);
    io_xml *e = calloc(1, sizeof *e);
    if (!e) {
        fail(ps, "out of memory");
        return NULL;
    }
    if (!(e->name = read_name(ps)) || parse_attrs(ps, e))
        goto bad;
    if (at(ps, "/>")) {
        advance(ps, 2);
        return e;
    }
    if (*ps->p != '>') {
        fail(ps, "expected '>' or '/>' in <%s", e->name);
        goto bad;
    }
    advance(ps, 1);
    for (;;) {
        if (ps->p >= ps->end) {
            fail(ps, "element <%s> is not closed", e->name);
            goto bad;
        }
        if (at(ps, "</")) {
            advance(ps, 2);
            char *name = read_name(ps);
            if (!name)
                goto bad;
            int same = !strcmp(name, e->name);
            free(name);
            if (!same) {
                fail(ps, "closing tag does not match <%s>", e->name);
                goto bad;
            }
            skip_space(ps);
            if (ps->p >= ps->end || *ps->p != '>') {
                fail(ps, "expected '>' to close </%s", e->name);
                goto bad;
            }
            advance(ps, 1);
            break;
        } else if (at(ps, "<!--")) {
            if (skip_past(ps, "-->", "comment"))
                goto bad;
        } else if (at(ps, "<![CDATA[")) {
            advance(ps, 9);
            const char *s = ps->p;
            if (skip_past(ps, "]]>", "CDATA section") ||
                append(ps, &e->text, &e->text_len, &e->text_cap, s, (size_t)(ps->p - 3 - s)))
                goto bad;
        } else if (at(ps, "<?")) {
            if (skip_past(ps, "?>", "processing instruction"))
                goto bad;
        } else if (*ps->p == '<') {
            io_xml *c = parse_element(ps, depth + 1);
            if (!c)
                goto bad;
            if (e->last_child)
                e->last_child->next = c;
            else
                e->child = c;
            e->last_child = c;
        } else {
            char buf[4];
            size_t n = 1;
            if (*ps->p == '&') {
                int r = entity(ps, buf);
                if (r < 0)
                    goto bad;
                n = (size_t)r;
            } else {
                buf[0] = *ps->p;
                advance(ps, 1);
            }
            if (append(ps, &e->text, &e->text_len, &e->text_cap, buf, n))
                goto bad;
        }
    }
    /* trim the text: instrument files indent their values */
    if (e->text) {
        size_t a = 0, b = e->text_len;
        while (a < b && strchr(" \t\r\n", e->text[a]))
            a++;
        while (b > a && strchr(" \t\r\n", e->text[b - 1]))
            b--;
        memmove(e->text, e->text + a, b - a);
        e->text[b - a] = 0;
        e->text_len = b - a;
    }
    return e;
bad:
    node_free(e);
    return NULL;
}

/* Comments, processing instructions, DOCTYPE and white space around the root. */
static int skip_misc(parser *ps)
{
    for (;;) {
        skip_space(ps);
        if (at(ps, "<!--")) {
            if (skip_past(ps, "-->", "comment"))
                return -1;
        } else if (at(ps, "<?")) {
            if (skip_past(ps, "?>", "processing instruction"))
                return -1;
        } else if (at(ps, "<!DOCTYPE")) {
            if (skip_doctype(ps))
                return -1;
        } else {
            return 0;
        }
    }
}

io_xml *io_xml_parse(const char *text, size_t n, char *err, size_t errlen)
{
    parser ps = {text, text + n, 1, 0, err, errlen, 0};
    if (errlen)
        err[0] = 0;
    if (n > XML_MAX_BYTES) {
        fail(&ps, "file too large for a metadata file (%zu bytes)", n);
        return NULL;
    }
    if (at(&ps, "\xef\xbb\xbf")) /* UTF-8 byte-order mark */
        ps.p += 3;
    if (skip_misc(&ps))
        return NULL;
    if (ps.p >= ps.end || *ps.p != '<') {
        fail(&ps, "expected the root element");
        return NULL;
    }
    io_xml *root = parse_element(&ps, 0);
    if (!root)
        return NULL;
    if (skip_misc(&ps) || ps.p < ps.end) {
        fail(&ps, "content after the root element </%s>", root->name);
        node_free(root);
        return NULL;
    }
    return root;
}

void io_xml_free(io_xml *root) { node_free(root); }

const char *io_xml_name(const io_xml *e) { return e->name; }

const char *io_xml_text(const io_xml *e) { return e->text ? e->text : ""; }

const char *io_xml_attr(const io_xml *e, const char *name)
{
    for (int i = 0; i < e->nattrs; i++)
        if (!strcmp(e->attrs[2 * i], name))
            return e->attrs[2 * i + 1];
    return NULL;
}

const io_xml *io_xml_next(const io_xml *e, const char *name)
{
    for (e = e->next; e; e = e->next)
        if (!name || !strcmp(e->name, name))
            return e;
    return NULL;
}

const io_xml *io_xml_child(const io_xml *e, const char *name)
{
    const io_xml *c = e->child;
    if (!c || !name || !strcmp(c->name, name))
        return c;
    return io_xml_next(c, name);
}
