/* The collectives of lcae/mpi.h: MPI calls when built with LCAE_HAVE_MPI, one rank and
 * no-ops otherwise (the only #if of the MPI support: every other module calls these). */
#include "lcae/mpi.h"

#include <stdlib.h>
#include <string.h>

#include "lcae/core.h"

static int peer_failed;

int lcae_mpi_peer_failed(void)
{
    return peer_failed;
}

#ifdef LCAE_HAVE_MPI
#include <limits.h>
#include <mpi.h>

static int started; /* MPI_Init called by us */
static int nranks = 1, myrank;
static int shared_failure; /* the last failure went through lcae_mpi_check */

/* MPI counts are int: long arrays go in pieces. */
#define PIECE (INT64_C(1) << 28)

int lcae_mpi_built(void)
{
    return 1;
}

/* Started by a launcher (mpirun: OMPI_*; srun: PMIx or PMI-2)? A plain `lcae ...` then
 * stays out of MPI: Open MPI's singleton start forks a daemon, which a single-process run
 * has no use for. (Not SLURM_PROCID: a batch script's own steps have it too.) */
static int launched(void)
{
    static const char *const vars[] = {"OMPI_COMM_WORLD_SIZE", "PMIX_RANK", "PMI_RANK",
                                       "PMI_SIZE"};
    for (size_t i = 0; i < sizeof vars / sizeof *vars; i++)
        if (getenv(vars[i]))
            return 1;
    return 0;
}

int lcae_mpi_init(int *argc, char ***argv)
{
    if (!launched())
        return LCAE_OK;
    int rc = MPI_Init(argc, argv);
    if (rc != MPI_SUCCESS)
        return lcae_fail(LCAE_EFAIL, "MPI: MPI_Init failed (error %d)", rc);
    started = 1;
    MPI_Comm_size(MPI_COMM_WORLD, &nranks);
    MPI_Comm_rank(MPI_COMM_WORLD, &myrank);
    return LCAE_OK;
}

void lcae_mpi_finish(int status)
{
    if (!started)
        return;
    if (status && nranks > 1 && !shared_failure)
        MPI_Abort(MPI_COMM_WORLD, status);
    MPI_Finalize();
}

int lcae_mpi_rank(void)
{
    return myrank;
}

int lcae_mpi_size(void)
{
    return nranks;
}

static int mpi_status(int rc, const char *call)
{
    if (rc == MPI_SUCCESS)
        return LCAE_OK;
    char text[MPI_MAX_ERROR_STRING];
    int len = 0;
    MPI_Error_string(rc, text, &len);
    return lcae_fail(LCAE_EFAIL, "MPI: %s failed (%.*s)", call, len, text);
}

int lcae_mpi_check(int status)
{
    if (nranks == 1)
        return status;
    /* the lowest failing rank + 1, or 0 */
    int mine = status ? myrank + 1 : INT_MAX, first = INT_MAX;
    int rc = mpi_status(MPI_Allreduce(&mine, &first, 1, MPI_INT, MPI_MIN, MPI_COMM_WORLD),
                        "MPI_Allreduce");
    if (rc)
        return rc;
    if (first == INT_MAX)
        return LCAE_OK;
    shared_failure = 1;
    /* the lowest failing rank speaks for all (several may fail alike, e.g. bad options) */
    peer_failed = first - 1 != myrank;
    return status ? status : lcae_fail(LCAE_EFAIL, "rank %d failed", first - 1);
}

int lcae_mpi_gather_rows(void *buf, int64_t lo, int64_t hi, size_t row_bytes, int root)
{
    if (nranks == 1)
        return LCAE_OK;
    if (hi - lo > INT_MAX || lo > INT_MAX)
        return lcae_fail(LCAE_EFAIL, "MPI: rows %lld to %lld on one rank (at most %d)",
                         (long long)lo, (long long)hi, INT_MAX);
    /* every rank's (first row, rows): the datatype is one row */
    int mine[2] = {(int)lo, (int)(hi - lo)};
    int *all = lcae_malloc((size_t)nranks * 4 * sizeof *all);
    if (!all)
        return LCAE_ENOMEM;
    int *counts = all + 2 * nranks, *displs = all + 3 * nranks;
    int rc = mpi_status(MPI_Allgather(mine, 2, MPI_INT, all, 2, MPI_INT, MPI_COMM_WORLD),
                        "MPI_Allgather");
    for (int r = 0; r < nranks; r++) {
        displs[r] = all[2 * r];
        counts[r] = all[2 * r + 1];
    }
    MPI_Datatype row;
    if (!rc)
        rc = mpi_status(MPI_Type_contiguous((int)row_bytes, MPI_BYTE, &row), "MPI_Type_contiguous");
    if (!rc && (rc = mpi_status(MPI_Type_commit(&row), "MPI_Type_commit")) == LCAE_OK) {
        if (root < 0)
            rc = mpi_status(MPI_Allgatherv(MPI_IN_PLACE, 0, row, buf, counts, displs, row,
                                           MPI_COMM_WORLD), "MPI_Allgatherv");
        else if (myrank == root)
            rc = mpi_status(MPI_Gatherv(MPI_IN_PLACE, 0, row, buf, counts, displs, row, root,
                                        MPI_COMM_WORLD), "MPI_Gatherv");
        else
            rc = mpi_status(MPI_Gatherv((char *)buf + (size_t)lo * row_bytes, mine[1], row,
                                        NULL, NULL, NULL, row, root, MPI_COMM_WORLD),
                            "MPI_Gatherv");
        MPI_Type_free(&row);
    }
    free(all);
    return rc;
}

/* In place over n values in pieces: reduce onto rank 0 (the reduction's order fixed by
 * the ranks, the same every run), then, for the sums of floating-point values, a
 * broadcast so that every rank holds rank 0's bits. */
static int reduce_all(void *x, int64_t n, size_t size, MPI_Datatype type, MPI_Op op)
{
    if (nranks == 1)
        return LCAE_OK;
    for (int64_t k = 0; k < n; k += PIECE) {
        int m = (int)(n - k < PIECE ? n - k : PIECE);
        char *p = (char *)x + (size_t)k * size;
        int rc = mpi_status(MPI_Reduce(myrank ? p : MPI_IN_PLACE, myrank ? NULL : p, m, type,
                                       op, 0, MPI_COMM_WORLD), "MPI_Reduce");
        if (!rc)
            rc = mpi_status(MPI_Bcast(p, m, type, 0, MPI_COMM_WORLD), "MPI_Bcast");
        if (rc)
            return rc;
    }
    return LCAE_OK;
}

int lcae_mpi_sum_f64(double *x, int64_t n)
{
    return reduce_all(x, n, sizeof *x, MPI_DOUBLE, MPI_SUM);
}

int lcae_mpi_sum_f32(float *x, int64_t n)
{
    return reduce_all(x, n, sizeof *x, MPI_FLOAT, MPI_SUM);
}

int lcae_mpi_sum_u64(uint64_t *x, int64_t n)
{
    return reduce_all(x, n, sizeof *x, MPI_UINT64_T, MPI_SUM);
}

int lcae_mpi_min_f64(double *x, int64_t n)
{
    return reduce_all(x, n, sizeof *x, MPI_DOUBLE, MPI_MIN);
}

int lcae_mpi_max_f64(double *x, int64_t n)
{
    return reduce_all(x, n, sizeof *x, MPI_DOUBLE, MPI_MAX);
}

int lcae_mpi_min_i64(int64_t *x, int64_t n)
{
    return reduce_all(x, n, sizeof *x, MPI_INT64_T, MPI_MIN);
}

int lcae_mpi_allgather_f64(const double *mine, int64_t n, double *all)
{
    if (nranks == 1) {
        memcpy(all, mine, (size_t)n * sizeof *all);
        return LCAE_OK;
    }
    if (n > PIECE)
        return lcae_fail(LCAE_EFAIL, "MPI: %lld values per rank to gather (at most %lld)",
                         (long long)n, (long long)PIECE);
    return mpi_status(MPI_Allgather(mine, (int)n, MPI_DOUBLE, all, (int)n, MPI_DOUBLE,
                                    MPI_COMM_WORLD), "MPI_Allgather");
}

int lcae_mpi_bcast(void *buf, size_t bytes, int root)
{
    if (nranks == 1)
        return LCAE_OK;
    for (size_t k = 0; k < bytes; k += (size_t)PIECE) {
        int m = (int)(bytes - k < (size_t)PIECE ? bytes - k : (size_t)PIECE);
        int rc = mpi_status(MPI_Bcast((char *)buf + k, m, MPI_BYTE, root, MPI_COMM_WORLD),
                            "MPI_Bcast");
        if (rc)
            return rc;
    }
    return LCAE_OK;
}

int lcae_mpi_barrier(void)
{
    return nranks == 1 ? LCAE_OK : mpi_status(MPI_Barrier(MPI_COMM_WORLD), "MPI_Barrier");
}

#else /* single-process build: one rank */

int lcae_mpi_built(void)
{
    return 0;
}

int lcae_mpi_init(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    return LCAE_OK;
}

void lcae_mpi_finish(int status)
{
    (void)status;
}

int lcae_mpi_rank(void)
{
    return 0;
}

int lcae_mpi_size(void)
{
    return 1;
}

int lcae_mpi_check(int status)
{
    return status;
}

int lcae_mpi_gather_rows(void *buf, int64_t lo, int64_t hi, size_t row_bytes, int root)
{
    (void)buf, (void)lo, (void)hi, (void)row_bytes, (void)root;
    return LCAE_OK;
}

int lcae_mpi_sum_f64(double *x, int64_t n)
{
    (void)x, (void)n;
    return LCAE_OK;
}

int lcae_mpi_sum_f32(float *x, int64_t n)
{
    (void)x, (void)n;
    return LCAE_OK;
}

int lcae_mpi_sum_u64(uint64_t *x, int64_t n)
{
    (void)x, (void)n;
    return LCAE_OK;
}

int lcae_mpi_min_f64(double *x, int64_t n)
{
    (void)x, (void)n;
    return LCAE_OK;
}

int lcae_mpi_max_f64(double *x, int64_t n)
{
    (void)x, (void)n;
    return LCAE_OK;
}

int lcae_mpi_min_i64(int64_t *x, int64_t n)
{
    (void)x, (void)n;
    return LCAE_OK;
}

int lcae_mpi_allgather_f64(const double *mine, int64_t n, double *all)
{
    memcpy(all, mine, (size_t)n * sizeof *all);
    return LCAE_OK;
}

int lcae_mpi_bcast(void *buf, size_t bytes, int root)
{
    (void)buf, (void)bytes, (void)root;
    return LCAE_OK;
}

int lcae_mpi_barrier(void)
{
    return LCAE_OK;
}
#endif

/* rank r of R: [r n / R, (r + 1) n / R) (n < 2^40 items, R < 2^23 ranks: no overflow) */
void lcae_mpi_range(int64_t n, int64_t *lo, int64_t *hi)
{
    int r = lcae_mpi_rank(), R = lcae_mpi_size();
    *lo = r * n / R;
    *hi = (r + 1) * n / R;
}
