/* PCA of the latent vectors for the scatter plot: covariance in double over the finite
 * rows, eigenvectors by cyclic Jacobi rotations (d <= 64: exact to rounding, no LAPACK). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "report_internal.h"

void report_jacobi(double *a, int d, double *val, double *vec)
{
    for (int i = 0; i < d; i++)
        for (int j = 0; j < d; j++)
            vec[i * d + j] = i == j;
    for (int sweep = 0; sweep < 100; sweep++) {
        double off = 0, diag = 0;
        for (int i = 0; i < d; i++) {
            diag += a[i * d + i] * a[i * d + i];
            for (int j = i + 1; j < d; j++)
                off += a[i * d + j] * a[i * d + j];
        }
        if (off <= 1e-30 * diag || off == 0)
            break;
        for (int p = 0; p < d; p++)
            for (int q = p + 1; q < d; q++) {
                double apq = a[p * d + q];
                if (apq == 0)
                    continue;
                /* the rotation that zeroes a[p][q] (Golub and Van Loan, 8.5.2) */
                double theta = (a[q * d + q] - a[p * d + p]) / (2 * apq);
                double t = (theta >= 0 ? 1 : -1) / (fabs(theta) + sqrt(theta * theta + 1));
                double c = 1 / sqrt(t * t + 1), s = t * c;
                for (int k = 0; k < d; k++) {
                    double akp = a[k * d + p], akq = a[k * d + q];
                    a[k * d + p] = c * akp - s * akq;
                    a[k * d + q] = s * akp + c * akq;
                }
                for (int k = 0; k < d; k++) {
                    double apk = a[p * d + k], aqk = a[q * d + k];
                    a[p * d + k] = c * apk - s * aqk;
                    a[q * d + k] = s * apk + c * aqk;
                }
                for (int k = 0; k < d; k++) {
                    double vkp = vec[k * d + p], vkq = vec[k * d + q];
                    vec[k * d + p] = c * vkp - s * vkq;
                    vec[k * d + q] = s * vkp + c * vkq;
                }
            }
    }
    /* sort by decreasing eigenvalue (selection sort on columns) */
    for (int i = 0; i < d; i++)
        val[i] = a[i * d + i];
    for (int i = 0; i < d; i++) {
        int m = i;
        for (int j = i + 1; j < d; j++)
            if (val[j] > val[m])
                m = j;
        if (m == i)
            continue;
        double t = val[i];
        val[i] = val[m];
        val[m] = t;
        for (int k = 0; k < d; k++) {
            t = vec[k * d + i];
            vec[k * d + i] = vec[k * d + m];
            vec[k * d + m] = t;
        }
    }
}

static int row_finite(const float *z, int d)
{
    for (int j = 0; j < d; j++)
        if (!isfinite(z[j]))
            return 0;
    return 1;
}

int report_pca(report_clustering *c, int64_t n)
{
    int d = c->in->latent_dims;
    const float *z = c->in->latent;
    double *cov = lcae_calloc((size_t)d * d * 3, sizeof(double));
    if (!cov)
        return LCAE_ENOMEM;
    double *vec = cov + (size_t)d * d, *val = vec + (size_t)d * d;
    memset(c->center, 0, sizeof c->center);
    int64_t m = 0;
    for (int64_t i = 0; i < n; i++)
        if (row_finite(z + i * d, d)) {
            m++;
            for (int j = 0; j < d; j++)
                c->center[j] += z[i * d + j];
        }
    c->pca_rows = m;
    memset(c->pc, 0, sizeof c->pc);
    c->explained[0] = c->explained[1] = 0;
    if (m < 2) {
        free(cov);
        return LCAE_OK;
    }
    for (int j = 0; j < d; j++)
        c->center[j] /= (double)m;
    for (int64_t i = 0; i < n; i++) {
        const float *r = z + i * d;
        if (!row_finite(r, d))
            continue;
        for (int a = 0; a < d; a++)
            for (int b = a; b < d; b++)
                cov[a * d + b] += (r[a] - c->center[a]) * (r[b] - c->center[b]);
    }
    for (int a = 0; a < d; a++)
        for (int b = a; b < d; b++)
            cov[b * d + a] = cov[a * d + b] /= (double)(m - 1);
    report_jacobi(cov, d, val, vec);
    double total = 0;
    for (int j = 0; j < d; j++)
        total += val[j] > 0 ? val[j] : 0;
    for (int k = 0; k < 2 && k < d; k++) {
        for (int j = 0; j < d; j++)
            c->pc[k][j] = vec[j * d + k];
        c->explained[k] = total > 0 ? (val[k] > 0 ? val[k] : 0) / total : 0;
    }
    free(cov);
    return LCAE_OK;
}
