#!/usr/bin/python3
"""Writes tests/fixtures/npy/: small arrays saved by numpy itself, in every dtype lcae
reads, both byte orders and npy format versions 1-3, so that lcae's reader is checked
against numpy's writer. The values are arange(n) * 3 - 7 (cast), so tests can recompute
them. Run: /usr/bin/python3 tools/make_npy_fixtures.py"""
import os
import numpy as np
from numpy.lib import format as npf

out = os.path.join(os.path.dirname(__file__), "..", "tests", "fixtures", "npy")
os.makedirs(out, exist_ok=True)
shape = (2, 3, 4, 5)
base = np.arange(np.prod(shape)).reshape(shape) * 3 - 7
for code in ["u1", "u2", "u4", "i2", "i4", "f4", "f8"]:
    for order in "<>":
        if code == "u1" and order == ">":
            continue
        a = base.astype(order + code) if not code.startswith("u") else \
            (base - base.min()).astype(order + code)
        for version in [(1, 0), (2, 0), (3, 0)]:
            name = f"{code}_{'le' if order == '<' else 'be'}_v{version[0]}.npy"
            with open(os.path.join(out, name), "wb") as f:
                npf.write_array(f, a, version=version)
# a 3-D stack and a Fortran-order array (refused with a message)
np.save(os.path.join(out, "stack3d_f4.npy"), base.reshape(6, 4, 5).astype("<f4"))
np.save(os.path.join(out, "fortran_f4.npy"), np.asfortranarray(base[0, 0].astype("<f4")))
