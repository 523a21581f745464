/* EMPAD .raw: little-endian float32 frames of 128 columns x 130 rows, the last 2 rows
 * per-frame metadata (dropped). A preset of the raw reader; the scan shape comes from
 * --scan, else the companion .xml the EMPAD software writes, else the file name.
 *
 * Which .xml: the instrument names its XML after the acquisition (map4x4.xml,
 * EMPAD_v1.2.2_x32_y64_size0.8.xml) and the frames scan_xNX_yNY.raw, and links the two
 * only through <raw_file filename="scan_x4_y4.raw"/> (the real XMLs in
 * ../shared/data/real/empad-xml). So lcae takes STEM.xml beside STEM.raw if it exists
 * (how lcae's simulator names it), else the one .xml in the folder whose <raw_file>
 * names this .raw. An .xml naming another raw file is not this scan's. */
#include "dataset_internal.h"

#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "xml.h"

#define EMPAD_W 128
#define EMPAD_H 128
#define EMPAD_META_ROWS 2
#define EMPAD_XML_MAX (1 << 20) /* the real ones are 1-5 KB */

/* A decimal element text as a positive count; 0 if the element is absent. */
static int xml_count(const char *xml_path, const io_xml *parent, const char *name,
                     int64_t *out)
{
    *out = 0;
    const io_xml *e = parent ? io_xml_child(parent, name) : NULL;
    if (!e)
        return LCAE_OK;
    const char *t = io_xml_text(e);
    char *end;
    errno = 0;
    long long v = strtoll(t, &end, 10);
    if (end == t || *end || errno || v <= 0 || v > (1 << 24))
        return lcae_fail(LCAE_EFAIL, "%s: <%s> is not a plausible count (expected 1..%d, "
                         "found '%.40s')", xml_path, name, 1 << 24, t);
    *out = v;
    return LCAE_OK;
}

int io_empad_xml_parse(const char *xml_path, const char *text, size_t n, lcae_empad_meta *m)
{
    memset(m, 0, sizeof *m);
    char err[200];
    io_xml *root = io_xml_parse(text, n, err, sizeof err);
    if (!root)
        return lcae_fail(LCAE_EFAIL, "%s: not well-formed XML (%s)", xml_path, err);
    int rc = LCAE_OK;
    if (strcmp(io_xml_name(root), "root")) {
        rc = lcae_fail(LCAE_EFAIL, "%s: not an EMPAD XML (expected root element <root>, "
                       "found <%s>)", xml_path, io_xml_name(root));
        goto done;
    }
    const io_xml *raw = io_xml_child(root, "raw_file");
    const char *fn = raw ? io_xml_attr(raw, "filename") : NULL;
    if (fn) {
        /* the instrument may record a full path; only the name is relocatable */
        const char *base = strrchr(fn, '/');
        const char *bs = strrchr(fn, '\\');
        base = base && (!bs || base > bs) ? base + 1 : bs ? bs + 1 : fn;
        snprintf(m->raw_file, sizeof m->raw_file, "%s", base);
    }
    const io_xml *type = io_xml_child(root, "type");
    int64_t a, b;
    if (type && !strcmp(io_xml_text(type), "series")) {
        /* a time series of frames: one scan row */
        const io_xml *sp = io_xml_child(root, "scan_parameters");
        if ((rc = xml_count(xml_path, root, "count", &a)) ||
            (rc = xml_count(xml_path, sp, "series_count", &b)))
            goto done;
        m->scan_ny = a || b ? 1 : 0;
        m->scan_nx = a ? a : b;
    } else {
        /* software 0.51 writes the scan actually taken as <pix_x>/<pix_y> (its
         * scan_parameters then hold stale settings: map4x4.xml says 128); 1.2.x writes it
         * only in <scan_parameters mode="acquire"> */
        if ((rc = xml_count(xml_path, root, "pix_y", &a)) ||
            (rc = xml_count(xml_path, root, "pix_x", &b)))
            goto done;
        if (!a || !b) {
            const io_xml *sp = io_xml_child(root, "scan_parameters");
            while (sp && !(io_xml_attr(sp, "mode") &&
                           !strcmp(io_xml_attr(sp, "mode"), "acquire")))
                sp = io_xml_next(sp, "scan_parameters");
            if ((rc = xml_count(xml_path, sp, "scan_resolution_y", &a)) ||
                (rc = xml_count(xml_path, sp, "scan_resolution_x", &b)))
                goto done;
        }
        if (a && b) {
            m->scan_ny = a;
            m->scan_nx = b;
        }
    }
    /* No real EMPAD XML records the detector size (always 128 x 128 + 2 rows); lcae
     * honours these two if a file has them (e.g. a cropped or simulated detector). */
    if ((rc = xml_count(xml_path, root, "detector_height", &a)) ||
        (rc = xml_count(xml_path, root, "detector_width", &b)))
        goto done;
    if ((a != 0) != (b != 0) || a > (1 << 16) || b > (1 << 16)) {
        rc = lcae_fail(LCAE_EFAIL, "%s: <detector_height> and <detector_width> must both be "
                       "given, each 1..65536 (found %lld and %lld)", xml_path, (long long)a,
                       (long long)b);
        goto done;
    }
    m->det_h = a;
    m->det_w = b;
done:
    io_xml_free(root);
    return rc;
}

/* Reads and parses xml_path; a failure's message starts with the scan file's name. */
static int load_meta(const char *raw_path, const char *xml_path, lcae_empad_meta *m)
{
    char *text;
    size_t n;
    int rc = lcae_read_text_file(xml_path, EMPAD_XML_MAX, &text, &n);
    if (!rc) {
        rc = io_empad_xml_parse(xml_path, text, n, m);
        free(text);
    }
    if (rc) {
        char msg[600];
        snprintf(msg, sizeof msg, "%s", lcae_last_error());
        return lcae_fail(rc, "%s: companion %s", raw_path, msg);
    }
    return LCAE_OK;
}

static int ends_with(const char *s, const char *suffix)
{
    size_t a = strlen(s), b = strlen(suffix);
    return a >= b && !strcmp(s + a - b, suffix);
}

/* Finds and parses the companion .xml of `raw_path`; *xml_path is NULL if there is none
 * (not an error). The caller frees *xml_path. */
static int find_companion(const char *raw_path, char **xml_path, lcae_empad_meta *m)
{
    *xml_path = NULL;
    size_t len = strlen(raw_path);
    const char *dot = strrchr(raw_path, '.');
    const char *slash = strrchr(raw_path, '/');
    size_t stem = dot && (!slash || dot > slash) ? (size_t)(dot - raw_path) : len;
    char *cand = lcae_malloc(stem + 5);
    if (!cand)
        return LCAE_ENOMEM;
    memcpy(cand, raw_path, stem);
    memcpy(cand + stem, ".xml", 5);
    FILE *fp = fopen(cand, "rb");
    if (fp) {
        fclose(fp);
        int rc = load_meta(raw_path, cand, m);
        if (rc) {
            free(cand);
            return rc;
        }
        *xml_path = cand;
        return LCAE_OK;
    }
    free(cand);

    /* no STEM.xml: the .xml in the folder whose <raw_file> names this file */
    const char *base = slash ? slash + 1 : raw_path;
    size_t dirlen = slash ? (size_t)(slash - raw_path) : 0;
    char *dir = lcae_malloc(dirlen + 2);
    if (!dir)
        return LCAE_ENOMEM;
    if (slash) {
        memcpy(dir, raw_path, dirlen);
        dir[dirlen] = 0;
        if (!dirlen)
            strcpy(dir, "/");
    } else {
        strcpy(dir, ".");
    }
    DIR *d = opendir(dir);
    int rc = LCAE_OK;
    if (d) {
        struct dirent *de;
        while ((de = readdir(d)) && !rc) {
            if (!ends_with(de->d_name, ".xml") && !ends_with(de->d_name, ".XML"))
                continue;
            size_t pl = strlen(dir) + strlen(de->d_name) + 2;
            char *p = lcae_malloc(pl);
            if (!p) {
                rc = LCAE_ENOMEM;
                break;
            }
            snprintf(p, pl, "%s/%s", dir, de->d_name);
            lcae_empad_meta mm;
            /* an unreadable or foreign .xml in the folder is not this scan's: skip it */
            if (load_meta(raw_path, p, &mm) || strcmp(mm.raw_file, base)) {
                free(p);
                continue;
            }
            if (*xml_path) {
                rc = lcae_fail(LCAE_EFAIL, "%s: two EMPAD .xml files name this scan (%s and "
                               "%s; give --scan NYxNX or remove one)", raw_path, *xml_path, p);
                free(p);
                break;
            }
            *xml_path = p;
            *m = mm;
        }
        closedir(d);
    }
    free(dir);
    if (rc) {
        free(*xml_path);
        *xml_path = NULL;
    }
    return rc;
}

int io_open_empad(lcae_dataset *ds, const lcae_open_options *opt)
{
    lcae_open_options o = *opt;
    o.det_h = EMPAD_H;
    o.det_w = EMPAD_W;
    o.dtype = LCAE_DT_F32;
    o.big_endian = 0;
    o.header_bytes = 0;
    o.frame_header_bytes = 0;
    char *xml = NULL;
    lcae_empad_meta m;
    int rc = find_companion(ds->path, &xml, &m);
    if (rc)
        return rc;
    const char *source = "--scan";
    if (xml && m.det_h) {
        o.det_h = m.det_h;
        o.det_w = m.det_w;
    }
    if (!o.scan_ny || !o.scan_nx) {
        if (xml && m.scan_ny) {
            o.scan_ny = m.scan_ny;
            o.scan_nx = m.scan_nx;
            source = xml;
        } else if (io_scan_shape_from_name(ds->path, &o.scan_ny, &o.scan_nx)) {
            source = "the file name";
        } else {
            rc = xml ? lcae_fail(LCAE_EUSAGE, "%s: EMPAD scan shape unknown (%s records none "
                                 "and the name has no _xNX_yNY; give --scan NYxNX)",
                                 ds->path, xml)
                     : lcae_fail(LCAE_EUSAGE, "%s: EMPAD scan shape unknown (no companion "
                                 ".xml and no _xNX_yNY in the name; give --scan NYxNX)",
                                 ds->path);
            free(xml);
            return rc;
        }
    }
    o.frame_footer_bytes = EMPAD_META_ROWS * o.det_w * 4;
    /* An EMPAD file is exactly its frames: any other size means the shape is wrong.
     * (Out-of-range shapes are refused by io_open_raw with their own message.) */
    int64_t stride = (o.det_h + EMPAD_META_ROWS) * o.det_w * 4;
    if (o.scan_ny > 0 && o.scan_nx > 0 && o.scan_ny <= (1 << 24) && o.scan_nx <= (1 << 24) &&
        (ds->info.file_bytes % stride || ds->info.file_bytes / stride != o.scan_ny * o.scan_nx)) {
        /* a wrong --scan is misuse; a wrong XML or name is bad input */
        rc = lcae_fail(opt->scan_ny && opt->scan_nx ? LCAE_EUSAGE : LCAE_EFAIL,
                       "%s: size does not fit the scan shape from %s (expected "
                       "%lld x %lld frames of %lld x %lld float32 = %.0f bytes, found %lld)",
                       ds->path, source, (long long)o.scan_ny, (long long)o.scan_nx,
                       (long long)(o.det_h + EMPAD_META_ROWS), (long long)o.det_w,
                       (double)o.scan_ny * (double)o.scan_nx * (double)stride,
                       (long long)ds->info.file_bytes);
        free(xml);
        return rc;
    }
    free(xml);
    return io_open_raw(ds, &o);
}
