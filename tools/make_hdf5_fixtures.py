#!/usr/bin/python3
"""Writes tests/fixtures/hdf5/: small HDF5 scans written by h5py with the compression
filters of hdf5plugin (Debian's build loads the system's plugins: bitshuffle,
hdf5-filter-plugin), so that lcae's reader is checked against files it did not write:

  bslz4_u32.h5  /entry/data/data (4, 3, 16, 16) uint32, bitshuffle + LZ4 (filter 32008),
                one pattern per chunk, as DECTRIS detectors write
  lz4_u16.h5    /data (4, 3, 16, 16) uint16, LZ4 (filter 32004)
  fpd.h5        the fpd library's layout: /fpd_expt/fpd_data/data (4, 3, 1, 16, 16) uint16
                (an EMD group with dim1..dim5), gzip; beside it the EMD groups fpd_sum_im
                (4, 3) and fpd_sum_dif (16, 16), and /stack (12, 1, 1, 16, 16) uint16,
                3-D once its size-1 dimensions are dropped
  two.h5        two 4-D candidates, neither in an EMD group: /entry/big (4, 3, 16, 16)
                uint16 and /entry/small (2, 2, 8, 8) uint16, bzip2 (filter 307)

Every dataset's values, in C order of its flat index i, are (i * 40503 + k) % m, with its
own k (so that reading the wrong dataset shows) and m = 65536 for uint16, 16777213 for
uint32 (below 2^24: exact in float32); tests/test_io_hdf5.c recomputes them.
Run: /usr/bin/python3 tools/make_hdf5_fixtures.py"""
import os
import h5py
import hdf5plugin
import numpy as np

out = os.path.join(os.path.dirname(__file__), "..", "tests", "fixtures", "hdf5")
os.makedirs(out, exist_ok=True)


def values(shape, dtype, k):
    m = 65536 if dtype == np.uint16 else 16777213
    i = np.arange(np.prod(shape), dtype=np.int64)
    return ((i * 40503 + k) % m).astype(dtype).reshape(shape)


def dataset(f, name, shape, dtype, k, chunks=None, **filters):
    return f.create_dataset(name, data=values(shape, dtype, k), chunks=chunks, **filters)


def h5(name):
    return h5py.File(os.path.join(out, name), "w", libver="earliest")


with h5("bslz4_u32.h5") as f:
    dataset(f, "entry/data/data", (4, 3, 16, 16), np.uint32, 1, chunks=(1, 1, 16, 16),
            **hdf5plugin.Bitshuffle(nelems=0, cname="lz4"))

with h5("lz4_u16.h5") as f:
    dataset(f, "data", (4, 3, 16, 16), np.uint16, 2, chunks=(1, 3, 16, 16),
            **hdf5plugin.LZ4())

with h5("fpd.h5") as f:
    dataset(f, "fpd_expt/fpd_data/data", (4, 3, 1, 16, 16), np.uint16, 3,
            chunks=(1, 1, 1, 16, 16), compression="gzip")
    for d, n in enumerate((4, 3, 1, 16, 16), 1):
        f.create_dataset(f"fpd_expt/fpd_data/dim{d}", data=np.arange(n, dtype=np.float64))
    dataset(f, "fpd_expt/fpd_sum_im/data", (4, 3), np.uint32, 4)
    dataset(f, "fpd_expt/fpd_sum_dif/data", (16, 16), np.uint32, 5)
    for g in ("fpd_data", "fpd_sum_im", "fpd_sum_dif"):
        f[f"fpd_expt/{g}"].attrs["emd_group_type"] = np.int32(1)
    dataset(f, "stack", (12, 1, 1, 16, 16), np.uint16, 6)

with h5("two.h5") as f:
    dataset(f, "entry/big", (4, 3, 16, 16), np.uint16, 7)
    dataset(f, "entry/small", (2, 2, 8, 8), np.uint16, 8, chunks=(1, 1, 8, 8),
            **hdf5plugin.BZip2())
