"""The hdbscan library's core-distance stage, as a peer for bench/bench_cluster.sh.

The library (boruvka_kdtree, its choice in 16 dimensions) computes core distances with
scikit-learn's KDTree: tree.query(X, k=min_samples + 1, dualtree=True,
breadth_first=True), the points split into core_dist_n_jobs chunks run by joblib. This
does the same with scikit-learn 1.2 (Debian's python3-sklearn) and prints the wall
seconds of the tree build and the queries. (That lcae's core distances are the exact
ones is tested against brute force in tests/test_cluster_mst.c.)

Usage: /usr/bin/python3 cluster_knn_sklearn.py FEATURES.npy K JOBS
"""
import sys
import time

import numpy as np
from joblib import Parallel, delayed
from sklearn.neighbors import KDTree


def query(tree, points, k):
    return tree.query(points, k=k, dualtree=True, breadth_first=True)


def main():
    x = np.load(sys.argv[1]).astype(np.float64)  # the library computes in float64
    k, jobs = int(sys.argv[2]), int(sys.argv[3])
    t = time.perf_counter()
    tree = KDTree(x, leaf_size=40)  # the library's default leaf_size
    parts = Parallel(n_jobs=jobs)(delayed(query)(tree, p, k) for p in np.array_split(x, jobs))
    seconds = time.perf_counter() - t
    assert sum(len(d) for d, _ in parts) == len(x)
    print(f"{seconds:.2f}")


if __name__ == "__main__":
    main()
