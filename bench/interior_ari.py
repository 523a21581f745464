#!/usr/bin/python3
"""Where the class and grain ARIs go: for each run of a bench/claim.sh output folder, the
ARI of each source's labels against its truth (class for the rotation-invariant model and
`polar`, grain for the standard model and `pca`) over the positions that are not
boundary in the truth (grain interiors and amorphous), noise a label of its own, and the
share of the true boundary positions HDBSCAN left as noise. An interior ARI near 1 says
the ARI over all positions is lost at the boundaries alone (docs/results.md).

Usage: /usr/bin/python3 bench/interior_ari.py OUT
"""
import glob
import os
import sys

import numpy as np
from sklearn.metrics import adjusted_rand_score

SOURCES = (("invariant", "class"), ("standard", "grain"), ("polar", "class"), ("pca", "grain"))
print("| setting | seed | " + " | ".join(f"{s} vs {t}: interior ARI (full map), boundary as noise"
                                         for s, t in SOURCES) + " |")
print("|---|---|" + "---|" * len(SOURCES))
for run in sorted(glob.glob(os.path.join(sys.argv[1], "*", "seed*", "inv"))):
    setting, seed = run.split(os.sep)[-3], run.split(os.sep)[-2][4:]
    region = np.load(f"{run}/sample/truth_region.npy").ravel()
    inside = region != 1
    cells = []
    for source, against in SOURCES:
        truth = np.load(f"{run}/sample/truth_{against}.npy").ravel()
        lab = np.load(f"{run}/{source}/labels.npy").ravel()
        full = np.load(f"{run}/{source}/labels_full.npy").ravel()
        cells.append(f"{adjusted_rand_score(truth[inside], lab[inside]):.3f} "
                     f"({adjusted_rand_score(truth[inside], full[inside]):.3f}), "
                     f"{np.mean(lab[region == 1] < 0):.2f}")
    print(f"| {setting} | {seed} | " + " | ".join(cells) + " |")
