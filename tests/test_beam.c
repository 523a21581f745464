/* The direct-beam finder (src/stats/beam.c) against the simulator's known descan:
 * truth_center.npy holds, for every scan position, the centre (y, x) at which the
 * simulator drew that pattern's direct beam (src/sim/layout.c, "descan"). Simulated
 * settings: the default dose on 128 x 128 and 64 x 64 detectors, a 6 px drift, and a
 * sparse low dose (300 electrons per pattern, no readout noise, no gain spread); then
 * scans changed on purpose: Bragg spots brighter than the beam, a saturated beam, hot
 * pixels at the beam, empty patterns and NaN pixels, a beam stop, an all-zero scan,
 * degenerate scan shapes; the options (fit kinds, a given radius), thread counts, and the
 * outputs (npy files, JSON). Every figure is printed; thresholds are stated where used. */
#include "test_util.h"

#include <cjson/cJSON.h>
#include <omp.h>
#include <sys/stat.h>

#include "lcae/io.h"
#include "lcae/sim.h"
#include "lcae/stats.h"

typedef struct {
    double rms, max, median; /* px, |found - truth| over the finite found positions */
    int64_t n;               /* positions with a finite value */
} err_t;

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static err_t errors(const float *pos, const float *truth, int64_t n)
{
    err_t e = {0};
    double *d = malloc(sizeof(double) * (size_t)n), ss = 0;
    for (int64_t i = 0; i < n; i++) {
        if (!isfinite(pos[2 * i]) || !isfinite(pos[2 * i + 1]))
            continue;
        double v = hypot(pos[2 * i] - truth[2 * i], pos[2 * i + 1] - truth[2 * i + 1]);
        d[e.n++] = v;
        ss += v * v;
        e.max = fmax(e.max, v);
    }
    if (e.n) {
        qsort(d, (size_t)e.n, sizeof *d, cmp_double);
        e.median = d[e.n / 2];
        e.rms = sqrt(ss / (double)e.n);
    }
    free(d);
    return e;
}

/* Simulates p into TMP/name and returns the scan's path (static buffer per call site). */
static const char *simulate(const char *name, const lcae_sim_params *p, char *raw, size_t n)
{
    char dir[512];
    snprintf(dir, sizeof dir, "%s/%s", test_tmpdir(), name);
    mkdir(dir, 0777);
    int rc = lcae_simulate(p, dir, NULL);
    CHECK_MSG(rc == 0, "simulate %s: %s", name, lcae_last_error());
    snprintf(raw, n, "%s/scan_x%lld_y%lld.raw", dir, (long long)p->nx, (long long)p->ny);
    return raw;
}

static float *load_truth(const char *raw, int64_t ny, int64_t nx)
{
    char path[600];
    snprintf(path, sizeof path, "%s", raw);
    *strrchr(path, '/') = 0;
    strcat(path, "/truth_center.npy");
    lcae_npy_header h;
    float *t = NULL;
    int rc = lcae_npy_load_f32(path, &h, &t);
    CHECK_MSG(rc == 0 && h.ndim == 3 && h.shape[0] == ny && h.shape[1] == nx &&
                  h.shape[2] == 2, "%s: %s", path, lcae_last_error());
    return rc ? NULL : t;
}

static int beam_of(const char *path, const lcae_beam_options *o, lcae_beam *b)
{
    lcae_dataset *ds;
    int rc = lcae_dataset_open(path, NULL, &ds);
    CHECK_MSG(rc == 0, "%s: %s", path, lcae_last_error());
    if (rc) {
        memset(b, 0, sizeof *b);
        return rc;
    }
    rc = lcae_beam_compute(ds, o, NULL, b);
    lcae_dataset_close(ds);
    return rc;
}

static void small(lcae_sim_params *p, int det)
{
    lcae_sim_defaults(p);
    p->ny = p->nx = 32;
    p->det = det;
}

/* ---- 1. simulated settings against the truth ------------------------------------
 * What any correct method reaches here. The fitted surface: the simulator's descan is
 * c0 + D (linear terms) + 0.2 D sin(pi u) in y, and the best quadratic leaves
 * 0.0083 D px of that at most (0.0038 D rms): 0.05 px at D = 6. The per-pattern centre
 * of mass of N electrons in a disk of radius r scatters by about r / (2 sqrt N) per
 * axis (0.02 px at the default dose, 0.05-0.15 px at 300 electrons with 30-60 % of them
 * in the beam), and the fit over 1024 positions with 6 terms divides that by about 13.
 * So: fitted RMS < 0.05 px and max < 0.15 px at the default dose (drift 2 and 6), RMS
 * < 0.1 px and max < 0.3 px at 300 electrons; per pattern, median error < 0.05 px at the
 * default dose, < 0.3 px at 300 electrons; the radius within 10 % of the simulator's
 * disk radius (15 % on the 64-pixel detector, where the disk is 1.7 px and the pixel
 * grid, the blur and the aligning to whole pixels weigh more). */
static void check_setting(const char *name, const lcae_sim_params *p, double rms_max,
                          double max_max, double median_max, double radius_tol)
{
    char raw[600];
    simulate(name, p, raw, sizeof raw);
    float *truth = load_truth(raw, p->ny, p->nx);
    lcae_beam b;
    int rc = beam_of(raw, NULL, &b);
    CHECK_MSG(rc == 0, "%s: %s", name, lcae_last_error());
    if (rc || !truth) {
        free(truth);
        return;
    }
    int64_t n = p->ny * p->nx;
    err_t f = errors(b.fitted, truth, n), m = errors(b.measured, truth, n);
    double r = lcae_sim_disk_radius(p);
    printf("%-22s fitted rms %.4f max %.4f px; measured median %.4f rms %.4f max %.3f px; "
           "radius %.3f (true %.3f); rms residual %.4f, %lld not found, %lld outliers\n",
           name, f.rms, f.max, m.median, m.rms, m.max, b.radius, r, b.rms_residual,
           (long long)b.not_found, (long long)b.outliers);
    CHECK_MSG(f.n == n && f.rms < rms_max && f.max < max_max, "%s: fitted rms %g max %g",
              name, f.rms, f.max);
    CHECK_MSG(m.n == n && m.median < median_max, "%s: measured median %g", name, m.median);
    CHECK_MSG(fabs(b.radius - r) < radius_tol * r, "%s: radius %g vs %g", name, b.radius, r);
    CHECK(b.not_found == 0 && b.outliers < n / 50);
    lcae_beam_free(&b);
    free(truth);
}

static void test_settings(void)
{
    lcae_sim_params p;
    small(&p, 128);
    check_setting("default det 128", &p, 0.05, 0.15, 0.05, 0.10);
    small(&p, 64);
    check_setting("default det 64", &p, 0.05, 0.15, 0.05, 0.15);
    p.drift_px = 6;
    check_setting("drift 6 det 64", &p, 0.05, 0.15, 0.05, 0.15);
    small(&p, 128);
    p.drift_px = 6;
    check_setting("drift 6 det 128", &p, 0.05, 0.15, 0.05, 0.10);
    small(&p, 64);
    p.dose = 300;
    p.readout_noise = 0;
    p.gain_spread = 0;
    check_setting("dose 300 det 64", &p, 0.1, 0.3, 0.3, 0.15);
    small(&p, 128);
    p.dose = 300;
    p.readout_noise = 0;
    p.gain_spread = 0;
    check_setting("dose 300 det 128", &p, 0.1, 0.3, 0.3, 0.10);
}

/* ---- 2. scans changed on purpose ----------------------------------------------- */
typedef struct {
    int64_t ny, nx, det;
    float *x;     /* ny * nx * det * det, the simulated patterns */
    float *truth; /* ny * nx * 2 */
    int32_t *grain;
    double r;
} scan_t;

static int load_scan(const char *raw, const lcae_sim_params *p, scan_t *s)
{
    memset(s, 0, sizeof *s);
    s->ny = p->ny;
    s->nx = p->nx;
    s->det = p->det;
    s->r = lcae_sim_disk_radius(p);
    int64_t n = s->ny * s->nx, px = s->det * s->det;
    lcae_dataset *ds;
    if (lcae_dataset_open(raw, NULL, &ds))
        return -1;
    s->x = malloc(sizeof(float) * (size_t)(n * px));
    int rc = lcae_dataset_read(ds, 0, n, s->x);
    lcae_dataset_close(ds);
    s->truth = load_truth(raw, s->ny, s->nx);
    char path[600];
    snprintf(path, sizeof path, "%s", raw);
    *strrchr(path, '/') = 0;
    strcat(path, "/truth_grain.npy");
    lcae_npy_header h;
    rc |= lcae_npy_load_i32(path, &h, &s->grain);
    return rc || !s->truth ? -1 : 0;
}

static void free_scan(scan_t *s)
{
    free(s->x);
    free(s->truth);
    free(s->grain);
}

/* Writes patterns x (the scan's shape) as TMP/name.npy, (ny, nx, det, det) float32. */
static const char *write_npy(const char *name, const scan_t *s, const float *x, char *path,
                             size_t n)
{
    snprintf(path, n, "%s/%s.npy", test_tmpdir(), name);
    int64_t shape[4] = {s->ny, s->nx, s->det, s->det};
    CHECK(lcae_npy_write(path, LCAE_DT_F32, 4, shape, x) == 0);
    return path;
}

/* Adds amp to the pixels whose centre lies within r of (cy, cx). */
static void add_disk(float *img, int64_t det, double cy, double cx, double r, double amp)
{
    for (int64_t i = 0; i < det; i++)
        for (int64_t j = 0; j < det; j++)
            if (hypot((double)i - cy, (double)j - cx) <= r)
                img[i * det + j] += (float)amp;
}

static void check_changed(const char *name, const scan_t *s, const float *x,
                          const lcae_beam_options *o, double rms_max, int64_t not_found)
{
    char path[600];
    write_npy(name, s, x, path, sizeof path);
    lcae_beam b;
    int rc = beam_of(path, o, &b);
    CHECK_MSG(rc == 0, "%s: %s", name, lcae_last_error());
    if (rc)
        return;
    int64_t n = s->ny * s->nx;
    err_t f = errors(b.fitted, s->truth, n), m = errors(b.measured, s->truth, n);
    int64_t close = 0;
    for (int64_t i = 0; i < n; i++)
        close += isfinite(b.measured[2 * i]) &&
                 hypot(b.measured[2 * i] - s->truth[2 * i],
                       b.measured[2 * i + 1] - s->truth[2 * i + 1]) < 0.5;
    printf("%-22s fitted rms %.4f max %.4f px; measured median %.4f px, %lld of %lld within "
           "0.5 px; %lld not found, %lld outliers\n", name, f.rms, f.max, m.median,
           (long long)close, (long long)m.n, (long long)b.not_found, (long long)b.outliers);
    CHECK_MSG(f.n == n && f.rms < rms_max, "%s: fitted rms %g", name, f.rms);
    CHECK_MSG(b.not_found == not_found && m.n == n - not_found, "%s: %lld not found", name,
              (long long)b.not_found);
    /* the measured positions themselves: the beam, not a Bragg spot or a hot pixel */
    CHECK_MSG(close >= m.n * 98 / 100, "%s: %lld of %lld within 0.5 px", name,
              (long long)close, (long long)m.n);
    lcae_beam_free(&b);
}

/* The failure every scan without a beam gives: one line naming the file and the way
 * out. */
static void check_no_beam(const char *name, const char *path, const char *what)
{
    lcae_beam b;
    int rc = beam_of(path, NULL, &b);
    const char *msg = lcae_last_error();
    printf("%-22s %s\n", name, msg);
    CHECK_MSG(rc == LCAE_EFAIL && strstr(msg, path) && strstr(msg, "no direct beam") &&
                  strstr(msg, what) && strstr(msg, "--center none") && !strchr(msg, '\n') &&
                  !b.measured && !b.fitted, "%s: rc %d, '%s'", name, rc, msg);
}

static void test_changed(void)
{
    lcae_sim_params p;
    small(&p, 64);
    char raw[600];
    simulate("base64", &p, raw, sizeof raw);
    scan_t s;
    if (load_scan(raw, &p, &s)) {
        CHECK_MSG(0, "loading %s", raw);
        free_scan(&s);
        return;
    }
    int64_t n = s.ny * s.nx, det = s.det, px = det * det;
    float *x = malloc(sizeof(float) * (size_t)(n * px));

    /* Bragg spots 3 times as bright as the beam in every pattern, inside the search
     * window (9 px from the beam; the window reaches 3 radii + 8 px), each grain's in its
     * own direction (they move with the grains), so that in the mean pattern each is
     * weaker than the beam. The per-pattern brightest blob is the spot, not the beam. */
    memcpy(x, s.x, sizeof(float) * (size_t)(n * px));
    double area = 0; /* pixels of a disk of radius r */
    for (int64_t j = 0; j < px; j++)
        area += hypot((double)(j / det) - 16, (double)(j % det) - 16) <= s.r;
    for (int64_t i = 0; i < n; i++) {
        float *img = x + i * px;
        double beam = 0;
        for (int64_t j = 0; j < px; j++)
            if (hypot((double)(j / det) - s.truth[2 * i],
                      (double)(j % det) - s.truth[2 * i + 1]) <= s.r + 1)
                beam += img[j];
        double a = 2.399963 * s.grain[i] + 0.3; /* the golden angle: distinct directions */
        add_disk(img, det, s.truth[2 * i] + 9 * sin(a), s.truth[2 * i + 1] + 9 * cos(a), s.r,
                 3 * beam / area);
    }
    check_changed("Bragg 3x the beam", &s, x, NULL, 0.05, 0);

    /* a saturated beam: every pattern clipped at a quarter of its maximum (the beam's
     * plateau becomes flat, its edge stays) */
    for (int64_t i = 0; i < n; i++) {
        float top = 0, *img = x + i * px;
        memcpy(img, s.x + i * px, sizeof(float) * (size_t)px);
        for (int64_t j = 0; j < px; j++)
            top = fmaxf(top, img[j]);
        for (int64_t j = 0; j < px; j++)
            img[j] = fminf(img[j], 0.25f * top);
    }
    check_changed("saturated beam", &s, x, NULL, 0.05, 0);

    /* hot pixels at and around the beam, 20 times the beam's level, in every pattern */
    memcpy(x, s.x, sizeof(float) * (size_t)(n * px));
    static const int hot[][2] = {{31, 33}, {29, 31}, {34, 28}, {27, 36}, {36, 35}};
    for (int64_t i = 0; i < n; i++)
        for (int k = 0; k < 5; k++)
            x[i * px + hot[k][0] * det + hot[k][1]] += 20 * x[i * px + 31 * det + 31];
    check_changed("hot pixels at the beam", &s, x, NULL, 0.05, 0);

    /* every 17th pattern all zeros (not found, not an error), a NaN and an Inf pixel in
     * the others (counted as 0) */
    memcpy(x, s.x, sizeof(float) * (size_t)(n * px));
    int64_t empty = 0;
    for (int64_t i = 0; i < n; i++) {
        if (i % 17 == 5) {
            memset(x + i * px, 0, sizeof(float) * (size_t)px);
            empty++;
        } else {
            x[i * px + 3] = NAN;
            x[i * px + 30 * det + 40] = INFINITY;
        }
    }
    check_changed("empty patterns, NaN", &s, x, NULL, 0.05, empty);
    /* fit none: the measured positions, the empty ones filled from their neighbours (the
     * descan moves the beam by 2 px over 32 positions: a neighbour is 0.06 px away) */
    char path[600];
    write_npy("empty_none", &s, x, path, sizeof path);
    lcae_beam b;
    lcae_beam_options o = {.fit = LCAE_BEAM_FIT_NONE};
    if (beam_of(path, &o, &b) == 0) {
        err_t f = errors(b.fitted, s.truth, n);
        int64_t same = 0, filled_ok = 0;
        for (int64_t i = 0; i < n; i++) {
            if (isfinite(b.measured[2 * i]))
                same += b.fitted[2 * i] == b.measured[2 * i] &&
                        b.fitted[2 * i + 1] == b.measured[2 * i + 1];
            else
                filled_ok += hypot(b.fitted[2 * i] - s.truth[2 * i],
                                   b.fitted[2 * i + 1] - s.truth[2 * i + 1]) < 0.1;
        }
        printf("%-22s fitted rms %.4f max %.4f px; %lld equal to measured, %lld of %lld "
               "filled within 0.1 px\n", "fit none, gaps", f.rms, f.max, (long long)same,
               (long long)filled_ok, (long long)empty);
        CHECK(f.n == n && same == n - empty - b.outliers && filled_ok == empty);
        lcae_beam_free(&b);
    } else {
        CHECK_MSG(0, "fit none: %s", lcae_last_error());
    }

    /* a beam stop: a disk of 2.5 radii about the beam and an arm to the right edge read
     * zero; the mean pattern's brightest disk is then a Bragg spot of one grain */
    memcpy(x, s.x, sizeof(float) * (size_t)(n * px));
    for (int64_t i = 0; i < n; i++)
        for (int64_t j = 0; j < px; j++) {
            double dy = (double)(j / det) - s.truth[2 * i],
                   dx = (double)(j % det) - s.truth[2 * i + 1];
            if (hypot(dy, dx) < 2.5 * s.r || (fabs(dy) < s.r && dx > 0))
                x[i * px + j] = 0;
        }
    check_no_beam("beam stop", write_npy("stop", &s, x, path, sizeof path), "");
    memset(x, 0, sizeof(float) * (size_t)(n * px));
    check_no_beam("all zeros", write_npy("zeros", &s, x, path, sizeof path), "flat");
    free(x);
    free_scan(&s);
}

/* ---- 3. options, threads, shapes, outputs ----------------------------------------- */
static void test_options(void)
{
    lcae_sim_params p;
    small(&p, 64);
    char raw[600];
    simulate("opts", &p, raw, sizeof raw);
    float *truth = load_truth(raw, p.ny, p.nx);
    int64_t n = p.ny * p.nx;
    lcae_beam a, b;
    /* the same numbers whatever the thread count */
    omp_set_num_threads(1);
    int ra = beam_of(raw, NULL, &a);
    omp_set_num_threads(2);
    int rb = beam_of(raw, NULL, &b);
    CHECK(ra == 0 && rb == 0);
    if (!ra && !rb) {
        CHECK(!memcmp(a.fitted, b.fitted, sizeof(float) * (size_t)(2 * n)) &&
              !memcmp(a.measured, b.measured, sizeof(float) * (size_t)(2 * n)));
        CHECK_CLOSE(a.radius, b.radius, 1e-9);
    }
    lcae_beam_free(&b);
    /* a plane cannot follow the simulator's 0.2 D sin(pi u) in y: it leaves
     * 0.2 D (sin(pi u) - 2 / pi), 0.123 px rms and 0.255 px at the scan's edges at D = 2 */
    lcae_beam_options o = {.fit = LCAE_BEAM_FIT_PLANE};
    if (!ra && truth && beam_of(raw, &o, &b) == 0) {
        err_t f = errors(b.fitted, truth, n), q = errors(a.fitted, truth, n);
        printf("plane fit: rms %.4f max %.4f px (quadratic: %.4f, %.4f); coefficients "
               "y %.4f %.4f %.4f, x %.4f %.4f %.4f, quadratic terms %g %g %g\n", f.rms, f.max,
               q.rms, q.max, b.coef[0][0], b.coef[0][1], b.coef[0][2], b.coef[1][0],
               b.coef[1][1], b.coef[1][2], b.coef[0][3], b.coef[0][4], b.coef[0][5]);
        CHECK(fabs(f.rms - 0.123) < 0.02 && f.max < 0.3 && f.rms > q.rms);
        CHECK(b.coef[0][3] == 0 && b.coef[0][4] == 0 && b.coef[0][5] == 0 &&
              b.coef[1][3] == 0 && b.coef[1][4] == 0 && b.coef[1][5] == 0);
        /* the simulator's x centre is c0 + D (0.8 (u' - 0.5) + 0.2 (v' - 0.5)) with u', v'
         * in [0, 1]: on [-1, 1], c0 + 0.4 D u + 0.1 D v */
        CHECK(fabs(b.coef[1][0] - 31.5) < 0.02 && fabs(b.coef[1][1] - 0.8) < 0.02 &&
              fabs(b.coef[1][2] - 0.2) < 0.02);
        lcae_beam_free(&b);
    }
    /* a given radius is used as is */
    o = (lcae_beam_options){.radius_px = 2};
    if (!ra && truth && beam_of(raw, &o, &b) == 0) {
        err_t f = errors(b.fitted, truth, n);
        CHECK(b.radius == 2 && f.rms < 0.05);
        lcae_beam_free(&b);
    }
    /* bad options */
    o = (lcae_beam_options){.fit = 7};
    CHECK(beam_of(raw, &o, &b) == LCAE_EUSAGE);
    o = (lcae_beam_options){.sample = -1};
    CHECK(beam_of(raw, &o, &b) == LCAE_EUSAGE);
    o = (lcae_beam_options){.radius_px = 17}; /* over a quarter of 64 */
    CHECK(beam_of(raw, &o, &b) == LCAE_EUSAGE);
    /* a small sample finds the same beam */
    o = (lcae_beam_options){.sample = 16};
    if (!ra && truth && beam_of(raw, &o, &b) == 0) {
        err_t f = errors(b.fitted, truth, n);
        CHECK(b.sample == 16 && f.rms < 0.05);
        lcae_beam_free(&b);
    }

    /* the outputs: two (32, 32, 2) float32 arrays, and the summary */
    if (!ra) {
        char dir[512], path[600];
        snprintf(dir, sizeof dir, "%s/opts_out", test_tmpdir());
        mkdir(dir, 0777);
        CHECK(lcae_beam_write(&a, dir) == 0);
        const char *names[2] = {"beam_position.npy", "beam_measured.npy"};
        const float *want[2] = {a.fitted, a.measured};
        for (int k = 0; k < 2; k++) {
            snprintf(path, sizeof path, "%s/%s", dir, names[k]);
            lcae_npy_header h;
            float *v = NULL;
            CHECK(lcae_npy_load_f32(path, &h, &v) == 0 && h.dtype == LCAE_DT_F32 &&
                  h.ndim == 3 && h.shape[0] == 32 && h.shape[1] == 32 && h.shape[2] == 2 &&
                  v && !memcmp(v, want[k], sizeof(float) * (size_t)(2 * n)));
            free(v);
        }
        cJSON *j = lcae_beam_json(&a);
        static const char *keys[] = {"convention", "frame_centre", "mean", "min", "max",
                                     "range", "mean_pattern_beam", "radius_px", "fit",
                                     "surface", "rms_residual_px", "scatter_px", "patterns",
                                     "not_found", "outliers", "sample"};
        for (size_t k = 0; k < sizeof keys / sizeof *keys; k++)
            CHECK_MSG(cJSON_GetObjectItem(j, keys[k]), "no key %s", keys[k]);
        cJSON *fc = cJSON_GetObjectItem(j, "frame_centre");
        CHECK(cJSON_GetArrayItem(fc, 0)->valuedouble == 31.5 &&
              cJSON_GetArrayItem(fc, 1)->valuedouble == 31.5);
        CHECK(!strcmp(cJSON_GetObjectItem(j, "fit")->valuestring, "quadratic"));
        CHECK(cJSON_GetObjectItem(j, "patterns")->valuedouble == 1024);
        cJSON_Delete(j);
    }
    lcae_beam_free(&a);
    free(truth);

    /* degenerate scans: one row (no v terms), one column, one position */
    static const int64_t shapes[][2] = {{1, 24}, {24, 1}, {2, 2}, {1, 1}};
    for (int k = 0; k < 4; k++) {
        small(&p, 64);
        p.ny = shapes[k][0];
        p.nx = shapes[k][1];
        char name[32];
        snprintf(name, sizeof name, "shape%lldx%lld", (long long)p.ny, (long long)p.nx);
        simulate(name, &p, raw, sizeof raw);
        truth = load_truth(raw, p.ny, p.nx);
        int rc = beam_of(raw, NULL, &a);
        CHECK_MSG(rc == 0, "%s: %s", name, lcae_last_error());
        if (!rc && truth) {
            err_t f = errors(a.fitted, truth, p.ny * p.nx);
            printf("%-22s fitted rms %.4f max %.4f px\n", name, f.rms, f.max);
            CHECK(f.n == p.ny * p.nx && f.max < 0.1);
            CHECK((p.ny > 1 || (a.coef[0][2] == 0 && a.coef[0][4] == 0 && a.coef[0][5] == 0)) &&
                  (p.nx > 1 || (a.coef[1][1] == 0 && a.coef[1][3] == 0 && a.coef[1][4] == 0)));
        }
        lcae_beam_free(&a);
        free(truth);
    }
}

int main(void)
{
    test_settings();
    test_changed();
    test_options();
    return test_done("test_beam");
}
