#!/usr/bin/python3
"""The direct beam's true position at every scan position of a scan lcae simulate wrote:
DIR/beam_truth.npy, (ny, nx, 2) float32 (y, x) detector pixels, from the descan drift
formula of src/sim/layout.c (sim_layout_position) and the settings in DIR/truth.json.
Used by bench/features_ari.sh to measure beam-centred features until lcae finds the beam
itself. Usage: sim_beam_map.py DIR
"""
import json
import os
import sys

import numpy as np

d = sys.argv[1]
t = json.load(open(os.path.join(d, "truth.json")))
ny, nx = t["scan"]
det = t["detector"][0]
D = t["detector_model"]["drift_px"]
py, px = np.meshgrid(np.arange(ny, dtype=np.float64), np.arange(nx, dtype=np.float64),
                     indexing="ij")
u = px / (nx - 1) if nx > 1 else np.full_like(px, 0.5)
v = py / (ny - 1) if ny > 1 else np.full_like(py, 0.5)
c0 = (det - 1) / 2.0
cx = c0 + D * (0.8 * (u - 0.5) + 0.2 * (v - 0.5))
cy = c0 + D * (0.6 * (v - 0.5) + 0.2 * np.sin(np.pi * u) - 0.1)
np.save(os.path.join(d, "beam_truth.npy"), np.stack([cy, cx], axis=-1).astype(np.float32))
