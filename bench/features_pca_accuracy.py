#!/usr/bin/python3
"""How close lcae's randomized PCA (lcae features --method pca) is to the exact one: numpy's
eigendecomposition of the full covariance of the same prepared patterns (docs/features.md).

Usage: features_pca_accuracy.py SCAN.raw NY NX BIN FEATURES.npy
  SCAN.raw      the EMPAD scan lcae read (128 x 130 float32 frames)
  FEATURES.npy  lcae's output (its .json beside it gives the preparation), log transform
Prints, per component, the relative error of lcae's explained variance and the
correlation of its scores with the exact ones, and the share of the exact top-D variance
that lcae's D axes capture. Needs n x (128 / BIN)^2 doubles in memory (2 GB for 16,384
patterns at bin 2).
"""
import json
import sys

import numpy as np

path, ny, nx, B, feat = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
n, S = ny * nx, 128 // int(sys.argv[4])
js = json.load(open(feat[:-4] + ".json"))
med, sc = js["prep"]["median"], js["prep"]["scale"]
raw = np.memmap(path, dtype="<f4", mode="r").reshape(n, 130, 128)
x = np.empty((n, S * S))
for i in range(0, n, 1024):
    b = np.asarray(raw[i:i + 1024, :128]).reshape(-1, S, B, S, B).sum(axis=(2, 4), dtype=np.float32)
    t = np.log1p(np.maximum(b, 0)).astype(np.float32)
    x[i:i + 1024] = ((t - np.float32(med)) * np.float32(1 / sc)).reshape(len(b), -1)
xc = x - x.mean(0)
w, V = np.linalg.eigh(xc.T @ xc / (n - 1))
w, V = w[::-1], V[:, ::-1]
D = js["dims"]
s = np.load(feat).astype(np.float64)
se = xc @ V[:, :D]
print("component  exact ratio  lcae ratio  explained variance rel. error  |corr(scores)|")
for j in range(D):
    print(f"{j:9d}  {w[j] / w.sum():11.5f}  {js['pca']['explained_variance_ratio'][j]:10.5f}"
          f"  {1 - js['pca']['explained_variance'][j] / w[j]:29.2e}"
          f"  {abs(np.corrcoef(s[:, j], se[:, j])[0, 1]):14.6f}")
print(f"share of the exact top-{D} variance captured: {(s**2).sum() / (se**2).sum():.6f}")
