#!/usr/bin/python3
"""What each cluster of a run is made of: for every cluster (and noise) of SOURCE's
labels in an lcae run directory of the built-in sample, its size, the (class, grain)
pairs it holds most, and how many of its positions are grain interior, boundary and
amorphous in the truth. Shows where a clustering's ARI goes: classes split or merged, or
boundaries in clusters of their own.

Usage: /usr/bin/python3 bench/cluster_composition.py RUN_DIR SOURCE [labels|labels_full]
"""
import collections
import sys

import numpy as np

run, source = sys.argv[1], sys.argv[2]
which = sys.argv[3] if len(sys.argv) > 3 else "labels"
lab = np.load(f"{run}/{source}/{which}.npy").ravel()
truth = {k: np.load(f"{run}/sample/truth_{k}.npy").ravel() for k in ("class", "grain", "region")}
print(f"{run}/{source}/{which}.npy: {lab.max() + 1} clusters, {np.sum(lab < 0)} noise")
print("cluster  size  interior boundary amorphous  most common (class, grain)")
for c in np.unique(lab):
    m = lab == c
    pairs = collections.Counter(zip(truth["class"][m].tolist(), truth["grain"][m].tolist()))
    region = np.bincount(truth["region"][m], minlength=3)
    top = ", ".join(f"({a}, {b}): {n}" for (a, b), n in pairs.most_common(3))
    print(f"{'noise' if c < 0 else c:>7} {m.sum():5d} {region[0]:9d} {region[1]:8d} {region[2]:9d}  {top}")
