#!/usr/bin/python3
"""The peer of bench_features: the same features in numpy and scikit-learn, the usual way
(every prepared pattern, or its polar magnitudes, in memory, then sklearn's PCA with its
default solver: randomized for the 4096-pixel rows, full SVD for the polar rows).

Usage: features_peer.py polar|pca SCAN.raw NY NX [BIN]   (EMPAD, 128 x 130 float32 frames)
Prints: method, seconds (wall, whole script after imports), max RSS MiB.
Preparation as lcae's (include/lcae/prep.h): sum-binning, log(1 + max(v, 0)),
(t - median) / sigma68 over 1024 evenly spaced patterns. Polar: lcae's defaults
(r 3 size/32..size/2-2, orders 0..6, n_theta the multiple of 8 >= 2 pi r1), bilinear by gathered
indices, the azimuthal series by numpy's FFT.
"""
import resource
import sys
import time

import numpy as np
from sklearn.decomposition import PCA

t0 = time.perf_counter()
method, path, ny, nx = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
B = int(sys.argv[5]) if len(sys.argv) > 5 else 2
n = ny * nx
raw = np.memmap(path, dtype="<f4", mode="r").reshape(n, 130, 128)
S = 128 // B


def prepare(i0, i1, med=0.0, inv=1.0):
    x = np.asarray(raw[i0:i1, :128, :], dtype=np.float32)
    x = x.reshape(-1, S, B, S, B).sum(axis=(2, 4), dtype=np.float32)
    x = np.log1p(np.maximum(x, 0))
    return (x - np.float32(med)) * np.float32(inv)


fit = np.stack([prepare(i, i + 1)[0] for i in ((np.arange(1024) + 0.5) * n / 1024).astype(int)])
p16, med, p84 = np.percentile(fit.astype(np.float64), [16, 50, 84])
inv = 2 / (p84 - p16)

if method == "pca":
    X = np.empty((n, S * S), np.float32)
    for i in range(0, n, 1024):
        X[i:i + 1024] = prepare(i, min(i + 1024, n), med, inv).reshape(-1, S * S)
    dims = 16
else:
    r0, r1, K = 3 * S // 32, S // 2 - 2, 6
    nt = int(np.ceil(2 * np.pi * r1 / 8)) * 8
    c = (S - 1) / 2
    t = 2 * np.pi * np.arange(nt) / nt
    r = np.arange(r0, r1 + 1)[:, None]
    y, x = (c + r * np.sin(t)).ravel(), (c + r * np.cos(t)).ravel()
    y0, x0 = np.floor(y).astype(int), np.floor(x).astype(int)
    fy, fx = (y - y0).astype(np.float32), (x - x0).astype(np.float32)
    i00, i01, i10, i11 = y0 * S + x0, y0 * S + x0 + 1, (y0 + 1) * S + x0, (y0 + 1) * S + x0 + 1
    X = np.empty((n, (r1 - r0 + 1) * (K + 1)), np.float32)
    for i in range(0, n, 1024):
        p = prepare(i, min(i + 1024, n), med, inv).reshape(-1, S * S)
        s = ((1 - fy) * ((1 - fx) * p[:, i00] + fx * p[:, i01]) +
             fy * ((1 - fx) * p[:, i10] + fx * p[:, i11])).reshape(len(p), r1 - r0 + 1, nt)
        F = np.fft.rfft(s, axis=-1)[..., :K + 1] / nt
        f = np.abs(F)
        f[..., 0] = F[..., 0].real
        X[i:i + len(p)] = f.reshape(len(p), -1)
    dims = 10
scores = PCA(dims).fit_transform(X)
rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(f"{method} {time.perf_counter() - t0:.2f} {rss:.1f}")
