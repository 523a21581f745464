/* The direct-beam finder on the real detector files of tests/fixtures/shared/data/real that lcae can
 * read: where there is a beam, against tests/fixtures/beam (the centre of the circle
 * fitted to each frame's saturated disk, computed by tools/make_beam_fixture.py with
 * numpy from the raw bytes: another reader and another method); where there is none, the
 * documented one-line error. Without them the test is skipped, and fails under CI
 * (CI set), where the data must be there. */
#include "test_util.h"

#include "lcae/io.h"
#include "lcae/stats.h"

static char real[512];

static const char *real_path(const char *rel)
{
    snprintf(real, sizeof real, "%s/data/real/%s", test_env("LCAE_SHARED_DIR"), rel);
    return real;
}

static int beam_of(const char *spec, const lcae_open_options *o, lcae_beam *b)
{
    lcae_dataset *ds;
    memset(b, 0, sizeof *b);
    int rc = lcae_dataset_open(spec, o, &ds);
    CHECK_MSG(rc == 0, "%s: %s", spec, lcae_last_error());
    if (rc)
        return rc;
    rc = lcae_beam_compute(ds, NULL, NULL, b);
    lcae_dataset_close(ds);
    return rc;
}

/* Every frame's measured beam within tol px of the fixture's, the fitted surface within
 * fit_tol (these "scans" are detector tests: the beam wanders from frame to frame, it
 * does not follow a smooth descan), and the radius in [rlo, rhi]. */
static void check_beam(const char *spec, const lcae_open_options *o, const char *fixture,
                       double tol, double fit_tol, double rlo, double rhi)
{
    char path[600];
    snprintf(path, sizeof path, "%s/tests/fixtures/beam/%s.npy", test_env("LCAE_SOURCE_DIR"),
             fixture);
    lcae_npy_header h;
    double *ref = NULL;
    int rc = lcae_npy_load_f64(path, &h, &ref);
    CHECK_MSG(rc == 0 && h.ndim == 2 && h.shape[1] == 3, "%s: %s", path, lcae_last_error());
    lcae_beam b;
    if (rc || beam_of(spec, o, &b)) {
        CHECK_MSG(rc, "%s: %s", spec, lcae_last_error());
        free(ref);
        return;
    }
    int64_t n = b.ny * b.nx;
    CHECK(n == h.shape[0] && b.not_found == 0);
    double worst = 0, worst_fit = 0;
    for (int64_t i = 0; i < n && n == h.shape[0]; i++) {
        worst = fmax(worst, hypot(b.measured[2 * i] - ref[3 * i],
                                  b.measured[2 * i + 1] - ref[3 * i + 1]));
        worst_fit = fmax(worst_fit, hypot(b.fitted[2 * i] - ref[3 * i],
                                          b.fitted[2 * i + 1] - ref[3 * i + 1]));
    }
    printf("%s: beam (%.2f, %.2f) in the first frame (reference %.2f, %.2f), worst "
           "distance %.3f px measured, %.3f px fitted; radius %.2f px; rms residual "
           "%.3f px\n", fixture, b.measured[0], b.measured[1], ref[0], ref[1], worst,
           worst_fit, b.radius, b.rms_residual);
    CHECK_MSG(worst < tol && worst_fit < fit_tol, "%s: %.3f, %.3f px", fixture, worst,
              worst_fit);
    CHECK_MSG(b.radius >= rlo && b.radius <= rhi, "%s: radius %g", fixture, b.radius);
    lcae_beam_free(&b);
    free(ref);
}

/* The error names the file (without an HDF5 dataset path), says what is missing and how
 * to go on without a beam. */
static void check_no_beam(const char *spec, const lcae_open_options *o, const char *file,
                          const char *what)
{
    lcae_beam b;
    int rc = beam_of(spec, o, &b);
    const char *msg = lcae_last_error();
    printf("no beam: %s\n", msg);
    CHECK_MSG(rc == LCAE_EFAIL && strstr(msg, file) && strstr(msg, "no direct beam") &&
                  strstr(msg, what) && strstr(msg, "--center none") && !strchr(msg, '\n') &&
                  !b.fitted, "%s: rc %d, '%s'", spec, rc, msg);
}

int main(void)
{
    if (test_shared_missing("the real detector files (shared/data/real)"))
        return test_skip_status();
    /* Merlin, 6-bit: a saturated direct beam of radius about 24 px touching column 0,
     * in a bright halo. Its edge is not round (the boundary pixels lie 0.9-1.5 px rms
     * from the best circle), so its centre is defined to about a pixel: 1.2 px. The
     * radius is where the mean profile falls to halfway between the plateau and the halo
     * just outside it, beyond the saturated edge (equal-area radius 24.3 px). */
    check_beam(real_path("merlin-rsciio/001_4x2_6bit.mib"), NULL, "merlin_001_4x2_6bit", 1.2,
               2.5, 22, 30);
    check_beam(real_path("merlin-rsciio/002_4x2_6bit_roi128.mib"), NULL,
               "merlin_002_4x2_6bit_roi128", 1.2, 2.5, 22, 30);
    /* NanoMegas blockfile (precession electron diffraction, a zone axis: Bragg spots, one
     * of them saturated too, on a strong diffuse background), read as raw bytes: a
     * 4112-byte header (the navigator image inside it), then frames of a 6-byte header
     * and 144 x 144 uint8, scan 3 x 2. A small round saturated beam: 0.3 px. */
    lcae_open_options blo = {.format = LCAE_FMT_RAW, .scan_ny = 3, .scan_nx = 2,
                             .det_h = 144, .det_w = 144, .dtype = LCAE_DT_U8,
                             .header_bytes = 4112, .frame_header_bytes = 6};
    check_beam(real_path("blockfile-nanomegas/test1.blo"), &blo, "blockfile_test1", 0.3, 0.3,
               3.5, 6);
    /* No direct beam: EBSD (backscattered Kikuchi patterns, a smooth bright band), a
     * Merlin acquisition without illumination (a few counts and a hot pixel) */
    lcae_open_options ebsd = {.scan_ny = 3, .scan_nx = 3};
    char spec[700], file[600];
    snprintf(file, sizeof file, "%s", real_path("ebsd-ni-kikuchipy/patterns.h5"));
    snprintf(spec, sizeof spec, "%s:/Scan 1/EBSD/Data/patterns", file);
    check_no_beam(spec, &ebsd, file, "no disk brighter than its surroundings");
    const char *dark =
        real_path("merlin-rsciio/002_merlin_test_roi_sig256x128_nav4x2_hot_pixel_52x_39y.mib");
    check_no_beam(dark, NULL, dark, "is a single pixel");
    /* DECTRIS ARINA, every count 0: readable only where HDF5's bitshuffle filter
     * (hdf5-filter-plugin) is installed; then the flat mean pattern is the error */
    lcae_open_options arina = {.scan_ny = 4, .scan_nx = 4};
    const char *zeros = real_path("arina-rsciio/test_00_data_000001.h5");
    lcae_dataset *ds;
    if (lcae_dataset_open(zeros, &arina, &ds) == 0) {
        lcae_dataset_close(ds);
        check_no_beam(zeros, &arina, zeros, "is flat");
    } else {
        CHECK_MSG(strstr(lcae_last_error(), "filter 32008"), "%s", lcae_last_error());
        printf("arina: not readable here (%s)\n", lcae_last_error());
    }
    return test_done("test_beam_real");
}
