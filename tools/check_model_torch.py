#!/usr/bin/env python3
"""Checks that a model lcae wrote is a PyTorch model: loads MODEL.safetensors into the
published ConvAutoencoder with load_state_dict(strict=True), prepares SCAN.npy as the
model's metadata says (centre crop, sum-binning, offset, transform (lcae.transform),
(x - lcae.median) / lcae.scale, inscribed-disk mask; models trained centred on the beam
are refused here), encodes it in evaluation mode and compares with lcae's LATENT.npy
(max error <= 1e-4 of the largest latent value). Exit 0 if they agree.

Usage: /usr/bin/python3 tools/check_model_torch.py MODEL.safetensors SCAN.npy LATENT.npy
Run by tests/cli_model_torch.sh (skipped, exit 77, where torch is not installed)."""
import json
import os
import struct
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from make_model_fixture import ConvAutoencoder, disk_mask  # noqa: E402


def main():
    model_path, scan_path, latent_path = sys.argv[1:4]
    with open(model_path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
        data = f.read()
    meta = header.pop("__metadata__")
    state = {}
    for k, v in header.items():
        dt = {"F32": np.float32, "I64": np.int64}[v["dtype"]]
        b, e = v["data_offsets"]
        state[k] = torch.from_numpy(np.frombuffer(data[b:e], dtype=dt).reshape(v["shape"]).copy())
    size, base = int(meta["lcae.input_size"]), state["enc.0.conv.weight"].shape[0]
    model = ConvAutoencoder(base=base, size=size, latent_ch=state["enc.8.conv.weight"].shape[0],
                            latent=state["enc.12.weight"].shape[0])
    model.load_state_dict(state, strict=True)
    model.eval()
    scan = np.load(scan_path)
    ny, nx, h, w = scan.shape
    crop, b = int(meta["lcae.crop"]) or h, int(meta["lcae.bin"])
    oy, ox = (h - crop) // 2, (w - crop) // 2
    x = scan[:, :, oy:oy + crop, ox:ox + crop].astype(np.float64)
    if meta.get("lcae.center", "none") != "none":
        sys.exit("the model was trained centred on the beam: this check takes uncentred ones")
    x = x.reshape(ny * nx, size, b, size, b).sum(axis=(2, 4)).astype(np.float32)
    x -= np.float32(float(meta.get("lcae.offset", 0)) * b * b)
    transform = meta.get("lcae.transform", "none")
    if transform == "sqrt":
        x = np.sqrt(np.maximum(x, 0))
    elif transform == "log":
        x = np.log1p(np.maximum(x, 0))
    scale = float(meta.get("lcae.scale", meta.get("lcae.sigma68")))
    x = (x - np.float32(float(meta["lcae.median"]))) * np.float32(1 / scale)
    if meta["lcae.mask"] == "disk":
        x = x * disk_mask(size).astype(np.float32)
    with torch.no_grad():
        z = model.enc(torch.from_numpy(x[:, None].astype(np.float32))).numpy()
    ours = np.load(latent_path)
    err = np.abs(ours - z).max() / max(np.abs(z).max(), 1e-30)
    print("load_state_dict(strict=True): ok; latents: max error / scale %.3g" % err)
    sys.exit(0 if ours.shape == z.shape and err <= 1e-4 else 1)


if __name__ == "__main__":
    main()
