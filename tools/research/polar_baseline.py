"""polar baseline (angular Fourier magnitudes 0-6, radii 2-30, PCA 10, no standardizing) + PCA16;
with --lcae also lcae's own `polar` features (lcae features --method polar --bin 4, as lcae run).
usage: polar_baseline.py DIR [--mcs 60] [--lcae]"""
import sys, os, glob, subprocess, tempfile, argparse, numpy as np
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import report, LCAE
from sklearn.decomposition import PCA
from scipy import ndimage
p = argparse.ArgumentParser(); p.add_argument('data'); p.add_argument('--mcs', type=int, default=60)
p.add_argument('--lcae', action='store_true'); a = p.parse_args(); d = a.data
X = np.load(d + '/prep64.npy'); n, h, _ = X.shape; c = (h - 1) / 2
r = np.arange(2, 31, dtype=np.float32); nth = int(np.ceil(2 * np.pi * 30 / 8) * 8); th = np.arange(nth) * 2 * np.pi / nth
gy = c + r[:, None] * np.sin(th)[None]; gx = c + r[:, None] * np.cos(th)[None]
P = np.stack([ndimage.map_coordinates(X[i], [gy, gx], order=1) for i in range(n)])
feat = (np.abs(np.fft.rfft(P, axis=2))[:, :, :7] / nth).reshape(n, -1)
report(d, 'polar_pca10_nostd', PCA(10, random_state=0).fit_transform(feat), feat='polar', mcs=a.mcs)
report(d, 'pca16_log', PCA(16, random_state=0).fit_transform(np.load(d + '/log_uncentred.npy').reshape(n, -1)),
       feat='all16', mcs=a.mcs)
if a.lcae:
    with tempfile.TemporaryDirectory() as td:
        subprocess.run(['nice', '-n', '10', LCAE, 'features', glob.glob(d + '/scan_x*_y*.raw')[0], '--method', 'polar',
                        '--bin', '4', '-o', td + '/f.npy', '-q', '--threads', '2'], check=True)
        report(d, 'lcae_features_polar_bin4', np.load(td + '/f.npy'), feat='polar', mcs=a.mcs,
               notes='lcae features --method polar --bin 4')
