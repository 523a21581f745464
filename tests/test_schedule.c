/* The training recipe's learning-rate schedule against PyTorch (tests/fixtures/nn/sched*,
 * tools/make_schedule_fixture.py): lcae_lr_at's rate and beta1 at every step of
 * OneCycleLR(max_lr, total_steps, pct_start = 0.25) runs of 13 (the warm-up ends between
 * steps), 40 and 1500 steps; and the parameters after each step of torch.optim.Adam
 * driven by that scheduler (so beta1 changes from step to step), from lcae_adam_step
 * with lcae_lr_at's values. The same Adam run with a constant beta1 of 0.9 must miss
 * PyTorch's: the comparison sees the beta1 cycling. The constant schedule: (lr, 0.9). */
#include "nn_fixture.h"

#include "lcae/model.h"
#include "lcae/nn.h"

/* the context of the Adam calls */
static lcae_nn *g_nn;

/* Adam over the fixture's applied steps, beta1 from the schedule or fixed at 0.9; the
 * worst relative error of the total update p - p0 against PyTorch's (as test_nn_train's
 * Adam check: the update, ~steps * lr, not the parameter ~1). */
static double adam_run(int c, int T, int n, int applied, double max_lr, int cycle_beta1,
                       int compare_each)
{
    float *p = fx_loadf("sched%d_p0", c), *p0 = fx_loadf("sched%d_p0", c);
    float *m = calloc((size_t)n, sizeof *m), *v = calloc((size_t)n, sizeof *v);
    for (int t = 0; t < applied; t++) {
        double lr, beta1;
        lcae_lr_at(LCAE_LR_ONECYCLE, max_lr, t, T, &lr, &beta1);
        float *g = fx_loadf("sched%d_grad%d", c, t);
        lcae_adam_step(g_nn, p, g, m, v, n, t + 1, lr, cycle_beta1 ? beta1 : 0.9, 0.999, 1e-8);
        free(g);
        if (compare_each)
            fx_comparef(p, n, 1e-5, "sched%d_p%d", c, t + 1);
    }
    float *pw = fx_loadf("sched%d_p%d", c, applied);
    double worst = 0;
    for (int i = 0; i < n; i++) {
        double dw = (double)pw[i] - p0[i], dg = (double)p[i] - p0[i];
        worst = fmax(worst, fabs(dg - dw) / fmax(fabs(dw), max_lr * 1e-2));
    }
    free(p), free(p0), free(m), free(v), free(pw);
    return worst;
}

int main(void)
{
    CHECK(lcae_nn_create(&g_nn) == LCAE_OK);
    int count;
    fx_meta("sched_count", &count, 1);
    char name[64];
    for (int c = 0; c < count; c++) {
        int meta[3];
        fx_metaf(meta, 3, "sched%d_meta", c);
        int T = meta[0], n = meta[1], applied = meta[2];
        int64_t k;
        snprintf(name, sizeof name, "sched%d_params", c);
        double *par = fx_load64(name, &k), max_lr = par[0];
        snprintf(name, sizeof name, "sched%d_lr", c);
        double *lr_want = fx_load64(name, &k);
        CHECK(k == T);
        snprintf(name, sizeof name, "sched%d_beta1", c);
        double *beta_want = fx_load64(name, &k);
        CHECK(k == T);
        double worst_lr = 0, worst_beta = 0;
        for (int t = 0; t < T; t++) {
            double lr, beta1;
            lcae_lr_at(LCAE_LR_ONECYCLE, max_lr, t, T, &lr, &beta1);
            worst_lr = fmax(worst_lr, fabs(lr - lr_want[t]) / lr_want[t]);
            worst_beta = fmax(worst_beta, fabs(beta1 - beta_want[t]));
        }
        /* both in double from the same formulas: equal but for libm's last bits */
        CHECK_MSG(worst_lr < 1e-12, "schedule %d (%d steps): lr %g relative from PyTorch's",
                  c, T, worst_lr);
        CHECK_MSG(worst_beta < 1e-12, "schedule %d: beta1 %g from PyTorch's", c, worst_beta);
        /* the schedule's landmarks, analytically: lr / 25 first, lr at the warm-up's end
         * when that is a step, lr / 25e4 last; beta1 0.95, 0.85, 0.95 there */
        double lr, beta1;
        lcae_lr_at(LCAE_LR_ONECYCLE, max_lr, 0, T, &lr, &beta1);
        CHECK_CLOSE(lr, max_lr / 25, 1e-12);
        CHECK_CLOSE(beta1, 0.95, 1e-12);
        lcae_lr_at(LCAE_LR_ONECYCLE, max_lr, T - 1, T, &lr, &beta1);
        CHECK_CLOSE(lr / max_lr, 1 / 25e4, 1e-12);
        CHECK_CLOSE(beta1, 0.95, 1e-12);
        if (T % 4 == 0) {
            lcae_lr_at(LCAE_LR_ONECYCLE, max_lr, T / 4 - 1, T, &lr, &beta1);
            CHECK_CLOSE(lr, max_lr, 1e-12);
            CHECK_CLOSE(beta1, 0.85, 1e-12);
        }
        if (applied) {
            double ok = adam_run(c, T, n, applied, max_lr, 1, 1);
            CHECK_MSG(ok < 1e-3, "schedule %d: Adam's update %g relative from PyTorch's", c, ok);
            double fixed = adam_run(c, T, n, applied, max_lr, 0, 0);
            CHECK_MSG(fixed > 1e-2, "schedule %d: Adam with beta1 fixed at 0.9 is within %g of "
                      "PyTorch's cycled run: the test cannot see beta1", c, fixed);
        }
        free(par), free(lr_want), free(beta_want);
    }
    double lr, beta1;
    lcae_lr_at(LCAE_LR_CONSTANT, 3e-4, 17, 100, &lr, &beta1);
    CHECK(lr == 3e-4 && beta1 == 0.9);
    lcae_nn_free(g_nn);
    return test_done("test_schedule");
}
