/* lcae mpi: the few collective operations the partitioned passes and data-parallel
 * training need, over MPI_COMM_WORLD (docs/mpi.md).
 *
 * Built with MPI (CMake option LCAE_MPI, Open MPI from Debian) these are MPI calls; built
 * without it, or started without mpirun/srun, there is one rank and every call is a no-op
 * that leaves its buffers as they are, so callers need no #ifdef.
 *
 * Partitioning: rank r of R owns the contiguous items [r n / R, (r + 1) n / R) of n
 * (scan positions, or batches of them); rank 0 writes every output file.
 *
 * Floating-point sums are reduced onto rank 0 in rank order and broadcast, so that every
 * rank holds the same bits (MPI_Allreduce does not promise that across ranks, and model
 * replicas must not drift apart).
 *
 * Failures: a rank whose own work failed passes its status to lcae_mpi_check, a collective
 * that tells every rank; the others then return LCAE_EFAIL. lcae_mpi_peer_failed() is set
 * on every rank but the lowest failing one, which alone prints its one-line message. A failure
 * that was not shared that way (lcae_mpi_abort) ends the whole job, so that no rank waits
 * forever in a collective its peer will never enter.
 */
#ifndef LCAE_MPI_H
#define LCAE_MPI_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Whether this build has MPI (1) or is single-process only (0). */
int lcae_mpi_built(void);
/* Initializes MPI when built with it (from main, before anything else uses it; a
 * program started without mpirun is one rank). Returns a status. */
int lcae_mpi_init(int *argc, char ***argv);
/* Finalizes after success; after a failure that lcae_mpi_check did not share, aborts
 * the job with exit status `status` (no return). */
void lcae_mpi_finish(int status);
int lcae_mpi_rank(void);
int lcae_mpi_size(void);

/* This rank's contiguous share [*lo, *hi) of n items. */
void lcae_mpi_range(int64_t n, int64_t *lo, int64_t *hi);

/* Collective: every rank passes its own status. Returns `status` on a rank that failed,
 * LCAE_EFAIL (message "rank R failed") on the others when any failed, LCAE_OK when none
 * did. */
int lcae_mpi_check(int status);
/* 1 after lcae_mpi_check reported a failure of which a lower rank (or, if this rank did
 * not fail, any other) gives the message. */
int lcae_mpi_peer_failed(void);

/* Collective, in place: rows [lo, hi) of buf (this rank's share, each row_bytes long;
 * the ranks' shares do not overlap) from every rank into buf on `root`, or on every rank
 * for root < 0. */
int lcae_mpi_gather_rows(void *buf, int64_t lo, int64_t hi, size_t row_bytes, int root);

/* Collective, in place: element-wise sums (doubles and floats: reduced in rank order on
 * rank 0, then broadcast), minimum, maximum over the ranks of n values. */
int lcae_mpi_sum_f64(double *x, int64_t n);
int lcae_mpi_sum_f32(float *x, int64_t n);
int lcae_mpi_sum_u64(uint64_t *x, int64_t n);
int lcae_mpi_min_f64(double *x, int64_t n);
int lcae_mpi_max_f64(double *x, int64_t n);
int lcae_mpi_min_i64(int64_t *x, int64_t n);
/* Collective: the doubles each rank holds (n per rank) from every rank into all
 * (R n values, rank-major) on every rank. */
int lcae_mpi_allgather_f64(const double *mine, int64_t n, double *all);
/* Collective: `bytes` of buf from rank `root` to every rank. */
int lcae_mpi_bcast(void *buf, size_t bytes, int root);
int lcae_mpi_barrier(void);

#ifdef __cplusplus
}
#endif
#endif
