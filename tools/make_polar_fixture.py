#!/usr/bin/python3
"""Reference values for tests/test_model_polar.c, from PyTorch (the independent peer).

The polar autoencoder of tools/research/train.py (PolarAE with CircConv, Dec and the
--invdec auxiliary head; the same module structure and state_dict names) at a tiny size:
input 32 x 32 (polar image 16 radii x 96 angles), base 2, batch 3. Its weights are
PyTorch's default initialization (seed 0) rounded to float32; everything is computed in
float64 (so that the reference carries no float32 rounding of its own):
  - the auxiliary target's standardization (mean, unbiased std of |rfft| orders 0..6 / nt)
    over 8 "training" patterns;
  - one training step on 3 patterns whose polar images are rolled by SHIFT angle steps
    (lcae_model_step's rotation by SHIFT * 360 / 96 degrees): the polar image, z, the
    reconstruction, the auxiliary output, both loss terms, every parameter gradient and
    the BatchNorm running statistics after the step;
  - evaluation-mode z (running statistics after the step) of the 3 patterns, unrolled.

Twice: the prototype's head, [mean, maximum] over the angle, to tests/fixtures/polar/;
[mean, power mean of order 4] (lcae's --angle-pool 4, the CPU preset's) to
tests/fixtures/polar_pmean4/. Each folder: weights.safetensors (the initial state_dict
with the target standardization as lcae_aux_target.mean/.std; the maximum's with no
metadata, as a PyTorch user would save it, the power mean's with lcae.angle_pool = 4),
the patterns and the results in expected.safetensors (loss values as metadata strings).

Usage: /usr/bin/python3 tools/make_polar_fixture.py [OUT_ROOT]
"""
import math
import os
import sys

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from make_model_fixture import st_write  # noqa: E402  (the safetensors writer)
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "research"))
from modules import CircConv, Dec  # noqa: E402  (the prototype's modules)

SIZE, BASE, BATCH, NTRAIN, NT, NINV, LATENT, K = 32, 2, 3, 8, 96, 10, 16, 7
SHIFT = 17


class PolarAE(nn.Module):  # tools/research/train.py, pool 'meanmax', no latbn, + aux
    def __init__(s, b, nr, nt, N=10, L=16, order=0):
        super().__init__()
        s.N = N
        s.order = order  # 0: the maximum over the angle; P: the power mean of order P
        s.enc = nn.Sequential(CircConv(1, b), CircConv(b, b, 2), CircConv(b, 2 * b), CircConv(2 * b, 2 * b, 2),
                              CircConv(2 * b, 4 * b, 2), CircConv(4 * b, 4 * b, 2))
        r_out = nr // 16
        C = 4 * b
        s.inv = nn.Sequential(nn.Linear(C * r_out * 2, 256), nn.ReLU(), nn.Linear(256, N))
        s.nt_out = 12
        s.var = nn.Sequential(nn.Linear(C * r_out * s.nt_out, 256), nn.ReLU(), nn.Linear(256, L - N))
        s.bn = nn.Identity()
        s.dec = Dec(b, nr, nt, 4, L)
        s.aux = nn.Sequential(nn.Linear(N, 256), nn.ReLU(), nn.Linear(256, K * nr))

    def encode(s, x):
        f = s.enc(x)
        peak = f.amax(3) if not s.order else f.clamp(min=0).pow(s.order).mean(3).pow(1 / s.order)
        g = torch.cat([f.mean(3), peak], 1)
        zi = s.inv(g.flatten(1))
        zv = s.var(F.adaptive_avg_pool2d(f, (f.shape[2], s.nt_out)).flatten(1))
        return s.bn(torch.cat([zi, zv], 1))


def polar_images(X, nr, nt):  # tools/research/train.py, in float64
    h = X.shape[-1]
    c = (h - 1) / 2
    r = torch.linspace(1, h / 2 - 1, nr, dtype=torch.float64)
    th = torch.arange(nt, dtype=torch.float64) * 2 * math.pi / nt
    gy = c + r[:, None] * torch.sin(th)[None]
    gx = c + r[:, None] * torch.cos(th)[None]
    grid = torch.stack([gx / (h - 1) * 2 - 1, gy / (h - 1) * 2 - 1], -1)[None]
    return F.grid_sample(X, grid.expand(len(X), -1, -1, -1), align_corners=True)


def fft_target(P):
    return torch.fft.rfft(P[:, 0], dim=2).abs()[..., :K] / P.shape[3]


def write_fixture(out, order):
    os.makedirs(out, exist_ok=True)
    torch.manual_seed(0)
    nr = SIZE // 2
    model = PolarAE(BASE, nr, NT, NINV, LATENT, order)
    with torch.no_grad():  # weights representable in float32 (the C side's)
        for p in model.parameters():
            p.copy_(p.float())
    model = model.double()
    rng = np.random.default_rng(0)
    # patterns like prepared ones: a bright centre, rings, noise; float32 values
    yy, xx = np.mgrid[:SIZE, :SIZE] - (SIZE - 1) / 2
    rad = np.hypot(yy, xx)
    def patterns(n):
        base = 3 * np.exp(-rad ** 2 / 8) + np.cos(rad)[None]
        return (base + rng.normal(0, 1, (n, SIZE, SIZE))).astype(np.float32)
    Xtrain, X = patterns(NTRAIN), patterns(BATCH)
    Pt = polar_images(torch.from_numpy(Xtrain).double()[:, None], nr, NT)
    Tt = fft_target(Pt)
    tmean, tstd = Tt.mean(0).flatten(), Tt.std(0).flatten()
    weights = {}
    for k, v in model.state_dict().items():
        a = v.detach().numpy()
        weights[k] = a.astype(np.int64) if a.dtype == np.int64 else a.astype(np.float32)
    weights["lcae_aux_target.mean"] = tmean.numpy().astype(np.float32)
    weights["lcae_aux_target.std"] = tstd.numpy().astype(np.float32)
    st_write(os.path.join(out, "weights.safetensors"), weights,
             {"lcae.angle_pool": str(order)} if order else {})
    tm32 = torch.from_numpy(weights["lcae_aux_target.mean"]).double()
    ts32 = torch.from_numpy(weights["lcae_aux_target.std"]).double()

    x = torch.from_numpy(X).double()[:, None]
    P = polar_images(x, nr, NT)
    xb = torch.roll(P, SHIFT, 3)
    model.train()
    z = model.encode(xb)
    y = model.dec(z)
    recon = F.mse_loss(y, xb)
    T = ((fft_target(xb).flatten(1) - tm32) / (ts32 + 1e-6))
    a = model.aux(z[:, :NINV])
    aux = F.mse_loss(a, T)
    loss = recon + 1.0 * aux
    model.zero_grad()
    loss.backward()
    exp = {"x": X, "train_x": Xtrain, "polar": P.detach().numpy()[:, 0].astype(np.float32),
           "z": z.detach().numpy(), "y": y.detach().numpy(), "aux": a.detach().numpy(),
           "target": T.detach().numpy()}
    for k, p in model.named_parameters():
        exp["grad." + k] = p.grad.numpy()
    for k, v in model.state_dict().items():
        if "running" in k:
            exp["after." + k] = v.numpy()
    model.eval()
    with torch.no_grad():
        ze = model.encode(P)
        zs = model.encode(torch.roll(P, 29, 3))
    exp["z_eval"] = ze.numpy()
    exp = {k: np.asarray(v, np.float32) for k, v in exp.items()}
    meta = {"loss.recon": repr(recon.item()), "loss.aux": repr(aux.item()),
            "loss.total": repr(loss.item()), "shift": str(SHIFT),
            "invariance_eval_rel": repr(((ze - zs)[:, :NINV].abs().max() / ze[:, :NINV].abs().max()).item())}
    st_write(os.path.join(out, "expected.safetensors"), exp, meta)
    print("wrote", out, meta)


def main():
    root = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
        os.path.dirname(os.path.abspath(__file__)), "..", "tests", "fixtures")
    write_fixture(os.path.join(root, "polar"), 0)
    write_fixture(os.path.join(root, "polar_pmean4"), 4)


if __name__ == "__main__":
    main()
