#!/usr/bin/python3
"""How much of a blob set an exact k-nearest-neighbour search must read, whatever its code.

For a sample of queries, the exact distance to the (min_samples + 2)-th nearest point
(lcae's heap) by brute force (torch), then the points of every k-d cell (median split on
the widest side, as lcae's trees) whose box is within that distance: the points any
search pruned by boxes must read at best, by cell size, by the query's core distance,
and with the coordinates rotated to their principal axes.

Usage: /usr/bin/python3 -u bench/knn_reach.py BLOBS.npy [QUERIES] [MIN_SAMPLES]
(docs/clustering.md, "Time and memory up to 1,048,576 points", has its figures.)
"""
import sys

import numpy as np
import torch

path = sys.argv[1]
nq = int(sys.argv[2]) if len(sys.argv) > 2 else 2000
ms = int(sys.argv[3]) if len(sys.argv) > 3 else 60
X0 = np.load(path).astype(np.float64)
n, d = X0.shape
rng = np.random.default_rng(0)
Q = rng.choice(n, nq, replace=False)
Xt = torch.from_numpy(X0)
kth = torch.cat([torch.topk(torch.cdist(Xt[Q[i:i + 500]], Xt), ms + 2, largest=False).values[:, -1]
                 for i in range(0, nq, 500)]).numpy()


def cells(X, idx, most, out):
    if len(idx) <= most:
        out.append(idx)
        return
    P = X[idx]
    k = int(np.argmax(P.max(0) - P.min(0)))
    o = np.argsort(P[:, k], kind="stable")
    h = len(idx) // 2
    cells(X, idx[o[:h]], most, out)
    cells(X, idx[o[h:]], most, out)


def reached(X, most):
    out = []
    cells(X, np.arange(n), most, out)
    lo = np.array([X[c].min(0) for c in out])
    hi = np.array([X[c].max(0) for c in out])
    size = np.array([len(c) for c in out])
    q = X[Q]
    box = np.sqrt((np.maximum(np.maximum(lo[None] - q[:, None], q[:, None] - hi[None]), 0) ** 2).sum(2))
    return ((box <= kth[:, None]) * size[None]).sum(1)


print(f"{path}: {n} x {d}, {nq} queries, heap of {ms + 2}")
C = np.cov(X0.T)
w, V = np.linalg.eigh(C)
print("variance share of the principal axes:", " ".join(f"{v:.3f}" for v in w[::-1] / w.sum()))
rot = (X0 - X0.mean(0)) @ V[:, ::-1]
order = np.argsort(kth)
for name, X in (("coordinates", X0), ("principal axes", rot)):
    for most in (1023, 63):
        pts = reached(X, most)
        print(f"{name}, cells of at most {most}: {pts.mean():.0f} points a query "
              f"({pts.mean() / n:.3f} of the set)")
        if name == "coordinates":
            for a, b in ((0, .5), (.5, .8), (.8, .9), (.9, .95), (.95, 1)):
                sel = order[int(a * nq):int(b * nq)]
                print(f"  queries of heap-distance quantile {a:.2f}-{b:.2f} (distance {kth[sel].min():.2f}"
                      f"-{kth[sel].max():.2f}): {pts[sel].mean():.0f} points a query, "
                      f"{pts[sel].sum() / pts.sum():.2f} of the reads")
