"""Prepare a simulated lcae scan for the research experiments.
Reads DIR/scan_x*_y*.raw (EMPAD, 130 rows/frame), bins 2x2 to det/2, centres the direct beam
(either from the simulator's descan formula or a centre of mass of the central disk),
applies log(1+counts), normalizes (median / sigma68, std fallback), writes DIR/prep64.npy
(n, 64, 64) float32 and DIR/prep32.npy (n,32,32) plus raw binned log (uncentred) for baselines.
usage: prep.py DIR [--drift 2] [--com] [--beam BEAM_POSITION.npy] [--shift-counts] [--out NAME]
--beam: lcae stats' fitted beam positions (full-resolution pixels) instead of the formula or --com;
--shift-counts: shift the binned counts, then log (default: shift the binned log pattern);
--out NAME: write DIR/NAME (the 64 x 64 patterns) only."""
import sys, glob, json, numpy as np
from scipy import ndimage
d = sys.argv[1]
use_com = '--com' in sys.argv
arg = lambda k: sys.argv[sys.argv.index(k) + 1] if k in sys.argv else None
beam_file, out_name = arg('--beam'), arg('--out')
t = json.load(open(d + '/truth.json'))
ny, nx = t['scan']; det = t['detector'][0]; drift = t['detector_model']['drift_px']
raw = glob.glob(d + '/scan_x*_y*.raw')[0]
a = np.fromfile(raw, '<f4').reshape(ny * nx, det + 2, det)[:, :det]
b = 2 if det >= 128 else 1
n = ny * nx; h = det // b
x = a.reshape(n, h, b, h, b).sum((2, 4)).astype(np.float32)
# beam centre (in binned pixels)
yy, xx = np.mgrid[0:ny, 0:nx]
u = xx / (nx - 1); v = yy / (ny - 1)
c0 = (det - 1) / 2.0
cx = c0 + drift * (0.8 * (u - .5) + 0.2 * (v - .5))
cy = c0 + drift * (0.6 * (v - .5) + 0.2 * np.sin(np.pi * u) - 0.1)
cxb = ((cx + 0.5) / b - 0.5).ravel(); cyb = ((cy + 0.5) / b - 0.5).ravel()
if use_com:
    # centre of mass of the brightest disk near the centre: window of radius 6 about frame centre
    g = np.mgrid[0:h, 0:h].astype(np.float32)
    cc = (h - 1) / 2
    m = ((g[0] - cc) ** 2 + (g[1] - cc) ** 2) <= 6 ** 2
    w = x * m; s = w.sum((1, 2))
    cyb2 = (w * g[0]).sum((1, 2)) / s; cxb2 = (w * g[1]).sum((1, 2)) / s
    print('com vs formula rms err px', np.sqrt(np.mean((cxb2 - cxb) ** 2 + (cyb2 - cyb) ** 2)))
    cxb, cyb = cxb2, cyb2
if beam_file:  # (ny, nx, 2) (y, x) in detector pixels -> binned pixels
    bf = np.load(beam_file).reshape(n, 2)
    cyb = (bf[:, 0] + 0.5) / b - 0.5; cxb = (bf[:, 1] + 0.5) / b - 0.5
shift_counts = '--shift-counts' in sys.argv
lx = x if shift_counts else np.log1p(np.maximum(x, 0))
if not out_name:
    np.save(d + '/log_uncentred.npy', lx)
cen = (h - 1) / 2
out = np.empty_like(lx)
for i in range(n):
    out[i] = ndimage.shift(lx[i], (cen - cyb[i], cen - cxb[i]), order=1, mode='nearest')
if shift_counts:
    out = np.log1p(np.maximum(out, 0))
med = np.median(out); p16, p84 = np.percentile(out, [16, 84]); s68 = (p84 - p16) / 2
if s68 <= 1e-3 * out.std(): s68 = out.std()  # sparse data: std fallback
out = (out - med) / s68
print('median', med, 'sigma68', s68)
if out_name:
    np.save(d + '/' + out_name, out.astype(np.float32))
    sys.exit(0)
np.save(d + '/prep64.npy', out.astype(np.float32))
o32 = out.reshape(n, h // 2, 2, h // 2, 2).mean((2, 4))
np.save(d + '/prep32.npy', o32.astype(np.float32))
np.save(d + '/beam.npy', np.stack([cyb, cxb], 1).astype(np.float32))
