/* The point sets of docs/clustering.md's timing of --assign-noise: N points in D
 * dimensions, float32, point i in Gaussian blob i mod 30 (unit spread, centres uniform in
 * [-20, 20]^D) or, with probability 0.1, uniform in [-25, 25]^D (the background HDBSCAN
 * leaves as noise). Time the assignment with
 *   build/bench_blobs 262144 16 B.npy && build/lcae cluster B.npy -o L.npy \
 *       --min-cluster-size 60 --assign-noise       (the "noise assignment" line)
 * Usage: bench_blobs N D OUT.npy (D <= 64). The same N and D give the same bytes. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "lcae/io.h"

#define BLOBS 30

static uint64_t state = 42;
static double uniform(void)
{
    state = state * 6364136223846793005ULL + 1442695040888963407ULL;
    return (double)(state >> 11) * 0x1.0p-53;
}

int main(int argc, char **argv)
{
    long long n = argc == 4 ? atoll(argv[1]) : 0, d = argc == 4 ? atoll(argv[2]) : 0;
    if (n < 1 || d < 1 || d > 64) {
        fprintf(stderr, "usage: bench_blobs N D OUT.npy (N >= 1, 1 <= D <= 64)\n");
        return 2;
    }
    float *x = malloc((size_t)(n * d) * sizeof *x);
    if (!x) {
        fprintf(stderr, "bench_blobs: out of memory\n");
        return 1;
    }
    double centre[BLOBS][64];
    for (int b = 0; b < BLOBS; b++)
        for (long long k = 0; k < d; k++)
            centre[b][k] = uniform() * 40 - 20;
    for (long long i = 0; i < n; i++) {
        int background = uniform() < 0.1;
        for (long long k = 0; k < d; k++) { /* Box-Muller; the draws in sequence */
            double u1 = uniform(), u2 = uniform();
            double g = sqrt(-2 * log(u1 + 1e-300)) * cos(6.283185307179586 * u2);
            x[i * d + k] = (float)(background ? uniform() * 50 - 25 : centre[i % BLOBS][k] + g);
        }
    }
    int64_t shape[2] = {n, d};
    int rc = lcae_npy_write(argv[3], LCAE_DT_F32, 2, shape, x);
    free(x);
    if (rc)
        fprintf(stderr, "bench_blobs: %s\n", lcae_last_error());
    return rc ? 1 : 0;
}
