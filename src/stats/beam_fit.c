/* The beam positions over the scan: a robust least-squares surface (plane or quadratic in
 * the scan coordinates) and the filling of positions that have no measurement. */
#include "beam_internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* The distance of a 2-D point with independent normal errors of sd sigma per axis from
 * its true place follows the Rayleigh law, whose median is sigma sqrt(2 ln 2). */
#define RAYLEIGH_MEDIAN 1.1774100225154747
/* Inliers lie within max(REJECT scatter, REJECT_FLOOR px) of the surface: 4 sigma keeps
 * all but 0.03 % of normal 2-D errors; the floor stops a fit from rejecting good positions
 * over hundredths of a pixel when the positions are more precise than the surface is
 * true (a real descan need not be exactly quadratic). */
#define REJECT 4.0
#define REJECT_FLOOR 0.1
#define MAX_ROUNDS 50
/* A term whose column is a combination of the earlier ones to this relative precision
 * is dropped (e.g. every inlier in one scan row leaves nothing to fit in v). */
#define DEPENDENT 1e-10

/* Scan index i of n mapped onto [-1, 1], so that the normal equations are well scaled. */
static double coord(int64_t i, int64_t n)
{
    return n > 1 ? 2.0 * (double)i / (double)(n - 1) - 1 : 0;
}

static void terms(double u, double v, double t[LCAE_BEAM_NTERMS])
{
    t[0] = 1;
    t[1] = u;
    t[2] = v;
    t[3] = u * u;
    t[4] = u * v;
    t[5] = v * v;
}

void beam_surface_eval(const beam_surface *s, int64_t ny, int64_t nx, int64_t y, int64_t x,
                       double out[2])
{
    double t[LCAE_BEAM_NTERMS];
    terms(coord(x, nx), coord(y, ny), t);
    for (int a = 0; a < 2; a++) {
        out[a] = 0;
        for (int k = 0; k < LCAE_BEAM_NTERMS; k++)
            out[a] += s->coef[a][k] * t[k];
    }
}

/* Terms the scan's shape can determine: u^2 on two columns is the constant again. */
static void usable_terms(int kind, int64_t ny, int64_t nx, int use[LCAE_BEAM_NTERMS])
{
    int quad = kind == LCAE_BEAM_FIT_QUADRATIC;
    use[0] = 1;
    use[1] = nx >= 2;
    use[2] = ny >= 2;
    use[3] = quad && nx >= 3;
    use[4] = quad && nx >= 2 && ny >= 2;
    use[5] = quad && ny >= 3;
}

/* Least squares over the inliers through the normal equations, solved by a Cholesky
 * factorisation that drops dependent terms (their coefficient is 0). The terms come in
 * order of degree, so a dependent one is always the higher-order term. */
static void least_squares(int64_t ny, int64_t nx, const float *pos, const uint8_t *inlier,
                          const int use_in[LCAE_BEAM_NTERMS], beam_surface *s)
{
    enum { K = LCAE_BEAM_NTERMS };
    double A[K][K] = {{0}}, b[2][K] = {{0}}, L[K][K] = {{0}};
    int use[K];
    memcpy(use, use_in, sizeof use);
    for (int64_t y = 0; y < ny; y++)
        for (int64_t x = 0; x < nx; x++) {
            int64_t i = y * nx + x;
            if (!inlier[i])
                continue;
            double t[K];
            terms(coord(x, nx), coord(y, ny), t);
            for (int p = 0; p < K; p++) {
                for (int q = 0; q < K; q++)
                    A[p][q] += t[p] * t[q];
                b[0][p] += t[p] * pos[2 * i];
                b[1][p] += t[p] * pos[2 * i + 1];
            }
        }
    for (int j = 0; j < K; j++) {
        if (!use[j])
            continue;
        double d = A[j][j];
        for (int k = 0; k < j; k++)
            d -= L[j][k] * L[j][k];
        if (!(d > DEPENDENT * A[j][j])) {
            use[j] = 0;
            continue;
        }
        L[j][j] = sqrt(d);
        for (int i = j + 1; i < K; i++) {
            double e = A[i][j];
            for (int k = 0; k < j; k++)
                e -= L[i][k] * L[j][k];
            L[i][j] = e / L[j][j];
        }
    }
    for (int a = 0; a < 2; a++) {
        double z[K] = {0};
        for (int j = 0; j < K; j++) {
            if (!use[j])
                continue;
            double e = b[a][j];
            for (int k = 0; k < j; k++)
                e -= L[j][k] * z[k];
            z[j] = e / L[j][j];
        }
        for (int j = K - 1; j >= 0; j--) {
            s->coef[a][j] = 0;
            if (!use[j])
                continue;
            double e = z[j];
            for (int k = j + 1; k < K; k++)
                e -= L[k][j] * s->coef[a][k];
            s->coef[a][j] = e / L[j][j];
        }
    }
}

static double distance(const beam_surface *s, int64_t ny, int64_t nx, const float *pos,
                       int64_t i)
{
    double f[2];
    beam_surface_eval(s, ny, nx, i / nx, i % nx, f);
    return hypot(pos[2 * i] - f[0], pos[2 * i + 1] - f[1]);
}

static double median(float *v, int64_t n)
{
    double q;
    lcae_percentiles_f32(v, n, 1, (const double[]){0.5}, &q, NULL);
    return q;
}

int beam_fit_robust(int64_t ny, int64_t nx, const float *pos, int kind, uint8_t *inlier,
                    beam_surface *s)
{
    int64_t n = ny * nx, m = 0;
    float *d = lcae_malloc((size_t)n * sizeof *d);
    if (!d)
        return LCAE_ENOMEM;
    int use[LCAE_BEAM_NTERMS];
    usable_terms(kind, ny, nx, use);
    /* start from the median position (a constant surface), which outliers cannot move */
    memset(s, 0, sizeof *s);
    for (int a = 0; a < 2; a++) {
        m = 0;
        for (int64_t i = 0; i < n; i++)
            if (!isnan(pos[2 * i]))
                d[m++] = pos[2 * i + a];
        s->coef[a][0] = median(d, m);
    }
    for (int64_t i = 0; i < n; i++)
        inlier[i] = !isnan(pos[2 * i]);
    for (int round = 0; round < MAX_ROUNDS; round++) {
        m = 0;
        for (int64_t i = 0; i < n; i++)
            if (inlier[i])
                d[m++] = (float)distance(s, ny, nx, pos, i);
        s->scatter = median(d, m) / RAYLEIGH_MEDIAN;
        double limit = fmax(REJECT * s->scatter, REJECT_FLOOR);
        int changed = 0;
        for (int64_t i = 0; i < n; i++) {
            if (isnan(pos[2 * i]))
                continue;
            uint8_t in = distance(s, ny, nx, pos, i) <= limit;
            changed |= in != inlier[i];
            inlier[i] = in;
        }
        /* the surface of round 0 is the median, not a fit: always fit once */
        if (round > 0 && !changed)
            break;
        /* at least half the previous inliers are within the median distance < limit */
        least_squares(ny, nx, pos, inlier, use, s);
    }
    double ss = 0;
    s->inliers = 0;
    for (int64_t i = 0; i < n; i++)
        if (inlier[i]) {
            double e = distance(s, ny, nx, pos, i);
            ss += e * e;
            s->inliers++;
        }
    s->rms = sqrt(ss / (double)s->inliers);
    free(d);
    return LCAE_OK;
}

int beam_fill_gaps(int64_t ny, int64_t nx, float *pos, const uint8_t *valid)
{
    int64_t n = ny * nx;
    uint8_t *have = lcae_malloc((size_t)n), *next = lcae_malloc((size_t)n);
    if (!have || !next) {
        free(have);
        free(next);
        return LCAE_ENOMEM;
    }
    memcpy(have, valid, (size_t)n);
    for (;;) {
        /* each round reads only the positions known before it, so the result does not
         * depend on the order positions are visited in */
        int64_t filled = 0, missing = 0;
        memcpy(next, have, (size_t)n);
        for (int64_t y = 0; y < ny; y++)
            for (int64_t x = 0; x < nx; x++) {
                int64_t i = y * nx + x;
                if (have[i])
                    continue;
                double sy = 0, sx = 0;
                int k = 0;
                for (int64_t yy = y - 1; yy <= y + 1; yy++)
                    for (int64_t xx = x - 1; xx <= x + 1; xx++)
                        if (yy >= 0 && yy < ny && xx >= 0 && xx < nx && have[yy * nx + xx]) {
                            sy += pos[2 * (yy * nx + xx)];
                            sx += pos[2 * (yy * nx + xx) + 1];
                            k++;
                        }
                if (k) {
                    pos[2 * i] = (float)(sy / k);
                    pos[2 * i + 1] = (float)(sx / k);
                    next[i] = 1;
                    filled++;
                } else {
                    missing++;
                }
            }
        uint8_t *t = have;
        have = next;
        next = t;
        if (!missing || !filled)
            break;
    }
    free(have);
    free(next);
    return LCAE_OK;
}
