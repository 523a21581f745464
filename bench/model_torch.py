#!/usr/bin/python3
"""PyTorch peer of bench_model: the same model (tools/make_model_fixture.py's
ConvAutoencoder, the published structure), the same step, the same thread count.

    /usr/bin/python3 bench/model_torch.py train|encode SIZE BASE BATCH REPS [THREADS [cpu]]

cpu: time with the process's CPU time (time.process_time) instead of the wall clock, as
bench_model's cpu argument: at 1 thread the figure other jobs on the machine disturb least.

train: one training step as lcae's: inputs masked to the inscribed disk, a bilinear
rotation of the batch (affine_grid + grid_sample, zero fill), both passes in training
mode, the clipped-L1 reconstruction losses inside the mask, the rotation loss over the
first 10 latent features (lambda 50), backward, Adam (lr 1e-4).
encode: the encoder in evaluation mode under no_grad.
Prints "patterns_per_s X seconds T": best of REPS after one warm-up (REPS 1: one timed
step, no warm-up)."""
import math
import os
import sys
import time

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tools"))
from make_model_fixture import ConvAutoencoder  # noqa: E402


def main():
    mode, size, base, batch, reps = sys.argv[1], *map(int, sys.argv[2:6])
    threads = int(sys.argv[6]) if len(sys.argv) > 6 else 2
    clock = time.process_time if len(sys.argv) > 7 and sys.argv[7] == "cpu" else time.perf_counter
    torch.set_num_threads(threads)
    torch.manual_seed(1)
    model = ConvAutoencoder(base=base, size=size)
    x = torch.rand(batch, 1, size, size) * 2 - 1
    c = (size - 1) / 2
    yy, xx = torch.meshgrid(torch.arange(size), torch.arange(size), indexing="ij")
    mask = (((yy - c) ** 2 + (xx - c) ** 2) <= c * c).float()
    opt = torch.optim.Adam(model.parameters(), lr=1e-4)

    def train_step(deg):
        t = math.radians(deg)
        theta = torch.tensor([[math.cos(t), -math.sin(t), 0], [math.sin(t), math.cos(t), 0]],
                             dtype=torch.float32).expand(batch, 2, 3)
        grid = F.affine_grid(theta, x.shape, align_corners=False)
        x1 = x * mask
        xr = F.grid_sample(x, grid, mode="bilinear", padding_mode="zeros",
                           align_corners=False) * mask
        opt.zero_grad()
        z1, y1 = model(x1)
        z2, y2 = model(xr)
        n = mask.sum() * batch
        r1 = ((y1 - x1).clamp(-10, 10).abs() * mask).sum() / n
        r2 = ((y2 - xr).clamp(-10, 10).abs() * mask).sum() / n
        loss = r1 + r2 + 50 * (z1[:, :10] - z2[:, :10]).abs().mean()
        loss.backward()
        opt.step()

    def encode():
        with torch.no_grad():
            model.enc(x * mask)

    if mode == "encode":
        model.eval()
    best = float("inf")
    for r in range(reps + (reps > 1)):
        t0 = clock()
        train_step(37.0 * (r + 1)) if mode == "train" else encode()
        if r or reps == 1:
            best = min(best, clock() - t0)
    print("patterns_per_s %.3f seconds %.3f" % (batch / best, best))


if __name__ == "__main__":
    main()
