/* lcae report: pictures. PNG files (8-bit grey or RGB, encoded in memory with libpng and
 * written atomically), a viridis-like colour map for continuous maps, and a categorical
 * palette for label maps (grey for noise, label -1).
 *
 * Images are row-major, h rows of w pixels; RGB images hold 3 bytes per pixel. */
#ifndef LCAE_REPORT_H
#define LCAE_REPORT_H

#include <stddef.h>
#include <stdint.h>

#include "lcae/core.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Encodes an 8-bit image with `channels` = 1 (grey) or 3 (RGB) into a malloc'd PNG
 * (*png, *bytes). */
int lcae_png_encode(const uint8_t *pix, int h, int w, int channels, uint8_t **png,
                    size_t *bytes);
/* Encodes, then writes `path` atomically. */
int lcae_png_write_gray8(const char *path, const uint8_t *pix, int h, int w);
int lcae_png_write_rgb8(const char *path, const uint8_t *rgb, int h, int w);
/* The same as a member of an output set (lcae/io.h; NULL: on its own), `channels` 1 or 3. */
struct lcae_output_set;
int lcae_png_write_in(struct lcae_output_set *set, const char *path, const uint8_t *pix, int h,
                      int w, int channels);

/* Viridis (matplotlib's, sampled at 33 points and interpolated linearly) at t in [0, 1]
 * (clamped; NaN gives dark grey 40,40,40). */
void lcae_colormap_viridis(double t, uint8_t rgb[3]);
/* A colour per label: matplotlib's tab10 then its light tab20 companions (greys left
 * out) for labels 0-17, then hues spaced by the golden angle; grey 128 for -1 (noise)
 * and for any other negative label. */
void lcae_palette_label(int32_t label, uint8_t rgb[3]);

/* n values to RGB through viridis, lo -> 0 and hi -> 1; with `log_scale` the values are
 * mapped as log10(max(v, floor)) where floor = lo (lo must then be > 0). NaN: dark grey. */
void lcae_image_viridis(const float *v, int64_t n, double lo, double hi, int log_scale,
                        uint8_t *rgb);
/* n labels to RGB through lcae_palette_label. */
void lcae_image_labels(const int32_t *labels, int64_t n, uint8_t *rgb);


/* The formats of the report's figures: PNG (always: report.html embeds it), PDF, SVG. */
enum { LCAE_FIGURE_PNG = 1, LCAE_FIGURE_PDF = 2, LCAE_FIGURE_SVG = 4 };
/* Parses a comma-separated list of "png", "pdf", "svg" (png required) into *formats. */
int lcae_figure_formats_parse(const char *list, unsigned *formats);

/* ---- the run report (lcae run): figures, report.html, report.json -------------------
 * One clustering of the scan: a model's latent vectors and the labels HDBSCAN gave them. */
typedef struct {
    const char *name;          /* "standard", "invariant" */
    const char *title;         /* "Standard autoencoder", ... */
    const float *latent;       /* (ny*nx, latent_dims) */
    int latent_dims;
    const int32_t *labels;     /* (ny*nx), -1 noise */
    const int32_t *labels_filled; /* (ny*nx), the filled map (lcae_fill_map: labels of
                                     `labels` only), or NULL */
    const char *train_log;     /* the model's NAME.log.json (per-epoch loss terms), or NULL */
    /* the scores as lcae run's score.json holds them: {"class": lcae_score_json's object,
     * "grain": the same against the grain truth}, or NULL: scored here against the truth
     * maps given below */
    const struct cJSON *score;
    /* the clustering's summary as lcae run's cluster.json holds it (lcae_cluster_summary:
     * noise_share, smoothed, ...), or NULL */
    const struct cJSON *cluster;
} lcae_report_clustering;

typedef struct {
    const char *data_path;            /* the scan, as given */
    struct lcae_dataset *ds;          /* open scan: read again for mean patterns, thumbnails */
    const struct lcae_stats *stats;   /* with virtual images (sum, variance, mean_pattern) */
    const lcae_report_clustering *clusterings; /* n_clusterings of them */
    int n_clusterings;
    /* ground truth (NULL when unknown), ny*nx each: LCAE_REGION_* and class / grain ids */
    const int32_t *truth_class, *truth_region, *truth_grain;
    /* the direct beam's position per scan position, (ny*nx, 2) (y, x) detector pixels, as
     * the patterns were centred by (NULL: not centred) */
    const float *beam;
    const struct cJSON *config;       /* the run's configuration (run.json), or NULL */
    const struct cJSON *timings;      /* seconds per stage, or NULL */
    unsigned figure_formats;          /* LCAE_FIGURE_* (PNG is always written); 0: PNG + PDF */
    double step_nm;                   /* scan step, for scale bars on the maps; 0: unknown */
} lcae_report_input;

/* Writes into the existing folder `dir`: figures drawn with cairo, PNG and PDF / SVG
 * beside it as figure_formats asks (variance map beside the cluster maps; per cluster its
 * mask and mean pattern on a log scale; virtual bright field and annular dark field;
 * latent PCA coloured by cluster; training-loss curves; the beam position maps when
 * centred; truth maps beside the clusters when known), report.html (self-contained, the
 * PNGs embedded, hover shows the pattern at a scan position and its clusters) and
 * report.json (every number shown): all or none (one output set, lcae/io.h). */
int lcae_report_write(const lcae_report_input *in, const char *dir, const lcae_progress *p);

#ifdef __cplusplus
}
#endif
#endif
