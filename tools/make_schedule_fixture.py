#!/usr/bin/python3
"""Reference values for the training recipe from PyTorch (1.13, CPU): the OneCycleLR
schedule with Adam, and the MSE loss.

Writes tests/fixtures/nn/sched<i>_<what>.npy for a few small runs of
    opt = torch.optim.Adam([p], lr=max_lr)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr, total_steps=T, pct_start=0.25)
with given gradients: the lr and beta1 Adam uses at every step, in float64 (meta T, n,
steps applied), the parameter vector before and after each applied step (float32). T = 13
puts the end of the warm-up between two steps (0.25 T - 1 = 2.25); T = 1500 is the CPU
preset's budget (schedule only). And tests/fixtures/nn/mse_*.npy: F.mse_loss (mean)
weighted by a scale and its gradient, some differences exactly 0 (tests/test_nn_train.c;
tools/make_nn_fixtures.py holds the other losses but needs torchvision, which this does
not). tests/test_schedule.c and tests/test_nn_train.c read them. From the repository root:
    /usr/bin/python3 tools/make_schedule_fixture.py
"""
import os
import warnings

import numpy as np
import torch
import torch.nn.functional as F

OUT = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "tests",
                   "fixtures", "nn")
torch.manual_seed(4321)
torch.set_num_threads(1)
# the schedule-only run steps the scheduler without the optimizer, on purpose
warnings.filterwarnings("ignore", "Detected call of")


def save(name, a, dtype=np.float32):
    a = a.detach().numpy() if isinstance(a, torch.Tensor) else np.asarray(a)
    np.save(os.path.join(OUT, name + ".npy"), np.ascontiguousarray(a.astype(dtype)))


# ---- OneCycleLR + Adam -----------------------------------------------------------------
RUNS = [  # total steps, parameters, steps applied (the Adam state is compared for these), max_lr
    (13, 40, 13, 2e-3),
    (40, 24, 12, 1e-2),
    (1500, 8, 0, 2e-3),
]
save("sched_count", (len(RUNS),), np.int32)
for i, (T, n, applied, max_lr) in enumerate(RUNS):
    p = torch.nn.Parameter(torch.randn(n))
    opt = torch.optim.Adam([p], lr=max_lr)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr, total_steps=T, pct_start=0.25)
    lrs, betas = [], []
    save("sched%d_meta" % i, (T, n, applied), np.int32)
    save("sched%d_params" % i, (max_lr,), np.float64)
    save("sched%d_p0" % i, p)
    for t in range(T):
        g = opt.param_groups[0]
        lrs.append(g["lr"])
        betas.append(g["betas"][0])
        if t < applied:
            grad = torch.randn(n)
            grad[:3] *= 1e-7  # eps matters
            p.grad = grad.clone()
            opt.step()
            save("sched%d_grad%d" % (i, t), grad)
            save("sched%d_p%d" % (i, t + 1), p)
        sched.step()
    save("sched%d_lr" % i, lrs, np.float64)
    save("sched%d_beta1" % i, betas, np.float64)

# ---- MSE ---------------------------------------------------------------------------------
scale = 1.5
target = torch.randn(300) * 3
pred = target + torch.randn(300) * 2
pred[:5] = target[:5]
pred.requires_grad_()
mse = F.mse_loss(pred, target)
(scale * mse).backward()
save("mse_meta", (300,), np.int32)
save("mse_pred", pred)
save("mse_target", target)
save("mse_params", (scale,))
save("mse_loss", [mse.item()], np.float64)
save("mse_dpred", pred.grad)
print("wrote", OUT)
