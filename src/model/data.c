/* What the model sees: detector patterns centre-cropped, sum-binned and normalized. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "lcae/stats.h"
#include "model/model_internal.h"

int lcae_model_input_size(int64_t h, int64_t w, int crop, int bin, int *size)
{
    *size = 0;
    if (bin != 1 && bin != 2 && bin != 4)
        return lcae_fail(LCAE_EUSAGE, "binning: expected 1, 2 or 4, found %d", bin);
    if (crop < 0 || crop > h || crop > w)
        return lcae_fail(LCAE_EUSAGE, "crop: expected at most the detector's %lld x %lld "
                         "pixels, found %d", (long long)h, (long long)w, crop);
    if (!crop && h != w)
        return lcae_fail(LCAE_EUSAGE, "the detector is %lld x %lld, not square: choose a "
                         "square centre crop (--crop H)", (long long)h, (long long)w);
    int64_t side = crop ? crop : h;
    if (side % bin)
        return lcae_fail(LCAE_EUSAGE, "a %lld-pixel side cannot be binned by %d (expected a "
                         "multiple of %d; use --crop)", (long long)side, bin, bin);
    int64_t s = side / bin;
    if (s < 16 || s % 16 || s > 65536)
        return lcae_fail(LCAE_EUSAGE, "the model input would be %lld x %lld pixels (detector "
                         "side %lld, binned by %d): expected a multiple of 16 (use --crop)",
                         (long long)s, (long long)s, (long long)side, bin);
    *size = (int)s;
    return LCAE_OK;
}

void lcae_model_prepare(const lcae_model_meta *meta, int64_t h, int64_t w, int size,
                        const float *raw, float *x, int n)
{
    int B = meta->bin;
    int64_t side = (int64_t)size * B, oy = (h - side) / 2, ox = (w - side) / 2;
    /* multiply by the reciprocal: the same float operations in lcae and in a user's
     * numpy (x - median) / sigma68 differ by at most one rounding */
    float med = (float)meta->median, inv = (float)(1.0 / meta->sigma68);
    for (int i = 0; i < n; i++) {
        const float *p = raw + (size_t)i * h * w;
        float *q = x + (size_t)i * size * size;
        for (int y = 0; y < size; y++)
            for (int xx = 0; xx < size; xx++) {
                float s = 0;
                for (int dy = 0; dy < B; dy++)
                    for (int dx = 0; dx < B; dx++)
                        s += p[(oy + (int64_t)y * B + dy) * w + ox + (int64_t)xx * B + dx];
                q[y * size + xx] = (s - med) * inv;
            }
    }
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

/* The stats module's quantiles are over the detector's own pixels; the model needs them
 * over the binned, cropped pixels, so the sample is of whole patterns passed through
 * lcae_model_prepare (identity normalization), and the percentiles are the stats
 * module's (numpy's "linear" definition). */
int lcae_model_pixel_stats(lcae_dataset *ds, int crop, int bin, int max_patterns,
                           uint64_t seed, double *median, double *sigma68)
{
    const lcae_dataset_info *in = lcae_dataset_get_info(ds);
    int size;
    int rc = lcae_model_input_size(in->h, in->w, crop, bin, &size);
    if (rc)
        return rc;
    int64_t n = in->count < max_patterns ? in->count : max_patterns;
    if (n < 1)
        return lcae_fail(LCAE_EFAIL, "%s: the scan has no patterns", lcae_dataset_path(ds));
    /* a seeded sample of n distinct positions (partial Fisher-Yates), read in order */
    int64_t *idx = lcae_malloc((size_t)in->count * sizeof *idx);
    float *raw = lcae_malloc((size_t)(in->h * in->w) * sizeof(float));
    float *vals = lcae_malloc((size_t)n * size * size * sizeof(float));
    if (!idx || !raw || !vals) {
        free(idx);
        free(raw);
        free(vals);
        return LCAE_ENOMEM;
    }
    model_rng r;
    model_rng_seed(&r, seed, 0x57a75);
    for (int64_t i = 0; i < in->count; i++)
        idx[i] = i;
    for (int64_t i = 0; i < n; i++) {
        int64_t j = i + (int64_t)model_rng_below(&r, (uint64_t)(in->count - i));
        int64_t t = idx[i];
        idx[i] = idx[j];
        idx[j] = t;
    }
    qsort(idx, (size_t)n, sizeof *idx, cmp_i64);
    lcae_model_meta id = {.median = 0, .sigma68 = 1, .bin = bin, .crop = crop};
    for (int64_t i = 0; i < n && !rc; i++) {
        rc = lcae_dataset_read(ds, idx[i], 1, raw);
        if (!rc)
            lcae_model_prepare(&id, in->h, in->w, size, raw,
                               vals + (size_t)i * size * size, 1);
    }
    double p[3] = {0.16, 0.5, 0.84}, q[3];
    int64_t nfinite = 0;
    if (!rc)
        rc = lcae_percentiles_f32(vals, n * size * size, 3, p, q, &nfinite);
    free(idx);
    free(raw);
    free(vals);
    if (rc)
        return rc;
    if (nfinite == 0 || !(q[2] > q[0]))
        return lcae_fail(LCAE_EFAIL, "%s: cannot normalize: the sampled pixels have no spread "
                         "(P16 = %g, P84 = %g over %lld finite values)", lcae_dataset_path(ds),
                         q[0], q[2], (long long)nfinite);
    *median = q[1];
    *sigma68 = (q[2] - q[0]) / 2;
    return LCAE_OK;
}
