/* The simulator: the detector scale against the textbook wavelength; spot positions of
 * FCC Al [001] and BCC Fe [001] against the analytic reciprocal lattice (and its
 * extinctions), in the spot list and in the rendered pattern; the Poisson sampler's
 * moments; the counting detector against Poisson statistics, and the low-dose setting's
 * scan.npy; the same bytes with 1 and 2 threads; the truth maps against the scan's
 * variance map (boundary and amorphous positions stand apart). */
#include "test_util.h"

#include <omp.h>
#include <stdint.h>
#include <sys/stat.h>

#include "lcae/io.h"
#include "lcae/sim.h"
#include "sim/sim_internal.h"

static const double PI = 3.14159265358979323846;

/* 200 kV: lambda = 2.5079 pm (e.g. Williams & Carter, Table 1.1) */
static void test_scale(void)
{
    lcae_sim_params p;
    lcae_sim_defaults(&p);
    CHECK_CLOSE(lcae_sim_wavelength(200), 0.025079, 2e-5);
    /* 150 um / 460 mm = 0.32609 mrad per pixel; / lambda */
    double scale = 150e-6 / 0.460 / 0.025079;
    CHECK_CLOSE(lcae_sim_scale(&p), scale, 1e-4);
    CHECK_CLOSE(lcae_sim_disk_radius(&p), 1.1e-3 / (150e-6 / 0.460), 1e-6);
    /* Al (200) at 1 / 2.025 A and Fe (110) at sqrt 2 / 2.87 A: both near 38 pixels */
    double al200 = 2 / 4.05 / scale, fe110 = sqrt(2.0) / 2.87 / scale;
    CHECK(fabs(al200 - 37.98) < 0.05 && fabs(fe110 - 37.90) < 0.05);
    printf("scale %.6f 1/A per px; Al(200) at %.2f px, Fe(110) at %.2f px\n",
           lcae_sim_scale(&p), al200, fe110);
}

static int find_spot(const lcae_sim_spot *s, int n, int h, int k, int l)
{
    for (int i = 0; i < n; i++)
        if (s[i].h == h && s[i].k == k && s[i].l == l)
            return i;
    return -1;
}

/* Zone [001], in-plane angle theta: g = (h, k, 0) / a lands at
 * centre + (h cos - k sin, h sin + k cos) / (a scale). Every reflection of the zeroth
 * Laue zone that the lattice allows and whose disk touches the detector is listed at
 * that place; no forbidden one is listed at all. */
static void test_spots(int phase, double a, double theta)
{
    lcae_sim_params p;
    lcae_sim_defaults(&p);
    double cx = 63.5, cy = 62.0; /* off-centre on purpose: positions follow the centre */
    lcae_sim_crystal c = {.phase = phase, .zone = {0, 0, 1}, .angle_deg = theta,
                          .thickness_nm = 40};
    lcae_sim_spot spots[2000];
    int n = lcae_sim_spots(&p, &c, cx, cy, 0, spots, 2000);
    CHECK(n > 0 && n <= 2000);
    double scale = 150e-6 / 0.460 / lcae_sim_wavelength(200);
    double r = lcae_sim_disk_radius(&p);
    double ct = cos(theta * PI / 180), st = sin(theta * PI / 180);
    int expected = 0, found = 0;
    for (int h = -8; h <= 8; h++)
        for (int k = -8; k <= 8; k++) {
            if (!h && !k)
                continue;
            int allowed = phase == LCAE_PHASE_AL ? (h % 2 == 0 && k % 2 == 0)  /* l = 0 even */
                                                 : ((h + k) % 2 == 0);
            double x = cx + (h * ct - k * st) / (a * scale);
            double y = cy + (h * st + k * ct) / (a * scale);
            int on = x + r > -0.5 && x - r < 127.5 && y + r > -0.5 && y - r < 127.5;
            int i = find_spot(spots, n, h, k, 0);
            if (allowed && on) {
                expected++;
                CHECK_MSG(i >= 0, "(%d %d 0) missing", h, k);
                if (i >= 0) {
                    found++;
                    CHECK_MSG(hypot(spots[i].x - x, spots[i].y - y) < 0.01,
                              "(%d %d 0) at %.3f %.3f, expected %.3f %.3f", h, k, spots[i].x,
                              spots[i].y, x, y);
                    /* zone axis, no tilt: s = -lambda g^2 / 2 */
                    double g2 = (h * h + k * k) / (a * a);
                    CHECK_CLOSE(spots[i].excitation, -lcae_sim_wavelength(200) * g2 / 2, 1e-9);
                }
            } else {
                CHECK_MSG(i < 0 || (allowed && !on), "(%d %d 0) listed", h, k);
            }
        }
    /* extinctions over every listed reflection, any Laue zone */
    for (int i = 0; i < n; i++) {
        int h = spots[i].h, k = spots[i].k, l = spots[i].l;
        int ok = phase == LCAE_PHASE_AL
                     ? ((h & 1) == (k & 1) && (k & 1) == (l & 1))
                     : ((h + k + l) % 2 == 0);
        CHECK_MSG(ok, "forbidden (%d %d %d) listed", h, k, l);
        CHECK(spots[i].intensity >= 0 && spots[i].intensity < 1);
    }
    printf("%s [001] at %.0f deg: %d of %d allowed zero-zone reflections on the detector\n",
           phase == LCAE_PHASE_AL ? "Al" : "Fe", theta, found, expected);
    CHECK(expected >= 8);

    /* the rendered pattern: an intensity-weighted centroid around each strong allowed
     * spot lands on it within a pixel; forbidden places hold only the background */
    float *img = malloc(128 * 128 * sizeof *img);
    CHECK(lcae_sim_render(&p, &c, cx, cy, img) == LCAE_OK);
    double total = 0;
    for (int i = 0; i < 128 * 128; i++)
        total += img[i];
    /* the incident dose, less what falls off the detector */
    CHECK_MSG(total > 0.9 * p.dose && total <= 1.0001 * p.dose, "total %.1f", total);
    for (int i = 0; i < n; i++) {
        if (spots[i].l != 0 || spots[i].intensity < 1e-3 || spots[i].x < 6 ||
            spots[i].x > 121 || spots[i].y < 6 || spots[i].y > 121)
            continue;
        double sw = 0, sx = 0, sy = 0;
        for (int y = (int)spots[i].y - 5; y <= (int)spots[i].y + 5; y++)
            for (int x = (int)spots[i].x - 5; x <= (int)spots[i].x + 5; x++) {
                double v = img[y * 128 + x];
                sw += v;
                sx += v * x;
                sy += v * y;
            }
        CHECK_MSG(hypot(sx / sw - spots[i].x, sy / sw - spots[i].y) < 1,
                  "rendered (%d %d 0) centroid %.2f %.2f vs %.2f %.2f", spots[i].h,
                  spots[i].k, sx / sw, sy / sw, spots[i].x, spots[i].y);
    }
    /* (100) and (010): forbidden in both lattices; (110) forbidden in FCC only */
    int forb[3][2] = {{1, 0}, {0, 1}, {1, 1}};
    int i200 = find_spot(spots, n, phase == LCAE_PHASE_AL ? 2 : 1, phase == LCAE_PHASE_AL ? 0 : 1, 0);
    CHECK(i200 >= 0);
    double strong = i200 >= 0 ? img[(int)lround(spots[i200].y) * 128 + (int)lround(spots[i200].x)] : 0;
    for (int f = 0; f < (phase == LCAE_PHASE_AL ? 3 : 2); f++) {
        int h = forb[f][0], k = forb[f][1];
        double x = cx + (h * ct - k * st) / (a * scale), y = cy + (h * st + k * ct) / (a * scale);
        double v = img[(int)lround(y) * 128 + (int)lround(x)];
        CHECK_MSG(v < 0.01 * strong, "forbidden (%d %d 0) holds %.3f (allowed: %.3f)", h, k, v,
                  strong);
    }
    free(img);
}

/* Extinction distances (two-beam intensities scale with 1/xi^2) against the classic
 * table of Hirsch et al., Electron Microscopy of Thin Crystals (100 kV: Al 111 55.6 nm,
 * 200 67.3 nm, 220 105.7 nm; Fe 110 27.0 nm, 200 39.5 nm; reproduced in Williams &
 * Carter), scaled to 200 kV by xi ~ 1/(lambda gamma): x 1.269. The table uses other
 * scattering factors and no Debye-Waller factor (which lengthens Al 220 by 10 % here):
 * within 15 %. */
static void test_extinction(void)
{
    lcae_sim_params p;
    lcae_sim_defaults(&p);
    sim_ctx c;
    CHECK(sim_ctx_init(&c, &p) == LCAE_OK);
    double k100 = lcae_sim_wavelength(100) * (1 + 100 / 510.99895);
    double k200 = lcae_sim_wavelength(200) * (1 + 200 / 510.99895);
    const struct { int phase, h, k, l; double xi100; } ref[] = {
        {0, 1, 1, 1, 55.6}, {0, 2, 0, 0, 67.3}, {0, 2, 2, 0, 105.7}, {1, 1, 1, 0, 27.0},
        {1, 2, 0, 0, 39.5}};
    for (int i = 0; i < 5; i++) {
        double xi = NAN;
        for (int j = 0; j < c.nref[ref[i].phase]; j++) {
            const sim_ref *r = &c.ref[ref[i].phase][j];
            if (r->h == ref[i].h && r->k == ref[i].k && r->l == ref[i].l)
                xi = 0.1 / r->inv_xi; /* nm */
        }
        double want = ref[i].xi100 * k100 / k200;
        printf("%s (%d%d%d): xi %.1f nm at 200 kV (table, scaled: %.1f)\n",
               ref[i].phase ? "Fe" : "Al", ref[i].h, ref[i].k, ref[i].l, xi, want);
        CHECK_MSG(fabs(xi - want) < 0.15 * want, "%s (%d%d%d): xi %.1f nm, expected %.1f",
                  ref[i].phase ? "Fe" : "Al", ref[i].h, ref[i].k, ref[i].l, xi, want);
    }
    sim_ctx_free(&c);
}

/* Poisson moments: mean and variance lambda, for both sampling methods. */
static void test_poisson(void)
{
    double lams[5] = {0.05, 0.7, 6.5, 40, 2500};
    for (int t = 0; t < 5; t++) {
        sim_rng r = sim_rng_key(7, 99, (uint64_t)t);
        int n = 200000;
        double s = 0, s2 = 0;
        for (int i = 0; i < n; i++) {
            double k = sim_poisson(&r, lams[t]);
            s += k;
            s2 += k * k;
        }
        double mean = s / n, var = s2 / n - mean * mean, lam = lams[t];
        /* standard errors: sqrt(lam / n) for the mean, about sqrt(2 lam^2 + lam) / sqrt n
         * for the variance; 5 of them */
        CHECK_MSG(fabs(mean - lam) < 5 * sqrt(lam / n), "lambda %g: mean %g", lam, mean);
        CHECK_MSG(fabs(var - lam) < 5 * sqrt((2 * lam * lam + lam) / n), "lambda %g: var %g",
                  lam, var);
    }
}

/* The detector blur by its definition, independently of sim_blur: each pixel takes the
 * product of the two truncated, normalised 1-D Gaussians over a (2 rad + 1)^2 window,
 * in double precision; what falls off the detector is lost. */
static void blur_reference(int det, double sigma, const float *in, double *out)
{
    int rad = (int)ceil(3 * sigma);
    double w[16], sum = 0;
    for (int i = -rad; i <= rad; i++)
        sum += w[i + rad] = exp(-0.5 * i * i / (sigma * sigma));
    for (int i = 0; i <= 2 * rad; i++)
        w[i] /= sum;
    for (int y = 0; y < det; y++)
        for (int x = 0; x < det; x++) {
            double v = 0;
            for (int dy = -rad; dy <= rad; dy++)
                for (int dx = -rad; dx <= rad; dx++) {
                    int sx = x + dx, sy = y + dy;
                    if (sx >= 0 && sx < det && sy >= 0 && sy < det)
                        v += w[dx + rad] * w[dy + rad] * in[(size_t)sy * det + sx];
                }
            out[(size_t)y * det + x] = v;
        }
}

/* The counting detector at the low-dose setting against Poisson statistics: one Al [001]
 * pattern of 300 electrons on 64 x 64 pixels, drawn 4000 times (one stream per key). The
 * counts are whole numbers; pixel i is Poisson with the blurred expected value lambda_i,
 * so the count sum of a pattern is Poisson with mean and variance Lambda = sum lambda_i,
 * and the expected share of zero pixels is mean(exp(-lambda_i)), with the standard error
 * sqrt(sum p_i (1 - p_i)) / n / sqrt(draws), p_i = exp(-lambda_i). 5 standard errors. */
static void test_counting(void)
{
    lcae_sim_params p;
    CHECK(lcae_sim_preset("lowdose", &p) == LCAE_OK);
    CHECK(p.counting == 1 && p.dose == 300 && p.det == 64 && p.format == LCAE_SIM_NPY &&
          p.ny == 128 && p.psf_px > 0 && p.drift_px > 0 && lcae_sim_check(&p) == LCAE_OK);
    p.outlier_rate = 0; /* spikes are checked below */
    int det = p.det, n = det * det, draws = 4000;
    float *expected = malloc((size_t)n * sizeof *expected);
    float *blurred = malloc((size_t)n * sizeof *blurred), *tmp = malloc((size_t)n * sizeof *tmp);
    float *out = malloc((size_t)n * sizeof *out);
    double *lam = malloc((size_t)n * sizeof *lam);
    lcae_sim_crystal cr = {.phase = LCAE_PHASE_AL, .zone = {0, 0, 1}, .angle_deg = 10,
                           .thickness_nm = 40};
    double c0 = (det - 1) / 2.0;
    CHECK(lcae_sim_render(&p, &cr, c0, c0, expected) == LCAE_OK);
    blur_reference(det, p.psf_px, expected, lam);
    memcpy(blurred, expected, (size_t)n * sizeof *blurred);
    sim_blur(det, p.psf_px, blurred, tmp);
    double Lambda = 0, zero_p = 0, zero_var = 0, worst = 0;
    for (int i = 0; i < n; i++) {
        worst = fmax(worst, fabs(blurred[i] - lam[i]));
        Lambda += lam[i];
        double z = exp(-lam[i]);
        zero_p += z;
        zero_var += z * (1 - z);
    }
    CHECK_MSG(worst < 1e-5, "sim_blur differs from the 2-D reference by %g", worst);
    /* the dose less what falls off the detector; the antialiased disks of radius 1.7
     * pixels hold a little more than their area (see README) */
    CHECK_MSG(Lambda > 0.9 * p.dose && Lambda < 1.05 * p.dose, "Lambda %.2f", Lambda);
    /* the direct beam and the Bragg disks keep counts at this dose: the (200) family's
     * disks hold over a count each on average */
    lcae_sim_spot spots[256];
    int ns = lcae_sim_spots(&p, &cr, c0, c0, 0, spots, 256), n200 = 0;
    CHECK(ns > 0 && ns <= 256);
    double beam = 0;
    for (int y = 0; y < det; y++)
        for (int x = 0; x < det; x++)
            if (hypot(x - c0, y - c0) < 3.5)
                beam += lam[y * det + x];
    for (int k = 0; k < ns && k < 256; k++) {
        int h = abs(spots[k].h), kk = abs(spots[k].k);
        if (spots[k].l != 0 || !((h == 2 && kk == 0) || (h == 0 && kk == 2)))
            continue;
        double in = 0;
        for (int y = (int)lround(spots[k].y) - 2; y <= (int)lround(spots[k].y) + 2; y++)
            for (int x = (int)lround(spots[k].x) - 2; x <= (int)lround(spots[k].x) + 2; x++)
                in += lam[y * det + x];
        CHECK_MSG(in > 1, "(%d %d 0) disk holds %.2f electrons", spots[k].h, spots[k].k, in);
        n200++;
    }
    CHECK_MSG(n200 == 4 && beam > 100, "%d (200) disks, %.1f electrons in the direct disk",
              n200, beam);

    sim_ctx c;
    CHECK(sim_ctx_init(&c, &p) == LCAE_OK);
    double s1 = 0, s2 = 0, zeros = 0;
    int whole = 1, range = 1;
    for (int k = 0; k < draws; k++) {
        sim_detect(&c, expected, (uint64_t)k, tmp, out);
        double sum = 0;
        for (int i = 0; i < n; i++) {
            whole &= out[i] == floorf(out[i]);
            range &= out[i] >= 0 && out[i] <= LCAE_SIM_MAX_COUNT;
            zeros += out[i] == 0;
            sum += out[i];
        }
        s1 += sum;
        s2 += sum * sum;
    }
    double mean = s1 / draws, var = s2 / draws - mean * mean;
    double zf = zeros / ((double)n * draws), zf_want = zero_p / n;
    double zf_se = sqrt(zero_var) / n / sqrt((double)draws);
    printf("counting, Al [001] at 300 electrons on 64 x 64: Lambda %.2f, count sum mean %.2f "
           "(se %.2f), variance %.1f; zero pixels %.4f (expected %.4f, se %.5f)\n", Lambda,
           mean, sqrt(Lambda / draws), var, zf, zf_want, zf_se);
    CHECK(whole && range);
    CHECK_MSG(fabs(mean - Lambda) < 5 * sqrt(Lambda / draws), "mean %g, Lambda %g", mean, Lambda);
    CHECK_MSG(fabs(var - Lambda) < 5 * sqrt((2 * Lambda * Lambda + Lambda) / draws),
              "variance %g, Lambda %g", var, Lambda);
    CHECK_MSG(fabs(zf - zf_want) < 5 * zf_se, "zero share %g, expected %g", zf, zf_want);
    sim_ctx_free(&c);

    /* saturation: means far above the counter's range read 65535, one just below it
     * reads a Poisson count near it; no blur, so each pixel keeps its own mean */
    p.psf_px = 0;
    CHECK(sim_ctx_init(&c, &p) == LCAE_OK);
    memset(expected, 0, (size_t)n * sizeof *expected);
    expected[0] = 1e10f;
    expected[1] = 2e5f;
    expected[2] = 7e4f;
    expected[3] = 6e4f;
    sim_detect(&c, expected, 5, tmp, out);
    CHECK(out[0] == LCAE_SIM_MAX_COUNT && out[1] == LCAE_SIM_MAX_COUNT &&
          out[2] == LCAE_SIM_MAX_COUNT);
    CHECK_MSG(fabs(out[3] - 6e4) < 5 * sqrt(6e4) && out[3] == floorf(out[3]), "%g", out[3]);
    CHECK(out[4] == 0 && out[n - 1] == 0);
    sim_ctx_free(&c);

    /* hot pixels and spikes are whole counts too: with nothing expected, the hot pixels
     * read their 50-500 counts in every frame, spikes of 20-200 land now and then (two
     * may land on one pixel) */
    p.hot_pixels = 3;
    p.outlier_rate = 1e-3;
    CHECK(sim_ctx_init(&c, &p) == LCAE_OK);
    memset(expected, 0, (size_t)n * sizeof *expected);
    int hot[3] = {-1, -1, -1}, nhot = 0;
    for (int i = 0; i < n; i++)
        if (c.hot[i] > 0 && nhot < 3)
            hot[nhot++] = i;
    CHECK(nhot == 3);
    int ok = 1, spikes = 0;
    for (int k = 0; k < 50; k++) {
        sim_detect(&c, expected, (uint64_t)k, tmp, out);
        for (int i = 0; i < n; i++) {
            ok &= out[i] == floorf(out[i]);
            if (i == hot[0] || i == hot[1] || i == hot[2]) {
                ok &= out[i] >= 50;
            } else if (out[i] != 0) {
                ok &= out[i] >= 20 && out[i] < 400;
                spikes++;
            }
        }
    }
    /* 50 frames x 4096 pixels x 1e-3: 205 spikes expected (sd 14) */
    CHECK_MSG(ok && spikes > 150 && spikes < 260, "ok %d, %d spikes", ok, spikes);
    sim_ctx_free(&c);
    free(expected);
    free(blurred);
    free(tmp);
    free(out);
    free(lam);
}

static void small_params(lcae_sim_params *p)
{
    lcae_sim_defaults(p);
    p->ny = 20;
    p->nx = 18;
    p->det = 64;
    p->grains = 6;
    p->batch = 7; /* batches that do not divide the scan */
    p->seed = 42;
}

static const char *files[] = {"scan_x18_y20.raw", "scan_x18_y20.xml", "truth.json",
                              "truth_grain.npy", "truth_class.npy", "truth_region.npy",
                              "truth_angle.npy", "truth_thickness.npy"};

/* A new folder <tmpdir>/<name>; its path into dir (512 bytes). */
static void new_dir(char *dir, const char *name)
{
    snprintf(dir, 512, "%s/%s", test_tmpdir(), name);
    mkdir(dir, 0777);
}

/* p simulated into new folders `a` on 1 thread in p's batches and `b` on 2 threads in
 * one batch of 256 (their paths into d1 and d2, 512 bytes each), whose bytes must not
 * depend on either. */
static void simulate_both_ways(lcae_sim_params *p, char *d1, const char *a, char *d2,
                               const char *b)
{
    new_dir(d1, a);
    new_dir(d2, b);
    omp_set_num_threads(1);
    CHECK(lcae_simulate(p, d1, NULL) == LCAE_OK);
    omp_set_num_threads(2);
    p->batch = 256;
    CHECK(lcae_simulate(p, d2, NULL) == LCAE_OK);
}

static void test_threads(void)
{
    lcae_sim_params p;
    small_params(&p);
    char d1[512], d2[512], d3[512];
    simulate_both_ways(&p, d1, "t1", d2, "t2");
    new_dir(d3, "t3");
    p.seed = 43;
    CHECK(lcae_simulate(&p, d3, NULL) == LCAE_OK);
    for (size_t f = 0; f < sizeof files / sizeof files[0]; f++) {
        char a[600], b[600], c[600];
        snprintf(a, sizeof a, "%s/%s", d1, files[f]);
        snprintf(b, sizeof b, "%s/%s", d2, files[f]);
        snprintf(c, sizeof c, "%s/%s", d3, files[f]);
        size_t na = 0, nb = 0, nc = 0;
        char *ba = test_slurp(a, &na), *bb = test_slurp(b, &nb), *bc = test_slurp(c, &nc);
        CHECK_MSG(ba && bb && na == nb && !memcmp(ba, bb, (size_t)na), "%s differs between 1 "
                  "thread in batches of 7 and 2 threads in one batch", files[f]);
        if (f == 0) {
            CHECK(na == (size_t)20 * 18 * 66 * 64 * 4);
            CHECK_MSG(bc && nc == na && memcmp(ba, bc, (size_t)na), "another seed, same scan");
        }
        free(ba);
        free(bb);
        free(bc);
    }
}

static int same_file(const char *a, const char *b)
{
    size_t na = 0, nb = 0;
    char *ba = test_slurp(a, &na), *bb = test_slurp(b, &nb);
    int same = ba && bb && na == nb && !memcmp(ba, bb, (size_t)na);
    free(ba);
    free(bb);
    return same;
}

/* The low-dose setting over a 32 x 32 scan (the shape of the counting-detector scans we
 * must handle): scan.npy opens through lcae's reader as (32, 32) patterns of 64 x 64
 * uint16 whole counts; the mean count sum of a pattern is near the dose (the expected
 * patterns hold 1-3 % more at det 64, see test_counting; spikes add 0.04 x 110 = 4.5
 * counts on average); most pixels are zero (97.7 % with seed 1). The EMPAD output of the
 * same setting holds the same frames, and scan.npy and truth.json have the same bytes
 * with 1 thread in batches of 7 and with 2 threads in one batch. */
static void test_lowdose_scan(void)
{
    lcae_sim_params p;
    CHECK(lcae_sim_preset("lowdose", &p) == LCAE_OK);
    p.ny = p.nx = 32;
    p.batch = 7;
    char d1[512], d2[512], de[512], a[640], b[640];
    simulate_both_ways(&p, d1, "low1", d2, "low2");
    new_dir(de, "lowe");
    char name[96];
    CHECK(!strcmp(lcae_sim_scan_name(&p, name, sizeof name), "scan.npy"));
    p.format = LCAE_SIM_EMPAD;
    CHECK(lcae_simulate(&p, de, NULL) == LCAE_OK);
    const char *same[] = {"scan.npy", "truth.json", "truth_class.npy"};
    for (int f = 0; f < 3; f++) {
        snprintf(a, sizeof a, "%s/%s", d1, same[f]);
        snprintf(b, sizeof b, "%s/%s", d2, same[f]);
        CHECK_MSG(same_file(a, b), "%s differs between 1 thread in batches of 7 and 2 "
                  "threads in one batch", same[f]);
    }
    snprintf(a, sizeof a, "%s/scan_x32_y32.xml", d1);
    struct stat sb;
    CHECK_MSG(stat(a, &sb) != 0, "an EMPAD .xml beside scan.npy");
    snprintf(a, sizeof a, "%s/truth.json", d1);
    size_t nj = 0;
    char *json = test_slurp(a, &nj);
    CHECK(json && strstr(json, "\"scan_file\":\t\"scan.npy\"") &&
          strstr(json, "\"scan_dtype\":\t\"uint16\"") && strstr(json, "\"type\":\t\"counting\""));
    free(json);

    snprintf(a, sizeof a, "%s/scan.npy", d1);
    lcae_npy_header h;
    CHECK(lcae_npy_read_header(a, &h) == LCAE_OK);
    CHECK(h.dtype == LCAE_DT_U16 && !h.big_endian && h.ndim == 4 && h.shape[0] == 32 &&
          h.shape[1] == 32 && h.shape[2] == 64 && h.shape[3] == 64);
    CHECK(stat(a, &sb) == 0 && sb.st_size == h.data_offset + 32 * 32 * 64 * 64 * 2);
    p.format = LCAE_SIM_EMPAD;
    CHECK(!strcmp(lcae_sim_scan_name(&p, name, sizeof name), "scan_x32_y32.raw"));
    snprintf(b, sizeof b, "%s/%s", de, name);
    lcae_dataset *ds, *dse;
    int rc = lcae_dataset_open(a, NULL, &ds);
    CHECK_MSG(rc == LCAE_OK, "%s", lcae_last_error());
    if (rc)
        return;
    rc = lcae_dataset_open(b, NULL, &dse);
    CHECK_MSG(rc == LCAE_OK, "%s", lcae_last_error());
    if (rc) {
        lcae_dataset_close(ds);
        return;
    }
    const lcae_dataset_info *in = lcae_dataset_get_info(ds);
    CHECK(in->format == LCAE_FMT_NPY && in->dtype == LCAE_DT_U16 && in->ny == 32 &&
          in->nx == 32 && in->h == 64 && in->w == 64);
    int n = 64 * 64;
    float *pat = malloc((size_t)n * sizeof *pat), *pe = malloc((size_t)n * sizeof *pe);
    double total = 0, zeros = 0;
    int whole = 1, equal = 1;
    for (int i = 0; i < 1024; i++) {
        CHECK(lcae_dataset_read(ds, i, 1, pat) == LCAE_OK);
        CHECK(lcae_dataset_read(dse, i, 1, pe) == LCAE_OK);
        equal &= !memcmp(pat, pe, (size_t)n * sizeof *pat);
        for (int j = 0; j < n; j++) {
            whole &= pat[j] == floorf(pat[j]) && pat[j] >= 0;
            zeros += pat[j] == 0;
            total += pat[j];
        }
    }
    double mean = total / 1024, zf = zeros / (1024.0 * n);
    printf("lowdose, 32 x 32 scan of 64 x 64: mean count sum %.1f per pattern (dose %.0f), "
           "%.2f %% of pixels zero\n", mean, p.dose, 100 * zf);
    CHECK(whole);
    CHECK_MSG(equal, "scan.npy and the EMPAD file of the same setting hold other frames");
    CHECK_MSG(fabs(mean - p.dose) < 0.05 * p.dose, "mean count sum %g", mean);
    CHECK_MSG(zf > 0.90 && zf < 0.99, "zero share %g", zf);
    free(pat);
    free(pe);
    lcae_dataset_close(ds);
    lcae_dataset_close(dse);
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median_of(double *v, int n)
{
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    return n ? v[n / 2] : NAN;
}

/* Read back through lcae's EMPAD reader (scan and detector shape from the .xml) and
 * compute the variance over reciprocal space per position, as the paper's Figure 1:
 * inside a grain it changes smoothly (thickness, bending), across a boundary it jumps
 * from one grain's level to the other's, so its gradient is larger on boundary positions;
 * amorphous positions (no Bragg disks) have their own level. */
static void test_variance_map(void)
{
    lcae_sim_params p;
    lcae_sim_defaults(&p);
    p.ny = p.nx = 40;
    p.det = 64;
    p.grains = 8;
    p.seed = 5;
    char dir[512], raw[600], reg[600];
    new_dir(dir, "var");
    CHECK(lcae_simulate(&p, dir, NULL) == LCAE_OK);
    snprintf(raw, sizeof raw, "%s/scan_x40_y40.raw", dir);
    snprintf(reg, sizeof reg, "%s/truth_region.npy", dir);
    lcae_dataset *ds;
    int rc = lcae_dataset_open(raw, NULL, &ds);
    CHECK_MSG(rc == LCAE_OK, "%s", lcae_last_error());
    if (rc)
        return;
    const lcae_dataset_info *in = lcae_dataset_get_info(ds);
    CHECK(in->ny == 40 && in->nx == 40 && in->h == 64 && in->w == 64);
    lcae_npy_header h;
    int32_t *region;
    CHECK(lcae_npy_load_i32(reg, &h, &region) == LCAE_OK);
    float *pat = malloc(64 * 64 * sizeof *pat);
    double *lv = malloc(1600 * sizeof *lv);
    for (int i = 0; i < 1600; i++) {
        CHECK(lcae_dataset_read(ds, i, 1, pat) == LCAE_OK);
        double s = 0, s2 = 0;
        for (int j = 0; j < 64 * 64; j++) {
            s += pat[j];
            s2 += (double)pat[j] * pat[j];
        }
        lv[i] = log(s2 / 4096 - (s / 4096) * (s / 4096));
    }
    double *grad[3], *level[3];
    int ng[3] = {0, 0, 0}, nl[3] = {0, 0, 0};
    for (int k = 0; k < 3; k++) {
        grad[k] = malloc(1600 * sizeof *grad[k]);
        level[k] = malloc(1600 * sizeof *level[k]);
    }
    for (int y = 0; y < 40; y++)
        for (int x = 0; x < 40; x++) {
            int i = y * 40 + x, r = region[i];
            level[r][nl[r]++] = lv[i];
            if (x == 0 || y == 0 || x == 39 || y == 39)
                continue;
            double gx = (lv[i + 1] - lv[i - 1]) / 2, gy = (lv[i + 40] - lv[i - 40]) / 2;
            grad[r][ng[r]++] = hypot(gx, gy);
        }
    double gg = median_of(grad[0], ng[0]), gb = median_of(grad[1], ng[1]);
    double mg = median_of(level[0], nl[0]), ma = median_of(level[2], nl[2]);
    printf("log-variance gradient medians: grain interior %.4f (%d), boundary %.4f (%d); "
           "log-variance medians: grain %.3f, amorphous %.3f (%d)\n", gg, ng[0], gb, ng[1], mg,
           ma, nl[2]);
    CHECK(ng[0] > 400 && ng[1] > 100 && nl[2] > 50);
    CHECK(gb > 2 * gg);
    CHECK(fabs(ma - mg) > 0.2);
    for (int k = 0; k < 3; k++) {
        free(grad[k]);
        free(level[k]);
    }
    free(lv);
    free(pat);
    free(region);
    lcae_dataset_close(ds);
}

static void test_bad_params(void)
{
    lcae_sim_params p;
    lcae_sim_defaults(&p);
    CHECK(lcae_sim_check(&p) == LCAE_OK);
    p.dose = -1;
    CHECK(lcae_sim_check(&p) == LCAE_EUSAGE);
    CHECK(strstr(lcae_last_error(), "--dose") != NULL);
    lcae_sim_defaults(&p);
    p.det = 8;
    CHECK(lcae_sim_check(&p) == LCAE_EUSAGE);
    lcae_sim_defaults(&p);
    p.thickness_nm = NAN;
    CHECK(lcae_sim_check(&p) == LCAE_EUSAGE);
    /* a counting detector has none of the ADU model: each option is named */
    const char *adu[4] = {"--gain", "--gain-spread", "--offset", "--readout-noise"};
    for (int k = 0; k < 4; k++) {
        CHECK(lcae_sim_preset("lowdose", &p) == LCAE_OK);
        double *v[4] = {&p.gain, &p.gain_spread, &p.offset, &p.readout_noise};
        *v[k] = 0.25;
        CHECK(lcae_sim_check(&p) == LCAE_EUSAGE);
        CHECK_MSG(strstr(lcae_last_error(), adu[k]) && strstr(lcae_last_error(), "counting"),
                  "%s", lcae_last_error());
    }
    lcae_sim_defaults(&p);
    p.format = 2;
    CHECK(lcae_sim_check(&p) == LCAE_EUSAGE && strstr(lcae_last_error(), "--output-format"));
    lcae_sim_defaults(&p);
    p.counting = 2;
    CHECK(lcae_sim_check(&p) == LCAE_EUSAGE && strstr(lcae_last_error(), "--counting"));
    /* presets: the default one is the defaults; an unknown name leaves p as it was */
    lcae_sim_params q;
    CHECK(lcae_sim_preset("lowdose", &p) == LCAE_OK);
    CHECK(lcae_sim_preset("default", &p) == LCAE_OK);
    lcae_sim_defaults(&q);
    CHECK(p.counting == q.counting && p.dose == q.dose && p.det == q.det &&
          p.format == q.format && p.gain_spread == q.gain_spread &&
          p.readout_noise == q.readout_noise && p.hot_pixels == q.hot_pixels);
    p.dose = 123;
    CHECK(lcae_sim_preset("low-dose", &p) == LCAE_EUSAGE && p.dose == 123);
    CHECK(strstr(lcae_last_error(), "lowdose") && strstr(lcae_last_error(), "'low-dose'"));
    lcae_sim_defaults(&p);
    lcae_sim_crystal c = {.phase = 0, .zone = {0, 0, 0}, .thickness_nm = 10};
    lcae_sim_spot s[4];
    CHECK(lcae_sim_spots(&p, &c, 63.5, 63.5, 0, s, 4) == -1);
    char dir[512];
    snprintf(dir, sizeof dir, "%s/missing/folder", test_tmpdir());
    p.ny = p.nx = 2;
    p.det = 32;
    CHECK(lcae_simulate(&p, dir, NULL) == LCAE_EFAIL);
}

int main(void)
{
    test_scale();
    test_spots(LCAE_PHASE_AL, 4.05, 0);
    test_spots(LCAE_PHASE_AL, 4.05, 23);
    test_spots(LCAE_PHASE_FE, 2.87, 0);
    test_spots(LCAE_PHASE_FE, 2.87, 61);
    test_extinction();
    test_poisson();
    test_counting();
    test_threads();
    test_lowdose_scan();
    test_variance_map();
    test_bad_params();
    /* the scans written above take tens of MB: leave nothing behind */
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", test_tmpdir());
    CHECK(system(cmd) == 0);
    return test_done("test_sim");
}
