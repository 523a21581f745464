#!/usr/bin/python3
"""Writes tests/fixtures/beam/: where the direct beam is in each frame of the real detector
files that have one, by a method independent of lcae's (tests/test_beam_real.c compares).

Both files hold a saturated direct beam: a flat-topped disk at the counter's maximum (63 in
the 6-bit Merlin frames, 255 in the uint8 NanoMegas blockfile). The reference centre of a
frame is the centre of the circle fitted (algebraic least squares, Kasa's method) to the
boundary pixels of the largest 4-connected region of saturated pixels, leaving out the
boundary pixels on the detector's edge (the Merlin disk touches column 0, so its saturated
region is cut there and its plain centroid would be pulled inwards). Positions are (y, x) =
(row, column) in detector pixels from the centre of pixel (0, 0), as lcae's.

The frames are read here with numpy from the header fields, not with lcae's readers:
  merlin-rsciio/001_4x2_6bit.mib          8 frames of 384-byte header + 256 x 256 >u1
  merlin-rsciio/002_4x2_6bit_roi128.mib   8 frames of 384-byte header + 128 x 256 >u1
  blockfile-nanomegas/test1.blo           header (Data_offset_2 = 4112 at byte 12), then
                                          6 frames of 6-byte header + 144 x 144 u1, scan
                                          3 x 2 (NY = 3 rows, NX = 2 columns)
Output: <name>.npy, float64 (frames, 3): y, x, and the rms distance of the boundary pixels
from the fitted circle (px; how far the disk is from round).

Run: /usr/bin/python3 tools/make_beam_fixture.py [SHARED_DIR]  (default: $LCAE_SHARED_DIR, else
../shared beside the project)
"""
import os
import struct
import sys

import numpy as np

here = os.path.dirname(os.path.abspath(__file__))
shared = (sys.argv[1] if len(sys.argv) > 1 else
          os.environ.get("LCAE_SHARED_DIR", os.path.join(here, "..", "..", "shared")))
real = os.path.join(shared, "data", "real")
out = os.path.join(here, "..", "tests", "fixtures", "beam")
os.makedirs(out, exist_ok=True)


def mib_frames(path, h, w):
    raw = np.fromfile(path, dtype=np.uint8)
    frame = 384 + h * w
    assert raw.size % frame == 0 and raw[:3].tobytes() == b"MQ1"
    return raw.reshape(-1, frame)[:, 384:].reshape(-1, h, w)


def blo_frames(path):
    b = open(path, "rb").read()
    assert b[:6] == b"IMGBLO"
    offset2, = struct.unpack_from("<I", b, 12)
    dp, = struct.unpack_from("<H", b, 20)
    nx, ny = struct.unpack_from("<HH", b, 24)
    frames = np.frombuffer(b, dtype=np.uint8, offset=offset2).reshape(ny * nx, 6 + dp * dp)
    return frames[:, 6:].reshape(-1, dp, dp)


def largest_region(mask):
    """The largest 4-connected region of mask (flood fill, no scipy needed)."""
    label = np.zeros(mask.shape, dtype=np.int32)
    best, best_n, n = 0, 0, 0
    for y0, x0 in zip(*np.nonzero(mask)):
        if label[y0, x0]:
            continue
        n += 1
        label[y0, x0] = n
        stack, size = [(y0, x0)], 0
        while stack:
            y, x = stack.pop()
            size += 1
            for yy, xx in ((y + 1, x), (y - 1, x), (y, x + 1), (y, x - 1)):
                if (0 <= yy < mask.shape[0] and 0 <= xx < mask.shape[1] and mask[yy, xx]
                        and not label[yy, xx]):
                    label[yy, xx] = n
                    stack.append((yy, xx))
        if size > best_n:
            best, best_n = n, size
    return label == best


def circle_centre(region):
    h, w = region.shape
    p = np.pad(region, 1)
    interior = p[:-2, 1:-1] & p[2:, 1:-1] & p[1:-1, :-2] & p[1:-1, 2:]
    edge = region & ~interior
    edge[0, :] = edge[-1, :] = edge[:, 0] = edge[:, -1] = False
    y, x = (v.astype(np.float64) for v in np.nonzero(edge))
    # (y - a)^2 + (x - b)^2 = r^2  <=>  2 a y + 2 b x + (r^2 - a^2 - b^2) = y^2 + x^2
    A = np.column_stack([2 * y, 2 * x, np.ones_like(y)])
    a, b, c = np.linalg.lstsq(A, y * y + x * x, rcond=None)[0]
    r = np.sqrt(c + a * a + b * b)
    return a, b, np.sqrt(np.mean((np.hypot(y - a, x - b) - r) ** 2))


def write(name, frames, full):
    rows = []
    for f in frames:
        rows.append(circle_centre(largest_region(f == full)))
    rows = np.array(rows, dtype=np.float64)
    np.save(os.path.join(out, name + ".npy"), rows)
    print(name, np.round(rows, 3).tolist())


write("merlin_001_4x2_6bit",
      mib_frames(os.path.join(real, "merlin-rsciio", "001_4x2_6bit.mib"), 256, 256), 63)
write("merlin_002_4x2_6bit_roi128",
      mib_frames(os.path.join(real, "merlin-rsciio", "002_4x2_6bit_roi128.mib"), 128, 256), 63)
write("blockfile_test1",
      blo_frames(os.path.join(real, "blockfile-nanomegas", "test1.blo")), 255)
