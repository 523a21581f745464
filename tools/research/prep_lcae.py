"""The patterns as lcae prepares them for the polar model (src/prep/prep.c), for the prototype:
shift each full-resolution pattern so that its beam (lcae stats' fitted beam_position.npy) is at
the frame centre (bilinear, the nearest edge pixel outside), then sum-bin 2 x 2, log(1 + max(v, 0)), and
(v - median) / scale with the median and scale lcae's model recorded (its training log's "prep";
without a log, numpy's median and sigma68 of all the prepared pixels).
prep.py instead bins first and shifts the binned pattern (a blur of up to half a binned pixel).
usage: prep_lcae.py DIR BEAM_POSITION.npy [MODEL.log.json]   (writes DIR/prep64_lcae.npy)"""
import sys, json, numpy as np
from scipy import ndimage
d, beam_path = sys.argv[1:3]
log_path = sys.argv[3] if len(sys.argv) > 3 else None
t = json.load(open(d + '/truth.json'))
ny, nx = t['scan']; det = t['detector'][0]
prep = json.load(open(log_path))['prep'] if log_path else None
a = np.memmap(d + '/scan_x%d_y%d.raw' % (nx, ny), '<f4', 'r').reshape(ny * nx, det + 2, det)
beam = np.load(beam_path).reshape(ny * nx, 2)  # (y, x), detector pixels
c = (det - 1) / 2; b = 2; h = det // b
out = np.empty((ny * nx, h, h), np.float32)
for i in range(ny * nx):
    s = ndimage.shift(a[i, :det].astype(np.float64), (c - beam[i, 0], c - beam[i, 1]), order=1,
                      mode='nearest')
    out[i] = np.log1p(np.maximum(s.reshape(h, b, h, b).sum((1, 3)), 0))
if prep:
    med, scale = prep['median'], prep['scale']
else:
    med = np.median(out); p16, p84 = np.percentile(out, [16, 84]); scale = (p84 - p16) / 2
out = (out - med) / scale
print('median', med, 'scale', scale, 'prepared: median %.4f sigma68 %.4f'
      % (np.median(out), (np.percentile(out, 84) - np.percentile(out, 16)) / 2))
np.save(d + '/prep64_lcae.npy', out)
