/* Quantum Detectors Merlin .mib: frames, each an ASCII header then big-endian pixels,
 *   "MQ1,<seq>,<header bytes>,<chips>,<width>,<height>,<type>,<layout>,...,
 *    MQ1A,<time>,<exposure>,<counter depth>,"
 * with type U08/U16/U32/U64 (1- and 6-bit counters are stored as U08, 12-bit as U16,
 * 24-bit as U32) or R64 (RAW: the counters' bits as read out). A quad (2x2 chips) frame
 * in a decoded mode is already one 512 x 512 image: nothing to reassemble. Decoded
 * frames are a fixed-stride raw layout, pixels as stored (no flip); RAW frames with
 * 1-bit counters (single chip or quad) are decoded here; other RAW depths are refused:
 * no real file exists to check a decoder against. Scan shape: --scan, else the .hdr
 * beside the .mib (ScanX/ScanY, else Frames per Trigger = one scan row), else one row
 * of all frames. */
#include "dataset_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MIB_HDR_MAX (1 << 20)      /* the real ones are 2-4 KB */
#define MIB_HEADER_MAX (1 << 16)   /* bytes of one frame header; real: 384 or 768 */

/* Next comma-separated field of s (at most n bytes) into out; returns the position after
 * the comma, or NULL at the end of the text. */
static const char *field(const char *s, const char *end, char *out, size_t outlen)
{
    size_t k = 0;
    while (s < end && *s != ',' && *s) {
        if (k + 1 < outlen)
            out[k++] = *s;
        s++;
    }
    out[k] = 0;
    return s < end && *s == ',' ? s + 1 : NULL;
}

/* Strict decimal (leading spaces allowed) in [lo, hi]; -1 if not. */
static int64_t count_in(const char *s, int64_t lo, int64_t hi)
{
    while (*s == ' ' || *s == '\t')
        s++;
    if (*s < '0' || *s > '9')
        return -1;
    int64_t v = 0;
    for (; *s >= '0' && *s <= '9'; s++) {
        v = v * 10 + (*s - '0');
        if (v > hi)
            return -1;
    }
    while (*s == ' ' || *s == '\t' || *s == '\r')
        s++;
    return *s || v < lo ? -1 : v;
}

int io_mib_parse_frame_header(const char *path, const char *text, size_t n, io_mib_frame *f)
{
    memset(f, 0, sizeof *f);
    const char *p = text, *end = text + n;
    char v[7][24];
    for (int i = 0; i < 7; i++) {
        if (!p)
            return lcae_fail(LCAE_EFAIL, "%s: truncated Merlin frame header (expected 7 "
                             "comma-separated fields, found %d)", path, i);
        p = field(p, end, v[i], sizeof v[i]);
    }
    if (strcmp(v[0], "MQ1"))
        return lcae_fail(LCAE_EFAIL, "%s: not a Merlin frame header (expected 'MQ1', found "
                         "'%.8s')", path, v[0]);
    const char *names[] = {"sequence number", "header size", "chip count", "width", "height"};
    int64_t lo[] = {0, 0, 1, 1, 1}, hi[] = {INT64_C(1) << 40, MIB_HEADER_MAX, 64, 65536, 65536};
    int64_t x[5];
    for (int i = 0; i < 5; i++) {
        x[i] = count_in(v[i + 1], lo[i], hi[i]);
        if (x[i] < 0)
            return lcae_fail(LCAE_EFAIL, "%s: Merlin frame header %s is not plausible "
                             "(expected %lld..%lld, found '%s')", path, names[i],
                             (long long)lo[i], (long long)hi[i], v[i + 1]);
    }
    f->seq = x[0];
    f->header_bytes = x[1];
    f->chips = x[2];
    f->w = x[3];
    f->h = x[4];
    /* the header must at least hold the fields just read */
    int64_t used = (p ? p : end) - text;
    if (f->header_bytes < used)
        return lcae_fail(LCAE_EFAIL, "%s: Merlin frame header size %lld is shorter than its "
                         "own fields (%lld bytes)", path, (long long)f->header_bytes,
                         (long long)used);
    static const struct { const char *name; lcae_dtype t; } types[] = {
        {"U08", LCAE_DT_U8}, {"U16", LCAE_DT_U16}, {"U32", LCAE_DT_U32}, {"U64", LCAE_DT_U64}};
    for (size_t i = 0; i < sizeof types / sizeof *types; i++)
        if (!strcmp(v[6], types[i].name))
            f->dtype = types[i].t;
    if (!strcmp(v[6], "R64"))
        f->raw_mode = 1;
    else if (!f->dtype)
        return lcae_fail(LCAE_EFAIL, "%s: unknown Merlin pixel type (expected U08, U16, U32, "
                         "U64 or R64, found '%s')", path, v[6]);
    /* Merlin 0.7x+ headers end with "MQ1A,<time>,<exposure>,<counter depth>," */
    size_t hn = n < (size_t)f->header_bytes ? n : (size_t)f->header_bytes;
    for (size_t i = 0; i + 6 <= hn; i++) {
        if (memcmp(text + i, ",MQ1A,", 6))
            continue;
        const char *q = text + i + 6, *hend = text + hn;
        char d[24];
        for (int k = 0; k < 3 && q; k++)
            q = field(q, hend, d, sizeof d);
        if (q) { /* the depth field was ended by a comma */
            int64_t depth = count_in(d, 1, 64);
            f->depth = depth > 0 ? (int)depth : 0;
        }
        break;
    }
    return LCAE_OK;
}

/* One 1-bit RAW stripe: each 64-bit word holds 64 pixels, its bytes in reverse order and
 * each byte's pixels from its least significant bit (LiberTEM's decode_r1_swap; checked
 * on the real RAW acquisitions against their decoded twins, see test_io_real). `n`
 * bytes (a multiple of 8) to 8n pixels, written backwards if `reverse`. */
static void r1_stripe(const unsigned char *in, int64_t n, float *out, int reverse)
{
    int64_t px = 8 * n;
    for (int64_t g = 0; g < n / 8; g++)
        for (int b = 0; b < 8; b++) {
            unsigned char byte = in[8 * g + 7 - b];
            for (int bit = 0; bit < 8; bit++) {
                int64_t x = 64 * g + 8 * b + bit;
                out[reverse ? px - 1 - x : x] = (float)((byte >> bit) & 1);
            }
        }
}

void io_mib_decode_r1(const unsigned char *in, int64_t w, int64_t h, int quad, float *out)
{
    if (!quad) {
        r1_stripe(in, w * h / 8, out, 0);
        return;
    }
    /* A quad RAW row holds one row of each chip, stored [4 | 3 | 2 | 1]; the image is
     *   1 2
     *   3 4   with chips 3 and 4 turned by 180 degrees (row h-1-y, reversed). */
    int64_t half = w / 4, bytes = half / 8, ow = w / 2;
    for (int64_t y = 0; y < h; y++) {
        const unsigned char *row = in + y * (w / 8);
        r1_stripe(row + 3 * bytes, bytes, out + y * ow, 0);
        r1_stripe(row + 2 * bytes, bytes, out + y * ow + half, 0);
        r1_stripe(row + 1 * bytes, bytes, out + (2 * h - 1 - y) * ow, 1);
        r1_stripe(row, bytes, out + (2 * h - 1 - y) * ow + half, 1);
    }
}

int io_mib_parse_hdr(const char *path, const char *text, size_t n, io_mib_hdr *h)
{
    memset(h, 0, sizeof *h);
    const char *p = text, *end = text + n;
    if (n < 3 || memcmp(text, "HDR", 3))
        return lcae_fail(LCAE_EFAIL, "%s: not a Merlin .hdr file (expected 'HDR,' first)", path);
    static const struct { const char *key; size_t off; } keys[] = {
        {"Frames in Acquisition (Number)", offsetof(io_mib_hdr, frames)},
        {"Frames per Trigger (Number)", offsetof(io_mib_hdr, frames_per_trigger)},
        {"ScanX", offsetof(io_mib_hdr, scan_x)},
        {"ScanY", offsetof(io_mib_hdr, scan_y)}};
    /* "Key:\tvalue" lines up to "End"; the file is padded with NULs */
    while (p < end && *p) {
        const char *eol = p;
        while (eol < end && *eol && *eol != '\n')
            eol++;
        const char *colon = memchr(p, ':', (size_t)(eol - p));
        if (colon) {
            for (size_t i = 0; i < sizeof keys / sizeof *keys; i++) {
                size_t kl = strlen(keys[i].key);
                if ((size_t)(colon - p) != kl || memcmp(p, keys[i].key, kl))
                    continue;
                char val[32];
                size_t vl = (size_t)(eol - colon - 1);
                if (vl >= sizeof val)
                    vl = sizeof val - 1;
                memcpy(val, colon + 1, vl);
                val[vl] = 0;
                int64_t v = count_in(val, 1, INT64_C(1) << 40);
                if (v < 0)
                    return lcae_fail(LCAE_EFAIL, "%s: '%s' is not a plausible count (expected "
                                     "1..2^40, found '%.20s')", path, keys[i].key, val);
                *(int64_t *)((char *)h + keys[i].off) = v;
            }
        } else if (eol - p >= 3 && !memcmp(p, "End", 3)) {
            break;
        }
        p = eol < end && *eol == '\n' ? eol + 1 : eol;
    }
    return LCAE_OK;
}

/* The header of the frame at `off` into f (message names `path` and the frame). */
static int read_frame_header(int fd, const char *path, int64_t off, int64_t index,
                             io_mib_frame *f)
{
    char buf[4096]; /* real headers are 384 (one chip) or 768 (quad) bytes */
    ssize_t got = pread(fd, buf, sizeof buf, off);
    if (got < 0)
        return lcae_fail(LCAE_EFAIL, "%s: read failed (%s)", path, strerror(errno));
    int rc = io_mib_parse_frame_header(path, buf, (size_t)got, f);
    if (rc && index > 0) {
        char msg[512];
        snprintf(msg, sizeof msg, "%s", lcae_last_error());
        return lcae_fail(LCAE_EFAIL, "frame %lld: %s", (long long)index + 1, msg);
    }
    return rc;
}

/* Scan shape from the .hdr beside the .mib (same stem); 0 in *ny if there is none. */
static int shape_from_hdr(const char *mib_path, int64_t *ny, int64_t *nx, char **hdr_out)
{
    *ny = *nx = 0;
    *hdr_out = NULL;
    size_t len = strlen(mib_path);
    const char *dot = strrchr(mib_path, '.');
    const char *slash = strrchr(mib_path, '/');
    size_t stem = dot && (!slash || dot > slash) ? (size_t)(dot - mib_path) : len;
    char *hp = lcae_malloc(stem + 5);
    if (!hp)
        return LCAE_ENOMEM;
    memcpy(hp, mib_path, stem);
    memcpy(hp + stem, ".hdr", 5);
    if (access(hp, F_OK) != 0) {
        free(hp);
        return LCAE_OK;
    }
    char *text;
    size_t n;
    io_mib_hdr h;
    int rc = lcae_read_text_file(hp, MIB_HDR_MAX, &text, &n);
    if (!rc) {
        rc = io_mib_parse_hdr(hp, text, n, &h);
        free(text);
    }
    if (rc) {
        char msg[600];
        snprintf(msg, sizeof msg, "%s", lcae_last_error());
        free(hp);
        return lcae_fail(rc, "%s: companion %s", mib_path, msg);
    }
    if (h.scan_x && h.scan_y) {
        *ny = h.scan_y;
        *nx = h.scan_x;
    } else if (h.frames && h.frames_per_trigger > 1 && h.frames % h.frames_per_trigger == 0) {
        *ny = h.frames / h.frames_per_trigger;
        *nx = h.frames_per_trigger;
    } else if (h.frames) {
        *ny = 1;
        *nx = h.frames;
    }
    *hdr_out = hp;
    return LCAE_OK;
}

/* ---- RAW 1-bit frames: decoded on read --------------------------------------------- */
typedef struct {
    int fd;
    int64_t header_bytes, stride, raw_w, raw_h;
    int quad;
} r1_state;

static int r1_read(lcae_dataset *ds, int64_t first, int64_t count, float *out)
{
    const r1_state *st = ds->state;
    int64_t bytes = st->raw_w * st->raw_h / 8, px = ds->info.h * ds->info.w;
    unsigned char *buf = lcae_malloc((size_t)bytes);
    if (!buf)
        return LCAE_ENOMEM;
    int rc = LCAE_OK;
    for (int64_t i = 0; i < count && !rc; i++) {
        int64_t off = (first + i) * st->stride + st->header_bytes, got = 0;
        while (got < bytes) {
            ssize_t r = pread(st->fd, buf + got, (size_t)(bytes - got), off + got);
            if (r < 0 && errno == EINTR)
                continue;
            if (r <= 0) {
                rc = r < 0 ? lcae_fail(LCAE_EFAIL, "%s: read failed (%s)", ds->path,
                                       strerror(errno))
                           : lcae_fail(LCAE_EFAIL, "%s: truncated (frame %lld is past the end "
                                       "of the file)", ds->path, (long long)(first + i + 1));
                break;
            }
            got += r;
        }
        if (!rc)
            io_mib_decode_r1(buf, st->raw_w, st->raw_h, st->quad, out + i * px);
    }
    free(buf);
    return rc;
}

static void r1_close(lcae_dataset *ds)
{
    r1_state *st = ds->state;
    if (st) {
        close(st->fd);
        free(st);
    }
}

static const lcae_reader_ops r1_ops = {r1_read, r1_close};

/* Takes over fd on success. */
static int attach_r1(lcae_dataset *ds, int fd, const io_mib_frame *f, int64_t stride)
{
    int quad = f->chips == 4;
    ds->info.h = quad ? 2 * f->h : f->h;
    ds->info.w = quad ? f->w / 2 : f->w;
    int rc = io_check_shape(ds->path, &ds->info);
    if (rc)
        return rc;
    r1_state *st = lcae_malloc(sizeof *st);
    if (!st)
        return LCAE_ENOMEM;
    *st = (r1_state){fd, f->header_bytes, stride, f->w, f->h, quad};
    ds->info.dtype = LCAE_DT_U8; /* 0/1 counts */
    ds->state = st;
    ds->ops = &r1_ops;
    return LCAE_OK;
}

int io_open_mib(lcae_dataset *ds, const lcae_open_options *opt)
{
    int fd = open(ds->path, O_RDONLY);
    if (fd < 0)
        return lcae_fail(LCAE_EFAIL, "%s: cannot open (%s)", ds->path, strerror(errno));
    io_mib_frame f, g;
    int rc = read_frame_header(fd, ds->path, 0, 0, &f);
    if (rc)
        goto done;
    int quad = f.chips == 4;
    if (f.raw_mode && (f.depth != 1 || (f.chips != 1 && !quad) || f.w % 64 ||
                       (quad && (f.w % 256 || f.w / 4 != f.h)))) {
        /* other depths have no real file to check a decoder against */
        rc = lcae_fail(LCAE_EFAIL, "%s: Merlin RAW mode (R64) is supported for 1-bit counters "
                       "of one chip or a 2x2 quad only (found counter depth %d, %lld chips, "
                       "%lld x %lld; acquire or export in a decoded mode: U08, U16 or U32)",
                       ds->path, f.depth, (long long)f.chips, (long long)f.w, (long long)f.h);
        goto done;
    }
    int64_t frame_bytes = f.raw_mode ? f.w * f.h / 8
                                     : f.w * f.h * (int64_t)lcae_dtype_size(f.dtype);
    int64_t stride = f.header_bytes + frame_bytes;
    int64_t frames = ds->info.file_bytes / stride;
    const char *type = f.raw_mode ? "1-bit RAW" : lcae_dtype_name(f.dtype);
    if (frames < 1 || ds->info.file_bytes % stride) {
        rc = lcae_fail(LCAE_EFAIL, "%s: size is not a whole number of frames (expected a "
                       "multiple of %lld bytes = %lld header + %lld x %lld %s, found %lld: "
                       "truncated?)", ds->path, (long long)stride, (long long)f.header_bytes,
                       (long long)f.h, (long long)f.w, type, (long long)ds->info.file_bytes);
        goto done;
    }
    /* the second and the last frame must look like the first: a fixed stride */
    int64_t check[2] = {1, frames - 1};
    for (int i = 0; i < 2 && frames > 1; i++) {
        if ((rc = read_frame_header(fd, ds->path, check[i] * stride, check[i], &g)))
            goto done;
        if (g.header_bytes != f.header_bytes || g.w != f.w || g.h != f.h ||
            g.dtype != f.dtype || g.raw_mode != f.raw_mode) {
            rc = lcae_fail(LCAE_EFAIL, "%s: frame %lld differs from frame 1 (expected %lld x "
                           "%lld %s with a %lld-byte header, found %lld x %lld %s with %lld; "
                           "mixed frame formats are not supported)", ds->path,
                           (long long)check[i] + 1, (long long)f.h, (long long)f.w,
                           lcae_dtype_name(f.dtype), (long long)f.header_bytes, (long long)g.h,
                           (long long)g.w, lcae_dtype_name(g.dtype),
                           (long long)g.header_bytes);
            goto done;
        }
    }
    int64_t ny = opt->scan_ny, nx = opt->scan_nx;
    char *hdr = NULL;
    if (!ny || !nx) {
        if ((rc = shape_from_hdr(ds->path, &ny, &nx, &hdr)))
            goto done;
        if (!ny) {
            ny = 1;
            nx = frames;
        }
    }
    if (ny <= 0 || nx <= 0 || ny > (1 << 24) || nx > (1 << 24) || ny * nx != frames) {
        /* a wrong --scan is misuse; a .hdr that disagrees with its file is bad input */
        rc = lcae_fail(hdr ? LCAE_EFAIL : LCAE_EUSAGE, "%s: the file holds %lld frames, but "
                       "the scan shape from "
                       "%s is %lld x %lld (give --scan NYxNX)", ds->path, (long long)frames,
                       hdr ? hdr : "--scan", (long long)ny, (long long)nx);
        free(hdr);
        goto done;
    }
    free(hdr);
    ds->info.ny = ny;
    ds->info.nx = nx;
    if (f.raw_mode) {
        rc = attach_r1(ds, fd, &f, stride);
        if (!rc)
            fd = -1; /* now the reader's */
        goto done;
    }
    ds->info.h = f.h;
    ds->info.w = f.w;
    lcae_raw_layout L = {0};
    L.dtype = f.dtype;
    L.swap = lcae_dtype_size(f.dtype) > 1; /* big endian as stored */
    L.data_offset = f.header_bytes;
    L.frame_stride = stride;
    rc = io_raw_attach(ds, &L);
done:
    if (fd >= 0)
        close(fd);
    return rc;
}
