"""polar baseline (angular Fourier magnitudes 0-6, radii 2-30, PCA 10, no standardizing) + PCA16."""
import sys, numpy as np
sys.path.insert(0, __import__('os').path.dirname(__file__))
from common import report
from sklearn.decomposition import PCA
from scipy import ndimage
d = sys.argv[1]
X = np.load(d + '/prep64.npy'); n, h, _ = X.shape; c = (h - 1) / 2
r = np.arange(2, 31, dtype=np.float32); nth = int(np.ceil(2 * np.pi * 30 / 8) * 8); th = np.arange(nth) * 2 * np.pi / nth
gy = c + r[:, None] * np.sin(th)[None]; gx = c + r[:, None] * np.cos(th)[None]
P = np.stack([ndimage.map_coordinates(X[i], [gy, gx], order=1) for i in range(n)])
feat = (np.abs(np.fft.rfft(P, axis=2))[:, :, :7] / nth).reshape(n, -1)
report(d, 'polar_pca10_nostd', PCA(10, random_state=0).fit_transform(feat), feat='polar')
report(d, 'pca16_log', PCA(16, random_state=0).fit_transform(np.load(d + '/log_uncentred.npy').reshape(n, -1)), feat='all16')
