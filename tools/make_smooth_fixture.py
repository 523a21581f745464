#!/usr/bin/python3
"""Reference values for tests/test_cluster_smooth.c, from numpy/scipy (the independent peer).

A (7 x 9) scan of 3 features: a piecewise-constant map (two "grains" split down the
middle) plus Gaussian noise, with two rows of NaN (positions (2, 3) and (6, 8)). Written:
  map.npy           (63, 3) float64, scan order (x fastest)
  smooth3.npy       its 3 x 3 window means, windows cut at the scan's edge and rows with
                    NaN left out (scipy.ndimage.uniform_filter of the values and of the
                    finite mask, mode='constant', their ratio); NaN rows stay NaN
  smooth5.npy       the same with 5 x 5 windows
  noise_share.npy   (1,): median over horizontal and vertical neighbour pairs (both rows
                    finite) of |a - b|^2, over 2 x the sum of the features' population
                    variances over the finite rows (numpy's median and var)

Usage: /usr/bin/python3 tools/make_smooth_fixture.py [OUT_DIR]
"""
import os
import sys

import numpy as np
from scipy import ndimage

out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..",
                                                          "tests", "fixtures", "smooth")
os.makedirs(out, exist_ok=True)
rng = np.random.default_rng(7)
ny, nx, d = 7, 9, 3
img = np.where(np.arange(nx)[None, :, None] < 4, 1.0, -2.0) * np.array([1.0, 0.5, 2.0])
img = img + rng.normal(0, 0.3, (ny, nx, d))
img[2, 3] = np.nan
img[6, 8, 1] = np.nan
finite = np.isfinite(img).all(-1)


def smooth(size):
    vals = np.where(finite[..., None], img, 0.0)
    s = ndimage.uniform_filter(vals, size=(size, size, 1), mode="constant") * size * size
    c = ndimage.uniform_filter(finite.astype(float), size=size, mode="constant") * size * size
    return np.where(finite[..., None], s / c[..., None], img)


pairs = []
for a, b in [((slice(None), slice(0, -1)), (slice(None), slice(1, None))),
             ((slice(0, -1), slice(None)), (slice(1, None), slice(None)))]:
    both = finite[a] & finite[b]
    pairs.append((((img[a] - img[b]) ** 2).sum(-1))[both])
sq = np.concatenate(pairs)
share = np.median(sq) / (2 * img[finite].var(0).sum())

np.save(os.path.join(out, "map.npy"), img.reshape(ny * nx, d))
np.save(os.path.join(out, "smooth3.npy"), smooth(3).reshape(ny * nx, d))
np.save(os.path.join(out, "smooth5.npy"), smooth(5).reshape(ny * nx, d))
np.save(os.path.join(out, "noise_share.npy"), np.array([share]))
print(f"noise share {share:.6f}, {len(sq)} pairs")
