/* A small XML reader for instrument sidecar files (EMPAD .xml): elements, attributes and
 * text, no DTD, no namespaces. Hostile input gives an error, never a crash: nesting,
 * element count and input size are bounded. Shared by src/io only. */
#ifndef LCAE_IO_XML_H
#define LCAE_IO_XML_H

#include <stddef.h>

typedef struct io_xml io_xml;

/* Parses `n` bytes (need not be NUL-terminated) and returns the root element, or NULL
 * with a message in `err` ("line 3: expected '>' ..."). Free with io_xml_free. */
io_xml *io_xml_parse(const char *text, size_t n, char *err, size_t errlen);
void io_xml_free(io_xml *root);

const char *io_xml_name(const io_xml *e);
/* The element's own text (character data and CDATA directly inside it, entities
 * decoded, leading and trailing white space removed); "" if none. */
const char *io_xml_text(const io_xml *e);
const char *io_xml_attr(const io_xml *e, const char *name); /* NULL if absent */
/* First child named `name` (any child if name is NULL), and the next sibling after
 * `e` with that name; NULL when there is none. */
const io_xml *io_xml_child(const io_xml *e, const char *name);
const io_xml *io_xml_next(const io_xml *e, const char *name);

#endif
