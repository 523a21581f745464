#!/usr/bin/python3
"""Writes tests/fixtures/stats/: a small raw float32 scan and what numpy says its
statistics are (lcae stats / lcae info are checked against these by tests/test_stats.c).

scan_5x6_16x12.raw   5 x 6 scan of 16 x 12 float32 little-endian patterns, no header:
                     heavy-tailed positive values, negative noise, and ties (a run of
                     equal values, zeros)
sum.npy, variance.npy   (5, 6) float32: per-pattern sum and population variance (ddof=0)
mean_pattern.npy        (16, 12) float32: mean over the scan
quantiles.npy           float64 [median, sigma68, p16, p84, min, max]; percentiles are
                        np.percentile's default (method="linear") over all pixels
"""
import os
import numpy as np

here = os.path.dirname(os.path.abspath(__file__))
out = os.path.join(here, "..", "tests", "fixtures", "stats")
os.makedirs(out, exist_ok=True)

rng = np.random.default_rng(20261125)
ny, nx, h, w = 5, 6, 16, 12
x = rng.lognormal(mean=3.0, sigma=1.5, size=(ny, nx, h, w)) + rng.normal(0, 8, (ny, nx, h, w))
x[1, 2, :4, :] = 7.25          # ties
x[3, :, 0, 0] = 0.0
x[0, 0, 8, 6] = 2.5e6           # a hot pixel
x = x.astype("<f4")
x.tofile(os.path.join(out, "scan_5x6_16x12.raw"))

d = x.astype(np.float64)
np.save(os.path.join(out, "sum.npy"), d.sum(axis=(2, 3)).astype(np.float32))
np.save(os.path.join(out, "variance.npy"), d.var(axis=(2, 3)).astype(np.float32))
np.save(os.path.join(out, "mean_pattern.npy"), d.mean(axis=(0, 1)).astype(np.float32))
p16, med, p84 = np.percentile(d.ravel(), [16, 50, 84])
np.save(os.path.join(out, "quantiles.npy"),
        np.array([med, (p84 - p16) / 2, p16, p84, d.min(), d.max()], dtype=np.float64))
