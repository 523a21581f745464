#!/usr/bin/python3
"""ARI of HDBSCAN's labels and of their filled maps (tools/fill_reference.py: the same
filling as lcae_fill_map, numpy/scipy) against the class and grain truth, for the runs of
bench/claim.sh, at several radii: how the filled map's radius was chosen
(docs/clustering.md, "The filled map").

Usage: /usr/bin/python3 bench/fill_ari.py OUT [RADII]    (OUT: claim.sh's folder; RADII:
comma-separated, default 1,2,3,4). Reads OUT/SETTING/seedK/inv/{standard,invariant,polar,
pca}/labels.npy and OUT/SETTING/seedK/inv/sample/truth_{class,grain}.npy.
"""
import glob
import os
import sys

import numpy as np
from sklearn.metrics import adjusted_rand_score

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tools"))
from fill_reference import fill  # noqa: E402

out = sys.argv[1]
radii = [int(r) for r in (sys.argv[2] if len(sys.argv) > 2 else "1,2,3,4").split(",")]
# each source against the truth it should find: the invariant features the classes
sources = [("invariant", "class"), ("standard", "grain"), ("polar", "class"), ("pca", "grain")]
print("| setting | seed | source | truth | labels | " +
      " | ".join(f"filled r={r}" for r in radii) + " |")
print("|" + "---|" * (5 + len(radii)))
for run in sorted(glob.glob(os.path.join(out, "*", "seed*", "inv"))):
    setting, seed = run.split(os.sep)[-3:-1]
    truth = {t: np.load(os.path.join(run, "sample", f"truth_{t}.npy")).ravel()
             for t in ("class", "grain")}
    side = int(round(np.sqrt(truth["class"].size)))
    for src, t in sources:
        path = os.path.join(run, src, "labels.npy")
        if not os.path.exists(path):
            continue
        lab = np.load(path).reshape(side, side)
        cells = [adjusted_rand_score(truth[t], lab.ravel())]
        cells += [adjusted_rand_score(truth[t], fill(lab, r)[0].ravel()) for r in radii]
        print(f"| {setting} | {seed[4:]} | {src} | {t} | " +
              " | ".join(f"{v:.3f}" for v in cells) + " |", flush=True)
