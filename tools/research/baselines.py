"""Analytic baselines: polar (angular Fourier magnitudes orders 0-6, radii 2-30 px of the centred
64x64 log pattern, PCA to 10) and PCA(16) of log(1+counts)."""
import sys, numpy as np, torch
sys.path.insert(0, __import__('os').path.dirname(__file__))
from common import report
from sklearn.decomposition import PCA
d = sys.argv[1]
X = np.load(d + '/prep64.npy')
n, h, _ = X.shape
c = (h - 1) / 2
def polar_grid(h, r0, r1, nth):
    r = np.arange(r0, r1 + 1, dtype=np.float32)
    th = np.arange(nth) * 2 * np.pi / nth
    return c + r[:, None] * np.sin(th)[None], c + r[:, None] * np.cos(th)[None]
from scipy import ndimage
gy, gx = polar_grid(h, 2, 30, 128)
P = np.stack([ndimage.map_coordinates(X[i], [gy, gx], order=1) for i in range(n)])  # n, R, T
Fm = np.abs(np.fft.rfft(P, axis=2))[:, :, :7]
feat = Fm.reshape(n, -1)
feat = (feat - feat.mean(0)) / (feat.std(0) + 1e-9)
for k in (10,):
    F = PCA(k, random_state=0).fit_transform(feat)
    report(d, 'polar_pca%d' % k, F, feat='polar')
L = np.load(d + '/log_uncentred.npy').reshape(n, -1)
F = PCA(16, random_state=0).fit_transform(L)
report(d, 'pca16_log', F, feat='all16')
Xc = X.reshape(n, -1)
F = PCA(16, random_state=0).fit_transform(Xc)
report(d, 'pca16_logcentred', F, feat='all16')
