/* Statistics: exact percentiles against a brute-force sort (qsort), the streaming pass
 * against brute-force sums over every pixel, lcae stats / info against numpy
 * (tests/fixtures/stats, tools/make_stats_fixture.py), and the sampled median / sigma68
 * against the exact ones on a heavy-tailed diffraction-like scan, for several seeds. */
#include "test_util.h"

#include <cjson/cJSON.h>
#include <omp.h>
#include <stdint.h>

#include "lcae/io.h"
#include "lcae/stats.h"

static uint64_t rng = 88172645463325252ull;

static double urand(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (double)(rng >> 11) * 0x1p-53;
}

static double nrand(void)
{
    double u = urand(), v = urand();
    return sqrt(-2 * log(u + 1e-300)) * cos(6.283185307179586 * v);
}

static int cmp_float(const void *a, const void *b)
{
    float x = *(const float *)a, y = *(const float *)b;
    return x < y ? -1 : x > y;
}

/* numpy's "linear" percentile of sorted finite values */
static double brute_pct(const float *s, int64_t n, double p)
{
    double h = (double)(n - 1) * p;
    int64_t lo = (int64_t)floor(h), hi = lo + 1 < n ? lo + 1 : lo;
    return s[lo] + (h - (double)lo) * ((double)s[hi] - s[lo]);
}

/* The finite values of x, sorted (malloc'd); their number in *n. */
static float *sorted_finite(const float *x, int64_t len, int64_t *n)
{
    float *s = malloc((size_t)(len ? len : 1) * sizeof *s);
    *n = 0;
    for (int64_t i = 0; i < len; i++)
        if (isfinite(x[i]))
            s[(*n)++] = x[i];
    qsort(s, (size_t)*n, sizeof *s, cmp_float);
    return s;
}

static float bits_to_f32(uint32_t u)
{
    float f;
    memcpy(&f, &u, 4);
    return f;
}

/* ---- 1. exact percentiles of arrays vs qsort ------------------------------------ */
static void check_percentiles(void)
{
    static const double p[8] = {0, 0.16, 0.5, 0.84, 1, 0.001, 0.999, 1.0 / 3};
    const char *names[] = {"normal", "ties", "signed zeros and negatives", "constant",
                           "one value", "two values", "one high-bits bucket",
                           "wide range with subnormals", "NaN and Inf mixed in", "all NaN",
                           "empty"};
    int64_t sizes[] = {100001, 50000, 9999, 1000, 1, 2, 10000, 30000, 20000, 100, 0};
    for (int c = 0; c < 11; c++) {
        int64_t n = sizes[c];
        float *x = malloc((size_t)(n ? n : 1) * sizeof *x);
        for (int64_t i = 0; i < n; i++) {
            double u = urand();
            switch (c) {
            case 0: x[i] = (float)(1000 * nrand() + 50); break;
            case 1: x[i] = (float)floor(5 * u); break;
            case 2: {
                static const float v[] = {-3.f, -0.f, 0.f, 2.5f, -1e-3f};
                x[i] = u < 0.6 ? v[(int)(u / 0.12)] : (float)nrand();
                break;
            }
            case 3: x[i] = 42.f; break;
            case 4: x[i] = -7.f; break;
            case 5: x[i] = i ? 3.f : -2.f; break;
            case 6: x[i] = bits_to_f32(0x3f800000u + (uint32_t)(50 * u)); break;
            case 7: {
                double m = exp(160 * urand() - 80);
                x[i] = (float)(u < 0.5 ? -m : m);
                if (urand() < 0.01)
                    x[i] = 0;
                break;
            }
            case 8:
                x[i] = (float)nrand();
                if (u < 0.01)
                    x[i] = NAN;
                else if (u < 0.02)
                    x[i] = INFINITY;
                else if (u < 0.03)
                    x[i] = -INFINITY;
                break;
            default: x[i] = NAN; break;
            }
        }
        double q[8];
        int64_t nf = -1, ns;
        int rc = lcae_percentiles_f32(x, n, 8, p, q, &nf);
        CHECK_MSG(rc == 0, "%s: %s", names[c], lcae_last_error());
        float *s = sorted_finite(x, n, &ns);
        CHECK_MSG(nf == ns, "%s: %lld finite values, expected %lld", names[c], (long long)nf,
                  (long long)ns);
        for (int k = 0; k < 8; k++) {
            double want = ns ? brute_pct(s, ns, p[k]) : NAN;
            CHECK_MSG(q[k] == want || (isnan(q[k]) && isnan(want)), "%s: P%g = %.9g, sort says %.9g",
                      names[c], 100 * p[k], q[k], want);
        }
        free(s);
        free(x);
    }
    float one = 1;
    double q, bad = 1.5;
    CHECK(lcae_percentiles_f32(&one, 1, 1, &bad, &q, NULL) == LCAE_EUSAGE);
}

/* ---- 2. the streaming pass vs brute force ---------------------------------------- */
enum { NY = 7, NX = 9, H = 12, W = 10, PX = H * W, N = NY * NX };

static float *make_scan(const char *path)
{
    float *x = malloc(sizeof(float) * N * PX);
    for (int i = 0; i < N * PX; i++) {
        double u = urand();
        x[i] = u < 0.1 ? 7.25f : u < 0.15 ? -0.f : (float)(exp(3 * nrand()) - 4 + nrand());
    }
    x[(2 * NX + 3) * PX + 5] = NAN;     /* first non-finite: scan position (2, 3) */
    x[(5 * NX + 1) * PX + 17] = INFINITY;
    x[(6 * NX + 8) * PX + 17] = -INFINITY;
    for (int j = 0; j < PX; j++)
        x[(4 * NX + 4) * PX + j] = NAN; /* a pattern with no finite pixel */
    FILE *f = fopen(path, "wb");
    CHECK(f && fwrite(x, sizeof(float), N * PX, f) == N * PX && fclose(f) == 0);
    return x;
}

static void check_pass(void)
{
    char path[512];
    snprintf(path, sizeof path, "%s/scan.raw", test_tmpdir());
    float *x = make_scan(path);
    lcae_open_options o = {.format = LCAE_FMT_RAW, .scan_ny = NY, .scan_nx = NX,
                           .det_h = H, .det_w = W, .dtype = LCAE_DT_F32};
    lcae_dataset *ds;
    if (lcae_dataset_open(path, &o, &ds)) {
        CHECK_MSG(0, "open: %s", lcae_last_error());
        free(x);
        return;
    }
    /* brute force, in long double */
    int64_t ns;
    float *s = sorted_finite(x, N * PX, &ns);
    long double msum[PX] = {0};
    int mcount[PX] = {0};
    float sum[N], var[N], mean[PX];
    for (int i = 0; i < N; i++) {
        long double a = 0, ss = 0;
        int n = 0;
        for (int j = 0; j < PX; j++)
            if (isfinite(x[i * PX + j])) {
                a += x[i * PX + j];
                msum[j] += x[i * PX + j];
                mcount[j]++;
                n++;
            }
        for (int j = 0; j < PX; j++)
            if (isfinite(x[i * PX + j]))
                ss += (x[i * PX + j] - a / n) * (x[i * PX + j] - a / n);
        sum[i] = (float)a;
        var[i] = n ? (float)(ss / n) : NAN;
    }
    for (int j = 0; j < PX; j++)
        mean[j] = (float)(msum[j] / mcount[j]);
    /* mean and population standard deviation of every finite value */
    long double all = 0, all2 = 0;
    for (int64_t k = 0; k < ns; k++)
        all += s[k];
    all /= ns;
    for (int64_t k = 0; k < ns; k++)
        all2 += (s[k] - all) * (s[k] - all);
    double all_mean = (double)all, all_std = (double)sqrtl(all2 / ns);

    lcae_stats ref = {0};
    int threads[] = {1, 2, 3};
    for (int mode = 0; mode < 2; mode++)      /* exact selection; sample holding every pixel */
        for (int t = 0; t < 3; t++) {
            omp_set_num_threads(threads[t]);
            lcae_stats_options so = {.exact = mode == 0, .virtual_images = 1, .seed = 5};
            lcae_stats st;
            int rc = lcae_stats_compute(ds, &so, NULL, &st);
            CHECK_MSG(rc == 0, "stats: %s", lcae_last_error());
            if (rc)
                continue;
            CHECK(st.exact == 1 && st.sample_size == ns && st.pixels == N * PX);
            CHECK(st.nonfinite == PX + 3 && st.first_nonfinite == 2 * NX + 3);
            CHECK(st.min == s[0] && st.max == s[ns - 1]);
            CHECK_MSG(st.median == brute_pct(s, ns, 0.5), "median %.9g vs %.9g", st.median,
                      brute_pct(s, ns, 0.5));
            CHECK(st.p16 == brute_pct(s, ns, 0.16) && st.p84 == brute_pct(s, ns, 0.84));
            CHECK(st.sigma68 == (st.p84 - st.p16) / 2);
            CHECK_CLOSE(st.mean, all_mean, 1e-12);
            CHECK_CLOSE(st.std, all_std, 1e-12);
            CHECK(st.norm == LCAE_NORM_SIGMA68 && st.scale == st.sigma68);
            for (int i = 0; i < N; i++) {
                CHECK_CLOSE(st.sum[i], sum[i], 1e-6);
                if (isnan(var[i]))
                    CHECK(isnan(st.variance[i]));
                else
                    CHECK_CLOSE(st.variance[i], var[i], 1e-6);
            }
            for (int j = 0; j < PX; j++)
                CHECK_CLOSE(st.mean_pattern[j], mean[j], 1e-6);
            /* same numbers whatever the thread count */
            if (!ref.sum) {
                ref = st;
                continue;
            }
            CHECK(!memcmp(ref.sum, st.sum, sizeof sum) &&
                  !memcmp(ref.mean_pattern, st.mean_pattern, sizeof mean));
            CHECK(!memcmp(ref.variance, st.variance, sizeof var));
            CHECK(ref.mean == st.mean && ref.std == st.std);
            lcae_stats_free(&st);
        }
    lcae_stats_free(&ref);

    /* refusing non-finite values: one message naming the file, count and position */
    lcae_stats_options so = {.refuse_nonfinite = 1, .virtual_images = 1};
    lcae_stats st;
    CHECK(lcae_stats_compute(ds, &so, NULL, &st) == LCAE_EFAIL && !st.sum);
    const char *m = lcae_last_error();
    CHECK_MSG(strstr(m, path) && strstr(m, "123 non-finite") &&
              strstr(m, "scan position (2, 3)"), "message: %s", m);
    free(s);
    free(x);
    lcae_dataset_close(ds);
}

/* ---- 3. lcae stats and lcae info vs numpy ---------------------------------------- */
static float *load(const char *dir, const char *name, int64_t count)
{
    char p[1024];
    snprintf(p, sizeof p, "%s/%s", dir, name);
    lcae_npy_header h;
    float *v = NULL;
    int rc = lcae_npy_load_f32(p, &h, &v);
    CHECK_MSG(rc == 0 && h.count == count, "%s: %s", p, rc ? lcae_last_error() : "count");
    return rc ? NULL : v;
}

/* A command's output (up to 64 KiB), NUL-terminated. */
static char *slurp(FILE *f)
{
    size_t cap = 1 << 16, n = 0;
    char *b = malloc(cap);
    n = fread(b, 1, cap - 1, f);
    b[n] = 0;
    return b;
}

static void check_numpy(void)
{
    const char *src = test_env("LCAE_SOURCE_DIR"), *bin = test_env("LCAE_BIN");
    char fix[768], out[768], cmd[4096];
    snprintf(fix, sizeof fix, "%s/tests/fixtures/stats", src);
    snprintf(out, sizeof out, "%s/stats-out", test_tmpdir());
    const char *shape = "--format raw --det 16x12 --dtype f4 --scan 5x6";
    double *q;
    lcae_npy_header qh;
    snprintf(cmd, sizeof cmd, "%s/quantiles.npy", fix);
    if (lcae_npy_load_f64(cmd, &qh, &q)) {
        CHECK_MSG(0, "%s", lcae_last_error());
        return;
    }
    float *want_sum = load(fix, "sum.npy", 30), *want_var = load(fix, "variance.npy", 30),
          *want_mean = load(fix, "mean_pattern.npy", 192);
    for (int exact = 0; exact < 2; exact++) {
        /* random numbers: no direct beam to find */
        snprintf(cmd, sizeof cmd, "'%s' stats '%s/scan_5x6_16x12.raw' %s -o '%s' -q "
                 "--center none%s", bin, fix, shape, out, exact ? " --exact" : "");
        CHECK_MSG(system(cmd) == 0, "%s", cmd);
        float *sum = load(out, "sum.npy", 30), *var = load(out, "variance.npy", 30),
              *mean = load(out, "mean_pattern.npy", 192);
        for (int i = 0; sum && var && want_sum && i < 30; i++) {
            CHECK_CLOSE(sum[i], want_sum[i], 1e-6);
            CHECK_CLOSE(var[i], want_var[i], 1e-6);
        }
        for (int j = 0; mean && want_mean && j < 192; j++)
            CHECK_CLOSE(mean[j], want_mean[j], 1e-6);
        free(sum);
        free(var);
        free(mean);
        snprintf(cmd, sizeof cmd, "%s/stats.json", out);
        size_t len;
        char *text = test_slurp(cmd, &len);
        CHECK(text != NULL);
        if (!text)
            continue;
        cJSON *j = cJSON_Parse(text);
        CHECK_MSG(j != NULL, "stats.json: %s", text);
        /* numpy in float64 on the same float32 values: agreement to rounding */
        const char *keys[] = {"median", "sigma68", "p16", "p84", "min", "max"};
        for (int k = 0; j && k < 6; k++) {
            cJSON *v = cJSON_GetObjectItemCaseSensitive(j, keys[k]);
            CHECK_MSG(cJSON_IsNumber(v), "stats.json: no %s", keys[k]);
            if (cJSON_IsNumber(v))
                CHECK_CLOSE(v->valuedouble, q[k], 1e-12);
        }
        cJSON_Delete(j);
        free(text);
    }
    /* lcae info --json: exactly the documented keys, numpy's values */
    snprintf(cmd, sizeof cmd, "'%s' info '%s/scan_5x6_16x12.raw' %s --json -q", bin, fix, shape);
    FILE *p = popen(cmd, "r");
    char *text = slurp(p);
    CHECK(pclose(p) == 0);
    cJSON *j = cJSON_Parse(text);
    CHECK_MSG(j != NULL, "info --json: %s", text);
    const char *keys[] = {"format", "scan", "detector", "dtype", "bytes", "median",
                          "sigma68", "min", "max", "nonfinite"};
    int nkeys = 0;
    for (cJSON *it = j ? j->child : NULL; it; it = it->next)
        nkeys++;
    CHECK_MSG(nkeys == 12, "info --json has %d keys: %s", nkeys, text);
    for (int k = 0; j && k < 10; k++)
        CHECK_MSG(cJSON_GetObjectItemCaseSensitive(j, keys[k]), "info --json: no %s", keys[k]);
    if (j) {
        CHECK_CLOSE(cJSON_GetObjectItemCaseSensitive(j, "median")->valuedouble, q[0], 1e-12);
        CHECK_CLOSE(cJSON_GetObjectItemCaseSensitive(j, "sigma68")->valuedouble, q[1], 1e-12);
        CHECK_CLOSE(cJSON_GetObjectItemCaseSensitive(j, "max")->valuedouble, q[5], 1e-12);
        CHECK(cJSON_GetObjectItemCaseSensitive(j, "nonfinite")->valuedouble == 0);
        CHECK(cJSON_GetObjectItemCaseSensitive(j, "bytes")->valuedouble == 23040);
    }
    cJSON_Delete(j);
    free(text);
    free(q);
    free(want_sum);
    free(want_var);
    free(want_mean);
}

/* ---- 4. sampled vs exact on a heavy-tailed diffraction-like scan ------------------ */
enum { SNY = 64, SNX = 64, SH = 64, SW = 64 };

/* Grains (Voronoi cells, each a rotated hexagon of Bragg disks, log-normal intensities),
 * an amorphous region (a diffuse ring), a bright central beam, thickness varying over
 * the scan, shot noise and detector noise (negative values): a right-skewed pixel
 * distribution like the paper's (median below sigma68). */
static void make_diffraction_scan(const char *path)
{
    double gy[8], gx[8], ga[8];
    for (int g = 0; g < 8; g++) {
        gy[g] = urand() * SNY;
        gx[g] = urand() * SNX;
        ga[g] = urand() * 1.0472;
    }
    float *pat = malloc(sizeof(float) * SH * SW);
    FILE *f = fopen(path, "wb");
    for (int y = 0; y < SNY; y++)
        for (int x = 0; x < SNX; x++) {
            int g = 0;
            double best = 1e30;
            for (int k = 0; k < 8; k++) {
                double d = (y - gy[k]) * (y - gy[k]) + (x - gx[k]) * (x - gx[k]);
                if (d < best)
                    best = d, g = k;
            }
            int amorphous = (y - 48) * (y - 48) + (x - 16) * (x - 16) < 144;
            double thick = 1 + 0.5 * sin(y * 0.1) * cos(x * 0.07);
            double amp[6];
            for (int k = 0; k < 6; k++)
                amp[k] = 2e4 * exp(0.8 * nrand());
            for (int r = 0; r < SH; r++)
                for (int c = 0; c < SW; c++) {
                    double dy = r - 31.5, dx = c - 31.5, rr = sqrt(dy * dy + dx * dx);
                    double v = 3000 * thick * exp(-rr / 14);
                    if (rr < 5)
                        v += 2e5;
                    if (amorphous)
                        v += 4000 * exp(-(rr - 16) * (rr - 16) / 8);
                    else
                        for (int k = 0; k < 6; k++) {
                            double a = ga[g] + k * 1.0472;
                            double sy = dy - 18 * sin(a), sx = dx - 18 * cos(a);
                            if (sy * sy + sx * sx < 6.25)
                                v += amp[k];
                        }
                    pat[r * SW + c] = (float)(v + sqrt(v) * nrand() + 40 * nrand());
                }
            CHECK(fwrite(pat, sizeof(float), SH * SW, f) == SH * SW);
        }
    CHECK(fclose(f) == 0);
    free(pat);
}

static void check_sampling(void)
{
    char path[512];
    snprintf(path, sizeof path, "%s/diffraction.raw", test_tmpdir());
    make_diffraction_scan(path);
    lcae_open_options o = {.format = LCAE_FMT_RAW, .scan_ny = SNY, .scan_nx = SNX,
                           .det_h = SH, .det_w = SW, .dtype = LCAE_DT_F32};
    lcae_dataset *ds;
    if (lcae_dataset_open(path, &o, &ds)) {
        CHECK_MSG(0, "open: %s", lcae_last_error());
        return;
    }
    lcae_stats ex;
    lcae_stats_options eo = {.exact = 1};
    CHECK(lcae_stats_compute(ds, &eo, NULL, &ex) == 0);
    printf("exact: median %.2f sigma68 %.2f over %lld pixels\n", ex.median, ex.sigma68,
           (long long)ex.sample_size);
    CHECK(ex.median < ex.sigma68); /* right-skewed, like the paper's data */
    /* The default sample: within 0.5% of sigma68 for 5 seeds. Smaller samples (3 seeds,
     * to keep the test short under ASan): within 4.5 of their estimated standard errors,
     * which must predict under 0.1% (0.5% / 5) at the default size. */
    int64_t sizes[3] = {LCAE_STATS_DEFAULT_SAMPLE, 1 << 20, 1 << 16};
    for (int z = 0; z < 3; z++) {
        double worst = 0, c = 0;
        int seeds = z ? 3 : 5;
        for (uint64_t seed = 1; seed <= (uint64_t)seeds; seed++) {
            lcae_stats_options so = {.seed = seed, .sample_size = z ? sizes[z] : 0};
            lcae_stats st;
            if (lcae_stats_compute(ds, &so, NULL, &st)) {
                CHECK_MSG(0, "%s", lcae_last_error());
                continue;
            }
            double e_med = fabs(st.median - ex.median), e_sig = fabs(st.sigma68 - ex.sigma68);
            CHECK(!st.exact && st.sample_size == sizes[z]);
            if (z == 0)
                CHECK_MSG(e_med < 0.005 * ex.sigma68 && e_sig < 0.005 * ex.sigma68,
                          "seed %llu: median %.3f sigma68 %.3f, exact %.3f %.3f",
                          (unsigned long long)seed, st.median, st.sigma68, ex.median,
                          ex.sigma68);
            else
                CHECK_MSG(e_med < 4.5 * st.median_se && e_sig < 4.5 * st.sigma68_se,
                          "seed %llu: errors %.3f %.3f, estimated SE %.3f %.3f",
                          (unsigned long long)seed, e_med, e_sig, st.median_se, st.sigma68_se);
            worst = fmax(worst, fmax(e_med, e_sig) / ex.sigma68);
            c = st.sigma68_se / ex.sigma68 * sqrt((double)sizes[z]);
        }
        if (z)
            CHECK_MSG(c / sqrt((double)LCAE_STATS_DEFAULT_SAMPLE) < 0.001,
                      "predicted SE at the default sample: %.4f%%",
                      100 * c / sqrt((double)LCAE_STATS_DEFAULT_SAMPLE));
        printf("sample %lld: worst error %.4f%% of sigma68 over %d seeds; SE(sigma68) = "
               "c sigma68 / sqrt(n) with c = %.3f\n", (long long)sizes[z], 100 * worst, seeds, c);
    }
    lcae_stats_free(&ex);
    lcae_dataset_close(ds);
    unlink(path); /* 64 MiB: not left in /tmp */
}

int main(void)
{
    check_percentiles();
    check_pass();
    check_numpy();
    check_sampling();
    return test_done("test_stats");
}
