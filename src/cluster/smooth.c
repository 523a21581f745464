/* Spatial smoothing of a feature map before clustering, and the noise share that decides
 * it (lcae_smooth_*, include/lcae/cluster.h; measured in docs/clustering.md). */
#include "lcae/cluster.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cluster_internal.h"

static int row_finite(const double *v, int64_t d)
{
    for (int64_t j = 0; j < d; j++)
        if (!isfinite(v[j]))
            return 0;
    return 1;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int lcae_feature_noise_share(const double *x, int64_t ny, int64_t nx, int64_t d, double *share)
{
    int64_t n = ny * nx, pairs = 0;
    /* horizontal pairs (y, x)-(y, x+1), then vertical ones (y, x)-(y+1, x) */
    double *sq = lcae_malloc((size_t)(2 * n + 1) * sizeof *sq);
    double *mean = lcae_calloc((size_t)d, sizeof *mean);
    double *m2 = lcae_calloc((size_t)d, sizeof *m2);
    if (!sq || !mean || !m2) {
        free(sq), free(mean), free(m2);
        return LCAE_ENOMEM;
    }
    for (int dir = 0; dir < 2; dir++)
        for (int64_t y = 0; y + dir < ny; y++)
            for (int64_t c = 0; c + !dir < nx; c++) {
                const double *a = x + (y * nx + c) * d;
                const double *b = x + ((y + dir) * nx + c + !dir) * d;
                if (!row_finite(a, d) || !row_finite(b, d))
                    continue;
                double s = 0;
                for (int64_t j = 0; j < d; j++)
                    s += (a[j] - b[j]) * (a[j] - b[j]);
                sq[pairs++] = s;
            }
    /* each feature's variance over the finite rows (Welford; population variance) */
    int64_t rows = 0;
    for (int64_t i = 0; i < n; i++) {
        const double *v = x + i * d;
        if (!row_finite(v, d))
            continue;
        rows++;
        for (int64_t j = 0; j < d; j++) {
            double delta = v[j] - mean[j];
            mean[j] += delta / (double)rows;
            m2[j] += delta * (v[j] - mean[j]);
        }
    }
    double total = 0;
    for (int64_t j = 0; j < d; j++)
        total += rows ? m2[j] / (double)rows : 0;
    double median = 0;
    if (pairs) { /* numpy's median: the mean of the two middle values of an even count */
        qsort(sq, (size_t)pairs, sizeof *sq, cmp_double);
        median = pairs % 2 ? sq[pairs / 2] : 0.5 * (sq[pairs / 2 - 1] + sq[pairs / 2]);
    }
    *share = total > 0 ? median / (2 * total) : 0;
    free(sq), free(mean), free(m2);
    return LCAE_OK;
}

/* Box sums of width `size` along one axis, in place, of the (ny * nx, d) sums and the
 * (ny * nx) counts: `lines` lines of `len` positions each, position k of line l at index
 * l * line_step + k * step (x: step 1, line_step nx; y: step nx, line_step 1). Windows are
 * cut at the scan's edge. */
static int box_sum_axis(double *sum, double *count, int64_t len, int64_t step, int64_t lines,
                        int64_t line_step, int64_t d, int size)
{
    int64_t r = size / 2;
    double *line = lcae_malloc((size_t)(len * (d + 1)) * sizeof *line);
    if (!line)
        return LCAE_ENOMEM;
    double *line_count = line + len * d;
    for (int64_t l = 0; l < lines; l++) {
        for (int64_t k = 0; k < len; k++) { /* a copy of the line: the sums are rewritten */
            int64_t i = l * line_step + k * step;
            memcpy(line + k * d, sum + i * d, (size_t)d * sizeof *line);
            line_count[k] = count[i];
        }
        for (int64_t k = 0; k < len; k++) {
            int64_t i = l * line_step + k * step;
            int64_t lo = k - r < 0 ? 0 : k - r, hi = k + r >= len ? len - 1 : k + r;
            double *out = sum + i * d, n = 0;
            memset(out, 0, (size_t)d * sizeof *out);
            for (int64_t q = lo; q <= hi; q++) {
                for (int64_t j = 0; j < d; j++)
                    out[j] += line[q * d + j];
                n += line_count[q];
            }
            count[i] = n;
        }
    }
    free(line);
    return LCAE_OK;
}

int lcae_smooth_features(double *x, int64_t ny, int64_t nx, int64_t d, int size)
{
    int64_t n = ny * nx;
    double *sum = lcae_malloc((size_t)(n * d + 1) * sizeof *sum);
    double *count = lcae_malloc((size_t)(n + 1) * sizeof *count);
    if (!sum || !count) {
        free(sum), free(count);
        return LCAE_ENOMEM;
    }
    for (int64_t i = 0; i < n; i++) { /* rows with NaN/Inf take no part */
        int ok = row_finite(x + i * d, d);
        count[i] = ok;
        for (int64_t j = 0; j < d; j++)
            sum[i * d + j] = ok ? x[i * d + j] : 0;
    }
    int rc = box_sum_axis(sum, count, nx, 1, ny, nx, d, size); /* along x */
    if (!rc)
        rc = box_sum_axis(sum, count, ny, nx, nx, 1, d, size); /* along y */
    for (int64_t i = 0; !rc && i < n; i++)
        if (row_finite(x + i * d, d)) /* count >= 1: the row itself */
            for (int64_t j = 0; j < d; j++)
                x[i * d + j] = sum[i * d + j] / count[i];
    free(sum), free(count);
    return rc;
}
