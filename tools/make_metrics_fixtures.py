#!/usr/bin/python3
"""Reference ARI and AMI from scikit-learn (Debian's python3-sklearn) for tests/test_metrics.c.

Writes tests/fixtures/metrics/sklearn_cases.txt: per case a line
  case N ARI AMI ARI_NO_NOISE AMI_NO_NOISE
(AMI with average_method="arithmetic", sklearn's default; the *_NO_NOISE values are over
the positions whose predicted label is not -1, "nan" when there are none or no noise),
then a line of N true labels and a line of N predicted labels.
Run: /usr/bin/python3 tools/make_metrics_fixtures.py (from the source tree's root).
"""
import numpy as np
import sklearn
from sklearn.metrics import adjusted_mutual_info_score as ami
from sklearn.metrics import adjusted_rand_score as ari

rng = np.random.default_rng(20240611)
cases = []


def add(t, p):
    t = np.asarray(t, dtype=np.int64)
    p = np.asarray(p, dtype=np.int64)
    keep = p != -1
    if keep.all() or not keep.any():
        nn = (float("nan"), float("nan"))
    else:
        nn = (ari(t[keep], p[keep]), ami(t[keep], p[keep]))
    cases.append((t, p, ari(t, p), ami(t, p), nn[0], nn[1]))


# small random labellings, some with noise
for i in range(40):
    n = int(rng.integers(2, 60))
    kt, kp = int(rng.integers(1, 6)), int(rng.integers(1, 8))
    t = rng.integers(0, kt, n)
    p = rng.integers(-1 if i % 2 else 0, kp, n)
    add(t, p)
# arbitrary label values (large, negative)
add(rng.choice([-7, 3, 1000000, 42], 300), rng.choice([-1, 5, -100, 99999], 300))
# a clustering close to the truth: 15 % of labels scrambled, a tenth noise
t = rng.integers(0, 9, 3000)
p = t.copy()
flip = rng.random(3000) < 0.15
p[flip] = rng.integers(0, 12, flip.sum())
p[rng.random(3000) < 0.1] = -1
add(t, p)
# a scan-sized case: a 128 x 128 map of 9 classes split into 14 clusters, with noise
yy, xx = np.mgrid[0:128, 0:128]
t = ((yy // 43) * 3 + xx // 43).ravel()
p = t.copy()
p[(t == 2) & (xx.ravel() > 107)] = 9       # a class split in two
p[(t == 4) & (yy.ravel() < 60)] = 10
p[(t == 7) & (xx.ravel() % 40 < 5)] = 11
p[(t == 8) & (yy.ravel() > 110)] = 12
p[(t == 0) & (yy.ravel() < 8)] = 13
p[rng.random(p.size) < 0.05] = -1
add(t, p)
# many clusters against few classes, and the reverse
add(rng.integers(0, 3, 2000), rng.integers(0, 60, 2000))
add(rng.integers(0, 60, 2000), rng.integers(0, 3, 2000))
# degenerate ones
add([0, 0, 0, 0], [0, 1, 2, 3])
add([0, 1, 2, 3], [5, 5, 5, 5])
add([3, 3, 3], [7, 7, 7])
add([1, 1, 2, 2, 3, 3], [-1, -1, -1, -1, -1, -1])

with open("tests/fixtures/metrics/sklearn_cases.txt", "w") as f:
    f.write("# scikit-learn %s, numpy %s: adjusted_rand_score, adjusted_mutual_info_score "
            "(arithmetic)\n" % (sklearn.__version__, np.__version__))
    for t, p, a, m, an, mn in cases:
        f.write("case %d %.17g %.17g %.17g %.17g\n" % (len(t), a, m, an, mn))
        f.write(" ".join(map(str, t)) + "\n")
        f.write(" ".join(map(str, p)) + "\n")
print(len(cases), "cases")
