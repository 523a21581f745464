/* lcae model: the paper's convolutional autoencoder (METHOD.md), its training with the
 * rotation-invariance loss, encoding, and its file (safetensors with the published
 * PyTorch model's tensor names).
 *
 * A model sees square patterns of input_size x input_size pixels, prepared as
 * include/lcae/prep.h says (centred on the direct beam, cropped, binned, transformed,
 * normalized), the preparation being recorded with the model. Latent vectors are
 * float32, `latent` (16) per pattern.
 */
#ifndef LCAE_MODEL_H
#define LCAE_MODEL_H

#include <stdint.h>

#include "lcae/core.h"
#include "lcae/io.h"
#include "lcae/prep.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The architectures (metadata lcae.arch):
 *  - cae: the paper's convolutional autoencoder (METHOD.md);
 *  - polar: invariant by construction (tools/research/train.py's PolarAE with its
 *    auxiliary head): the prepared pattern resampled to a polar image (input_size / 2
 *    radii x LCAE_POLAR_ANGLES angles about the frame centre, where the beam is), convs
 *    with circular padding along the angle, the first `invariant` latent features from
 *    the mean and maximum over the angle (rotations of the pattern are cyclic shifts of
 *    the polar image: those features do not change; or, angle_pool, the mean and a power
 *    mean), the others from 12 angular bins;
 *    the decoder reconstructs the polar image, an auxiliary head predicts the angular
 *    Fourier magnitudes of the polar image from the invariant features alone. */
typedef enum { LCAE_ARCH_CAE = 0, LCAE_ARCH_POLAR = 1 } lcae_arch;
#define LCAE_POLAR_ANGLES 96

/* The architecture's sizes (the published model: base 64, 4, 16, 128). */
typedef struct {
    int input_size; /* H = W of the model input, a multiple of 16 (polar: of 32) */
    int base;       /* width of the first block; the blocks have base, 2, 4, 8 x base
                       (polar: the encoder's base, base, 2, 2, 4, 4 x base) */
    int latent_ch;  /* channels at H/16 (4); polar: the decoder's input channels */
    int latent;     /* latent features (16) */
    lcae_arch kind; /* cae (0) or polar */
    int invariant;  /* polar: the latent features pooled over the angle (10); cae: unused */
    int angle_pool; /* polar: the invariant head's peak over the angle: 0 the maximum (the
                       prototype's), P the power mean of order P (lcae_meanmax_pool_*) */
} lcae_model_config;
#define LCAE_ANGLE_POOL_MAX 16 /* the highest power mean order (v^P in double) */

typedef enum { LCAE_MASK_DISK = 0, LCAE_MASK_NONE = 1 } lcae_mask;
typedef enum { LCAE_INTERP_BILINEAR = 0, LCAE_INTERP_NEAREST = 1 } lcae_interp;
/* The reconstruction loss: the paper's clipped L1 (differences clipped at +-10) or the
 * mean squared error, both over the mask's pixels. */
typedef enum { LCAE_RECON_L1 = 0, LCAE_RECON_MSE = 1 } lcae_recon;
/* The rotation loss's form. paper: mean |E(x)[:N] - E(Rx)[:N]|, which the encoder meets
 * by shrinking the invariant features towards a constant (their spread falls to 1e-5 of
 * the others': docs/model.md). scaled: each feature's difference divided by that
 * feature's standard deviation over the batch (of the unrotated pass; lcae_rot_loss_scaled),
 * a loss that shrinking the features cannot lower. */
typedef enum { LCAE_ROT_PAPER = 0, LCAE_ROT_SCALED = 1 } lcae_rot_form;
/* The learning rate over the steps: constant, or PyTorch's OneCycleLR (see lcae_lr_at). */
typedef enum { LCAE_LR_CONSTANT = 0, LCAE_LR_ONECYCLE = 1 } lcae_lr_schedule;

/* What is needed to use a model on new data and how it was trained; saved as the
 * safetensors metadata (lcae.median, lcae.scale, lcae.norm, lcae.transform, lcae.offset,
 * lcae.center, lcae.input_size, lcae.bin, lcae.crop, lcae.mask, lcae.recon, lcae.invariant_dims,
 * lcae.lambda, lcae.rot_loss, lcae.rot_form, lcae.seed, lcae.version, lcae.arch; lcae.sigma68 too when the scale
 * is sigma68, as models of earlier versions have it). */
typedef struct {
    lcae_prep prep;         /* the patterns' preparation: bin 1, 2 or 4 */
    lcae_mask mask;         /* disk: inputs of both passes masked, loss inside the disk */
    lcae_recon recon;       /* L_recon: l1 (clipped, the paper's) or mse */
    int rot_loss;           /* 1: trained with the rotation pass and loss */
    lcae_rot_form rot_form; /* L_rot's form (absent from a file: paper) */
    int invariant_dims;     /* N: L_rot over the first N latent features */
    double lambda;          /* weight of L_rot */
    uint64_t seed;
} lcae_model_meta;

typedef struct lcae_model lcae_model;

/* A new model with PyTorch's default initialization (kaiming-uniform weights, a = sqrt(5);
 * biases uniform in +-1/sqrt(fan_in); BatchNorm weight 1, bias 0, running mean 0,
 * running variance 1) drawn from lcae's own generator seeded with `seed`. */
int lcae_model_create(const lcae_model_config *cfg, uint64_t seed, lcae_model **out);
void lcae_model_free(lcae_model *m);
const lcae_model_config *lcae_model_get_config(const lcae_model *m);
lcae_model_meta *lcae_model_get_meta(lcae_model *m);

/* The compute backend (lcae_nn_describe) and the convolution algorithm of each layer of
 * a model of this configuration (the CAE; the polar architecture's layers are not
 * listed), one line each:
 * "enc.5 conv 32->32 64x64 k3/1: forward winograd-4x4, input gradient winograd-4x4,
 * weight gradient winograd-4x4" (lcae_conv2d_algorithm's names), into buf (size bytes,
 * truncated). For --verbose. */
int lcae_model_describe(const lcae_model_config *cfg, char *buf, size_t size);

/* Model file: every tensor of the PyTorch state_dict, in its order (F32; the BatchNorm
 * num_batches_tracked I64) and the metadata above, written atomically. Loading takes
 * the sizes from the tensors' shapes (input size from lcae.input_size, or from the first
 * Linear layer), accepts F32 or F64 tensors, and names a missing or misshapen tensor. */
int lcae_model_save(const lcae_model *m, const char *path);
int lcae_model_load(const char *path, lcae_model **out);

/* ---- one step, for training loops, tests and benchmarks ------------------------------ */
typedef struct {
    double total;     /* L = recon + recon_rot + lambda * rot */
    double recon;     /* L_recon(x) */
    double recon_rot; /* L_recon(R x) (0 without the rotation pass) */
    double rot;       /* L_rot (unweighted) */
    double aux;       /* polar: the auxiliary head's MSE (0 for the CAE) */
} lcae_losses;

/* Training-mode forward and backward over one batch x (N, 1, H, H) of normalized
 * patterns, rotated by `degrees` for the second pass (meta: rot_loss, mask,
 * invariant_dims, lambda; `interp` chooses the rotation's sampling). A polar model has
 * no second pass: recon is MSE(reconstruction, polar image), aux the auxiliary head's
 * MSE (weight 1, total = recon + aux), and `degrees` rotates the batch (a cyclic shift of the polar image by
 * the nearest whole number of angle steps) as augmentation. Sets the parameter
 * gradients (zeroed first), updates the BatchNorm running statistics (once per pass,
 * as PyTorch), returns the loss terms. */
int lcae_model_step(lcae_model *m, const float *x, int N, double degrees, lcae_interp interp,
                    lcae_losses *losses);
/* One Adam update (beta2 = 0.999, eps = 1e-8, PyTorch's defaults; beta1 0.9 unless a
 * schedule cycles it) with the gradients of the last step. */
void lcae_model_adam(lcae_model *m, double lr, double beta1);
/* Evaluation-mode encoding (running BatchNorm statistics) of x (N, 1, H, H), prepared
 * (lcae_prep_patterns with the model's meta.prep), masked here as in training: z (N, latent). */
int lcae_model_encode_batch(lcae_model *m, const float *x, int N, float *z);

/* ---- the data a model sees -------------------------------------------------------- */
/* Input size for a detector h x w with crop and bin (fails, with the reason, if bin is
 * not 1, 2 or 4 or the result is not a square whose side is a positive multiple of 16). */
int lcae_model_input_size(int64_t h, int64_t w, int crop, int bin, int *size);

/* ---- training and encoding ---------------------------------------------------------- */
typedef struct {
    lcae_model_config arch; /* input_size is set from the data */
    int epochs;             /* 10; when steps > 0: ignored */
    int64_t steps;          /* 0: epochs decide; N: N optimizer steps over ceil(N / steps
                               per epoch) epochs, the last one cut short */
    int batch;              /* 32 */
    double lr;              /* 1e-4: the constant rate, or onecycle's maximum */
    lcae_lr_schedule lr_schedule; /* constant */
    lcae_recon recon;       /* l1 */
    int rot_loss;           /* 1 (a polar model has none: it is invariant by construction) */
    lcae_rot_form rot_form; /* scaled (the paper's form: paper) */
    int invariant_dims;     /* 10 */
    double lambda;          /* 1 (the paper's form: 50) */
    double max_angle;       /* degrees, 360: psi uniform in [0, max_angle) per batch */
    uint64_t seed;
    int64_t subset;         /* 0: all patterns; K: K positions drawn at random */
    int bin, crop;          /* 1, 0 */
    lcae_transform transform; /* none */
    double offset;          /* 0: ADU per detector pixel subtracted before the transform */
    lcae_center center;     /* none; beam: patterns centred by the beam map */
    int exact_norm;         /* 0: the normalization from the statistics' pixel sample
                               (seeded by seed); 1: exact (a second pass) */
    lcae_mask mask;         /* disk */
    lcae_interp interp;     /* bilinear */
    int restarts;           /* 1; K: K trainings from as many initializations (the same
                               batches and angles), the one of lowest final loss kept */
    int resume;             /* continue from the checkpoint beside the model */
} lcae_train_options;

/* The options' table (lcae/core.h, lcae_option): names, defaults, ranges, help; in the
 * order of their JSON (lcae_options_json: the training log's "options"). Flags: */
enum {
    LCAE_TRAIN_RESUME = 1u << 8,    /* recorded in the checkpoint; a resumed run must match */
    LCAE_TRAIN_PREP = 1u << 9,      /* the patterns' preparation (lcae/prep.h) */
    LCAE_TRAIN_ONE_MODEL = 1u << 10 /* what one model is (lcae run trains two) */
};
extern const lcae_option lcae_train_option_table[];
/* Every option at its table default. */
void lcae_train_defaults(lcae_train_options *o);
/* LCAE_OK if the options are in their ranges (the table's, and: epochs >= 1 unless steps
 * decide, invariant_dims <= latent); else LCAE_EUSAGE naming the first option that is
 * not. lcae_train checks them first. */
int lcae_train_check(const lcae_train_options *o);

/* The learning rate and Adam's beta1 for the step after `done` of `total` steps. constant:
 * (lr, 0.9). onecycle: torch.optim.lr_scheduler.OneCycleLR(max_lr = lr, total_steps =
 * total, pct_start = 0.25) with its defaults (anneal_strategy cos, div_factor 25,
 * final_div_factor 1e4, cycle_momentum on: beta1 from 0.95 down to 0.85 while the rate
 * rises from lr / 25 to lr over the first quarter, then back to 0.95 while it falls to
 * lr / 25e4 at the last step), in double as Python computes it. onecycle needs total >= 5
 * (PyTorch divides by zero at total = 4), checked by lcae_train. */
void lcae_lr_at(lcae_lr_schedule schedule, double lr, int64_t done, int64_t total,
                double *lr_out, double *beta1_out);

/* beam_map: (count, 2) direct-beam positions (lcae_beam's fitted map) when o->center
 * is beam; NULL otherwise.
 * Trains on the scan and writes `model_path` when training ends; after every epoch,
 * beside it (for model_path = NAME.safetensors), NAME.ckpt.safetensors (the model plus
 * Adam's state, to resume from) and NAME.log.json (the options and each epoch's loss
 * terms); each file atomically. Same seed and thread count: the same model.
 * Under MPI (lcae/mpi.h, docs/mpi.md), called on every rank: data-parallel (each rank a
 * share of every batch; the polar model whole on every rank), rank 0 writes the files.
 * With o->restarts = K > 1, K trainings (restart 1: o->seed's initialization; restarts 2
 * to K their own, all with o->seed's batches and angles) write NAME.restartI.safetensors,
 * .ckpt and .log.json; the one of lowest final loss (each log's "final_loss": the mean
 * loss of the last quarter of the steps) is copied to model_path and NAME.log.json, which
 * lists them all under "restarts". A restart whose loss turns non-finite is left out
 * (logged "diverged"); all of them: LCAE_EFAIL. --resume resumes each restart from its
 * checkpoint. */
int lcae_train(lcae_dataset *ds, const lcae_train_options *o, const float *beam_map,
               const char *model_path, const lcae_progress *p);
/* A restart's file beside model_path = NAME.safetensors: NAME.restartI.KIND (KIND:
 * "safetensors", "ckpt.safetensors" or "log.json"); malloc'd, NULL when out of memory. */
char *lcae_model_restart_path(const char *model_path, int restart, const char *kind);
/* After lcae_train with restarts (lcae run's restart stage): keeps, copied to model_path
 * with its log, the restart of highest agreement with the others (agreement[i], the
 * restarts in the log's order; NaN: a diverged restart, none), within 1e-9 the one of
 * lower final loss, recording each restart's "agreement" and "restart_choice":
 * "agreement" in the log; agreement NULL: the restart of lowest final loss, as lcae_train
 * keeps it ("restart_choice": "final_loss"). Under MPI, called on every rank; rank 0's
 * agreement counts. */
int lcae_model_keep_restart_by(const char *model_path, const double *agreement,
                               const lcae_progress *p);

/* Patterns per encoding batch unless the caller chooses (lcae encode, lcae run). */
#define LCAE_ENCODE_BATCH 128

/* Latent vectors of every pattern of the scan, in scan order: z (count, latent).
 * beam_map: as for lcae_train, required when the model was trained centred. Under MPI,
 * called on every rank: each encodes its range of batches, and every rank gets all of z. */
int lcae_encode(lcae_model *m, lcae_dataset *ds, const float *beam_map, int batch, float *z,
                const lcae_progress *p);

/* The encode stage, file to file (lcae encode, lcae run): the model in model_path, every
 * pattern of ds in batches of `batch`, into out_npy, float32 (count, latent) in scan
 * order, atomically. For a model trained centred the beam positions are beam_map when
 * given, else lcae_prep_beam_map(ds, beam_npy) (read from beam_npy, or found in the scan
 * when that is NULL too); other models ignore both. *latent (may be NULL): the model's
 * latent size. Under MPI, called on every rank; rank 0 writes. */
int lcae_encode_file(const char *model_path, lcae_dataset *ds, const float *beam_map,
                     const char *beam_npy, int batch, const char *out_npy,
                     const lcae_progress *p, int *latent);

#ifdef __cplusplus
}
#endif
#endif
