#!/usr/bin/env python3
"""Reference values for tests/test_model_torch.c, from PyTorch (the independent peer).

Builds the published ConvAutoencoder (same module structure and state_dict names) at a
small size (base 4, 32 x 32 input, latent channels 4, latent 16), fixes its weights
(PyTorch's own default initialization, seed 0, rounded to float32) and a batch of 4
inputs, and computes in float64 (so that the reference carries no float32 rounding of
its own):
  - one training step of lcae's loss (METHOD.md) at angle PSI1: every layer's output of
    both passes, the three loss terms, every parameter gradient;
  - the weights and BatchNorm running statistics after one and after two Adam steps
    (lr 1e-4; the second at angle PSI2);
  - the loss terms with --mask none (zero fill, no mask);
  - evaluation-mode latents of the trained model on a small scan (2 x 3 positions of
    68 x 72 detector pixels, centre crop 64, bin 2), through lcae's normalization.
The rotation is bilinear about the frame centre ((H-1)/2, (W-1)/2), counter-clockwise as
displayed, each neighbour outside the frame counting as 0: the convention of
lcae_rotate_bilinear in include/lcae/nn.h, computed here independently in numpy.

Writes tests/fixtures/model/: weights.safetensors (the initial state_dict, PyTorch
layout, as a PyTorch user would save it), expected.safetensors (everything above; loss
values as metadata strings), trained.safetensors (the state_dict after two steps with
lcae's metadata), scan.npy (the scan, float32 (2, 3, 68, 72)).

Usage: /usr/bin/python3 tools/make_model_fixture.py [OUT_DIR]
Also: --check-keys verifies the layer table against ../shared/reference-state-dict-keys.txt.
"""
import json
import os
import struct
import sys

import numpy as np
import torch
import torch.nn as nn

BASE, SIZE, LATENT_CH, LATENT, BATCH = 4, 32, 4, 16, 4
PSI1, PSI2 = 37.5, 211.0
LR, LAMBDA, NDIMS, CLIP = 1e-4, 50.0, 10, 10.0


class ConvBlock(nn.Module):
    def __init__(self, cin, cout, k=3, s=1, p=1):
        super().__init__()
        self.conv = nn.Conv2d(cin, cout, k, s, p)
        self.norm = nn.BatchNorm2d(cout)
        self.act = nn.ReLU()

    def forward(self, x):
        return self.act(self.norm(self.conv(x)))


class DeconvBlock(nn.Module):
    def __init__(self, cin, cout):
        super().__init__()
        self.deconv = nn.ConvTranspose2d(cin, cout, 4, 2, 1)
        self.norm = nn.BatchNorm2d(cout)
        self.act = nn.ReLU()

    def forward(self, x):
        return self.act(self.norm(self.deconv(x)))


class ConvAutoencoder(nn.Module):
    """The published model (METHOD.md), widths scaled by base."""

    def __init__(self, in_channels=1, base=64, latent_ch=4, size=128, latent=16):
        super().__init__()
        b, s = base, size // 16
        flat = latent_ch * s * s
        self.enc = nn.Sequential(
            ConvBlock(in_channels, b), ConvBlock(b, b),
            ConvBlock(b, 2 * b, 4, 2, 1), ConvBlock(2 * b, 2 * b),
            ConvBlock(2 * b, 4 * b, 4, 2, 1), ConvBlock(4 * b, 4 * b),
            ConvBlock(4 * b, 8 * b, 4, 2, 1), ConvBlock(8 * b, 8 * b),
            ConvBlock(8 * b, latent_ch, 4, 2, 1),
            nn.Flatten(), nn.Linear(flat, 1024), nn.ReLU(), nn.Linear(1024, latent))
        self.dec = nn.Sequential(
            nn.Linear(latent, 1024), nn.ReLU(), nn.Linear(1024, flat), nn.ReLU(),
            nn.Unflatten(1, (latent_ch, s, s)),
            DeconvBlock(latent_ch, 8 * b), ConvBlock(8 * b, 8 * b),
            DeconvBlock(8 * b, 4 * b), ConvBlock(4 * b, 4 * b),
            DeconvBlock(4 * b, 2 * b), ConvBlock(2 * b, 2 * b),
            DeconvBlock(2 * b, b), ConvBlock(b, b),
            nn.Conv2d(b, 1, 3, 1, 1))

    def forward(self, x):
        z = self.enc(x)
        return z, self.dec(z)


# lcae's layer names; a Linear followed by ReLU is compared after the ReLU (lcae applies
# it in place), i.e. with the output of the next module.
LAYERS = ["enc.%d" % i for i in range(9)] + ["enc.10", "enc.12", "dec.0", "dec.2"] + \
         ["dec.%d" % i for i in range(5, 14)]
AFTER_RELU = {"enc.10": "enc.11", "dec.0": "dec.1", "dec.2": "dec.3"}


def st_write(path, tensors, meta):
    """safetensors writer (the format, written out here: no safetensors package)."""
    header, blobs, off = {}, [], 0
    if meta:
        header["__metadata__"] = {k: str(v) for k, v in meta.items()}
    for name, arr in tensors.items():
        arr = np.asarray(arr).copy(order="C")  # (ascontiguousarray would make 0-d 1-d)
        dt = {np.float32: "F32", np.int64: "I64"}[arr.dtype.type]
        b = arr.astype(arr.dtype.newbyteorder("<")).tobytes()
        header[name] = {"dtype": dt, "shape": list(arr.shape), "data_offsets": [off, off + len(b)]}
        blobs.append(b)
        off += len(b)
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * (-len(h) % 8)
    with open(path + ".tmp", "wb") as f:
        f.write(struct.pack("<Q", len(h)) + h + b"".join(blobs))
    os.replace(path + ".tmp", path)


def state_arrays(model):
    out = {}
    for k, v in model.state_dict().items():
        a = v.detach().cpu().numpy()
        out[k] = a.astype(np.int64) if a.dtype == np.int64 else a.astype(np.float32)
    return out


def rotate_bilinear(x, degrees):
    """x (N, H, W) float64 -> rotated, lcae's convention (see module doc)."""
    n, h, w = x.shape
    cy, cx = (h - 1) / 2, (w - 1) / 2
    t = np.deg2rad(degrees)
    c, s = np.cos(t), np.sin(t)
    yy, xx = np.meshgrid(np.arange(h, dtype=np.float64), np.arange(w, dtype=np.float64),
                         indexing="ij")
    dy, dx = yy - cy, xx - cx
    sx, sy = cx + c * dx - s * dy, cy + s * dx + c * dy
    y0, x0 = np.floor(sy).astype(int), np.floor(sx).astype(int)
    wy, wx = sy - y0, sx - x0
    out = np.zeros_like(x)
    for oy, ox, wgt in ((0, 0, (1 - wy) * (1 - wx)), (0, 1, (1 - wy) * wx),
                        (1, 0, wy * (1 - wx)), (1, 1, wy * wx)):
        yi, xi = y0 + oy, x0 + ox
        ok = (yi >= 0) & (yi < h) & (xi >= 0) & (xi < w)
        v = np.zeros_like(x)
        v[:, ok] = x[:, yi[ok], xi[ok]]
        out += wgt * v
    return out


def disk_mask(h):
    c = (h - 1) / 2
    yy, xx = np.meshgrid(np.arange(h), np.arange(h), indexing="ij")
    return ((yy - c) ** 2 + (xx - c) ** 2 <= c * c).astype(np.float64)


def forward_capture(model, x):
    acts = {}
    hooks = []
    for name in LAYERS:
        mod = model.get_submodule(AFTER_RELU.get(name, name))
        hooks.append(mod.register_forward_hook(
            lambda m, i, o, name=name: acts.__setitem__(name, o.detach().clone())))
    z, y = model(x)
    for hk in hooks:
        hk.remove()
    return z, y, acts


def losses(model, x, psi, mask):
    """lcae's loss (METHOD.md): both passes, recon inside the mask, L_rot over NDIMS."""
    m = torch.from_numpy(mask)
    inside = mask.sum() * x.shape[0]
    x1 = x * m
    xr = torch.from_numpy(rotate_bilinear(x[:, 0].numpy(), psi))[:, None] * m
    z1, y1, a1 = forward_capture(model, x1)
    z2, y2, a2 = forward_capture(model, xr)
    rec1 = ((y1 - x1).clamp(-CLIP, CLIP).abs() * m).sum() / inside
    rec2 = ((y2 - xr).clamp(-CLIP, CLIP).abs() * m).sum() / inside
    rot = (z1[:, :NDIMS] - z2[:, :NDIMS]).abs().mean()
    total = rec1 + rec2 + LAMBDA * rot
    return total, rec1, rec2, rot, a1, a2


def check_keys(shared):
    model = ConvAutoencoder(base=64, size=128)
    ours = ["%s %s" % (k, tuple(v.shape)) for k, v in model.state_dict().items()]
    ref = [l.strip() for l in open(os.path.join(shared, "reference-state-dict-keys.txt"))
           if l.strip() and not l.startswith("#")]
    assert ours == ref, "state_dict differs from reference-state-dict-keys.txt"
    print("state_dict keys and shapes match the reference (%d entries)" % len(ref))


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    if "--check-keys" in sys.argv:
        check_keys(os.path.join(here, "..", "..", "shared"))
        return
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(here, "..", "tests", "fixtures", "model")
    os.makedirs(out, exist_ok=True)
    torch.manual_seed(0)
    model = ConvAutoencoder(base=BASE, size=SIZE, latent_ch=LATENT_CH, latent=LATENT)
    with torch.no_grad():  # the C side holds float32 weights: start from exactly those
        for p in model.parameters():
            p.copy_(p.float())
    model = model.double()
    st_write(os.path.join(out, "weights.safetensors"), state_arrays(model), {})

    rng = np.random.default_rng(1)
    # pattern-like inputs: a bright centre, rings, noise (normalized units)
    yy, xx = np.meshgrid(np.arange(SIZE), np.arange(SIZE), indexing="ij")
    r = np.hypot(yy - (SIZE - 1) / 2, xx - (SIZE - 1) / 2)
    x = np.stack([4 * np.exp(-r ** 2 / 8) + np.cos(r * (0.8 + 0.2 * i)) +
                  0.5 * rng.standard_normal((SIZE, SIZE)) for i in range(BATCH)])
    x = x.astype(np.float32).astype(np.float64)[:, None]
    mask = disk_mask(SIZE)
    exp, meta = {"input": x.astype(np.float32)}, {}
    exp["input_rot_unmasked"] = rotate_bilinear(x[:, 0], PSI1)[:, None].astype(np.float32)

    xt = torch.from_numpy(x)
    model.train()
    total, r1, r2, rot, a1, a2 = losses(model, xt, PSI1, mask)
    total.backward()
    for k, v in a1.items():
        exp["act0." + k] = v.numpy().astype(np.float32)
    for k, v in a2.items():
        exp["act1." + k] = v.numpy().astype(np.float32)
    for k, p in model.named_parameters():
        exp["grad." + k] = p.grad.numpy().astype(np.float32)
    meta.update({"loss.total": repr(total.item()), "loss.recon": repr(r1.item()),
                 "loss.recon_rot": repr(r2.item()), "loss.rot": repr(rot.item()),
                 "psi1": repr(PSI1), "psi2": repr(PSI2), "lr": repr(LR),
                 "lambda": repr(LAMBDA), "invariant_dims": str(NDIMS)})
    opt = torch.optim.Adam(model.parameters(), lr=LR)
    opt.step()
    for k, v in state_arrays(model).items():
        exp["step1." + k] = v
    opt.zero_grad()
    total, *_ = losses(model, xt, PSI2, mask)
    total.backward()
    opt.step()
    for k, v in state_arrays(model).items():
        exp["step2." + k] = v

    # --mask none from the initial weights: zero fill, no mask, loss over every pixel
    m0 = ConvAutoencoder(base=BASE, size=SIZE, latent_ch=LATENT_CH, latent=LATENT).double()
    m0.load_state_dict({k: torch.from_numpy(v) for k, v in
                        st_read_state(os.path.join(out, "weights.safetensors")).items()})
    m0.train()
    total, r1, r2, rot, _, _ = losses(m0, xt, PSI1, np.ones((SIZE, SIZE)))
    meta.update({"none.loss.total": repr(total.item()), "none.loss.recon": repr(r1.item()),
                 "none.loss.recon_rot": repr(r2.item()), "none.loss.rot": repr(rot.item())})

    # evaluation: a 2 x 3 scan of 68 x 72 patterns, centre crop 64, bin 2 -> 32 x 32
    raw = (1000 + 300 * rng.standard_normal((2, 3, 68, 72))).astype(np.float32)
    raw[..., 20:48, 22:50] += 5000 * np.exp(-((np.arange(28) - 13.5) ** 2) / 30)[None, None, :, None]
    np.save(os.path.join(out, "scan.npy"), raw)
    crop = raw[..., 2:66, 4:68].astype(np.float64)
    binned = crop.reshape(2, 3, 32, 2, 32, 2).sum(axis=(3, 5)).astype(np.float32)
    median = float(np.median(binned))
    sigma68 = float((np.percentile(binned, 84) - np.percentile(binned, 16)) / 2)
    # lcae normalizes in float32 as (v - median) * (1 / sigma68)
    xin = ((binned - np.float32(median)) * np.float32(1.0 / sigma68)).astype(np.float64)
    xin = xin.reshape(6, 1, 32, 32) * mask
    model.eval()
    with torch.no_grad():
        z, _ = model(torch.from_numpy(xin))
    exp["latent"] = z.numpy().astype(np.float32)
    st_write(os.path.join(out, "trained.safetensors"), state_arrays(model),
             {"lcae.median": repr(median), "lcae.sigma68": repr(sigma68),
              "lcae.input_size": "32", "lcae.bin": "2", "lcae.crop": "64", "lcae.mask": "disk",
              "lcae.invariant_dims": str(NDIMS), "lcae.lambda": repr(LAMBDA),
              "lcae.rot_loss": "1", "lcae.seed": "0", "lcae.version": "torch-fixture"})
    st_write(os.path.join(out, "expected.safetensors"), exp, meta)
    print("wrote", out, {k: meta[k] for k in meta if k.startswith("loss")})


def st_read_state(path):
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        h = json.loads(f.read(n))
        data = f.read()
    out = {}
    for k, v in h.items():
        if k == "__metadata__":
            continue
        dt = {"F32": np.float32, "I64": np.int64}[v["dtype"]]
        b, e = v["data_offsets"]
        a = np.frombuffer(data[b:e], dtype=np.dtype(dt).newbyteorder("<")).reshape(v["shape"])
        out[k] = a.astype(np.float64) if dt == np.float32 else a.astype(np.int64)
    return out


if __name__ == "__main__":
    main()
