/* The run report on a real-sized scan: time of lcae_report_write beside one plain
 * statistics pass over the same scan (lcae_stats_compute with virtual images, the peer:
 * the report reads the scan once more), and the size of report.html (limit: 25 MB for a
 * 256 x 256 scan of 128 x 128 patterns).
 *
 *   lcae simulate -o /tmp/s256 --scan 256x256
 *   bench_report /tmp/s256/scan_x256_y256.raw /tmp/s256-report
 *
 * Clusterings stand in for the models' (no training here): "standard" splits every true
 * grain in two along the thickness and drops 3 % of positions as noise, "invariant" is the
 * class truth; latent vectors are the labels plus seeded noise. Truth maps are read from
 * beside the scan (lcae simulate's truth_*.npy). */
#define _DEFAULT_SOURCE /* wait4 (bench_util.h) */
#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "bench_util.h"
#include "lcae/io.h"
#include "lcae/report.h"
#include "lcae/stats.h"

/* A map of n values in the folder of `scan`: int32 labels (f32 0) or float32 (f32 1);
 * NULL if it cannot be read, with a message when it is `required`. */
static void *load_beside(const char *scan, const char *name, int64_t n, int f32, int required)
{
    char path[1024];
    const char *slash = strrchr(scan, '/');
    int dl = slash ? (int)(slash - scan + 1) : 0;
    snprintf(path, sizeof path, "%.*s%s", dl, scan, name);
    lcae_npy_header h;
    int32_t *vi = NULL;
    float *vf = NULL;
    int rc = f32 ? lcae_npy_load_f32(path, &h, &vf) : lcae_npy_load_i32(path, &h, &vi);
    void *v = f32 ? (void *)vf : (void *)vi;
    if (rc || h.count != n) {
        if (required)
            fprintf(stderr, "bench_report: %s: %s\n", path, lcae_last_error());
        free(v);
        return NULL;
    }
    return v;
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: bench_report SCAN OUT_DIR\n");
        return 2;
    }
    lcae_dataset *ds;
    if (lcae_dataset_open(argv[1], NULL, &ds)) {
        fprintf(stderr, "bench_report: %s\n", lcae_last_error());
        return 1;
    }
    mkdir(argv[2], 0755);
    const lcae_dataset_info *di = lcae_dataset_get_info(ds);
    int64_t n = di->count;
    int32_t *tclass = load_beside(argv[1], "truth_class.npy", n, 0, 1);
    int32_t *tgrain = load_beside(argv[1], "truth_grain.npy", n, 0, 1);
    int32_t *tregion = load_beside(argv[1], "truth_region.npy", n, 0, 1);
    float *thick = load_beside(argv[1], "truth_thickness.npy", n, 1, 0); /* optional */
    if (!tclass || !tgrain || !tregion)
        return 1;
    enum { D = 16 };
    int32_t *std_lab = malloc((size_t)n * sizeof *std_lab);
    float *lat[2] = {malloc((size_t)n * D * sizeof(float)), malloc((size_t)n * D * sizeof(float))};
    double mean_t = 0;
    for (int64_t i = 0; thick && i < n; i++)
        mean_t += thick[i] / (double)n;
    uint64_t s = 12345;
    for (int64_t i = 0; i < n; i++) {
        s = s * 6364136223846793005ull + 1442695040888963407ull;
        int noise = (s >> 33) % 100 < 3;
        std_lab[i] = noise || tgrain[i] < 0 ? -1 : 2 * tgrain[i] + (thick && thick[i] > mean_t);
        for (int k = 0; k < D; k++) {
            s = s * 6364136223846793005ull + 1442695040888963407ull;
            double u = (double)(s >> 11) * 0x1.0p-53 - 0.5;
            lat[0][i * D + k] = (float)((std_lab[i] % 7) * (k % 4) + u);
            lat[1][i * D + k] = (float)(tclass[i] * (k < 10 ? 1 : 0.2) + 0.5 * u);
        }
    }

    double t0 = bench_now();
    lcae_stats st;
    lcae_stats_options so = {.virtual_images = 1};
    if (lcae_stats_compute(ds, &so, NULL, &st)) {
        fprintf(stderr, "bench_report: %s\n", lcae_last_error());
        return 1;
    }
    double t_stats = bench_now() - t0;
    lcae_report_clustering cl[2] = {
        {.name = "standard", .title = "Standard autoencoder", .latent = lat[0],
         .latent_dims = D, .labels = std_lab},
        {.name = "invariant", .title = "Rotation-invariant", .latent = lat[1],
         .latent_dims = D, .labels = tclass}};
    lcae_report_input in = {.data_path = argv[1], .ds = ds, .stats = &st, .clusterings = cl,
                            .n_clusterings = 2, .truth_class = tclass,
                            .truth_region = tregion, .truth_grain = tgrain};
    t0 = bench_now();
    if (lcae_report_write(&in, argv[2], NULL)) {
        fprintf(stderr, "bench_report: %s\n", lcae_last_error());
        return 1;
    }
    double t_report = bench_now() - t0;
    char path[1024];
    snprintf(path, sizeof path, "%s/report.html", argv[2]);
    struct stat sb;
    long long bytes = stat(path, &sb) ? -1 : (long long)sb.st_size;
    printf("scan %lld x %lld of %lld x %lld, %d threads\n", (long long)di->ny, (long long)di->nx,
           (long long)di->h, (long long)di->w, omp_get_max_threads());
    printf("statistics pass (peer)  %8.2f s\n", t_stats);
    printf("lcae_report_write       %8.2f s  (%.2f x the statistics pass)\n", t_report,
           t_report / t_stats);
    printf("report.html             %8.2f MB (limit 25 MB)\n", bytes / 1e6);
    lcae_stats_free(&st);
    lcae_dataset_close(ds);
    free(tclass);
    free(tgrain);
    free(tregion);
    free(thick);
    free(std_lab);
    free(lat[0]);
    free(lat[1]);
    return bytes > 25000000;
}
