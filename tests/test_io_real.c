/* Every real detector file in tests/fixtures/shared/data/real/ that lcae can read, compared with
 * the shapes, dtypes and statistics in that folder's README (computed there with numpy
 * from the header fields: an independent reader), the Merlin RAW files against their
 * decoded twins, and the real files lcae cannot read give the documented one-line
 * errors. */
#include <stdlib.h>
#include <sys/stat.h>

#include "io/dataset_internal.h"
#include "io_writers.h"
#include "test_util.h"
#include "io_check.h"

static char real[512];

static const char *real_path(const char *rel)
{
    snprintf(real, sizeof real, "%s/data/real/%s", test_env("LCAE_SHARED_DIR"), rel);
    return real;
}

/* min, max and numpy's median of integer-valued patterns (histogram: the counts are
 * integers 0..65535 in these files) */
static void check_stats(const char *spec, const lcae_open_options *o, int64_t ny, int64_t nx,
                        int64_t h, int64_t w, lcae_dtype t, double vmin, double vmax,
                        double median)
{
    lcae_dataset *ds = open_checked(spec, o, -1, ny, nx, h, w, t);
    if (!ds)
        return;
    const lcae_dataset_info *in = lcae_dataset_get_info(ds);
    int64_t n = in->count * in->h * in->w;
    float *buf = malloc(sizeof(float) * (size_t)n);
    CHECK(lcae_dataset_read(ds, 0, in->count, buf) == 0);
    static int64_t hist[65536];
    memset(hist, 0, sizeof hist);
    float lo = buf[0], hi = buf[0];
    int nonint = 0;
    for (int64_t i = 0; i < n; i++) {
        lo = buf[i] < lo ? buf[i] : lo;
        hi = buf[i] > hi ? buf[i] : hi;
        if (buf[i] < 0 || buf[i] > 65535 || buf[i] != (float)(int)buf[i])
            nonint = 1;
        else
            hist[(int)buf[i]]++;
    }
    CHECK(!nonint);
    /* numpy: mean of the two middle elements for an even count */
    int64_t a = (n - 1) / 2, b = n / 2, seen = 0;
    double va = -1, vb = -1;
    for (int v = 0; v < 65536; v++) {
        if (va < 0 && seen + hist[v] > a)
            va = v;
        if (vb < 0 && seen + hist[v] > b)
            vb = v;
        seen += hist[v];
    }
    CHECK_MSG(lo == vmin && hi == vmax && (va + vb) / 2 == median,
              "%s: min %g max %g median %g, README says %g %g %g", spec, lo, hi,
              (va + vb) / 2, vmin, vmax, median);
    free(buf);
    lcae_dataset_close(ds);
}

static void test_merlin(void)
{
    static const struct {
        const char *name;
        int64_t ny, nx, h, w;
        lcae_dtype t;
        double min, max, median;
    } mib[] = {
        /* scan shape: ScanX/ScanY from the .hdr, else Frames per Trigger per row */
        {"001_4x2_6bit", 1, 8, 256, 256, LCAE_DT_U8, 0, 63, 1},
        {"002_4x2_6bit_roi128", 1, 8, 128, 256, LCAE_DT_U8, 0, 63, 2},
        {"002_merlin_test_roi_sig256x128_nav4x2_hot_pixel_52x_39y", 2, 4, 128, 256,
         LCAE_DT_U16, 0, 10, 0},
        {"003_merlin_test_roi_sig256x64_nav4x2_hot_pixel_52x_39y", 2, 4, 64, 256,
         LCAE_DT_U16, 0, 15, 0},
        {"Single_1_Frame_CounterDepth_1_Rows_256", 1, 1, 256, 256, LCAE_DT_U8, 0, 1, 0},
        {"Single_1_Frame_CounterDepth_6_Rows_256", 1, 1, 256, 256, LCAE_DT_U8, 0, 63, 0},
        {"Single_1_Frame_CounterDepth_12_Rows_256", 1, 1, 256, 256, LCAE_DT_U16, 0, 2239, 0},
        {"Single_1_Frame_CounterDepth_24_Rows_256", 1, 1, 256, 256, LCAE_DT_U32, 0, 2255, 0},
        {"Single_9_Frame_CounterDepth_1_Rows_256", 1, 9, 256, 256, LCAE_DT_U8, 0, 1, 0},
        {"Single_9_Frame_CounterDepth_6_Rows_256", 1, 9, 256, 256, LCAE_DT_U8, 0, 63, 0},
        {"Single_9_Frame_CounterDepth_12_Rows_256", 1, 9, 256, 256, LCAE_DT_U16, 0, 2216, 0},
        {"Single_9_Frame_CounterDepth_24_Rows_256", 1, 9, 256, 256, LCAE_DT_U32, 0, 2074, 0},
        {"Quad_1_Frame_CounterDepth_1_Rows_256", 1, 1, 512, 512, LCAE_DT_U8, 0, 1, 0},
        {"Quad_1_Frame_CounterDepth_6_Rows_256", 1, 1, 512, 512, LCAE_DT_U8, 0, 63, 0},
        {"Quad_1_Frame_CounterDepth_12_Rows_256", 1, 1, 512, 512, LCAE_DT_U16, 0, 4093, 0},
        {"Quad_1_Frame_CounterDepth_24_Rows_256", 1, 1, 512, 512, LCAE_DT_U32, 0, 4095, 0},
        {"Quad_9_Frame_CounterDepth_1_Rows_256", 1, 9, 512, 512, LCAE_DT_U8, 0, 1, 0},
        {"Quad_9_Frame_CounterDepth_6_Rows_256", 1, 9, 512, 512, LCAE_DT_U8, 0, 63, 0},
        {"Quad_9_Frame_CounterDepth_12_Rows_256", 1, 9, 512, 512, LCAE_DT_U16, 0, 4095, 0},
        {"Quad_9_Frame_CounterDepth_24_Rows_256", 1, 9, 512, 512, LCAE_DT_U32, 0, 4095, 0},
    };
    char rel[256];
    for (size_t i = 0; i < sizeof mib / sizeof *mib; i++) {
        snprintf(rel, sizeof rel, "merlin-rsciio/%s.mib", mib[i].name);
        check_stats(real_path(rel), NULL, mib[i].ny, mib[i].nx, mib[i].h, mib[i].w, mib[i].t,
                    mib[i].min, mib[i].max, mib[i].median);
    }
    /* the 4x2 acquisition read as the README's navigation (4, 2): x = 4 columns */
    lcae_open_options o = {.scan_ny = 2, .scan_nx = 4};
    check_stats(real_path("merlin-rsciio/001_4x2_6bit.mib"), &o, 2, 4, 256, 256, LCAE_DT_U8,
                0, 63, 1);
    /* RAW (R64) 1-bit files, decoded by lcae, against their decoded twins: acquisitions
     * taken right after each other with the same settings in a decoded mode (U08),
     * read by the reader checked above. Pixel noise differs between the two takes, but
     * the image does not: the sums over 16 x 16 (32 x 32 quad) pixel blocks correlate
     * > 0.9999 for a right decode, < 0.8 for a mirrored one or a wrong bit order;
     * the fraction of lit pixels agrees within 0.1 percentage point. */
    const char *raw[] = {"Single_1_Frame_CounterDepth_1_Rows_256",
                         "Single_9_Frame_CounterDepth_1_Rows_256",
                         "Quad_1_Frame_CounterDepth_1_Rows_256",
                         "Quad_9_Frame_CounterDepth_1_Rows_256"};
    for (int i = 0; i < 4; i++) {
        lcae_dataset *a = NULL, *b = NULL;
        snprintf(rel, sizeof rel, "merlin-rsciio/%sRAW.mib", raw[i]);
        int ra = lcae_dataset_open(real_path(rel), NULL, &a);
        CHECK_MSG(ra == 0, "%s: %s", rel, lcae_last_error());
        snprintf(rel, sizeof rel, "merlin-rsciio/%s.mib", raw[i]);
        int rb = lcae_dataset_open(real_path(rel), NULL, &b);
        if (ra || rb) {
            lcae_dataset_close(a);
            lcae_dataset_close(b);
            continue;
        }
        const lcae_dataset_info *ia = lcae_dataset_get_info(a), *ib = lcae_dataset_get_info(b);
        CHECK(ia->count == ib->count && ia->h == ib->h && ia->w == ib->w);
        int64_t px = ib->h * ib->w, k = ib->h == 512 ? 32 : 16, nb = ib->h / k;
        float *fa = malloc(sizeof(float) * (size_t)px), *fb = malloc(sizeof(float) * (size_t)px);
        double *sa = malloc(sizeof(double) * (size_t)(nb * nb));
        double *sb = malloc(sizeof(double) * (size_t)(nb * nb));
        for (int64_t f = 0; f < ib->count && ia->count == ib->count; f++) {
            CHECK(lcae_dataset_read(a, f, 1, fa) == 0 && lcae_dataset_read(b, f, 1, fb) == 0);
            memset(sa, 0, sizeof(double) * (size_t)(nb * nb));
            memset(sb, 0, sizeof(double) * (size_t)(nb * nb));
            int64_t lit_a = 0, lit_b = 0, not01 = 0;
            for (int64_t y = 0; y < ib->h; y++)
                for (int64_t x = 0; x < ib->w; x++) {
                    float va = fa[y * ib->w + x], vb = fb[y * ib->w + x];
                    not01 += va != 0 && va != 1;
                    lit_a += va > 0;
                    lit_b += vb > 0;
                    sa[(y / k) * nb + x / k] += va;
                    sb[(y / k) * nb + x / k] += vb;
                }
            double ma = 0, mb = 0, cab = 0, caa = 0, cbb = 0;
            for (int64_t j = 0; j < nb * nb; j++)
                ma += sa[j] / (double)(nb * nb), mb += sb[j] / (double)(nb * nb);
            for (int64_t j = 0; j < nb * nb; j++) {
                cab += (sa[j] - ma) * (sb[j] - mb);
                caa += (sa[j] - ma) * (sa[j] - ma);
                cbb += (sb[j] - mb) * (sb[j] - mb);
            }
            double r = cab / sqrt(caa * cbb);
            CHECK_MSG(not01 == 0 && r > 0.9999 &&
                          fabs((double)(lit_a - lit_b) / (double)px) < 0.001,
                      "%sRAW frame %lld: correlation %.6f with the decoded take, lit %lld vs "
                      "%lld, %lld values not 0/1", raw[i], (long long)f, r, (long long)lit_a,
                      (long long)lit_b, (long long)not01);
        }
        free(fa);
        free(fb);
        free(sa);
        free(sb);
        lcae_dataset_close(a);
        lcae_dataset_close(b);
    }
}

static void test_empad_xml(void)
{
    static const struct {
        const char *name, *raw;
        int64_t ny, nx;
    } xml[] = {
        /* README: scan_x = 32, scan_y = 64 (x = columns) */
        {"EMPAD_v1.2.2_x32_y64_size0.8.xml", "scan_x32_y64.raw", 64, 32},
        {"map128x128_version1.2.0.xml", "scan_x128_y128.raw", 128, 128},
        {"map4x4.xml", "scan_x4_y4.raw", 4, 4},
        {"stack_images.xml", "series_x10.raw", 1, 10}, /* a series of 10: one row */
    };
    char rel[256];
    for (size_t i = 0; i < sizeof xml / sizeof *xml; i++) {
        snprintf(rel, sizeof rel, "empad-xml/%s", xml[i].name);
        char *text;
        size_t n;
        CHECK(lcae_read_text_file(real_path(rel), 1 << 20, &text, &n) == 0);
        lcae_empad_meta m;
        int rc = io_empad_xml_parse(real, text, n, &m);
        CHECK_MSG(rc == 0 && m.scan_ny == xml[i].ny && m.scan_nx == xml[i].nx &&
                      !strcmp(m.raw_file, xml[i].raw) && m.det_h == 0,
                  "%s: rc %d (%s) scan %lld x %lld raw '%s'", xml[i].name, rc,
                  lcae_last_error(), (long long)m.scan_ny, (long long)m.scan_nx, m.raw_file);
        free(text);
    }
    /* The real naming end to end: map4x4.xml beside the scan_x4_y4.raw it names (frames
     * written here: no real .raw exists), found through <raw_file>. To be sure the XML
     * and not the name gave the shape, the frames file is renamed in the XML's copy. */
    char dir[600], raw[700], dst[700];
    snprintf(dir, sizeof dir, "%s/empad-real", test_tmpdir());
    mkdir(dir, 0700);
    snprintf(raw, sizeof raw, "%s/scan_x4_y4.raw", dir);
    CHECK(tw_empad(raw, 16, 128, 128) == 0);
    char *text;
    size_t n;
    CHECK(lcae_read_text_file(real_path("empad-xml/map4x4.xml"), 1 << 20, &text, &n) == 0);
    snprintf(dst, sizeof dst, "%s/map4x4.xml", dir);
    CHECK(tw_text(dst, text) == 0);
    free(text);
    lcae_dataset *ds;
    CHECK_MSG(lcae_dataset_open(raw, NULL, &ds) == 0, "%s", lcae_last_error());
    CHECK(lcae_dataset_get_info(ds)->ny == 4 && lcae_dataset_get_info(ds)->nx == 4);
    lcae_dataset_close(ds);
    /* the real 1.2.2 XML names scan_x32_y64.raw: a file of another size beside it is
     * refused with the XML named as the source of the shape */
    snprintf(raw, sizeof raw, "%s/scan_x32_y64.raw", dir);
    CHECK(tw_empad(raw, 3, 128, 128) == 0);
    CHECK(lcae_read_text_file(real_path("empad-xml/EMPAD_v1.2.2_x32_y64_size0.8.xml"),
                               1 << 20, &text, &n) == 0);
    snprintf(dst, sizeof dst, "%s/EMPAD_v1.2.2_x32_y64_size0.8.xml", dir);
    CHECK(tw_text(dst, text) == 0);
    free(text);
    check_error(raw, NULL, "EMPAD_v1.2.2_x32_y64_size0.8.xml");
}

static void test_hdf5(void)
{
    /* kikuchipy's Ni EBSD patterns: README min 23, max 246, median 147 */
    lcae_open_options o = {.scan_ny = 3, .scan_nx = 3};
    char spec[600];
    snprintf(spec, sizeof spec, "%s:/Scan 1/EBSD/Data/patterns",
             real_path("ebsd-ni-kikuchipy/patterns.h5"));
    check_stats(spec, &o, 3, 3, 60, 60, LCAE_DT_U8, 23, 246, 147);
    /* two 3-D datasets (Scan 1 and Scan 2): the error lists them */
    check_error(real_path("ebsd-ni-kikuchipy/patterns.h5"), &o,
                "/Scan 2/EBSD/Data/patterns (9 x 60 x 60)");
    check_error(real_path("ebsd-ni-kikuchipy/patterns.h5"), NULL, "no 4-D dataset");
    /* DECTRIS ARINA: (16, 192, 192) uint32, bitshuffle/LZ4 (filter 32008, the bitshuffle
     * package's plugin), README: all counts 0; read from the data file and through the
     * master's external link */
    o.scan_ny = o.scan_nx = 4;
    check_stats(real_path("arina-rsciio/test_00_data_000001.h5"), &o, 4, 4, 192, 192,
                LCAE_DT_U32, 0, 0, 0);
    snprintf(spec, sizeof spec, "%s:/entry/data/data_000001",
             real_path("arina-rsciio/test_00_master.h5"));
    check_stats(spec, &o, 4, 4, 192, 192, LCAE_DT_U32, 0, 0, 0);
    check_error(real_path("arina-rsciio/test_00_data_000001.h5"), NULL,
                "dataset /entry/data/data is 3-D (16 patterns of 192 x 192): the scan shape is "
                "unknown (give --scan NYxNX)");
    check_error(real_path("arina-rsciio/test_00_master.h5"), NULL,
                "links to other files: /entry/data/data_000001");
    check_error(real_path("arina-rsciio/test_00.h5"), NULL, "no 4-D dataset");
    snprintf(spec, sizeof spec, "%s:/entry/nope", real_path("arina-rsciio/test_00_master.h5"));
    check_error(spec, NULL, "no object /entry/nope in the file");
}

int main(void)
{
    /* the real files are the reference: without them there is nothing to check */
    if (test_shared_missing("the real detector files (shared/data/real)"))
        return test_skip_status();
    test_merlin();
    test_empad_xml();
    test_hdf5();
    return test_done("test_io_real");
}
