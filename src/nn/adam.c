/* Adam as torch.optim.Adam (1.13, _single_tensor_adam, no weight decay, no amsgrad):
 *   m = beta1 m + (1 - beta1) g;  v = beta2 v + (1 - beta2) g^2
 *   p -= lr / (1 - beta1^t) * m / (sqrt(v) / sqrt(1 - beta2^t) + eps)
 * The scalars (bias corrections, step size, 1 - beta) are computed in double as Python
 * does, then rounded to float as PyTorch does with a Python number applied to a float
 * tensor; the per-element arithmetic is float32 in PyTorch's order (addcmul: (a g) g;
 * addcdiv: p + (-step) (m / denom)). With a changing beta1 (OneCycleLR's momentum
 * cycling) the bias correction is 1 - beta1_t^t with the current beta1_t, as torch's
 * _single_tensor_adam has it (not a product of the past betas). */
#include <math.h>

#include "nn/nn_internal.h"

void lcae_adam_step(lcae_nn *nn, float *param, const float *grad, float *m, float *v, int64_t n,
                    int64_t step, double lr, double beta1, double beta2, double eps)
{
    (void)nn; /* the CPU backend keeps no state for this call */
    double bc1 = 1.0 - pow(beta1, (double)step), bc2 = 1.0 - pow(beta2, (double)step);
    float step_size = (float)(lr / bc1), bc2_sqrt = (float)sqrt(bc2);
    float b1 = (float)beta1, b2 = (float)beta2, eps_f = (float)eps;
    float a1 = (float)(1.0 - beta1), a2 = (float)(1.0 - beta2);
#pragma omp parallel for schedule(static) if (n >= NN_PAR_MIN)
    for (int64_t i = 0; i < n; i++) {
        float g = grad[i];
        float mi = m[i] * b1 + a1 * g;
        float vi = v[i] * b2 + a2 * g * g;
        m[i] = mi;
        v[i] = vi;
        param[i] -= step_size * (mi / (sqrtf(vi) / bc2_sqrt + eps_f));
    }
}
