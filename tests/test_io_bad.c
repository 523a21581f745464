/* Bad input for every reader: each gives a failing status and a one-line message that
 * names the file and says what was expected and found - never a crash, never a
 * dataset. */
#include <stdlib.h>
#include <sys/stat.h>

#include "io/dataset_internal.h"
#include "io_writers.h"
#include "test_util.h"

static char bufs[4][512];
static const char *path; /* the last path tmp() made */

/* Path of `name` in the test folder; four rotating buffers, so that a call such as
 * truncate_copy(tmp(a), tmp(b), n) gets two distinct paths. */
static const char *tmp(const char *name)
{
    static int k;
    k = (k + 1) % 4;
    snprintf(bufs[k], sizeof bufs[k], "%s/%s", test_tmpdir(), name);
    return path = bufs[k];
}

/* Opening `spec` fails with status `want_rc`, one line, naming the file (the part of
 * spec before any ":/"), containing `what`. */
static void bad(const char *spec, const lcae_open_options *o, int want_rc, const char *what)
{
    lcae_dataset *ds = NULL;
    int rc = lcae_dataset_open(spec, o, &ds);
    const char *msg = lcae_last_error();
    char file[512];
    snprintf(file, sizeof file, "%s", spec);
    char *colon = strstr(file, ":/");
    if (colon)
        *colon = 0;
    CHECK_MSG(rc == want_rc && ds == NULL && strstr(msg, what) && strstr(msg, file) &&
                  !strchr(msg, '\n'),
              "%s: rc %d (want %d), message '%s' (want '%s')", spec, rc, want_rc, msg, what);
    lcae_dataset_close(ds);
}

static void write_bytes(const char *p, const void *data, size_t n)
{
    FILE *fp = fopen(p, "wb");
    fwrite(data, 1, n, fp);
    fclose(fp);
}

/* The first `keep` bytes of file `src` into `dst`. */
static void truncate_copy(const char *src, const char *dst, long keep)
{
    FILE *in = fopen(src, "rb");
    char *buf = malloc((size_t)keep);
    size_t got = fread(buf, 1, (size_t)keep, in);
    fclose(in);
    write_bytes(dst, buf, got);
    free(buf);
}

/* A version-1 .npy header with this dict text and no data. */
static void npy_with_dict(const char *p, const char *dict)
{
    char buf[256] = "\x93NUMPY\x01\x00";
    size_t len = strlen(dict);
    size_t total = (10 + len + 1 + 63) / 64 * 64;
    buf[8] = (char)(total - 10);
    buf[9] = 0;
    memcpy(buf + 10, dict, len);
    memset(buf + 10 + len, ' ', total - 10 - len - 1);
    buf[total - 1] = '\n';
    write_bytes(p, buf, total);
}

static void test_files(void)
{
    bad(tmp("missing.npy"), NULL, LCAE_EFAIL, "cannot open (No such file");
    bad(test_tmpdir(), NULL, LCAE_EFAIL, "not a regular file (expected a scan file, found a "
                                         "directory)");
    CHECK(tw_text(tmp("unknown.bin"), "hello") == 0);
    bad(path, NULL, LCAE_EUSAGE, "unknown file format");
    CHECK(tw_text(tmp("empty.npy"), "") == 0);
    bad(path, NULL, LCAE_EFAIL, "not an .npy file");
    if (geteuid() != 0) { /* root reads everything: nothing to test then */
        int64_t s[4] = {1, 1, 2, 2};
        CHECK(tw_npy(tmp("locked.npy"), LCAE_DT_U8, 0, 1, 4, s, 0) == 0);
        chmod(path, 0);
        bad(path, NULL, LCAE_EFAIL, "Permission denied");
    }
}

static void test_npy(void)
{
    int64_t s4[4] = {2, 3, 4, 5}, s3[3] = {6, 4, 5}, s2[2] = {4, 5};
    CHECK(tw_npy(tmp("trunc_src.npy"), LCAE_DT_U16, 0, 1, 4, s4, 0) == 0);
    truncate_copy(tmp("trunc_src.npy"), tmp("trunc.npy"), 128 + 2 * 3 * 4 * 5 * 2 - 7);
    bad(tmp("trunc.npy"), NULL, LCAE_EFAIL, "truncated npy data");
    truncate_copy(tmp("trunc_src.npy"), tmp("trunc_header.npy"), 40);
    bad(tmp("trunc_header.npy"), NULL, LCAE_EFAIL, "does not fit the file");
    CHECK(tw_npy(tmp("stack.npy"), LCAE_DT_F32, 0, 1, 3, s3, 0) == 0);
    bad(path, NULL, LCAE_EUSAGE, "give --scan NYxNX");
    lcae_open_options o = {.scan_ny = 2, .scan_nx = 2};
    bad(path, &o, LCAE_EUSAGE, "does not fit the array (expected 4 patterns, found 6)");
    CHECK(tw_npy(tmp("image.npy"), LCAE_DT_F32, 0, 1, 2, s2, 0) == 0);
    bad(path, NULL, LCAE_EFAIL, "found 2 dimensions");
    CHECK(tw_npy(tmp("fortran.npy"), LCAE_DT_F32, 0, 1, 4, s4, 1) == 0);
    bad(path, NULL, LCAE_EFAIL, "Fortran-order array (expected C order");
    CHECK(tw_npy(tmp("int64.npy"), LCAE_DT_I64, 0, 1, 4, s4, 0) == 0);
    bad(path, NULL, LCAE_EFAIL, "unsupported dtype for a scan (expected one of u1 u2 u4 i2 "
                                "i4 f4 f8, found int64)");
    npy_with_dict(tmp("complex.npy"), "{'descr': '<c8', 'fortran_order': False, "
                  "'shape': (1, 1, 1, 1), }");
    bad(path, NULL, LCAE_EFAIL, "found '<c8'");
    /* absurd: 10^12 patterns in a tiny file */
    npy_with_dict(tmp("huge.npy"), "{'descr': '<f4', 'fortran_order': False, "
                  "'shape': (1000000, 1000000, 4, 4), }");
    bad(path, NULL, LCAE_EFAIL, "truncated npy data");
    npy_with_dict(tmp("overflow.npy"), "{'descr': '<f8', 'fortran_order': False, "
                  "'shape': (4611686018427387904, 1, 1, 1), }");
    bad(path, NULL, LCAE_EFAIL, "absurdly large");
    /* --format mib on an npy file */
    lcae_open_options m = {.format = LCAE_FMT_MIB};
    bad(tmp("trunc_src.npy"), &m, LCAE_EFAIL, "Merlin frame header");
}

static void test_empad(void)
{
    CHECK(tw_empad(tmp("scan_x3_y3.raw"), 6, 128, 128) == 0);
    bad(path, NULL, LCAE_EFAIL, "size does not fit the scan shape from the file name "
                                "(expected 3 x 3 frames of 130 x 128 float32");
    lcae_open_options o = {.scan_ny = 2, .scan_nx = 2};
    bad(path, &o, LCAE_EUSAGE, "shape from --scan");
    CHECK(tw_empad(tmp("noshape.raw"), 2, 128, 128) == 0);
    bad(path, NULL, LCAE_EUSAGE, "no companion .xml and no _xNX_yNY in the name; give --scan");
    truncate_copy(tmp("scan_x3_y3.raw"), tmp("scan_x2_y3.raw"), 6 * 130 * 128 * 4 - 100);
    bad(tmp("scan_x2_y3.raw"), NULL, LCAE_EFAIL, "size does not fit");
    /* broken and absurd companion XMLs: the error names the .xml */
    mkdir(tmp("x1"), 0700);
    CHECK(tw_empad(tmp("x1/scan_x2_y3.raw"), 6, 128, 128) == 0);
    CHECK(tw_text(tmp("x1/scan_x2_y3.xml"), "<root><pix_x>2</pix_x><pix_y>3</root>") == 0);
    bad(tmp("x1/scan_x2_y3.raw"), NULL, LCAE_EFAIL, "scan_x2_y3.xml: not well-formed XML "
                                                    "(line 1: closing tag does not match");
    CHECK(tw_text(tmp("x1/scan_x2_y3.xml"), "<root><pix_x>1000000000000</pix_x><pix_y>3"
                  "</pix_y></root>") == 0);
    bad(tmp("x1/scan_x2_y3.raw"), NULL, LCAE_EFAIL, "<pix_x> is not a plausible count");
    CHECK(tw_text(tmp("x1/scan_x2_y3.xml"), "<root><pix_x>3</pix_x><pix_y>3</pix_y></root>")
          == 0);
    bad(tmp("x1/scan_x2_y3.raw"), NULL, LCAE_EFAIL, "x1/scan_x2_y3.xml (expected 3 x 3");
    CHECK(tw_text(tmp("x1/scan_x2_y3.xml"), "<html></html>") == 0);
    bad(tmp("x1/scan_x2_y3.raw"), NULL, LCAE_EFAIL, "not an EMPAD XML (expected root element "
                                                    "<root>, found <html>)");
}

static void test_mib(void)
{
    CHECK(tw_mib(tmp("ok.mib"), 4, 8, 8, LCAE_DT_U16, 384, 0) == 0);
    truncate_copy(tmp("ok.mib"), tmp("trunc.mib"), 4 * (384 + 128) - 9);
    bad(tmp("trunc.mib"), NULL, LCAE_EFAIL, "size is not a whole number of frames (expected a multiple "
                                "of 512 bytes = 384 header + 8 x 8 uint16");
    lcae_open_options o = {.scan_ny = 3, .scan_nx = 3};
    bad(tmp("ok.mib"), &o, LCAE_EUSAGE, "the file holds 4 frames, but the scan shape from "
                                       "--scan is 3 x 3");
    /* absurd .hdr: 10^12 frames */
    CHECK(tw_mib(tmp("absurd.mib"), 4, 8, 8, LCAE_DT_U16, 384, 0) == 0);
    CHECK(tw_text(tmp("absurd.hdr"), "HDR,\nFrames in Acquisition (Number):\t1000000000000\n"
                  "Frames per Trigger (Number):\t1000000\nEnd\t") == 0);
    bad(tmp("absurd.mib"), NULL, LCAE_EFAIL, "absurd.hdr is 1000000 x 1000000");
    CHECK(tw_text(tmp("absurd.hdr"), "HDR,\nFrames in Acquisition (Number):\t-4\nEnd") == 0);
    bad(tmp("absurd.mib"), NULL, LCAE_EFAIL, "'Frames in Acquisition (Number)' is not a "
                                             "plausible count");
    CHECK(tw_text(tmp("absurd.hdr"), "not a header") == 0);
    bad(tmp("absurd.mib"), NULL, LCAE_EFAIL, "not a Merlin .hdr file");
    /* frame headers: unknown type, absurd width, a frame that differs */
    char h[400] = "MQ1,000001,00384,01,0008,0008,U12,   1x1,01,";
    write_bytes(tmp("u12.mib"), h, 384);
    bad(path, NULL, LCAE_EFAIL, "unknown Merlin pixel type (expected U08, U16, U32, U64 or "
                                "R64, found 'U12')");
    snprintf(h, sizeof h, "MQ1,000001,00384,01,0064,0008,R64,   1x1,01,3RX,MQ1A,"
             "2021-04-15T13:43:00Z,1000000ns,6,");
    write_bytes(tmp("raw6.mib"), h, 384);
    bad(path, NULL, LCAE_EFAIL, "Merlin RAW mode (R64) is supported for 1-bit counters of one "
                                "chip or a 2x2 quad only (found counter depth 6");
    snprintf(h, sizeof h, "MQ1,000001,00384,01,99999,0008,U08,   1x1,01,");
    write_bytes(tmp("wide.mib"), h, 384);
    bad(path, NULL, LCAE_EFAIL, "width is not plausible (expected 1..65536, found '99999')");
    snprintf(h, sizeof h, "MQ1,000001,00010,01,0008,0008,U08,   1x1,01,");
    write_bytes(tmp("short.mib"), h, 384);
    bad(path, NULL, LCAE_EFAIL, "header size 10 is shorter than its own fields");
    CHECK(tw_mib(tmp("mixed.mib"), 3, 8, 8, LCAE_DT_U8, 384, 0) == 0);
    FILE *fp = fopen(path, "r+b");
    fseek(fp, 2 * (384 + 64), SEEK_SET);
    fputs("MQ1,000003,00384,01,0008,0008,U16,", fp); /* frame 3 claims another type */
    fclose(fp);
    bad(path, NULL, LCAE_EFAIL, "frame 3 differs from frame 1");
    fp = fopen(path, "r+b");
    fseek(fp, 2 * (384 + 64), SEEK_SET);
    fputs("XQ1", fp);
    fclose(fp);
    bad(path, NULL, LCAE_EFAIL, "frame 3: ");
}

static void test_hdf5(void)
{
    hid_t f = H5Fcreate(tmp("two.h5"), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    hsize_t a[4] = {2, 2, 3, 3}, b[4] = {1, 2, 3, 3}, c[2] = {4, 4};
    tw_h5_dataset(f, "/a", LCAE_DT_U8, 0, 4, a, 0);
    tw_h5_dataset(f, "/g/b", LCAE_DT_U8, 0, 4, b, 1);
    tw_h5_dataset(f, "/img", LCAE_DT_U8, 0, 2, c, 0);
    H5Fclose(f);
    char want[1500], spec[600];
    snprintf(want, sizeof want, "two.h5: several 4-D datasets (the largest pattern stack is /a "
             "(2 x 2 x 3 x 3): read it as %s:/a, or name another as FILE:/path; candidates: /a "
             "(2 x 2 x 3 x 3), /g/b (1 x 2 x 3 x 3))", tmp("two.h5"));
    bad(tmp("two.h5"), NULL, LCAE_EFAIL, want);
    snprintf(spec, sizeof spec, "%s:/g/nope/data", tmp("two.h5"));
    bad(spec, NULL, LCAE_EFAIL, "no object /g/nope/data in the file (datasets: /a");
    snprintf(spec, sizeof spec, "%s:/g", tmp("two.h5"));
    bad(spec, NULL, LCAE_EFAIL, "/g is not a dataset");
    snprintf(spec, sizeof spec, "%s:/img", tmp("two.h5"));
    bad(spec, NULL, LCAE_EFAIL, "dataset /img has 2 dimensions");
    snprintf(spec, sizeof spec, "%s:/a", tmp("two.h5"));
    lcae_open_options o = {.scan_ny = 1000000, .scan_nx = 1000000};
    bad(spec, &o, LCAE_EUSAGE, "does not match dataset /a's scan shape (2 x 2)");
    /* 3-D datasets with --scan: the larger (more values) is named; no 4-D one, no --scan:
     * the whole listing. Above rank 4, too many or too few dimensions larger than 1. */
    f = H5Fcreate(tmp("stacks.h5"), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    hsize_t s1[3] = {4, 3, 3}, s2[3] = {6, 3, 3};
    hsize_t w6[6] = {2, 3, 1, 4, 5, 2}, f6[6] = {1, 1, 1, 1, 3, 3};
    tw_h5_dataset(f, "/s1", LCAE_DT_U8, 0, 3, s1, 0);
    tw_h5_dataset(f, "/s2", LCAE_DT_U8, 0, 3, s2, 1);
    tw_h5_dataset(f, "/wide", LCAE_DT_U8, 0, 6, w6, 0);
    tw_h5_dataset(f, "/flat", LCAE_DT_U8, 0, 6, f6, 0);
    H5Fclose(f);
    o = (lcae_open_options){.scan_ny = 2, .scan_nx = 3};
    snprintf(want, sizeof want, "stacks.h5: several 3-D datasets and no 4-D one (the largest "
             "pattern stack is /s2 (6 x 3 x 3): read it as %s:/s2, or name another as "
             "FILE:/path; candidates: /s1 (4 x 3 x 3), /s2 (6 x 3 x 3))", tmp("stacks.h5"));
    bad(tmp("stacks.h5"), &o, LCAE_EFAIL, want);
    bad(tmp("stacks.h5"), NULL, LCAE_EFAIL, "no 4-D dataset (expected one 4-D dataset, or one "
        "3-D dataset with --scan; name one as FILE:/path; datasets: /flat (1 x 1 x 1 x 1 x 3 "
        "x 3), /s1 (4 x 3 x 3), /s2 (6 x 3 x 3), /wide (2 x 3 x 1 x 4 x 5 x 2))");
    snprintf(spec, sizeof spec, "%s:/wide", tmp("stacks.h5"));
    bad(spec, NULL, LCAE_EFAIL, "dataset /wide has 6 dimensions (2 x 3 x 1 x 4 x 5 x 2), 5 of "
        "them larger than 1");
    snprintf(spec, sizeof spec, "%s:/flat", tmp("stacks.h5"));
    bad(spec, NULL, LCAE_EFAIL, "dataset /flat has 6 dimensions (1 x 1 x 1 x 1 x 3 x 3), 2 of "
        "them larger than 1 (expected 4 or 3: (ny, nx, h, w) or (n, h, w), size-1 dimensions "
        "aside)");
    /* truncated file */
    struct stat st;
    stat(tmp("two.h5"), &st);
    truncate_copy(tmp("two.h5"), tmp("cut.h5"), (long)st.st_size / 2);
    bad(tmp("cut.h5"), NULL, LCAE_EFAIL, "cut.h5: ");
    /* not HDF5 at all, but said to be */
    CHECK(tw_text(tmp("fake.h5"), "just text") == 0);
    bad(tmp("fake.h5"), NULL, LCAE_EFAIL, "not an HDF5 file");
    /* absurd: 10^12 patterns (a chunked dataset never written costs nothing on disk) */
    f = H5Fcreate(tmp("absurd.h5"), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    hsize_t big[4] = {1000000, 1000000, 4, 4}, ch[4] = {1, 1, 4, 4};
    hid_t sp = H5Screate_simple(4, big, NULL), pl = H5Pcreate(H5P_DATASET_CREATE);
    H5Pset_chunk(pl, 4, ch);
    H5Dclose(H5Dcreate2(f, "/scan", H5T_STD_U16LE, sp, H5P_DEFAULT, pl, H5P_DEFAULT));
    H5Pclose(pl);
    H5Sclose(sp);
    H5Fclose(f);
    bad(tmp("absurd.h5"), NULL, LCAE_EFAIL, "implausible shape (scan 1000000 x 1000000");
    /* a string dataset */
    f = H5Fcreate(tmp("strings.h5"), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    hid_t t = H5Tcopy(H5T_C_S1);
    H5Tset_size(t, 4);
    hsize_t d4[4] = {1, 1, 2, 2};
    hid_t s = H5Screate_simple(4, d4, NULL);
    H5Dclose(H5Dcreate2(f, "/text", t, s, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT));
    H5Sclose(s);
    H5Tclose(t);
    H5Fclose(f);
    bad(tmp("strings.h5"), NULL, LCAE_EFAIL, "holds no numbers");
}

static void test_raw(void)
{
    CHECK(tw_text(tmp("short.bin"), "0123456789") == 0);
    lcae_open_options o = {.det_h = 8, .det_w = 8, .dtype = LCAE_DT_F32, .scan_ny = 2,
                           .scan_nx = 2};
    bad(tmp("short.bin"), &o, LCAE_EFAIL, "file is too short for the shape (expected at least "
                                          "1024 bytes for 2 x 2 patterns of 8 x 8 float32, "
                                          "found 10)");
    o.frame_footer_bytes = INT64_C(1) << 40;
    bad(tmp("short.bin"), &o, LCAE_EUSAGE, "raw layout options are out of range");
    o.frame_footer_bytes = (1 << 30);
    o.scan_ny = o.scan_nx = 1 << 18; /* 2^36 frames of 2^30-byte footers: > 2^63 bytes */
    bad(tmp("short.bin"), &o, LCAE_EFAIL, "file is too short for the shape");
    o.scan_ny = o.scan_nx = 1 << 24;
    bad(tmp("short.bin"), &o, LCAE_EFAIL, "implausible shape (scan 16777216 x 16777216");
    lcae_open_options none = {.format = LCAE_FMT_RAW};
    bad(tmp("short.bin"), &none, LCAE_EUSAGE, "raw format needs --det HxW and --dtype");
}

int main(void)
{
    test_raw();
    test_files();
    test_npy();
    test_empad();
    test_mib();
    test_hdf5();
    return test_done("test_io_bad");
}
