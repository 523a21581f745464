#!/usr/bin/python3
"""PyTorch's Conv2d (1.13, CPU) at the shapes that lcae computes with Winograd F(2x2, 3x3)
or F(4x4, 3x3) (3x3, stride 1, 8 or more channels in and out; src/nn/winograd.c; the
test runs each case with the per-layer rule and with either tile size forced).

Writes tests/fixtures/nn/<case>_<tensor>.npy in the layout of make_nn_fixtures.py's
Conv2d cases (meta: N, C, H, W, K, k, stride, pad as int32; in, weight, bias, out, dout,
din, dweight, dbias as float32); tests/test_nn_layers.c reads them. Separate from
make_nn_fixtures.py because it needs torch only. Run from the repository root:
    /usr/bin/python3 tools/make_winograd_fixture.py
"""
import os

import numpy as np
import torch

OUT = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "tests",
                   "fixtures", "nn")
torch.manual_seed(4321)
torch.set_num_threads(1)

CASES = {
    "conv_wino": (2, 16, 9, 10, 12, 3, 1, 1),    # odd height: a tile row half outside
    "conv_wino_pad0": (1, 8, 7, 6, 8, 3, 1, 0),  # padding 0
    "conv_wino_deep": (2, 64, 8, 8, 64, 3, 1, 1),  # the base-16 model's deep layers
    "conv_wino4": (1, 16, 33, 32, 12, 3, 1, 1),  # F(4x4) by the rule; 33: a partial tile
}


def save(name, t, dtype=np.float32):
    a = t.detach().numpy() if isinstance(t, torch.Tensor) else np.asarray(t)
    np.save(os.path.join(OUT, name + ".npy"), np.ascontiguousarray(a.astype(dtype)))


for name, meta in CASES.items():
    N, C, H, W, K, k, s, p = meta
    x = torch.randn(N, C, H, W, dtype=torch.float32).requires_grad_()
    conv = torch.nn.Conv2d(C, K, k, stride=s, padding=p)
    y = conv(x)
    dout = torch.randn(*y.shape, dtype=torch.float32)
    y.backward(dout)
    save(name + "_meta", meta, np.int32)
    for suffix, t in (("in", x), ("weight", conv.weight), ("bias", conv.bias), ("out", y),
                      ("dout", dout), ("din", x.grad), ("dweight", conv.weight.grad),
                      ("dbias", conv.bias.grad)):
        save(name + "_" + suffix, t)
print("wrote %d cases to %s" % (len(CASES), OUT))
