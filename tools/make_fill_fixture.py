#!/usr/bin/python3
"""Fixtures of tests/test_cluster_fill.c: label maps and their filled maps from
tools/fill_reference.py (numpy/scipy).

map.npy (40 x 56, int32, -1 noise): Voronoi grains of 7 seeds (labels 0-6), the positions
within 1.5 pixels of the bisector of two grains labelled 7 + (pair index mod 3) (three
boundary "clusters", each a set of bands), a stripe 2 pixels wide (label 10) across one
grain, a 6 x 6 block (label 11) in the corner, a diagonal line of label 12, and 12 % of
the positions noise. filled_rR.npy: its filled map for R = 1, 2, 3; regions.npy: the
regions kept for each R; grains_rR.npy: the grain map of filled_rR.npy. thin.npy: bands
only (no region at radius 2): filled = the map; thin_grains.npy its grain map (noise
stays noise).

Usage: /usr/bin/python3 tools/make_fill_fixture.py [OUT_DIR]
"""
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from fill_reference import fill, grains  # noqa: E402

out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..",
                                                          "tests", "fixtures", "fill")
os.makedirs(out, exist_ok=True)
rng = np.random.default_rng(11)
ny, nx = 40, 56
seeds = rng.uniform([0, 0], [ny, nx], (7, 2))
yy, xx = np.mgrid[0:ny, 0:nx]
dist = np.sqrt((yy[..., None] - seeds[:, 0]) ** 2 + (xx[..., None] - seeds[:, 1]) ** 2)
order = np.argsort(dist, axis=-1)
lab = order[..., 0].astype(np.int32)
d0 = np.take_along_axis(dist, order[..., :1], -1)[..., 0]
d1 = np.take_along_axis(dist, order[..., 1:2], -1)[..., 0]
# distance to the bisector of the two nearest seeds: (d1^2 - d0^2) / (2 |s0 - s1|)
sep = np.linalg.norm(seeds[order[..., 0]] - seeds[order[..., 1]], axis=-1)
band = (d1 ** 2 - d0 ** 2) / (2 * sep) < 1.5
pair = np.minimum(order[..., 0], order[..., 1]) * 7 + np.maximum(order[..., 0], order[..., 1])
lab[band] = 7 + pair[band] % 3
lab[20:22, 5:30] = 10
lab[0:6, 50:56] = 11
for k in range(14):
    lab[25 + k, 30 + k] = 12
lab[rng.random((ny, nx)) < 0.12] = -1
np.save(os.path.join(out, "map.npy"), lab.reshape(-1))
regions = []
for r in (1, 2, 3):
    filled, kept = fill(lab, r)
    np.save(os.path.join(out, f"filled_r{r}.npy"), filled.reshape(-1))
    g, count = grains(filled)
    np.save(os.path.join(out, f"grains_r{r}.npy"), g.reshape(-1))
    # at radius 1 the boundary bands are regions, labels in several pieces: the grain map
    # is not the filled map renamed
    assert r > 1 or count > len(np.unique(filled)), (r, count)
    regions.append(kept)
np.save(os.path.join(out, "regions.npy"), np.array(regions, dtype=np.int64))
thin = np.where(band, 7 + pair % 3, -1).astype(np.int32)
filled, kept = fill(thin, 2)
assert kept == 0 and (filled == thin).all()
np.save(os.path.join(out, "thin.npy"), thin.reshape(-1))
np.save(os.path.join(out, "thin_grains.npy"), grains(thin)[0].reshape(-1))
print("regions for radius 1, 2, 3:", regions)
