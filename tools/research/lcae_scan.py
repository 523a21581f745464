"""Prepared patterns (n, h, w) -> an lcae npy scan (ny, nx, h, w) float32, optionally blurred, so
that lcae's own model trains on exactly these inputs:
  lcae train SCAN.npy --bin 1 --transform none --center none ...
(lcae normalizes them again by their median and sigma68: about the identity for patterns that
prep.py or prep_lcae.py normalized). --sigma S: a Gaussian blur of S pixels (scipy's
gaussian_filter, edges 'nearest') of each prepared (log) pattern.
usage: lcae_scan.py PREP.npy SCAN.npy [--sigma S]   (the scan is square: ny = nx = sqrt(n))"""
import sys, numpy as np
from scipy import ndimage
src, dst = sys.argv[1:3]
sigma = float(sys.argv[sys.argv.index('--sigma') + 1]) if '--sigma' in sys.argv else 0.0
X = np.load(src, mmap_mode='r'); n = X.shape[0]; ny = int(round(n ** 0.5))
assert ny * ny == n, n
out = np.empty(X.shape, np.float32)
for i in range(n):
    out[i] = ndimage.gaussian_filter(X[i].astype(np.float64), sigma, mode='nearest') if sigma > 0 else X[i]
np.save(dst, out.reshape(ny, ny, *X.shape[1:]))
