#!/usr/bin/python3
"""Writes tests/fixtures/prep/: raw patterns, beam positions and what include/lcae/prep.h
says they become, computed here with numpy and scipy (independently of lcae):
centring by bilinear resampling with the edge repeated (scipy.ndimage.map_coordinates,
order 1, mode "nearest"), centre crop, sum-binning, offset, transform, normalization.
Run: /usr/bin/python3 tools/make_prep_fixture.py"""
import json
import os

import numpy as np
from scipy import ndimage

out = os.path.join(os.path.dirname(__file__), "..", "tests", "fixtures", "prep")
os.makedirs(out, exist_ok=True)
rng = np.random.default_rng(7)
n, h, w = 3, 20, 20
# sparse counts with a bright spot: zeros, small counts, a few large values
raw = rng.poisson(0.7, size=(n, h, w)).astype(np.float32)
raw[:, 8:11, 9:12] += 500
raw[1, 2, 3] = 4000
beam = np.array([[9.5, 10.25], [8.2, 11.7], [10.9, 8.6]], dtype=np.float32)
np.save(os.path.join(out, "raw.npy"), raw)
np.save(os.path.join(out, "beam.npy"), beam)


def prepare(p, centre):
    crop, b = p["crop"], p["bin"]
    side = crop or h
    oy, ox = (h - side) // 2, (w - side) // 2
    res = []
    for i in range(n):
        img = raw[i].astype(np.float64)
        yy, xx = np.mgrid[0:side, 0:side].astype(np.float64)
        yy += oy
        xx += ox
        if centre:
            yy += beam[i, 0] - (h - 1) / 2
            xx += beam[i, 1] - (w - 1) / 2
        win = ndimage.map_coordinates(img, [yy, xx], order=1, mode="nearest")
        s = side // b
        v = win.reshape(s, b, s, b).sum(axis=(1, 3)) - p["offset"] * b * b
        if p["transform"] == "sqrt":
            v = np.sqrt(np.maximum(v, 0))
        elif p["transform"] == "log":
            v = np.log1p(np.maximum(v, 0))
        res.append((v - p["median"]) / p["scale"])
    return np.array(res, dtype=np.float32)


cases = [
    dict(crop=0, bin=1, transform="none", offset=0.0, median=0.0, scale=1.0, center=False),
    dict(crop=16, bin=2, transform="log", offset=0.25, median=0.5, scale=2.0, center=True),
    dict(crop=18, bin=3, transform="sqrt", offset=0.0, median=1.0, scale=0.5, center=True),
    dict(crop=0, bin=4, transform="log", offset=0.0, median=0.0, scale=1.0, center=False),
]
for k, c in enumerate(cases):
    np.save(os.path.join(out, f"case{k}.npy"), prepare(c, c["center"]))
with open(os.path.join(out, "cases.json"), "w") as f:
    json.dump(cases, f, indent=1)
