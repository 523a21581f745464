/* The run report's shared state (src/report only): what report.c computes from the
 * inputs, what the streaming pass (scan.c) gathers from the scan, and what the figures
 * (figures.c), the page (html.c) and report.json are made from. */
#ifndef LCAE_REPORT_INTERNAL_H
#define LCAE_REPORT_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "lcae/io.h"
#include "lcae/report.h"
#include "lcae/score.h"
#include "lcae/stats.h"

/* Figure 2 shows at most this many clusters (the largest) per clustering. */
#define REPORT_MAX_SHOWN 24
/* Latent scatter: at most this many points, drawn from a fixed seed. */
#define REPORT_MAX_POINTS 20000
/* Hover thumbnails: side in pixels, and at most this many (positions every `stride`). */
#define REPORT_THUMB 24
#define REPORT_MAX_THUMBS 16384
/* Patterns in figure 2 are binned so that their side is at most this. */
#define REPORT_PATTERN_MAX 256

typedef struct {
    const lcae_report_clustering *in;
    int32_t k;          /* labels are -1 or 0..k-1 */
    int64_t *sizes;     /* (k): positions per label */
    int64_t noise;      /* positions labelled -1 */
    int nclusters;      /* labels with at least one position */
    int nshown;         /* clusters in figure 2 (the largest, at most REPORT_MAX_SHOWN) */
    int32_t *shown;     /* (nshown): their labels, by decreasing size (ties: smaller label) */
    int32_t *slot;      /* (k): index in `shown`, -1 if not shown */
    double *mean;       /* (nshown, ph, pw): mean binned pattern of each shown cluster */
    /* PCA of the latent vectors (finite rows) */
    double pc[2][64];   /* the first two principal axes (latent_dims <= 64) */
    double center[64];  /* the mean latent vector */
    double explained[2];/* share of the total variance along each */
    int64_t pca_rows;   /* finite rows used */
    /* scores computed here when none were given */
    int has_class, has_grain;
    lcae_score_result class_score, grain_score;
} report_clustering;

/* A figure written to the report folder, kept in memory for the page. */
typedef struct {
    char file[96];
    char caption[512];
    uint8_t *png;
    size_t bytes;
    int w, h;
} report_figure;

typedef struct {
    const lcae_report_input *in;
    const char *dir;
    lcae_output_set *out; /* every file of the report: renamed together at the end */
    const lcae_stats *st; /* in->stats, or own_stats when it lacked virtual images */
    lcae_stats own_stats;
    int64_t ny, nx, h, w, n;
    int map_scale;        /* scan maps are drawn nx * map_scale wide (>= ~256 px) */
    report_clustering *cl;
    int ncl;
    /* virtual detectors, from the mean pattern: centre of mass of (mean - its median)^+,
     * radius where the azimuthal mean falls to half its peak above that median */
    double cx, cy, r_half, bg;
    int64_t bf_pixels, adf_pixels;
    float *bf, *adf;      /* (n): sums over the bright-field disk, dark-field annulus */
    /* mean patterns of figure 2: detector binned by pbin into ph x pw */
    int pbin, ph, pw;
    /* hover thumbnails: positions (i * stride, j * stride), i < tny, j < tnx, each th x tw
     * block means of the pattern */
    int stride, tny, tnx, th, tw;
    float *thumbs;        /* (tny, tnx, th, tw) */
    double thumb_lo, thumb_hi; /* the log scale of the sprite (values, not logs) */
    double pat_lo, pat_hi;     /* the log scale of figure 2's mean patterns */
    unsigned figure_formats; /* LCAE_FIGURE_* the figures are written in */
    report_figure fig[32];
    int nfig;
    cJSON *json;          /* report.json */
} report_ctx;

/* scan.c: the one streaming pass (mean patterns of shown clusters, BF/ADF, thumbnails). */
int report_scan_pass(report_ctx *r, const lcae_progress *p);
/* pca.c: eigen-decomposition of a symmetric d x d matrix a (destroyed) by cyclic Jacobi
 * rotations: eigenvalues in val (decreasing), eigenvectors in the columns of vec. */
void report_jacobi(double *a, int d, double *val, double *vec);
int report_pca(report_clustering *c, int64_t n);
/* figures.c: every PNG; each adds itself to r->fig. */
int report_figures(report_ctx *r);
/* html.c: report.html from r->json and r->fig. */
int report_html(report_ctx *r);
/* Base64 of n bytes into a malloc'd, NUL-terminated string. */
char *report_base64(const uint8_t *data, size_t n);

#endif
