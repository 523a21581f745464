#!/usr/bin/python3
"""Reference values for src/nn from PyTorch (1.13, CPU) and torchvision (0.14).

Writes tests/fixtures/nn/<case>_<tensor>.npy (float32, or int32 for the `meta` of a
case) for every layer of include/lcae/nn.h: inputs, parameters, the upstream gradient
`dout`, and what PyTorch computes from them (outputs, input and parameter gradients,
updated running statistics, Adam's parameters and moments after each step, rotated
images). tests/test_nn_*.c read them.  Run from the repository root:
    /usr/bin/python3 tools/make_nn_fixtures.py
"""
import os

import numpy as np
import torch
import torch.nn.functional as F
import torchvision.transforms.functional as TF
from torchvision.transforms import InterpolationMode

OUT = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "tests",
                   "fixtures", "nn")
torch.manual_seed(1234)
np.random.seed(1234)
torch.set_num_threads(1)
written = []


def save(name, t, dtype=np.float32):
    a = t.detach().numpy() if isinstance(t, torch.Tensor) else np.asarray(t)
    a = np.ascontiguousarray(a.astype(dtype))
    np.save(os.path.join(OUT, name + ".npy"), a)
    written.append(a.nbytes)


def save_case(case, meta, **arrays):
    """A case's integer meta (<case>_meta, int32) and its float32 arrays <case>_<key>."""
    save(case + "_meta", meta, np.int32)
    for key, a in arrays.items():
        save(case + "_" + key, a)


def randn(*shape):
    return torch.randn(*shape, dtype=torch.float32)


# ---- Conv2d --------------------------------------------------------------------------
# meta: N, C, H, W, K, k, stride, pad
CONV = {
    "conv_first": (2, 1, 9, 9, 3, 3, 1, 1),     # the first layer (C = 1), odd size
    "conv_3x3": (2, 3, 8, 6, 4, 3, 1, 1),       # non-square
    "conv_down": (2, 3, 8, 8, 5, 4, 2, 1),      # the 4x4/2 downsampling conv
    "conv_down_odd": (1, 2, 7, 9, 3, 4, 2, 1),  # odd sizes: the last row/column unused
    "conv_down_wide": (1, 2, 22, 27, 3, 4, 2, 1),  # rows long enough for the SIMD paths
}

# ---- ConvTranspose2d (the same meta) ---------------------------------------------------
CONVT = {
    "convt_up": (2, 4, 4, 4, 3, 4, 2, 1),    # the 4x4/2 upsampling of the decoder
    "convt_rect": (1, 3, 5, 3, 2, 4, 2, 1),  # non-square
    "convt_3x3": (2, 2, 5, 5, 3, 3, 1, 1),   # stride 1: the adjoint of a 3x3 conv
    "convt_wide": (1, 3, 9, 13, 2, 4, 2, 1),  # rows long enough for the SIMD paths
}

# both tables, Conv2d's first (the order of the random draws)
for name, meta, module in [(n, m, torch.nn.Conv2d) for n, m in CONV.items()] + \
        [(n, m, torch.nn.ConvTranspose2d) for n, m in CONVT.items()]:
    N, C, H, W, K, k, s, p = meta
    x = randn(N, C, H, W).requires_grad_()
    conv = module(C, K, k, stride=s, padding=p)
    y = conv(x)
    dout = randn(*y.shape)
    y.backward(dout)
    save(name + "_meta", meta, np.int32)
    save(name + "_in", x)
    save(name + "_weight", conv.weight)
    save(name + "_bias", conv.bias)
    save(name + "_out", y)
    save(name + "_dout", dout)
    save(name + "_din", x.grad)
    save(name + "_dweight", conv.weight.grad)
    save(name + "_dbias", conv.bias.grad)

# ---- BatchNorm2d ---------------------------------------------------------------------
# meta: N, C, H, W; the input has per-channel offsets and scales, one channel far from 0
for name, (N, C, H, W) in {"bn": (3, 4, 5, 5), "bn_small": (2, 3, 1, 2)}.items():
    offset = torch.tensor([0.0, 5.0, -2.0, 30.0][:C]).view(1, C, 1, 1)
    scale = torch.tensor([1.0, 0.1, 3.0, 2.0][:C]).view(1, C, 1, 1)
    x = (randn(N, C, H, W) * scale + offset).requires_grad_()
    bn = torch.nn.BatchNorm2d(C)  # momentum 0.1, eps 1e-5
    with torch.no_grad():
        bn.weight.copy_(randn(C))
        bn.bias.copy_(randn(C))
        bn.running_mean.copy_(randn(C))
        bn.running_var.copy_(torch.rand(C) + 0.5)
    save(name + "_meta", (N, C, H, W), np.int32)
    save(name + "_in", x)
    save(name + "_gamma", bn.weight)
    save(name + "_beta", bn.bias)
    save(name + "_running_mean0", bn.running_mean)
    save(name + "_running_var0", bn.running_var)
    bn.train()
    y = bn(x)
    dout = randn(*y.shape)
    y.backward(dout)
    xd = x.detach().double()
    mean = xd.mean(dim=(0, 2, 3))
    var = xd.var(dim=(0, 2, 3), unbiased=False)
    save(name + "_out", y)
    save(name + "_running_mean", bn.running_mean)
    save(name + "_running_var", bn.running_var)
    save(name + "_save_mean", mean)
    save(name + "_save_invstd", 1 / torch.sqrt(var + 1e-5))
    save(name + "_dout", dout)
    save(name + "_din", x.grad)
    save(name + "_dgamma", bn.weight.grad)
    save(name + "_dbeta", bn.bias.grad)
    bn.eval()
    with torch.no_grad():
        save(name + "_out_eval", bn(x))

# ---- ReLU ----------------------------------------------------------------------------
x = randn(3, 50)
x[0, :5] = 0.0  # exact zeros: ReLU's gradient is 0 there
x.requires_grad_()
y = torch.relu(x)
dout = randn(*y.shape)
y.backward(dout)
save("relu_in", x)
save("relu_out", y)
save("relu_dout", dout)
save("relu_din", x.grad)

# ---- Linear --------------------------------------------------------------------------
N, I, O = 4, 7, 5
x = randn(N, I).requires_grad_()
lin = torch.nn.Linear(I, O)
y = lin(x)
dout = randn(N, O)
y.backward(dout)
save("linear_meta", (N, I, O), np.int32)
save("linear_in", x)
save("linear_weight", lin.weight)
save("linear_bias", lin.bias)
save("linear_out", y)
save("linear_dout", dout)
save("linear_din", x.grad)
save("linear_dweight", lin.weight.grad)
save("linear_dbias", lin.bias.grad)

# ---- losses --------------------------------------------------------------------------
# Clipped L1 as the published code: mean(|clamp(pred - target, -c, c)|), weighted by scale.
# Differences exactly at +-c (the gradient passes: clamp's mask is inclusive), beyond it
# (0), and exactly 0 (abs's gradient is 0).
clip, scale = 10.0, 1.5
target = randn(200) * 3
pred = target + randn(200) * 6
pred[:4] = target[:4]
target[4:8] = 0.0
pred[4:8] = torch.tensor([10.0, -10.0, 10.5, -12.0])
pred.requires_grad_()
l1 = torch.mean(torch.abs(torch.clamp(pred - target, -clip, clip)))
(scale * l1).backward()
save("l1_meta", (200,), np.int32)
save("l1_pred", pred)
save("l1_target", target)
save("l1_params", (clip, scale))
save("l1_loss", [l1.item()])
save("l1_dpred", pred.grad)

# Rotation loss: mean |z1[:, :dims] - z2[:, :dims]| weighted by scale; some equal pairs.
N, D, dims, scale = 4, 16, 10, 50.0
z1 = randn(N, D)
z2 = randn(N, D)
z2[0, :3] = z1[0, :3]
z1.requires_grad_()
z2.requires_grad_()
rl = torch.mean(torch.abs(z1[:, :dims] - z2[:, :dims]))
(scale * rl).backward()
save_case("rot", (N, D, dims), params=(scale,), z1=z1, z2=z2, loss=[rl.item()], dz1=z1.grad,
          dz2=z2.grad)

# ---- Adam ----------------------------------------------------------------------------
# Several steps of torch.optim.Adam with given gradients; some gradients tiny so that eps
# matters, some zero.
n, steps, lr = 60, 5, 1e-3
p = torch.nn.Parameter(randn(n))
save("adam_meta", (n, steps), np.int32)
save("adam_params", (lr, 0.9, 0.999, 1e-8))
save("adam_param0", p)
opt = torch.optim.Adam([p], lr=lr)
for t in range(steps):
    g = randn(n)
    g[:10] *= 1e-8
    g[10:15] = 0.0
    p.grad = g.clone()
    opt.step()
    st = opt.state[p]
    save("adam_grad%d" % t, g)
    save("adam_param%d" % (t + 1), p)
    save("adam_m%d" % (t + 1), st["exp_avg"])
    save("adam_v%d" % (t + 1), st["exp_avg_sq"])


# ---- rotation ------------------------------------------------------------------------
# Our convention: output (y, x) samples the input at the inverse counter-clockwise (as
# displayed) rotation about (cy, cx), pixel centres at integers. torchvision's centre is in
# coordinates whose origin is the top-left corner of the top-left pixel: +0.5.
def source_points(H, W, deg, cy, cx):
    t = np.deg2rad(deg)
    y, x = np.mgrid[0:H, 0:W].astype(np.float64)
    dy, dx = y - cy, x - cx
    return cy + np.sin(t) * dx + np.cos(t) * dy, cx + np.cos(t) * dx - np.sin(t) * dy


ROT = [  # N, H, W, degrees, cy, cx (None: the image centre), fill
    (2, 16, 16, 30.0, None, None, 0.0),
    (2, 16, 16, 90.0, None, None, 0.0),
    (1, 12, 17, 137.5, None, None, 0.0),
    (2, 15, 15, -45.0, None, None, 0.0),
    (1, 16, 16, 200.0, 6.25, 9.75, 0.0),
    (1, 14, 14, 63.0, None, None, -0.75),
]
save("rot_count", (len(ROT),), np.int32)
for i, (N, H, W, deg, cy, cx, fill) in enumerate(ROT):
    img = randn(N, 1, H, W)
    cy = (H - 1) / 2 if cy is None else cy
    cx = (W - 1) / 2 if cx is None else cx
    center = [cx + 0.5, cy + 0.5]
    # fill: torchvision blends its own way at the border for bilinear; a fill is the same
    # as rotating (img - fill) with zero fill and adding fill back.
    bil = TF.rotate(img - fill, deg, InterpolationMode.BILINEAR, center=center) + fill
    near = TF.rotate(img - fill, deg, InterpolationMode.NEAREST, center=center) + fill
    # nearest is ill-posed where a sampling point is within float rounding of a tie
    sy, sx = source_points(H, W, deg, cy, cx)
    tie = (np.abs(np.abs(sy - np.floor(sy)) - 0.5) < 1e-4) | (
        np.abs(np.abs(sx - np.floor(sx)) - 0.5) < 1e-4)
    # cross-check our formula with an independent bilinear sampler in float64
    ref = np.zeros((N, H, W))
    y0, x0 = np.floor(sy).astype(int), np.floor(sx).astype(int)
    wy, wx = sy - y0, sx - x0
    a = img[:, 0].double().numpy() - fill
    for yy, xx, w in ((y0, x0, (1 - wy) * (1 - wx)), (y0, x0 + 1, (1 - wy) * wx),
                      (y0 + 1, x0, wy * (1 - wx)), (y0 + 1, x0 + 1, wy * wx)):
        ok = (yy >= 0) & (yy < H) & (xx >= 0) & (xx < W)
        ref += np.where(ok, a[:, np.clip(yy, 0, H - 1), np.clip(xx, 0, W - 1)], 0.0) * w
    assert np.abs(ref + fill - bil[:, 0].numpy()).max() < 1e-4, "convention mismatch"
    save("rotate%d_meta" % i, (N, H, W), np.int32)
    save("rotate%d_params" % i, (deg, cy, cx, fill))
    save("rotate%d_in" % i, img[:, 0])
    save("rotate%d_bilinear" % i, bil[:, 0])
    save("rotate%d_nearest" % i, near[:, 0])
    save("rotate%d_tie" % i, tie, np.int32)

# Scaled rotation loss: mean over the first dims features of |z1 - z2| / (std of z1's
# feature over the batch + 1e-6), differentiated through the std too (unlike
# tools/research/train.py's "scalefree", which detached it and so still rewarded
# shrinking); one feature with a tiny spread so that the division matters. Its own
# generator, so that the arrays above do not change.
g = torch.Generator().manual_seed(99)
N, D, dims, scale = 6, 16, 10, 50.0
z1 = torch.randn(N, D, generator=g)
z2 = z1 + 0.3 * torch.randn(N, D, generator=g)
z1[:, 2] = 0.01 * z1[:, 2] + 1.5
z2[1, :4] = z1[1, :4]
z1.requires_grad_()
z2.requires_grad_()
dz = z2[:, :dims] - z1[:, :dims]
spread = z1[:, :dims].std(0)
rl = (dz.abs() / (spread + 1e-6)).mean()
(scale * rl).backward()
save_case("rotw", (N, D, dims), params=(scale,), z1=z1, z2=z2, loss=[rl.item()], dz1=z1.grad,
          dz2=z2.grad)

# The polar model's operations (nn.h: layout copies, pooling, polar sampling, DFT
# magnitudes, standardization), each from PyTorch's own call; gradients by autograd from
# a random upstream gradient `dout`. Their own generator, so the arrays above do not change.
g = torch.Generator().manual_seed(7)


def rand_grad(*shape):
    return torch.randn(*shape, generator=g)


# circular padding along the width, zero along the height: (n, h, w) -> (n, h+2, w+2)
n, h, w = 3, 4, 5
x = torch.randn(1, n, h, w, generator=g).requires_grad_()
y = F.pad(F.pad(x, (1, 1, 0, 0), mode="circular"), (0, 0, 1, 1))
dout = rand_grad(*y.shape)
y.backward(dout)
save_case("padc", (n, h, w), **{"in": x[0]}, out=y[0], dout=dout[0], din=x.grad[0])

# every stride-th row, an odd and an even height
for i, (n, h, w, stride) in enumerate(((2, 7, 3, 2), (3, 8, 4, 2), (1, 6, 2, 3))):
    x = torch.randn(n, h, w, generator=g).requires_grad_()
    y = x[:, ::stride, :]
    dout = rand_grad(*y.shape)
    y.backward(dout)
    save_case("rows%d" % i, (n, h, w, stride), **{"in": x}, out=y, dout=dout, din=x.grad)

# torch.roll along the last axis, shifts negative and beyond the width
x = torch.randn(4, 9, generator=g)
for i, shift in enumerate((3, -2, 20, 0)):
    save("roll%d_meta" % i, (4, 9, shift), np.int32)
    save("roll%d_out" % i, torch.roll(x, shift, -1))
save("roll_in", x)

# mean and max over the last axis, concatenated: (N, C, L) -> (N, 2C)
N, C, L = 3, 5, 96
x = torch.randn(N, C, L, generator=g).requires_grad_()
y = torch.cat([x.mean(-1), x.amax(-1)], 1)
dout = rand_grad(*y.shape)
y.backward(dout)
save_case("meanmax", (N, C, L), **{"in": x}, out=y, dout=dout, din=x.grad)

# adaptive average pooling: the model's 96 angles in 12 bins, and uneven bins
for i, (rows, L, bins) in enumerate(((6, 96, 12), (4, 10, 4), (3, 7, 5))):
    x = torch.randn(rows, L, generator=g).requires_grad_()
    y = F.adaptive_avg_pool1d(x[None], bins)[0]
    dout = rand_grad(*y.shape)
    y.backward(dout)
    save_case("apool%d" % i, (rows, L, bins), **{"in": x}, out=y, dout=dout, din=x.grad)

# polar sampling: grid_sample (bilinear, zero padding, align_corners=True) of (N, H, W)
# images at nr radii r0..r1 x nt angles about (cy, cx), y = cy + r sin, x = cx + r cos
for i, (N, H, W, nr, nt, r0, r1, cy, cx) in enumerate(((2, 16, 16, 8, 24, 1.0, 7.0, 7.5, 7.5),
                                                       (1, 12, 15, 5, 10, 0.5, 8.0, 5.0, 6.5))):
    img = torch.randn(N, 1, H, W, generator=g, dtype=torch.float64)
    r = torch.linspace(r0, r1, nr, dtype=torch.float64)[:, None]
    th = 2 * np.pi * torch.arange(nt, dtype=torch.float64)[None, :] / nt
    gy, gx = cy + r * torch.sin(th), cx + r * torch.cos(th)
    grid = torch.stack([2 * gx / (W - 1) - 1, 2 * gy / (H - 1) - 1], -1)[None].expand(N, -1, -1, -1)
    out = F.grid_sample(img, grid, mode="bilinear", padding_mode="zeros", align_corners=True)
    save_case("psample%d" % i, (N, H, W, nr, nt), params=(r0, r1, cy, cx), **{"in": img[:, 0]},
              out=out[:, 0])

# |rfft| of rows, the first orders, / n (in double from the float32 input)
rows, n, orders = 5, 96, 7
x = torch.randn(rows, n, generator=g)
save_case("dft", (rows, n, orders), **{"in": x},
          out=torch.fft.rfft(x.double()).abs()[:, :orders] / n)

# per-column standardization (x - mean) / (std + eps)
rows, cols, eps = 4, 7, 1e-6
x = torch.randn(rows, cols, generator=g)
mean = torch.randn(cols, generator=g)
std = torch.rand(cols, generator=g) + 0.1
save_case("stdz", (rows, cols), params=(eps,), **{"in": x}, mean=mean, std=std,
          out=(x.double() - mean.double()) / (std.double() + eps))

# mean and power mean of order P over the last axis: (N, C, L) -> (N, 2C), the power mean
# (mean max(x, 0)^P)^(1/P), computed in double from the float32 input; row (0, 0) has no
# positive element, where PyTorch's gradient is NaN and lcae's 0 (lcae/nn.h).
gp = torch.Generator().manual_seed(11)
for P in (4, 3):
    N, C, L = 3, 5, 96
    x = torch.randn(N, C, L, generator=gp)
    x[0, 0] = -x[0, 0].abs()
    xd = x.double().requires_grad_()
    y = torch.cat([xd.mean(-1), xd.clamp(min=0).pow(P).mean(-1).pow(1.0 / P)], 1)
    dout = torch.randn(*y.shape, generator=gp)
    y.backward(dout.double())
    save_case("pmean%d" % P, (N, C, L, P), **{"in": x}, out=y,
              dout=dout, din=torch.nan_to_num(xd.grad, nan=0.0))

print("wrote %d arrays, %d bytes of data, to %s" % (len(written), sum(written), OUT))
