#!/usr/bin/python3
"""The filled map (lcae_fill_map, include/lcae/cluster.h) written independently with
numpy/scipy, for tests/test_cluster_fill.c's fixtures and tests/cli_cluster.sh.

Core positions: scipy.ndimage.binary_erosion of each cluster's mask by the disk
dy^2 + dx^2 <= r^2 with border_value=1 (the disk is cut at the scan's edge); regions:
the 4-connected pieces (scipy.ndimage.label's default structure) of a cluster that hold a
core position; then rounds over the whole map, each unlabelled position with a labelled
8-neighbour taking the most frequent of their labels (ties: the smallest), from the map as
it was at the round's start. No region: the labels unchanged.

Usage: /usr/bin/python3 tools/fill_reference.py LABELS.npy NY NX RADIUS OUT.npy
"""
import sys

import numpy as np
from scipy import ndimage


def fill(labels, radius):
    """labels: (ny, nx) int, -1 noise. Returns (filled, regions)."""
    lab = np.asarray(labels)
    r = np.arange(-radius, radius + 1)
    disk = (r[:, None] ** 2 + r[None, :] ** 2) <= radius * radius
    out = np.full(lab.shape, -1, dtype=np.int32)
    regions = 0
    for c in np.unique(lab[lab >= 0]):
        mask = lab == c
        core = ndimage.binary_erosion(mask, structure=disk, border_value=1)
        pieces, _ = ndimage.label(mask)
        keep = np.unique(pieces[core & mask])
        keep = keep[keep > 0]
        regions += len(keep)
        out[np.isin(pieces, keep)] = c
    if regions == 0:
        return lab.astype(np.int32), 0
    ny, nx = lab.shape
    while (out < 0).any():
        padded = np.pad(out, 1, constant_values=-1)
        new = out.copy()
        for y, x in np.argwhere(out < 0):
            around = np.delete(padded[y:y + 3, x:x + 3].ravel(), 4)
            around = around[around >= 0]
            if around.size:
                values, counts = np.unique(around, return_counts=True)  # sorted: ties -> smallest
                new[y, x] = values[np.argmax(counts)]
        out = new
    return out, regions


if __name__ == "__main__":
    labels = np.load(sys.argv[1]).reshape(int(sys.argv[2]), int(sys.argv[3]))
    filled, _ = fill(labels, int(sys.argv[4]))
    np.save(sys.argv[5], filled.reshape(-1).astype(np.int32))
