#!/usr/bin/python3
"""What a clustering that finds the grain boundaries as regions of their own can score.

    /usr/bin/python3 bench/boundary_ceiling.py SAMPLE_DIR [SAMPLE_DIR...]

SAMPLE_DIR holds a simulated sample's truth (lcae simulate -o DIR, or DIR/sample of an
lcae run). The truth gives every boundary position (truth_region 1) the class and grain
of its nearest grain, so a clustering that puts the boundaries in clusters of their own
is marked down by ARI however right it is. This prints the ARI (scikit-learn's) of
oracle labellings: every grain interior and amorphous position labelled by its truth,
and the boundary positions (1) all in one cluster, (2) in one cluster per pair of grains
that meet there (the nearest grain and the most frequent other grain within 6 scan
pixels), (3) as noise singletons. (2) is a perfect boundary-finding map (boundary
recovery 1): its ARI is the ceiling for any model that finds the boundaries.
"""
import sys

import numpy as np
from sklearn.metrics import adjusted_rand_score as ari

RADIUS = 6  # scan pixels searched for the other grain of a boundary position


def pair_labels(grain, region):
    pair = np.full(grain.shape, -1)
    ny, nx = grain.shape
    for y, x in zip(*np.nonzero(region == 1)):
        w = grain[max(0, y - RADIUS):y + RADIUS + 1, max(0, x - RADIUS):x + RADIUS + 1]
        other = w[w != grain[y, x]]
        g2 = np.bincount(other).argmax() if other.size else grain[y, x]
        a, b = sorted((grain[y, x], g2))
        pair[y, x] = 1_000_000 + a * 1000 + b
    return pair


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    print("| sample | boundary share | pairs | truth against | all boundaries one cluster | "
          "one cluster per grain pair | boundaries as noise |")
    print("|---|---|---|---|---|---|---|")
    for d in sys.argv[1:]:
        cls = np.load(d + "/truth_class.npy")
        grain = np.load(d + "/truth_grain.npy")
        region = np.load(d + "/truth_region.npy")
        pair = pair_labels(grain, region)
        b = (region == 1).ravel()
        singles = -1 - np.arange(b.size)
        for name, t in (("class", cls.ravel()), ("grain", grain.ravel())):
            one = np.where(b, -1, t)
            per_pair = np.where(b, pair.ravel(), t)
            noise = np.where(b, singles, t)
            print("| {} | {:.3f} | {} | {} | {:.3f} | {:.3f} | {:.3f} |".format(
                d, b.mean(), len(np.unique(pair.ravel()[b])), name, ari(t, one),
                ari(t, per_pair), ari(t, noise)))


if __name__ == "__main__":
    main()
