#!/usr/bin/python3
"""Reference polar magnitudes and PCA from numpy/scipy for tests/test_features.c.

Writes tests/fixtures/features/:
  polar_patterns.npy  (4, 31, 31) float32 prepared patterns (smooth spots, a ring, noise)
  polar_a.npy         (4, 16 * 9) float64: r 0..15 (the outermost ring touches the frame's
                      edge: samples on the last row and column), orders 0..8, 64 angles
  polar_b.npy         (4, 12 * 7) float64: lcae's defaults for 31 x 31 (r 2..13, orders
                      0..6, 88 angles)
  rows.npy            (200, 300) float32: 12 directions with singular values 10 * 0.7^j,
                      noise 0.01, a mean of about 100 (tests the centring)
  rows_pca_*.npy      numpy's PCA of rows.npy, 8 components: scores (200, 8),
                      components (8, 300), ev (explained variance), ratio,
                      gap (relative eigenvalue gap to the nearest neighbour), float64
  small.npy           (300, 40) float32, columns of scales 0.1 to 10
  small_pca_*.npy     its PCA (6 components); small_std_*.npy: the standardized PCA
  scan.npy            (8, 10, 32, 32) uint16 Poisson counts: three "grains" (spots at
                      three orientations), an amorphous ring, a direct beam
  scan_*.npy          lcae's preparation (bin 2, log, median/sigma68 of every pixel) in
                      numpy: scan_norm [median, scale];
                      scan_polar: magnitudes with the defaults (r 1..6, orders 0..6, 40
                      angles); scan_polar_pca_*: their PCA (5 components);
                      scan_pca_*: PCA of the prepared pixels (6 components)
Definitions (include/lcae/features.h): the polar point (y, x) = (c + r sin t, c + r cos t),
c = (size - 1) / 2, t = 2 pi j / n_theta, bilinear (scipy.ndimage.map_coordinates,
order=1); F_k(r) = sum_j I exp(-i k t_j) / n_theta; the features are F_0 (real, signed)
and |F_k| for k >= 1, radius-major. PCA: scores = (x - mean) V, explained variance =
S^2 / (n - 1) (scikit-learn's), ratio over the trace of the covariance; signs are
arbitrary here (the test compares up to sign).
Run: /usr/bin/python3 tools/make_features_fixtures.py (from anywhere).
"""
import os

import numpy as np
from scipy import ndimage

here = os.path.dirname(os.path.abspath(__file__))
out = os.path.join(here, "..", "tests", "fixtures", "features")
os.makedirs(out, exist_ok=True)
rng = np.random.default_rng(20261201)


def polar(img, r0, r1, K, nt):
    size = img.shape[0]
    c = (size - 1) / 2
    t = 2 * np.pi * np.arange(nt) / nt
    r = np.arange(r0, r1 + 1, dtype=np.float64)[:, None]
    y = c + r * np.sin(t)[None, :]
    x = c + r * np.cos(t)[None, :]
    s = ndimage.map_coordinates(img.astype(np.float64), [y.ravel(), x.ravel()], order=1,
                                mode="nearest").reshape(y.shape)
    k = np.arange(K + 1)
    F = s @ np.exp(-1j * np.outer(t, k)) / nt  # (radii, K + 1)
    f = np.abs(F)
    f[:, 0] = F[:, 0].real
    return f.ravel()


def pca(x, dims, standardize=False):
    x = x.astype(np.float64)
    xc = x - x.mean(0)
    if standardize:
        sd = xc.std(0, ddof=1)
        xc = xc / np.where(sd > 0, sd, 1)
    _, S, Vt = np.linalg.svd(xc, full_matrices=False)
    ev = S**2 / (len(x) - 1)
    total = ev.sum()
    # each component's relative gap to its nearest neighbour (the next one included)
    after = ev[:dims] / ev[1:dims + 1] - 1
    before = np.concatenate([[np.inf], ev[:dims - 1] / ev[1:dims] - 1])
    gap = np.minimum(after, before)
    print("  relative eigenvalue gaps", np.round(gap, 3))
    return dict(scores=xc @ Vt[:dims].T, components=Vt[:dims], ev=ev[:dims],
                ratio=ev[:dims] / total, gap=gap)


def save(name, a):
    np.save(os.path.join(out, name + ".npy"), a)


def save_pca(prefix, p):
    for k, v in p.items():
        save(prefix + "_" + k, v)


def spots_pattern(size, angle, rng, noise=0.05):
    c = (size - 1) / 2
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float64)
    img = 3 * np.exp(-((yy - c) ** 2 + (xx - c) ** 2) / (2 * 1.5**2))
    for order, rad, amp in ((6, 0.45, 1.0), (4, 0.75, 0.6)):
        for j in range(order):
            a = angle + 2 * np.pi * j / order
            sy, sx = c + rad * c * np.sin(a), c + rad * c * np.cos(a)
            img += amp * np.exp(-((yy - sy) ** 2 + (xx - sx) ** 2) / (2 * 1.2**2))
    r = np.hypot(yy - c, xx - c)
    img += 0.3 * np.exp(-((r - 0.6 * c) ** 2) / 2)
    return img + noise * rng.standard_normal(img.shape)


# ---- polar on prepared patterns ------------------------------------------------------
pats = np.stack([spots_pattern(31, a, rng) for a in (0.0, 0.3, 1.1, 2.5)]).astype(np.float32)
np.save(os.path.join(out, "polar_patterns.npy"), pats)
np.save(os.path.join(out, "polar_a.npy"), np.stack([polar(p, 0, 15, 8, 64) for p in pats]))
np.save(os.path.join(out, "polar_b.npy"), np.stack([polar(p, 2, 13, 6, 88) for p in pats]))

# ---- PCA of rows with a known spectrum -----------------------------------------------
n, d = 200, 300
V, _ = np.linalg.qr(rng.standard_normal((d, 12)))
A = rng.standard_normal((n, 12)) * (10 * 0.7 ** np.arange(12))
rows = A @ V.T + 0.01 * rng.standard_normal((n, d)) + 100 + np.sin(np.arange(d) / 7)
rows = rows.astype(np.float32)
np.save(os.path.join(out, "rows.npy"), rows)
print("rows.npy")
save_pca("rows_pca", pca(rows, 8))

small = (rng.standard_normal((300, 40)) @ rng.standard_normal((40, 40))) * 10 ** rng.uniform(
    -1, 1, 40) + 3
small = small.astype(np.float32)
np.save(os.path.join(out, "small.npy"), small)
print("small.npy, plain and standardized")
save_pca("small_pca", pca(small, 6))
save_pca("small_std", pca(small, 6, standardize=True))

# ---- a tiny scan, prepared as lcae prepares it ---------------------------------------
ny, nx, det = 8, 10, 32
grain = np.zeros((ny, nx), int)
grain[:, 4:] = 1
grain[5:, 7:] = 2
grain[:3, :3] = 3  # amorphous
angles = [0.2, 0.9, 1.7]
scan = np.zeros((ny, nx, det, det), np.uint16)
yy, xx = np.mgrid[0:det, 0:det].astype(np.float64)
c = (det - 1) / 2
for iy in range(ny):
    for ix in range(nx):
        g = grain[iy, ix]
        if g == 3:
            r = np.hypot(yy - c, xx - c)
            lam = 40 * np.exp(-((r - 9) ** 2) / 4) + 200 * np.exp(-(r**2) / 4) + 2
        else:
            lam = 40 * spots_pattern(det, angles[g] + 0.05 * ix, rng, noise=0) + 2
        scan[iy, ix] = rng.poisson(lam)
np.save(os.path.join(out, "scan.npy"), scan)
raw = scan.reshape(ny * nx, det, det).astype(np.float32)
b = raw.reshape(-1, 16, 2, 16, 2).sum(axis=(2, 4), dtype=np.float32)
t = np.log1p(np.maximum(b, 0)).astype(np.float32)
p16, med, p84 = np.percentile(t.astype(np.float64).ravel(), [16, 50, 84])
scale = (p84 - p16) / 2
prepared = ((t - np.float32(med)) * np.float32(1 / scale)).astype(np.float32)
mags = np.stack([polar(p, 1, 6, 6, 40) for p in prepared])
save("scan_norm", np.array([med, scale]))
save("scan_polar", mags)
print("scan polar")
save_pca("scan_polar_pca", pca(mags, 5))
print("scan pixels")
save_pca("scan_pca", pca(prepared.reshape(len(prepared), -1), 6))
