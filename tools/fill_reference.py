#!/usr/bin/python3
"""The filled map (lcae_fill_map, include/lcae/cluster.h) written independently with
numpy/scipy, for tests/test_cluster_fill.c's fixtures and tests/cli_cluster.sh.

Core positions: scipy.ndimage.binary_erosion of each cluster's mask by the disk
dy^2 + dx^2 <= r^2 with border_value=1 (the disk is cut at the scan's edge); regions:
the 4-connected pieces (scipy.ndimage.label's default structure) of a cluster that hold a
core position; then rounds over the whole map, each unlabelled position with a labelled
8-neighbour taking the most frequent of their labels (ties: the smallest), from the map as
it was at the round's start. No region: the labels unchanged.

The grain map (lcae_grain_map): the filled map's 4-connected pieces of one label, each a
label of its own, numbered by their first positions in scan order.

Usage: /usr/bin/python3 tools/fill_reference.py LABELS.npy NY NX RADIUS OUT.npy [GRAINS.npy]
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


def grains(filled):
    """The grain map (lcae_grain_map): each 4-connected piece of one label (scipy.ndimage.
    label per label) a label of its own, numbered in the scan order of the pieces' first
    positions; -1 stays -1. Returns (grains, count)."""
    lab = np.asarray(filled)
    piece = np.full(lab.shape, -1, dtype=np.int64)
    first = []  # (first position in scan order, piece id)
    count = 0
    for c in np.unique(lab[lab >= 0]):
        pieces, k = ndimage.label(lab == c)
        for p in range(1, k + 1):
            where = np.flatnonzero((pieces == p).ravel())
            piece.ravel()[where] = count
            first.append((where[0], count))
            count += 1
    order = {pid: rank for rank, (_, pid) in enumerate(sorted(first))}
    out = np.full(lab.shape, -1, dtype=np.int32)
    out[piece >= 0] = [order[p] for p in piece[piece >= 0]]
    return out, count


if __name__ == "__main__":
    labels = np.load(sys.argv[1]).reshape(int(sys.argv[2]), int(sys.argv[3]))
    filled, _ = fill(labels, int(sys.argv[4]))
    np.save(sys.argv[5], filled.reshape(-1).astype(np.int32))
    if len(sys.argv) > 6:  # and the grain map of the filled map
        np.save(sys.argv[6], grains(filled)[0].reshape(-1))
