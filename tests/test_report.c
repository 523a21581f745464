/* The run report (lcae_report_write) on a small synthetic scan whose answers are known:
 * patterns are a bright disk of radius 3 about (7, 8) on a flat background, so the
 * virtual detectors' geometry is analytic; cluster sizes, mean patterns and the virtual
 * bright field are recomputed here by brute force from the patterns the test wrote; one
 * clustering equals the class truth (ARI = AMI = 1). Every PNG is decoded by libpng and
 * its size compared with report.json; report.html must be self-contained.
 *
 * `test_report DIR` also leaves the report in DIR (the browser test uses it). */
#include <png.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "lcae/io.h"
#include "lcae/report.h"
#include "lcae/sim.h"
#include "lcae/stats.h"
#include "test_util.h"

#define NY 12
#define NX 20
#define DET 16
#define N (NY * NX)
#define DIMS 16
#define CX 7.0
#define CY 8.0

static float pattern_value(int i, int y, int x)
{
    int row = i / NX, col = i % NX;
    double d = hypot(x - CX, y - CY);
    double disk = col < NX / 2 ? 100 + row : 60 + 2 * row; /* two materials */
    double v = 1.0 + 0.01 * ((x * 7 + y * 3 + i) % 5);
    if (d <= 3.0)
        v += disk;
    else if (col >= NX / 2 && d >= 6 && d <= 7)
        v += 5; /* a ring in the right half only */
    return (float)v;
}

/* Decodes a PNG: its size and (greys != NULL) how many pixels are neither black nor
 * white nor coloured, the edges of anti-aliased black text on white. */
static int png_size_greys(const char *path, int *w, int *h, long *greys)
{
    png_image im;
    memset(&im, 0, sizeof im);
    im.version = PNG_IMAGE_VERSION;
    if (!png_image_begin_read_from_file(&im, path))
        return -1;
    im.format = PNG_FORMAT_RGB;
    unsigned char *buf = malloc(PNG_IMAGE_SIZE(im));
    int ok = buf && png_image_finish_read(&im, NULL, buf, 0, NULL);
    for (size_t i = 0; ok && greys && i < (size_t)im.width * im.height; i++) {
        const unsigned char *p = buf + 3 * i;
        *greys += p[0] == p[1] && p[1] == p[2] && p[0] > 0 && p[0] < 255;
    }
    free(buf);
    if (!ok)
        return -1;
    *w = (int)im.width;
    *h = (int)im.height;
    return 0;
}

static int png_size(const char *path, int *w, int *h)
{
    return png_size_greys(path, w, h, NULL);
}

static int contains(const char *t, size_t n, const char *what)
{
    size_t k = strlen(what);
    for (size_t i = 0; i + k <= n; i++)
        if (!memcmp(t + i, what, k))
            return 1;
    return 0;
}

/* A figure's PDF beside its PNG (`png` ends in .png): one page of the PNG's size at 96
 * dpi (0.75 pt a pixel), the text in DejaVu Sans (embedded), a complete file. */
static void check_pdf(const char *png, int w, int h)
{
    char path[700];
    size_t n = 0;
    snprintf(path, sizeof path, "%.*s.pdf", (int)strlen(png) - 4, png);
    char *t = test_slurp(path, &n);
    CHECK_MSG(t != NULL, "%s missing", path);
    if (!t)
        return;
    char box[96];
    snprintf(box, sizeof box, "/MediaBox [ 0 0 %g %g ]", w * 0.75, h * 0.75);
    CHECK_MSG(n > 8 && !memcmp(t, "%PDF-1.", 7), "%s: no PDF header", path);
    CHECK_MSG(contains(t, n, box), "%s: no %s", path, box);
    CHECK_MSG(contains(t, n, "+DejaVuSans"), "%s: text not in DejaVu Sans", path);
    CHECK_MSG(n > 6 && contains(t + n - 7, 7, "%%EOF"), "%s: truncated", path);
    free(t);
}

static cJSON *load_json(const char *path)
{
    char *t;
    size_t n;
    cJSON *j = lcae_read_text_file(path, 64 << 20, &t, &n) == LCAE_OK ? cJSON_Parse(t) : NULL;
    free(t);
    return j;
}

static double num(const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsNumber(v) ? v->valuedouble : NAN;
}

int main(int argc, char **argv)
{
    const char *tmp = test_tmpdir();
    char scan[512], out[512], logp[512], path[700];
    snprintf(scan, sizeof scan, "%s/scan_x%d_y%d.raw", tmp, NX, NY);
    if (argc > 1) {
        snprintf(out, sizeof out, "%s", argv[1]);
        mkdir(out, 0755);
    } else {
        snprintf(out, sizeof out, "%s/report", tmp);
        mkdir(out, 0755);
    }
    snprintf(logp, sizeof logp, "%s/standard.log.json", tmp);

    /* the scan */
    static float frames[N][DET * DET];
    for (int i = 0; i < N; i++)
        for (int y = 0; y < DET; y++)
            for (int x = 0; x < DET; x++)
                frames[i][y * DET + x] = pattern_value(i, y, x);
    lcae_empad_writer *wr;
    CHECK(lcae_empad_writer_open(&wr, scan, DET, DET) == LCAE_OK);
    CHECK(lcae_empad_writer_write(wr, &frames[0][0], N) == LCAE_OK);
    CHECK(lcae_empad_writer_close(wr, 1) == LCAE_OK);
    lcae_dataset *ds;
    /* EMPAD frames of a 16 x 16 detector: read as raw with the 2 metadata rows as footer */
    lcae_open_options oo = {.format = LCAE_FMT_RAW, .scan_ny = NY, .scan_nx = NX, .det_h = DET,
                            .det_w = DET, .dtype = LCAE_DT_F32,
                            .frame_footer_bytes = 2 * DET * 4};
    if (lcae_dataset_open(scan, &oo, &ds)) {
        fprintf(stderr, "open: %s\n", lcae_last_error());
        return 1;
    }
    lcae_stats st;
    lcae_stats_options so = {.virtual_images = 1};
    CHECK(lcae_stats_compute(ds, &so, NULL, &st) == LCAE_OK);

    /* truth: class = material (left/right), grains = 4 column bands, a boundary column */
    static int32_t tclass[N], tregion[N], tgrain[N], lab_std[N], lab_inv[N];
    static float lat_std[N * DIMS], lat_inv[N * DIMS];
    for (int i = 0; i < N; i++) {
        int row = i / NX, col = i % NX;
        tclass[i] = col < NX / 2;
        tgrain[i] = col / 5;
        tregion[i] = col % 5 == 4 ? LCAE_REGION_BOUNDARY : LCAE_REGION_GRAIN;
        /* fragmented: 6 clusters of bands and rows, a few noise positions */
        lab_std[i] = (i % 17 == 3) ? -1 : (col / 4) + 5 * (row >= 6 && col < 4);
        lab_inv[i] = tclass[i];
        for (int k = 0; k < DIMS; k++) {
            lat_std[i * DIMS + k] = (float)(lab_std[i] * (k % 3) + 0.01 * ((i * 31 + k) % 7));
            lat_inv[i * DIMS + k] = (float)(tclass[i] * (k < 10) + 0.02 * ((i * 13 + k) % 5));
        }
    }
    /* a train log in lcae_train's format */
    FILE *f = fopen(logp, "w");
    CHECK(f != NULL);
    if (f) {
        fprintf(f, "{\"data\": \"%s\", \"options\": {\"epochs\": 4, \"batch\": 32, \"lr\": 1e-4, "
                   "\"rot_loss\": true, \"invariant_dims\": 10, \"lambda\": 50}, \"median\": 1, "
                   "\"sigma68\": 2, \"patterns_per_epoch\": 240, \"epochs\": [", scan);
        for (int e = 1; e <= 4; e++)
            /* the probe's measurements: the report shows the last epoch's */
            fprintf(f, "%s{\"epoch\": %d, \"loss\": %g, \"recon\": %g, \"recon_rot\": %g, "
                       "\"rot\": %g, \"seconds\": 1.5, \"patterns_per_s\": 160, "
                       "\"latent_spread\": [%g, 0.25], \"invariance_error\": [%g, null]}",
                    e > 1 ? ", " : "", e, 2.0 / e + 50 * 0.01 / e, 1.0 / e, 1.0 / e, 0.01 / e,
                    0.5 * e, 0.125 * e);
        fprintf(f, "]}\n");
        fclose(f);
    }
    cJSON *score = cJSON_Parse("{\"class\": {\"ari\": 0.25, \"ami\": 0.5, \"clusters\": 6}, "
                               "\"grain\": {\"ari\": 0.125}}");
    cJSON *config = cJSON_Parse("{\"preset\": \"test\", \"train\": {\"epochs\": 4, \"base\": 8}}");
    cJSON *timings = cJSON_Parse("{\"stats\": 0.5, \"train\": 12.25}");
    /* lcae run's cluster.json: the standard model's map smoothed, the other's not */
    cJSON *smoothed = cJSON_Parse("{\"noise_share\": 0.1684, \"smoothed\": 3}");
    lcae_report_clustering cl[2] = {
        {.name = "standard", .title = "Standard autoencoder", .latent = lat_std,
         .latent_dims = DIMS, .labels = lab_std, .train_log = logp, .score = score,
         .cluster = smoothed},
        {.name = "invariant", .title = "Rotation-invariant", .latent = lat_inv,
         .latent_dims = DIMS, .labels = lab_inv, .train_log = NULL, .score = NULL}};
    lcae_report_input in = {.data_path = scan, .ds = ds, .stats = &st, .clusterings = cl,
                            .n_clusterings = 2, .truth_class = tclass,
                            .truth_region = tregion, .truth_grain = tgrain, .config = config,
                            .timings = timings};
    int rc = lcae_report_write(&in, out, NULL);
    CHECK_MSG(rc == LCAE_OK, "%s", lcae_last_error());

    /* report.json against the inputs */
    snprintf(path, sizeof path, "%s/report.json", out);
    cJSON *j = load_json(path);
    CHECK(j != NULL);
    const cJSON *dsj = cJSON_GetObjectItemCaseSensitive(j, "dataset");
    CHECK(num(dsj, "scan_ny") == NY && num(dsj, "scan_nx") == NX);
    CHECK(num(dsj, "detector_h") == DET && num(dsj, "detector_w") == DET);
    const cJSON *sj = cJSON_GetObjectItemCaseSensitive(j, "stats");
    CHECK_CLOSE(num(sj, "median"), st.median, 1e-9);
    CHECK_CLOSE(num(sj, "sigma68"), st.sigma68, 1e-9);
    CHECK_CLOSE(num(cJSON_GetObjectItemCaseSensitive(j, "timings"), "train"), 12.25, 0);
    CHECK(cJSON_Compare(cJSON_GetObjectItemCaseSensitive(j, "config"), config, 1));
    const cJSON *vj = cJSON_GetObjectItemCaseSensitive(j, "virtual_detectors");
    /* the mean pattern's excess over its median is the disk (plus a faint ring): centre
     * within a tenth of a pixel, radius (half of the disk's height) within a pixel */
    CHECK_CLOSE(num(vj, "center_x"), CX, 0.1);
    CHECK_CLOSE(num(vj, "center_y"), CY, 0.1);
    double rh = num(vj, "half_max_radius"), cx = num(vj, "center_x"), cy = num(vj, "center_y");
    CHECK_MSG(rh > 2.5 && rh < 4.0, "radius %g", rh);

    const cJSON *cls = cJSON_GetObjectItemCaseSensitive(j, "clusterings");
    CHECK(cJSON_GetArraySize(cls) == 2);
    const int32_t *labs[2] = {lab_std, lab_inv};
    for (int c = 0; c < 2; c++) {
        const cJSON *o = cJSON_GetArrayItem(cls, c);
        int64_t sizes[64] = {0}, noise = 0;
        int k = 0, nonempty = 0;
        for (int i = 0; i < N; i++) {
            if (labs[c][i] < 0)
                noise++;
            else {
                nonempty += sizes[labs[c][i]]++ == 0;
                k = labs[c][i] + 1 > k ? labs[c][i] + 1 : k;
            }
        }
        const cJSON *sz = cJSON_GetObjectItemCaseSensitive(o, "sizes");
        CHECK(cJSON_GetArraySize(sz) == k);
        for (int l = 0; l < k; l++)
            CHECK(cJSON_GetArrayItem(sz, l)->valuedouble == (double)sizes[l]);
        CHECK(num(o, "noise") == (double)noise);
        CHECK(num(o, "clusters") == nonempty);
        /* mean pattern of the largest cluster, brute force (no binning at 16 x 16) */
        int big = 0;
        for (int l = 1; l < k; l++)
            big = sizes[l] > sizes[big] ? l : big;
        CHECK(cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(o, "shown_in_figure2"), 0)
                  ->valuedouble == big);
        snprintf(path, sizeof path, "%s/mean_patterns_%s.npy", out, c ? "invariant" : "standard");
        lcae_npy_header hd;
        float *mp = NULL;
        CHECK(lcae_npy_load_f32(path, &hd, &mp) == LCAE_OK);
        if (mp) {
            CHECK(hd.ndim == 3 && hd.shape[1] == DET && hd.shape[2] == DET);
            double worst = 0;
            for (int p = 0; p < DET * DET; p++) {
                double s = 0;
                for (int i = 0; i < N; i++)
                    if (labs[c][i] == big)
                        s += frames[i][p];
                worst = fmax(worst, fabs(mp[p] - s / (double)sizes[big]));
            }
            CHECK_MSG(worst < 1e-3, "mean pattern off by %g", worst);
        }
        free(mp);
    }
    /* the given scores are copied; the others are computed: equal to the class truth */
    const cJSON *s0 = cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(cls, 0), "score");
    CHECK(cJSON_Compare(s0, cJSON_GetObjectItemCaseSensitive(score, "class"), 1));
    CHECK(cJSON_Compare(cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(cls, 0),
                                                         "score_grain"),
                        cJSON_GetObjectItemCaseSensitive(score, "grain"), 1));
    const cJSON *s1 = cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(cls, 1), "score");
    CHECK_CLOSE(num(s1, "ari"), 1.0, 1e-12);
    CHECK_CLOSE(num(s1, "ami"), 1.0, 1e-12);
    CHECK(cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(cls, 1),
                                                          "score_grain")));
    /* the log's last epoch's probe measurements, as logged; none without a log */
    const cJSON *lp = cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(cls, 0), "latent_probe");
    CHECK(num(lp, "epoch") == 4);
    const cJSON *spread = cJSON_GetObjectItemCaseSensitive(lp, "latent_spread");
    const cJSON *ierr = cJSON_GetObjectItemCaseSensitive(lp, "invariance_error");
    CHECK(cJSON_GetArraySize(spread) == 2 && cJSON_GetArraySize(ierr) == 2);
    CHECK(cJSON_GetArrayItem(spread, 0) && cJSON_GetArrayItem(spread, 0)->valuedouble == 2.0);
    CHECK(cJSON_GetArrayItem(ierr, 0) && cJSON_GetArrayItem(ierr, 0)->valuedouble == 0.5);
    CHECK(cJSON_IsNull(cJSON_GetArrayItem(ierr, 1)));
    CHECK(!cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(cls, 1), "latent_probe"));

    /* virtual bright field: the disk about the reported centre, brute force */
    snprintf(path, sizeof path, "%s/virtual_bf.npy", out);
    lcae_npy_header hb;
    float *bf = NULL;
    CHECK(lcae_npy_load_f32(path, &hb, &bf) == LCAE_OK);
    if (bf) {
        CHECK(hb.ndim == 2 && hb.shape[0] == NY && hb.shape[1] == NX);
        double worst = 0;
        for (int i = 0; i < N; i++) {
            double s = 0;
            for (int y = 0; y < DET; y++)
                for (int x = 0; x < DET; x++)
                    if (hypot(x - cx, y - cy) <= rh)
                        s += frames[i][y * DET + x];
            worst = fmax(worst, fabs(bf[i] - s) / s);
        }
        CHECK_MSG(worst < 1e-5, "BF off by %g (relative)", worst);
    }
    free(bf);

    /* figures: all there, decodable, sizes as report.json says; maps >= 256 px wide */
    const char *expect[] = {"fig1_cluster_maps.png", "fig2_standard_clusters.png",
                            "fig2_invariant_clusters.png", "virtual_bf_adf.png",
                            "latent_pca_standard.png", "latent_pca_invariant.png", "loss.png",
                            "truth.png"};
    const cJSON *figs = cJSON_GetObjectItemCaseSensitive(j, "figures");
    CHECK(cJSON_GetArraySize(figs) == 8);
    for (int e = 0; e < 8; e++) {
        const cJSON *fo = NULL, *it;
        cJSON_ArrayForEach(it, figs) if (!strcmp(cJSON_GetStringValue(
                                          cJSON_GetObjectItemCaseSensitive(it, "file")),
                                          expect[e])) fo = it;
        CHECK_MSG(fo != NULL, "%s not listed", expect[e]);
        snprintf(path, sizeof path, "%s/%s", out, expect[e]);
        int w = 0, h = 0;
        long greys = 0;
        CHECK_MSG(png_size_greys(path, &w, &h, &greys) == 0, "%s does not decode", path);
        /* titles at least: the 5 x 7 bitmap font had no grey pixel */
        CHECK_MSG(greys > 500, "%s: %ld grey pixels: no anti-aliased text", path, greys);
        check_pdf(path, w, h);
        snprintf(path + strlen(path) - 3, 4, "svg");
        CHECK_MSG(access(path, F_OK) != 0, "%s written without being asked for", path);
        if (fo)
            CHECK_MSG(w == num(fo, "width") && h == num(fo, "height"), "%s: %d x %d", expect[e],
                      w, h);
        if (e == 0)
            CHECK_MSG(w >= 3 * 256 && h >= 256 * NY / NX, "fig1 %d x %d", w, h);
    }

    /* report.html: self-contained */
    snprintf(path, sizeof path, "%s/report.html", out);
    char *html;
    size_t html_len;
    CHECK(lcae_read_text_file(path, 64 << 20, &html, &html_len) == LCAE_OK);
    if (html) {
        CHECK(!strstr(html, "http://") && !strstr(html, "https://"));
        CHECK(!strstr(html, "<script src") && !strstr(html, "<link rel=\"stylesheet"));
        int imgs = 0;
        for (const char *p = html; (p = strstr(p, "src=\"data:image/png;base64,")); p++)
            imgs++;
        /* 8 figures, 4 hover maps (2 clusterings, class and grain truth), the sprite */
        CHECK_MSG(imgs == 8 + 4 + 1, "%d embedded images", imgs);
        CHECK(strstr(html, "Rotation-invariant") != NULL);
        CHECK(strstr(html, "12.25") != NULL);
        CHECK(strstr(html, "<th>invariance error</th><td class=\"n\">0.5</td><td class=\"n\">"
                           "n/a</td>") != NULL);
        /* the clusters table's smoothing cell: window and noise share, empty when unknown */
        CHECK(strstr(html, "</td><td>3 x 3 (0.168)</td><td>") != NULL);
    }
    free(html);

    /* the least a caller may give: no statistics (computed inside), one clustering that is
     * all noise and has no latent vectors, no truth, log, configuration or timings */
    {
        static int32_t none[N];
        for (int i = 0; i < N; i++)
            none[i] = -1;
        lcae_report_clustering only = {.name = "allnoise", .labels = none};
        /* PNG and SVG only (no PDF), and a scale bar */
        lcae_report_input min = {.ds = ds, .clusterings = &only, .n_clusterings = 1,
                                 .figure_formats = LCAE_FIGURE_PNG | LCAE_FIGURE_SVG,
                                 .step_nm = 1.5};
        char dir2[600];
        snprintf(dir2, sizeof dir2, "%s/minimal", tmp);
        mkdir(dir2, 0755);
        CHECK_MSG(lcae_report_write(&min, dir2, NULL) == LCAE_OK, "%s", lcae_last_error());
        snprintf(path, sizeof path, "%s/report.json", dir2);
        cJSON *m = load_json(path);
        const cJSON *mf = cJSON_GetObjectItemCaseSensitive(m, "figures");
        CHECK_MSG(cJSON_GetArraySize(mf) == 3, "%d figures", cJSON_GetArraySize(mf));
        const cJSON *mc = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(m, "clusterings"), 0);
        CHECK(num(mc, "clusters") == 0 && num(mc, "noise") == N);
        CHECK_CLOSE(num(cJSON_GetObjectItemCaseSensitive(m, "stats"), "median"), st.median, 1e-9);
        cJSON_Delete(m);
        snprintf(path, sizeof path, "%s/fig2_allnoise_clusters.png", dir2);
        int w, h;
        CHECK(png_size(path, &w, &h) == 0);
        snprintf(path, sizeof path, "%s/fig2_allnoise_clusters.svg", dir2);
        size_t n = 0;
        char *svg = test_slurp(path, &n);
        char size[64];
        snprintf(size, sizeof size, "width=\"%gpt\" height=\"%gpt\"", w * 0.75, h * 0.75);
        CHECK_MSG(svg && !strncmp(svg, "<?xml", 5) && contains(svg, n, size) &&
                      contains(svg, n, "</svg>"), "%s: not an SVG of %s", path, size);
        free(svg);
        snprintf(path, sizeof path, "%s/fig1_cluster_maps.pdf", dir2);
        CHECK_MSG(access(path, F_OK) != 0, "%s written without being asked for", path);
        /* bad formats and steps are refused */
        min.figure_formats = 8;
        CHECK(lcae_report_write(&min, dir2, NULL) == LCAE_EUSAGE);
        min.figure_formats = 0;
        min.step_nm = -1;
        CHECK(lcae_report_write(&min, dir2, NULL) == LCAE_EUSAGE);
    }

    /* --figure-format's lists */
    {
        unsigned f = 0;
        CHECK(lcae_figure_formats_parse("png,pdf,svg", &f) == LCAE_OK &&
              f == (LCAE_FIGURE_PNG | LCAE_FIGURE_PDF | LCAE_FIGURE_SVG));
        CHECK(lcae_figure_formats_parse("svg,png", &f) == LCAE_OK &&
              f == (LCAE_FIGURE_PNG | LCAE_FIGURE_SVG));
        CHECK(lcae_figure_formats_parse("pdf", &f) == LCAE_EUSAGE &&
              strstr(lcae_last_error(), "with png"));
        CHECK(lcae_figure_formats_parse("png,eps", &f) == LCAE_EUSAGE &&
              strstr(lcae_last_error(), "'eps'"));
        CHECK(lcae_figure_formats_parse("png,", &f) == LCAE_OK && f == LCAE_FIGURE_PNG);
        CHECK(lcae_figure_formats_parse("", &f) == LCAE_EUSAGE);
    }

    /* the report's files are one output set: a folder in report.html's place, or a
     * rename failing midway (the test hook), leaves none of them and no temporary file */
    {
        static int32_t none[N];
        for (int i = 0; i < N; i++)
            none[i] = -1;
        lcae_report_clustering only = {.name = "allnoise", .labels = none};
        lcae_report_input min = {.ds = ds, .stats = &st, .clusterings = &only,
                                 .n_clusterings = 1};
        char dir3[600], names[4096];
        snprintf(dir3, sizeof dir3, "%s/folder-in-place", tmp);
        snprintf(path, sizeof path, "%s/report.html", dir3);
        CHECK(mkdir(dir3, 0755) == 0 && mkdir(path, 0755) == 0);
        CHECK(lcae_report_write(&min, dir3, NULL) == LCAE_EFAIL);
        CHECK_MSG(strstr(lcae_last_error(), "report.html: cannot replace output (a folder is "
                         "in its place)"), "%s", lcae_last_error());
        CHECK_MSG(!strcmp(test_dir_names(dir3, names, sizeof names), "report.html"),
                  "left: %s", names);
        snprintf(dir3, sizeof dir3, "%s/rename-fails", tmp);
        CHECK(mkdir(dir3, 0755) == 0);
        setenv("LCAE_TEST_FAIL_RENAME", "5", 1);
        CHECK(lcae_report_write(&min, dir3, NULL) == LCAE_EFAIL);
        unsetenv("LCAE_TEST_FAIL_RENAME");
        CHECK_MSG(!strcmp(test_dir_names(dir3, names, sizeof names), ""), "left: %s", names);
    }

    /* misuse: one-line errors, nothing crashes */
    lcae_report_clustering bad = cl[0];
    bad.name = "../x";
    in.clusterings = &bad;
    in.n_clusterings = 1;
    CHECK(lcae_report_write(&in, out, NULL) == LCAE_EUSAGE);
    bad.name = "x";
    int32_t badlab[N];
    memcpy(badlab, lab_std, sizeof badlab);
    badlab[5] = N;
    bad.labels = badlab;
    CHECK(lcae_report_write(&in, out, NULL) == LCAE_EUSAGE);
    CHECK(strstr(lcae_last_error(), "label") != NULL);

    cJSON_Delete(j);
    cJSON_Delete(score);
    cJSON_Delete(smoothed);
    cJSON_Delete(config);
    cJSON_Delete(timings);
    lcae_stats_free(&st);
    lcae_dataset_close(ds);
    return test_done("test_report");
}
