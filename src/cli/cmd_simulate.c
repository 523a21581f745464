/* lcae simulate -o DIR [options]: the built-in sample, a polycrystal 4D-STEM scan in the
 * EMPAD format (or npy) with its ground truth; --png adds pictures of it. */
#include "cli.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "lcae/report.h"
#include "lcae/sim.h"
#include "lcae/stats.h"

/* The sample's options, from the library's table (lcae run has its own --sample-* names
 * for the main ones), write into a parameter set that starts from the library's
 * defaults, then the --preset's, which sim_init applies before the options are parsed
 * (so that every option given overrides it); lcae_sim_check checks them all. The scan
 * shape is an OPT_SHAPE pair (0: not given). */
static lcae_sim_params P;
static int64_t scan[2];
static const char *preset = "default";
static cli_option sample_options[40];
static cli_field sample_fields[40];

static const cli_option sample_own_options[] = {
    {"preset", 0, OPT_STRING, &preset, "NAME",
     "default or lowdose (see Presets above); the other options override it"},
    {"scan", 0, OPT_SHAPE, scan, "NYxNX", "scan shape (default 128)"},
    {0}};

void cli_sim_defaults(void)
{
    lcae_sim_defaults(&P);
    cli_options_from(lcae_sim_option_table, &P, LCAE_SIM_SHAPE, 0, NULL, sample_options,
                     sample_fields, (int)(sizeof sample_options / sizeof *sample_options));
}

static void sim_init(int argc, char **argv)
{
    /* an unknown name is reported by sim_params */
    lcae_sim_preset(cli_peek_option(argc, argv, "preset", preset), &P);
}

static int sim_params(lcae_sim_params *p)
{
    lcae_sim_params unused;
    if (lcae_sim_preset(preset, &unused))
        return cli_error(LCAE_EUSAGE, "option --preset: %s", lcae_last_error());
    *p = P;
    if (scan[0]) {
        p->ny = scan[0];
        p->nx = scan[1];
    }
    return 0;
}

static const char *out_dir;
static int png;

static const cli_option simulate_options[] = {
    {"output", 'o', OPT_STRING, &out_dir, "DIR", "output folder (created if missing)"},
    {"png", 0, OPT_FLAG, &png, NULL, "also write pictures: truth maps, variance, patterns"},
    {0}};

static char *path_in(const char *dir, const char *name)
{
    static char buf[4096];
    snprintf(buf, sizeof buf, "%s/%s", dir, name);
    return buf;
}

/* One simulated pattern per phase and zone axis, log scale, tiles of det x det in two
 * rows: Al [001] [011] [111] [112] amorphous / Fe [001] [011] [111] [112], Al [001]
 * turned by 30 degrees. */
static int write_patterns_png(const lcae_sim_params *p, lcae_output_set *set, const char *dir)
{
    static const int zones[4][3] = {{0, 0, 1}, {0, 1, 1}, {1, 1, 1}, {1, 1, 2}};
    int d = p->det, gap = 4, cols = 5, rows = 2;
    int W = cols * d + (cols - 1) * gap, H = rows * d + (rows - 1) * gap;
    size_t px = (size_t)d * d;
    float *expected = malloc(px * sizeof *expected), *pat = malloc(px * sizeof *pat);
    uint8_t *tile = malloc(px * 3), *img = calloc((size_t)W * H * 3, 1);
    int rc = 0;
    if (!expected || !pat || !tile || !img) {
        rc = cli_error(LCAE_ENOMEM, "out of memory");
        goto done;
    }
    for (int t = 0; t < rows * cols && !rc; t++) {
        int r = t / cols, c = t % cols;
        lcae_sim_crystal cr = {.phase = r, .thickness_nm = p->thickness_nm};
        if (c < 4) {
            for (int k = 0; k < 3; k++)
                cr.zone[k] = zones[c][k];
        } else {
            cr.phase = r == 0 ? LCAE_PHASE_AMORPHOUS : LCAE_PHASE_AL;
            cr.zone[2] = 1;
            cr.angle_deg = 30;
        }
        double centre = (d - 1) / 2.0;
        int st = lcae_sim_render(p, &cr, centre, centre, expected);
        if (!st)
            st = lcae_sim_detect(p, expected, 1000 + t, pat);
        if (st) {
            rc = cli_fail(st);
            break;
        }
        float mx = 1;
        for (size_t i = 0; i < px; i++)
            mx = pat[i] > mx ? pat[i] : mx;
        lcae_image_viridis(pat, (int64_t)px, 0.5, mx, 1, tile);
        for (int y = 0; y < d; y++)
            memcpy(img + ((size_t)(r * (d + gap) + y) * W + c * (d + gap)) * 3,
                   tile + (size_t)y * d * 3, (size_t)d * 3);
    }
    if (!rc) {
        int st = lcae_png_write_in(set, path_in(dir, "patterns.png"), img, H, W, 3);
        if (st)
            rc = cli_fail(st);
    }
done:
    free(expected);
    free(pat);
    free(tile);
    free(img);
    return rc;
}

/* truth_*.npy and the variance map of the scan as PNG. */
static int write_maps_png(const lcae_sim_params *p, lcae_output_set *set, const char *dir)
{
    int64_t n = p->ny * p->nx;
    uint8_t *rgb = malloc((size_t)n * 3);
    if (!rgb)
        return cli_error(LCAE_ENOMEM, "out of memory");
    /* labels in categorical colours; angles (degrees) and thicknesses (nm) on viridis over
     * their range */
    double t_lo = p->thickness_nm * (1 - p->thickness_var);
    double t_hi = p->thickness_nm * (1 + p->thickness_var);
    const struct {
        const char *name;
        int labels;
        double lo, hi;
    } maps[] = {{"truth_class", 1, 0, 0}, {"truth_grain", 1, 0, 0}, {"truth_region", 1, 0, 0},
                {"truth_angle", 0, 0, 360}, {"truth_thickness", 0, t_lo, t_hi}};
    int st = 0;
    for (size_t k = 0; k < sizeof maps / sizeof *maps && !st; k++) {
        char name[64];
        snprintf(name, sizeof name, "%s.npy", maps[k].name);
        lcae_npy_header h;
        int32_t *labels = NULL;
        float *values = NULL;
        st = maps[k].labels ? lcae_npy_load_i32(path_in(dir, name), &h, &labels)
                            : lcae_npy_load_f32(path_in(dir, name), &h, &values);
        if (st)
            break;
        if (labels)
            lcae_image_labels(labels, n, rgb);
        else
            lcae_image_viridis(values, n, maps[k].lo, maps[k].hi, 0, rgb);
        free(labels);
        free(values);
        snprintf(name, sizeof name, "%s.png", maps[k].name);
        st = lcae_png_write_in(set, path_in(dir, name), rgb, (int)p->ny, (int)p->nx, 3);
    }
    if (!st) {
        /* the variance over reciprocal space at each position, through lcae's reader */
        char name[96];
        lcae_dataset *ds;
        lcae_stats s;
        lcae_stats_options o = {.virtual_images = 1, .sample_size = 1 << 16};
        lcae_sim_scan_name(p, name, sizeof name);
        if (!(st = lcae_dataset_open(path_in(dir, name), NULL, &ds))) {
            st = lcae_stats_compute(ds, &o, NULL, &s);
            lcae_dataset_close(ds);
            if (!st) {
                float lo = INFINITY, hi = 0;
                for (int64_t i = 0; i < n; i++) {
                    lo = s.variance[i] < lo ? s.variance[i] : lo;
                    hi = s.variance[i] > hi ? s.variance[i] : hi;
                }
                lcae_image_viridis(s.variance, n, lo > 0 ? lo : 1e-3, hi, 1, rgb);
                lcae_stats_free(&s);
                st = lcae_png_write_in(set, path_in(dir, "variance.png"), rgb, (int)p->ny,
                                       (int)p->nx, 3);
            }
        }
    }
    free(rgb);
    return st ? cli_fail(st) : 0;
}

static int run_simulate(int npos, char **pos)
{
    (void)pos;
    (void)npos;
    if (!out_dir)
        return cli_error(LCAE_EUSAGE, "lcae simulate needs -o DIR (see 'lcae simulate --help')");
    lcae_sim_params p;
    int rc = sim_params(&p);
    if (rc)
        return rc;
    if ((rc = lcae_sim_check(&p)))
        return cli_fail(rc);
    if (mkdir(out_dir, 0777) != 0 && errno != EEXIST)
        return cli_error(LCAE_EFAIL, "%s: cannot create the output folder (%s)", out_dir,
                         strerror(errno));
    struct stat sb;
    if (stat(out_dir, &sb) != 0 || !S_ISDIR(sb.st_mode))
        return cli_error(LCAE_EFAIL, "%s: not a folder (expected a folder for the outputs)",
                         out_dir);
    /* bytes per pattern: EMPAD frames carry 2 metadata rows; npy counts are uint16 */
    double frame = p.format == LCAE_SIM_EMPAD ? (p.det + 2.0) * p.det * 4
                                              : (double)p.det * p.det * (p.counting ? 2 : 4);
    char name[96];
    cli_note("simulating %lld x %lld patterns of %d x %d (%s, %.2f GB) into %s",
             (long long)p.ny, (long long)p.nx, p.det, p.det,
             lcae_sim_scan_name(&p, name, sizeof name), (double)p.ny * p.nx * frame / 1e9,
             out_dir);
    rc = lcae_simulate(&p, out_dir, cli_progress());
    if (rc)
        return cli_fail(rc);
    cli_note("scale %.5f 1/A per pixel, disk radius %.2f pixels, wavelength %.5f A",
             lcae_sim_scale(&p), lcae_sim_disk_radius(&p), lcae_sim_wavelength(p.kv));
    if (!png)
        return 0;
    /* the pictures are drawn from the sample as written, so they are a set of their own:
     * a failure here leaves the (complete) sample and no picture */
    lcae_output_set *set;
    if ((rc = lcae_output_set_new(&set)))
        return cli_fail(rc);
    if (!(rc = write_patterns_png(&p, set, out_dir)))
        rc = write_maps_png(&p, set, out_dir);
    int closed = lcae_output_set_close(set, !rc);
    return rc ? rc : closed ? cli_fail(closed) : 0;
}

static const cli_option *const simulate_groups[] = {simulate_options, sample_own_options,
                                                    sample_options, cli_common_options, NULL};

const cli_command cmd_simulate = {
    .name = "simulate",
    .usage = "-o DIR [options]",
    .summary =
        "the built-in sample: a simulated polycrystal scan (EMPAD or npy) with ground truth",
    .description =
        "Writes DIR/scan_x{NX}_y{NY}.raw and .xml (EMPAD) or DIR/scan.npy, the truth maps\n"
        "DIR/truth_grain.npy, truth_class.npy (phase + zone axis), truth_region.npy\n"
        "(0 grain, 1 boundary, 2 amorphous), truth_angle.npy (degrees),\n"
        "truth_thickness.npy (nm), and DIR/truth.json. Kinematic (two-beam) diffraction\n"
        "from Al (FCC) and Fe (BCC) grains and amorphous regions; see the README. The same\n"
        "seed gives the same bytes on any number of threads.\n\n"
        "Presets (the options below override them):\n"
        "  default  the EMPAD at 75000 electrons per pattern: the defaults stated below\n"
        "  lowdose  a counting detector (Medipix/Merlin, EMPAD at low dose): --counting\n"
        "           --dose 300 --det 64 --gain-spread 0 --readout-noise 0 --hot-pixels 0\n"
        "           --output-format npy (scan.npy of uint16 counts)",
    .option_groups = simulate_groups,
    .min_positional = 0,
    .max_positional = 0,
    .run = run_simulate,
    .init = sim_init,
};
