"""Write the hdbscan fixtures' blob set at any size: blobs(N, D, K, SEED) of
../shared/fixtures/hdbscan/make_fixtures.py (Gaussian blobs of Dirichlet sizes with random
shapes, 5 % uniform background over their bounding box, float32), imported from that script
so that the set is the fixtures' generator scaled up, byte for byte.
Usage: /usr/bin/python3 bench/cluster_blobs.py OUT.npy N [D=16] [K=30] [SEED=6]
(N 262144, D 16, K 30, SEED 6 is the fixtures' blobs_262k_d16; numpy only.)"""
import os, sys
import numpy as np

here = os.path.dirname(os.path.abspath(__file__))
shared = os.environ.get('LCAE_SHARED_DIR', os.path.join(here, '..', '..', 'shared'))
sys.path.insert(0, os.path.join(shared, 'fixtures', 'hdbscan'))
from make_fixtures import blobs  # noqa: E402

if len(sys.argv) < 3:
    sys.exit('usage: cluster_blobs.py OUT.npy N [D] [K] [SEED]')
n = int(sys.argv[2])
d, k, seed = (int(a) for a in (sys.argv[3:6] + ['16', '30', '6'][len(sys.argv[3:6]):]))
np.save(sys.argv[1], blobs(n, d, k, seed))
