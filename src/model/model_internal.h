/* The model's inside, shared by src/model, the tests and the benchmark.
 *
 * One table (arch[] in model.c) lists the published layers in PyTorch order; from it and
 * the sizes come `layers` (the resolved sizes and parameter offsets) and `tensors` (the
 * state_dict: name, shape, where the values live), which drive the allocation, the
 * safetensors file and the PyTorch reference test. Parameters, gradients and Adam's two
 * moments are each ONE allocation of nparams floats, in state_dict order. They, the
 * running statistics and the work memory (activations, gradients, the mask) are buffers
 * of the lcae_nn context, touched only by nn calls; the model moves data in and out with
 * lcae_nn_upload/_download (the parameters only where a file is read or written). */
#ifndef LCAE_MODEL_INTERNAL_H
#define LCAE_MODEL_INTERNAL_H

#include <stdint.h>

#include "lcae/model.h"
#include "lcae/nn.h"
#include "core/util.h"

#define MODEL_MAX_LAYERS 24
#define MODEL_MAX_TENSORS 160
#define MODEL_HIDDEN 1024     /* the published Linear width */
#define MODEL_CLIP 10.0f      /* the reconstruction loss clips differences at +-10 */
#define MODEL_BN_MOMENTUM 0.1f
#define MODEL_BN_EPS 1e-5f

typedef enum { LY_CONV_BN, LY_DECONV_BN, LY_LINEAR, LY_CONV } layer_kind;

typedef struct {
    const char *name; /* module path in the state_dict ("enc.0") */
    layer_kind kind;
    int cin, cout;    /* channels or features (resolved) */
    int k, stride, pad;
    int hin, hout;    /* side of the (square) input and output; 1 for Linear */
    int relu;         /* followed by ReLU */
    int64_t in_size, out_size;  /* values per sample */
    int64_t w, b, gamma, beta;  /* offsets into params; gamma, beta -1 without BatchNorm */
    int64_t rmean, rvar;        /* offsets into buffers (running statistics), -1 */
    int bn;                     /* index into nbt, -1 */
} model_layer;

typedef enum { T_PARAM, T_BUFFER, T_COUNT } tensor_kind;

typedef struct {
    char name[40];
    tensor_kind kind;  /* T_PARAM: in params (trained); T_BUFFER: in buffers; T_COUNT: nbt */
    int ndim;
    int64_t shape[4];
    int64_t count, offset;
    int fan_in;        /* PyTorch's fan_in for the initialization; 0: BatchNorm */
} model_tensor;

/* Activations of one training pass, N samples. A BatchNorm layer keeps only its
 * convolution's output `pre` and its batch statistics: its output relu(bn(pre)) is
 * recomputed when the backward pass needs it (into act[]), which halves the memory of
 * a training step at the cost of one elementwise pass per layer. */
typedef struct {
    float *x;                        /* (N, 1, H, H) input, masked */
    float *pre[MODEL_MAX_LAYERS];    /* BatchNorm layers: the convolution's output */
    float *out[MODEL_MAX_LAYERS];    /* the other layers' output (after ReLU); NULL for BN */
    float *mean[MODEL_MAX_LAYERS], *invstd[MODEL_MAX_LAYERS]; /* batch statistics (cout) */
} model_pass;

/* The polar architecture's layers, work memory and sampling tables (src/model/polar.c). */
typedef struct model_polar model_polar;

struct lcae_model {
    lcae_model_config cfg;
    model_polar *polar; /* cfg.kind == LCAE_ARCH_POLAR; the CAE's layers[] are then unused */
    lcae_model_meta meta;
    int nlayers, nenc; /* the encoder is layers 0 .. nenc-1; z = out[nenc-1] */
    model_layer layers[MODEL_MAX_LAYERS];
    int ntensors;
    model_tensor tensors[MODEL_MAX_TENSORS];
    int64_t nparams, nbuffers;
    int nbn;
    float *params, *grads, *adam_m, *adam_v; /* nparams each (nn buffers) */
    float *buffers;                          /* nbuffers (an nn buffer) */
    int64_t *nbt;                            /* nbn: num_batches_tracked */
    int64_t adam_step;
    lcae_nn *nn;
    /* data-parallel training (train.c): this process's share of each batch, the batch
     * statistics and loss means over the whole batch (lcae_nn_set_sync); NULL: one process */
    const lcae_nn_sync *sync;
    /* work memory (one allocation) for up to work_batch samples */
    int work_batch, work_train;
    int step_batch; /* N of the last training step */
    float *work;
    model_pass pass[2];
    float *g[2];      /* gradient ping-pong (N * largest layer) */
    float *act[2];    /* BatchNorm layer i's output, in act[i & 1] (N * largest layer) */
    float *dz[2];     /* rotation-loss gradients (N, latent) */
    float *lossbuf;   /* (N, H*H): prediction with the outside of the mask set to target */
    float *mask;      /* (H*H): 1 inside the mask (an nn buffer) */
    float *mask_host; /* its values as model_fill_mask computes them */
};

/* A model with its layer and tensor tables only (no parameter memory; free with
 * lcae_model_free): what a file must hold, checked before anything large is allocated. */
int model_tables(const lcae_model_config *cfg, lcae_model **out);
const model_tensor *model_find_tensor(const lcae_model *m, const char *name);
/* Appends tensor `layer`.`suffix` to the state_dict table; its offset into params,
 * buffers (by kind) or nbt (T_COUNT). */
model_tensor *model_add_tensor(lcae_model *m, const char *layer, const char *suffix,
                               tensor_kind kind, int ndim, const int64_t *shape, int fan_in);
/* Layer i's output (after BatchNorm and ReLU) in the last training step's pass k, into
 * dst (N * out_size): for tests. */
void model_layer_output(lcae_model *m, int k, int i, float *dst);
/* Pointer to a tensor's float values (params or buffers, backend memory: the tests of
 * the CPU backend read it), NULL for T_COUNT. */
float *model_tensor_data(const lcae_model *m, const model_tensor *t);
/* The model's float state copied to host memory, for files and the initialization:
 * params (nparams), buffers (nbuffers) and, with_adam, Adam's moments (nparams each;
 * NULL without), in state_dict offsets. _get allocates and downloads (LCAE_ENOMEM),
 * _put uploads what is there, _free releases. */
typedef struct {
    float *params, *buffers, *adam_m, *adam_v;
} model_host;
int model_host_get(const lcae_model *m, int with_adam, model_host *h);
void model_host_put(lcae_model *m, const model_host *h);
void model_host_free(model_host *h);
/* A tensor's values in h (as model_tensor_data's in the backend), NULL for T_COUNT. */
float *model_host_tensor(const model_host *h, const model_tensor *t);
/* Floating-point operations of one forward pass of the whole model (or the encoder
 * alone) over N samples: 2 * multiply-adds of the convolutions and Linear layers. */
double model_forward_flops(const lcae_model *m, int N, int encoder_only);
/* Fills m->mask for meta.mask: the inscribed disk of pixel centres whose distance from
 * the centre is at most (H-1)/2 (a rotation about the centre then never samples
 * outside the frame), or everything. Returns the number of pixels inside. */
int64_t model_fill_mask(lcae_model *m);

/* ---- the polar architecture (src/model/polar.c) ---------------------------------------
 * The prototype's sizes: polar image nr = input_size / 2 radii (1 .. input_size/2 - 1 px,
 * evenly spaced) x LCAE_POLAR_ANGLES angles; 12 angular bins for the non-invariant
 * features; hidden width 256 of the heads; auxiliary target: |rfft| orders 0..6 per
 * radius. */
#define POLAR_BINS 12
#define POLAR_HIDDEN 256
#define POLAR_ORDERS 7
#define POLAR_AUX_WEIGHT 1.0 /* weight of the auxiliary MSE in the loss */
#define POLAR_STD_EPS 1e-6   /* target = (T - mean) / (std + eps), as the prototype */

/* The layer and tensor tables of cfg (kind polar) and the sampling tables; m->polar. */
int polar_build_tables(lcae_model *m);
void polar_free(model_polar *p, lcae_nn *nn);
int polar_step(lcae_model *m, const float *x, int N, double degrees, lcae_losses *losses);
int polar_encode_batch(lcae_model *m, const float *x, int N, float *z);
/* The polar image out (N, nr, LCAE_POLAR_ANGLES) of prepared patterns x (N, H, H), both
 * nn buffers (host memory on the CPU backend, which the tests pass). */
void polar_image(const lcae_model *m, const float *x, int N, float *out);
/* Evaluation-mode z (N, latent) of polar images img (N, nr, nt) (encode_batch after
 * polar_image): for tests of the invariance. */
int polar_encode_image(lcae_model *m, const float *img, int N, float *z);
/* The last training step's z (N, latent), reconstruction (N, nr, nt) and auxiliary
 * output (N, 7 nr): for tests. */
void polar_last_step(const lcae_model *m, const float **z, const float **recon,
                     const float **aux);
/* The auxiliary target's standardization (tensors lcae_aux_target.mean and .std): its
 * mean and unbiased standard deviation over the patterns given to _add (prepared, N at a
 * time) between _begin and _end. */
int polar_target_begin(lcae_model *m);
int polar_target_add(lcae_model *m, const float *x, int N);
int polar_target_end(lcae_model *m);

/* ---- lcae's random numbers: xoshiro256** seeded through splitmix64 ------------------- */
typedef struct {
    uint64_t s[4];
} model_rng;

/* Independent streams from one seed: (seed, stream) -> generator. */
static inline void model_rng_seed(model_rng *r, uint64_t seed, uint64_t stream)
{
    uint64_t x = seed ^ (stream * 0xd1342543de82ef95ULL + 0x2545f4914f6cdd1dULL);
    for (int i = 0; i < 4; i++)
        r->s[i] = core_splitmix64(&x);
}

static inline uint64_t model_rng_next(model_rng *r)
{
    uint64_t *s = r->s;
    uint64_t x = s[1] * 5, res = ((x << 7) | (x >> 57)) * 9, t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = (s[3] << 45) | (s[3] >> 19);
    return res;
}

/* Uniform in [0, 1), 53 bits. */
static inline double model_rng_uniform(model_rng *r)
{
    return (double)(model_rng_next(r) >> 11) * 0x1.0p-53;
}

/* Uniform integer in [0, n), unbiased (rejection). */
static inline uint64_t model_rng_below(model_rng *r, uint64_t n)
{
    uint64_t lim = UINT64_MAX - UINT64_MAX % n, x;
    do
        x = model_rng_next(r);
    while (x >= lim);
    return x % n;
}

#endif
