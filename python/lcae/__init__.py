"""lcae from Python: a thin layer over liblcae (ctypes), numpy arrays in and out.

    import lcae
    ds = lcae.open("scan.h5:/entry/data/data")        # or any (ny, nx, h, w) numpy array
    f = lcae.features(ds, method="polar")             # (ny*nx, 10) float32
    r = lcae.hdbscan(f, min_cluster_size=30)          # the hdbscan library's answer
    model = lcae.train(ds, steps=1500, base=8, bin=4) # an autoencoder (safetensors)
    z = model.encode(ds)                              # (ny*nx, 16) float32

Errors are exceptions carrying lcae's one-line message (LcaeError; LcaeUsageError, also a
ValueError, for a call that makes no sense; MemoryError). Long stages report progress to
`progress=`: a callable progress(what, done, total, unit, extra), False for none, or by
default a tqdm bar when tqdm is installed.
"""
import builtins
import ctypes as C
import json
import os
import tempfile

import numpy as np

from . import _capi
from ._capi import LcaeError, LcaeUsageError, check, lib

__all__ = ["open", "Dataset", "stats", "features", "train", "Model", "hdbscan",
           "HDBSCANResult", "score", "simulate", "run", "LcaeError", "LcaeUsageError", "version"]


def version():
    return lib.lcae_version().decode()


# ---- progress -----------------------------------------------------------------------
class _Progress:
    """An lcae_progress whose calls go to a Python callable; kept alive for the call."""

    def __init__(self, fn):
        self.fn, self.what, self.total, self.unit = fn, "", 0, ""
        self.c = _capi.Progress(_capi.BEGIN(self._begin), _capi.UPDATE(self._update),
                                _capi.END(self._end), None)

    def _begin(self, ctx, what, total, unit):
        self.what, self.total = what.decode() if what else "", total
        self.unit = unit.decode() if unit else ""
        self.fn(self.what, 0, self.total, self.unit, None)

    def _update(self, ctx, done, extra):
        self.fn(self.what, done, self.total, self.unit, extra.decode() if extra else None)

    def _end(self, ctx, summary):
        self.fn(self.what, self.total, self.total, self.unit, summary.decode() if summary else "")


class _Tqdm:
    """The default progress: one tqdm bar per stage."""

    def __init__(self, tqdm):
        self.tqdm, self.bar = tqdm, None

    def __call__(self, what, done, total, unit, extra):
        if self.bar is None or self.bar.desc != what:
            if self.bar is not None:
                self.bar.close()
            self.bar = self.tqdm(total=total or None, desc=what, unit=" " + (unit or "it"))
        self.bar.n = done
        if extra:
            self.bar.set_postfix_str(extra, refresh=False)
        self.bar.refresh()
        if extra is not None and done >= total and total:
            self.bar.close()
            self.bar = None


def _progress(progress):
    """The lcae_progress pointer for a progress= argument (None: silent)."""
    if progress is False:
        return None, None
    if progress is None:
        try:
            from tqdm import tqdm
        except ImportError:
            return None, None
        progress = _Tqdm(tqdm)
    p = _Progress(progress)
    return p, C.pointer(p.c)


# ---- datasets -----------------------------------------------------------------------
_DTYPES = {np.dtype(t): t for t in ("uint8", "uint16", "uint32", "uint64", "int8", "int16",
                                     "int32", "int64", "float32", "float64")}


class Dataset:
    """A scan: a file lcae reads (any format, memory-mapped, read in batches) or a numpy
    array of shape (ny, nx, h, w) read in place. Indexing is over (ny, nx, h, w) and gives
    float32 arrays; iter_batches() goes through the patterns in scan order."""

    def __init__(self, handle, keep=None):
        self._h = C.c_void_p(handle)
        self._keep = keep  # the numpy array a memory dataset reads from
        info = lib.lcae_dataset_get_info(self._h).contents
        self.shape = (int(info.ny), int(info.nx), int(info.h), int(info.w))
        self.dtype = np.dtype(lib.lcae_dtype_name(info.dtype).decode())
        self.format = lib.lcae_format_name(info.format).decode()

    def close(self):
        if self._h:
            lib.lcae_dataset_close(self._h)
            self._h = None

    def __del__(self):
        self.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __len__(self):
        return self.shape[0]

    @property
    def count(self):
        return self.shape[0] * self.shape[1]

    def read(self, first, count):
        """Patterns first .. first+count-1 in scan order: (count, h, w) float32."""
        out = np.empty((count,) + self.shape[2:], np.float32)
        check(lib.lcae_dataset_read(self._h, first, count, _capi.fptr(out)))
        return out

    def iter_batches(self, batch=256):
        """(first, patterns) for consecutive batches of at most `batch` patterns."""
        for first in range(0, self.count, batch):
            yield first, self.read(first, min(batch, self.count - first))

    def __iter__(self):
        for _, b in self.iter_batches():
            yield from b

    def __getitem__(self, key):
        key = key if isinstance(key, tuple) else (key,)
        scan_key, det_key = key[:2], key[2:]
        pos = np.arange(self.count).reshape(self.shape[:2])[scan_key]
        flat = np.atleast_1d(pos).ravel()
        out = np.empty((flat.size,) + self.shape[2:], np.float32)
        # contiguous runs of positions are read with one call each
        i = 0
        while i < flat.size:
            j = i + 1
            while j < flat.size and flat[j] == flat[j - 1] + 1:
                j += 1
            out[i:j] = self.read(int(flat[i]), j - i)
            i = j
        out = out.reshape(np.shape(pos) + self.shape[2:])
        return out[(Ellipsis,) + det_key] if det_key else out

    def __repr__(self):
        return f"lcae.Dataset(shape={self.shape}, dtype={self.dtype}, format={self.format})"


def _open_options(scan=None, det=None, format=None, dtype=None, byte_order=None,
                  header_bytes=0, frame_header_bytes=0, frame_footer_bytes=0):
    """lcae_open_options from the command line's names (see open)."""
    o = _capi.OpenOptions()
    if scan is not None:
        o.scan_ny, o.scan_nx = scan
    if det is not None:
        o.det_h, o.det_w = det
    if format is not None:
        o.format = _capi.enum(lib.lcae_format_from_name, format, "format")
    if dtype is not None:
        o.dtype = _capi.enum(lib.lcae_dtype_from_name, np.dtype(dtype).name, "dtype")
    o.big_endian = byte_order == "big"
    o.header_bytes, o.frame_header_bytes = header_bytes, frame_header_bytes
    o.frame_footer_bytes = frame_footer_bytes
    return o


def open(data, scan=None, det=None, format=None, dtype=None, byte_order=None,
         header_bytes=0, frame_header_bytes=0, frame_footer_bytes=0, name="array"):
    """A Dataset from a path (lcae's readers, the CLI's options: scan=(ny, nx),
    det=(h, w), format, dtype, byte_order, header/frame bytes) or a numpy array: (ny, nx,
    h, w), or (n, h, w) with scan=(ny, nx). An array already a Dataset is returned as is."""
    if isinstance(data, Dataset):
        return data
    h = C.c_void_p()
    if isinstance(data, np.ndarray):
        a = data
        if a.ndim == 3 and scan is not None:
            a = a.reshape(tuple(scan) + a.shape[1:])
        if a.ndim != 4:
            raise LcaeUsageError(f"{name}: expected a (ny, nx, h, w) array, or (n, h, w) with "
                                 f"scan=(ny, nx) (found shape {data.shape})", 2)
        if a.dtype.newbyteorder("=") not in _DTYPES:
            raise LcaeUsageError(f"{name}: dtype {a.dtype} (expected an integer or float "
                                 "type)", 2)
        # read in place when C-ordered and native; else one copy
        a = np.ascontiguousarray(a, dtype=a.dtype.newbyteorder("="))
        check(lib.lcae_dataset_from_memory(a.ctypes.data, lib.lcae_dtype_from_name(
            _DTYPES[a.dtype].encode()), *a.shape, name.encode(), C.byref(h)))
        return Dataset(h.value, keep=a)
    o = _open_options(scan, det, format, dtype, byte_order, header_bytes, frame_header_bytes,
                      frame_footer_bytes)
    check(lib.lcae_dataset_open(os.fspath(data).encode(), C.byref(o), C.byref(h)))
    return Dataset(h.value)


_CENTER_BEAM = 1


def _beam(ds, center, beam_map, pp):
    """The beam positions to centre by, as the command line finds them: none unless
    the patterns are centred (center beam); then beam_map, a (ny, nx, 2) array or a
    beam_position.npy as lcae stats writes it, else found in the scan (one pass)."""
    if center != _CENTER_BEAM:
        if beam_map is not None:
            raise LcaeUsageError("beam_map: the patterns are not centred (center='none')", 2)
        return None
    if beam_map is not None and not isinstance(beam_map, (str, os.PathLike)):
        b = np.ascontiguousarray(beam_map, np.float32)
        if b.size != 2 * ds.count:
            raise LcaeUsageError(f"beam_map: {b.size} values (expected {ds.count} x 2)", 2)
        return b
    m = C.POINTER(C.c_float)()
    path = None if beam_map is None else os.fspath(beam_map).encode()
    check(lib.lcae_prep_beam_map(ds._h, path, pp, C.byref(m)))
    try:
        return _capi.copy_out(m, 2 * ds.count, np.float32)
    finally:
        _capi.libc.free(m)


# ---- stages ---------------------------------------------------------------------------
def stats(data, exact=False, sample_size=0, seed=0, virtual_images=True, progress=None):
    """lcae stats: the quantiles of the pixel values (median, sigma68, ...) and the virtual
    images: a dict of numbers and arrays sum, variance (ny, nx) and mean_pattern (h, w)."""
    ds = open(data)
    o = _capi.StatsOptions(exact=int(exact), sample_size=sample_size, seed=seed,
                           virtual_images=int(virtual_images))
    st = _capi.Stats()
    p, pp = _progress(progress)
    check(lib.lcae_stats_compute(ds._h, C.byref(o), pp, C.byref(st)))
    try:
        out = {k: getattr(st, k) for k, _ in _capi.Stats._fields_
               if k not in ("sum", "variance", "mean_pattern", "norm")}
        ny, nx, h, w = ds.shape
        for k, shape in (("sum", (ny, nx)), ("variance", (ny, nx)), ("mean_pattern", (h, w))):
            if getattr(st, k):
                out[k] = _capi.copy_out(getattr(st, k), shape[0] * shape[1],
                                        np.float32).reshape(shape)
    finally:
        lib.lcae_stats_free(C.byref(st))
    return out


def _prep(prep, bin=None, crop=None, transform=None, offset=None, center=None):
    if bin is not None:
        prep.bin = bin
    if crop is not None:
        prep.crop = crop
    if transform is not None:
        prep.transform = _capi.enum(lib.lcae_transform_from_name, transform, "transform")
    if offset is not None:
        prep.offset = offset
    if center is not None:
        prep.center = _capi.enum(lib.lcae_center_from_name, center, "center")


def features(data, method="polar", dims=None, bin=None, crop=None, transform=None,
             offset=None, center="beam", beam_map=None, standardize=None, solver=None,
             seed=None, progress=None):
    """lcae features: features that need no training, (ny*nx, dims) float32. method
    "polar" (angular Fourier magnitudes, PCA to 10) or "pca" (16 components of the
    prepared pixels); the other options as `lcae features` takes them, with its defaults
    (None: lcae's). center="beam" (the default) centres each pattern on the direct beam:
    beam_map (a (ny, nx, 2) array of (y, x) or a beam_position.npy) or found in the scan."""
    ds = open(data)
    m = _capi.enum(lib.lcae_features_method_from_name, method, "method")
    o = lib.lcae_features_defaults(m)
    _prep(o.prep, bin, crop, transform, offset, center)
    if dims is not None:
        o.dims = dims
    if standardize is not None:
        o.standardize = int(standardize)
    if solver is not None:
        o.solver = _capi.enum(lib.lcae_pca_solver_from_name, solver, "solver")
    if seed is not None:
        o.seed = seed
    p, pp = _progress(progress)
    beam = _beam(ds, o.prep.center, beam_map, pp)
    f = _capi.Features()
    check(lib.lcae_features_compute(ds._h, C.byref(o), _capi.fptr(beam), pp, C.byref(f)))
    try:
        return _capi.copy_out(f.x, f.n * f.dims, np.float32).reshape(f.n, f.dims)
    finally:
        lib.lcae_features_free(C.byref(f))


# ---- models ---------------------------------------------------------------------------
_TRAIN_ENUMS = {"lr_schedule": ("constant", "onecycle"), "recon": ("l1", "mse"),
                "mask": ("disk", "none"), "interp": ("bilinear", "nearest"),
                "rot_form": ("paper", "scaled"),
                "arch": ("cae", "polar")}


class Model:
    """An autoencoder: lcae's model file (safetensors with the published PyTorch names)."""

    def __init__(self, handle, log=None):
        self._h = C.c_void_p(handle)
        self.log = log  # the training log (per-epoch losses), when trained here
        cfg = lib.lcae_model_get_config(self._h).contents
        self.input_size, self.latent = cfg.input_size, cfg.latent

    @classmethod
    def load(cls, path):
        h = C.c_void_p()
        check(lib.lcae_model_load(os.fspath(path).encode(), C.byref(h)))
        return cls(h.value)

    def save(self, path):
        check(lib.lcae_model_save(self._h, os.fspath(path).encode()))

    def encode(self, data, batch=128, beam_map=None, progress=None):
        """Latent vectors of every pattern, (ny*nx, latent) float32 in scan order."""
        ds = open(data)
        z = np.empty((ds.count, self.latent), np.float32)
        p, pp = _progress(progress)
        beam = _beam(ds, lib.lcae_model_get_meta(self._h).contents.center, beam_map, pp)
        check(lib.lcae_encode(self._h, ds._h, _capi.fptr(beam), batch, _capi.fptr(z), pp))
        return z

    def __del__(self):
        if self._h:
            lib.lcae_model_free(self._h)
            self._h = None


def _train_options(options):
    """lcae_train_options from `lcae train`'s option names (see train)."""
    o = _capi.TrainOptions()
    lib.lcae_train_defaults(C.byref(o))
    # the command line's preparation: log transform, centred on the direct beam
    options = {"transform": "log", "center": "beam", **options}
    for k, v in options.items():
        k = "lambda_" if k == "lambda" else k
        if k in ("base", "latent", "latent_ch", "angle_pool"):
            setattr(o.arch, k, v)
        elif k == "arch":
            o.arch.kind = _TRAIN_ENUMS[k].index(v) if v in _TRAIN_ENUMS[k] else -1
        elif k in _TRAIN_ENUMS:
            if v not in _TRAIN_ENUMS[k]:
                raise LcaeUsageError(f"{k}: expected {' or '.join(_TRAIN_ENUMS[k])}, found "
                                     f"'{v}'", 2)
            setattr(o, k, _TRAIN_ENUMS[k].index(v))
        elif k == "transform":
            o.transform = _capi.enum(lib.lcae_transform_from_name, v, k)
        elif k == "center":
            o.center = _capi.enum(lib.lcae_center_from_name, v, k)
        elif k in dict(_capi.TrainOptions._fields_) and k != "arch":
            setattr(o, k, v)
        else:
            raise LcaeUsageError(f"train: unknown option '{k}'", 2)
    if o.arch.kind < 0:
        raise LcaeUsageError(f"arch: expected cae or polar, found '{options['arch']}'", 2)
    return o


def train(data, path=None, beam_map=None, progress=None, **options):
    """lcae train: trains an autoencoder and returns the Model. Options as `lcae train`
    names them, with "_" for "-" (epochs, steps, batch, lr, lr_schedule, recon,
    rot_loss, rot_form, invariant_dims, lambda_, max_angle, seed, subset, bin, crop, transform,
    offset, center, exact_norm, mask, interp, base, latent, arch); lcae's defaults
    otherwise, and the command line's transform="log", center="beam" (beam_map as for
    features). `path`: where the model (and its checkpoint and log) is written; a
    temporary folder when None."""
    ds = open(data)
    o = _train_options(options)
    tmp = None
    if path is None:
        tmp = tempfile.TemporaryDirectory(prefix="lcae-")
        path = os.path.join(tmp.name, "model.safetensors")
    path = os.fspath(path)
    p, pp = _progress(progress)
    try:
        beam = _beam(ds, o.center, beam_map, pp)
        check(lib.lcae_train(ds._h, C.byref(o), _capi.fptr(beam), path.encode(), pp))
        log_path = path[:-len(".safetensors")] + ".log.json" if path.endswith(
            ".safetensors") else path + ".log.json"
        with builtins.open(log_path) as f:
            log = json.load(f)
        m = Model.load(path)
        m.log = log
        return m
    finally:
        if tmp is not None:
            tmp.cleanup()


# ---- clustering -----------------------------------------------------------------------
class HDBSCANResult:
    """What lcae.hdbscan gives: labels (n,) int32 (-1 noise; 0 the largest cluster),
    probabilities and outlier_scores (n,) float64, condensed_tree (the library's
    condensed_tree_.to_numpy(): fields parent, child, lambda_val, child_size),
    n_clusters, and labels_full with assign_noise."""

    def __repr__(self):
        return f"HDBSCANResult(n={self.labels.size}, n_clusters={self.n_clusters})"


_TREE = np.dtype([("parent", np.int64), ("child", np.int64), ("lambda_val", np.float64),
                  ("child_size", np.int64)])


def _hdbscan_params(min_cluster_size=5, min_samples=None, cluster_selection_method="eom",
                    cluster_selection_epsilon=0.0, allow_single_cluster=False, method=None,
                    epsilon=None, nonfinite="error", assign_noise=False):
    """lcae_hdbscan_params from the hdbscan library's names (see hdbscan)."""
    method = cluster_selection_method if method is None else method
    epsilon = cluster_selection_epsilon if epsilon is None else epsilon
    if method not in ("eom", "leaf"):
        raise LcaeUsageError(f"cluster_selection_method: expected eom or leaf, found "
                             f"'{method}'", 2)
    if nonfinite not in ("error", "noise"):
        raise LcaeUsageError(f"nonfinite: expected error or noise, found '{nonfinite}'", 2)
    prm = lib.lcae_hdbscan_defaults()
    prm.min_cluster_size = 0 if min_cluster_size is None else min_cluster_size
    prm.min_samples = min_samples or 0
    prm.method = int(method == "leaf")
    prm.epsilon = epsilon
    prm.allow_single_cluster = int(allow_single_cluster)
    prm.nonfinite_noise = int(nonfinite == "noise")
    prm.assign_noise = int(assign_noise)
    return prm


def hdbscan(X, min_cluster_size=5, min_samples=None, cluster_selection_method="eom",
            cluster_selection_epsilon=0.0, allow_single_cluster=False, method=None,
            epsilon=None, nonfinite="error", assign_noise=False, progress=None):
    """HDBSCAN* as hdbscan.HDBSCAN(approx_min_span_tree=False) computes it, with its
    parameter names and defaults (method= and epsilon= are short for
    cluster_selection_method= and cluster_selection_epsilon=); Euclidean, in double,
    exact. min_cluster_size=None: lcae's size for n points (lcae_min_cluster_size_for).
    nonfinite="noise" sets rows with NaN/Inf aside as noise, as the library does."""
    x = np.ascontiguousarray(X, np.float64)
    if x.ndim != 2:
        raise LcaeUsageError(f"X: expected a 2-D array (n, d) (found shape {x.shape})", 2)
    prm = _hdbscan_params(min_cluster_size, min_samples, cluster_selection_method,
                          cluster_selection_epsilon, allow_single_cluster, method, epsilon,
                          nonfinite, assign_noise)
    r = _capi.HdbscanResult()
    p, pp = _progress(progress)
    n, d = x.shape
    check(lib.lcae_hdbscan(x.ctypes.data_as(C.POINTER(C.c_double)), n, d, C.byref(prm), b"X",
                           pp, C.byref(r)))
    try:
        out = HDBSCANResult()
        out.labels = _capi.copy_out(r.labels, n, np.int32)
        out.probabilities = _capi.copy_out(r.probabilities, n, np.float64)
        out.outlier_scores = _capi.copy_out(r.outlier_scores, n, np.float64)
        out.labels_full = _capi.copy_out(r.labels_full, n, np.int32) if r.labels_full else None
        t, rows = r.tree, r.tree.rows
        out.condensed_tree = np.empty(rows, _TREE)
        for name, ptr, dt in (("parent", t.parent, np.int64), ("child", t.child, np.int64),
                              ("lambda_val", t.lambda_, np.float64),
                              ("child_size", t.child_size, np.int64)):
            out.condensed_tree[name] = _capi.copy_out(ptr, rows, dt)
        out.n_clusters = int(r.n_clusters)
        out.min_cluster_size, out.min_samples = int(r.min_cluster_size), int(r.min_samples)
        return out
    finally:
        lib.lcae_hdbscan_result_free(C.byref(r))


def score(labels, truth, region=None):
    """lcae score: ARI, AMI (with and without noise), purity, fragmentation, boundary
    recovery (with region, LCAE_REGION_* per position) of labels against a truth."""
    lab = np.ascontiguousarray(labels, np.int32).ravel()
    tru = np.ascontiguousarray(truth, np.int32).ravel()
    if lab.size != tru.size:
        raise LcaeUsageError(f"score: {lab.size} labels, {tru.size} truth values (expected "
                             "the same count)", 2)
    reg = None if region is None else np.ascontiguousarray(region, np.int32).ravel()
    if reg is not None and reg.size != lab.size:
        raise LcaeUsageError(f"score: {reg.size} region values (expected {lab.size})", 2)
    ip = C.POINTER(C.c_int32)
    s = _capi.ScoreResult()
    check(lib.lcae_score(lab.ctypes.data_as(ip), tru.ctypes.data_as(ip),
                         None if reg is None else reg.ctypes.data_as(ip), lab.size,
                         C.byref(s)))
    return {k: getattr(s, k) for k, _ in _capi.ScoreResult._fields_}


def fill_map(labels, radius=3):
    """The filled map (lcae cluster --fill-radius): labels, a (ny, nx) array of cluster
    labels (-1 noise) over the scan, with the boundaries (bands at most 2 radius pixels
    wide) and the noise given to the regions around them. Returns (filled (ny, nx) int32,
    {"regions": regions kept, "filled": positions changed})."""
    lab = np.ascontiguousarray(labels, np.int32)
    if lab.ndim != 2:
        raise LcaeUsageError(f"fill_map: expected a 2-D label map (ny, nx), found {lab.ndim} "
                             "dimensions", 2)
    out = np.empty_like(lab)
    s = _capi.FillSummary()
    ip = C.POINTER(C.c_int32)
    check(lib.lcae_fill_map(lab.ctypes.data_as(ip), lab.shape[0], lab.shape[1], radius,
                            out.ctypes.data_as(ip), C.byref(s)))
    return out, {"regions": s.regions, "filled": s.filled}


# ---- the built-in sample ------------------------------------------------------------
def simulate(out_dir, preset="default", progress=None, **params):
    """lcae simulate: writes the built-in sample (a simulated polycrystal, EMPAD format)
    and its truth into out_dir; returns (scan path, truth dict of (ny, nx) int32 arrays
    class, region, grain). params override the preset: ny, nx, det, grains, dose, seed,
    boundary_width, step_nm, ... (lcae/sim.h's names)."""
    sp = _capi.SimParams()
    check(lib.lcae_sim_preset(str(preset).encode(), C.byref(sp)))
    names = dict(_capi.SimParams._fields_)
    for k, v in params.items():
        if k not in names:
            raise LcaeUsageError(f"simulate: unknown parameter '{k}'", 2)
        setattr(sp, k, v)
    out_dir = os.fspath(out_dir)
    os.makedirs(out_dir, exist_ok=True)
    p, pp = _progress(progress)
    check(lib.lcae_simulate(C.byref(sp), out_dir.encode(), pp))
    buf = C.create_string_buffer(256)
    scan = os.path.join(out_dir, lib.lcae_sim_scan_name(C.byref(sp), buf, 256).decode())
    truth = {k: np.load(os.path.join(out_dir, f"truth_{k}.npy"))
             for k in ("class", "region", "grain")}
    return scan, truth


# ---- the whole experiment -----------------------------------------------------------
def run(out_dir, data=None, truth_dir=None, sample=None, train=None, hdbscan=None,
        invariant_bin=0, invariant_steps=0, invariant_restarts=0, restart_choice="agreement",
        restart_positions=0, cluster_on="all", smooth="off", smooth_size=3,
        fill_radius=0,
        encode_batch=128,
        force=False, figure_format="png,pdf", beam_map=None, progress=None, **open_options):
    """lcae run: statistics, both autoencoders, the polar and PCA features, HDBSCAN, scores
    and the report in the run directory out_dir, resumable as the command line's. data:
    a scan file (open_options as lcae.open takes them for files), or None for the built-in
    sample (`sample`: lcae.simulate's parameters). train: lcae.train's options for both
    models, hdbscan: lcae.hdbscan's (min_cluster_size None or absent: scaled with the
    positions); invariant_bin, invariant_steps, invariant_restarts: the rotation-invariant
    model's binning, optimizer steps and restarts (0: train's); restart_choice: which
    restart a model trained with restarts keeps, "agreement" or "loss" (lcae run
    --restart-choice); restart_positions: the agreement reads a sub-grid of at most this
    many positions (lcae run --restart-positions; 0: every position); smooth:
    off, auto or on, smooth_size: the feature maps' smoothing before clustering (lcae
    cluster --smooth, --smooth-size); fill_radius: also the filled maps (lcae cluster
    --fill-radius; 0: none). The
    command line's presets are not applied here: without options this is
    `lcae train`'s and `lcae cluster`'s defaults (the paper's model, 10 epochs); the cpu
    preset's recipe is docs/model.md's (docs/python.py passes it). Returns run.json."""
    o = _capi.RunOptions()
    if data is not None:
        o.data = os.fspath(data).encode()
        ds = open(data, **open_options)  # a bad scan fails here, before any work
        ds.close()
        o.open = _open_options(**open_options)
    elif open_options:
        raise LcaeUsageError(f"run: {sorted(open_options)[0]}: only for a given scan (data)", 2)
    if truth_dir is not None:
        o.truth_dir = os.fspath(truth_dir).encode()
    check(lib.lcae_sim_preset(b"default", C.byref(o.sim)))
    for k, v in (sample or {}).items():
        if k not in dict(_capi.SimParams._fields_):
            raise LcaeUsageError(f"run: unknown sample parameter '{k}'", 2)
        setattr(o.sim, k, v)
    check(lib.lcae_sim_check(C.byref(o.sim)))
    o.train = _train_options(train or {})
    hd = {"min_cluster_size": None, **(hdbscan or {})}
    o.hdbscan = _hdbscan_params(**hd)
    if cluster_on not in ("all", "invariant"):
        raise LcaeUsageError(f"cluster_on: expected all or invariant, found '{cluster_on}'", 2)
    o.cluster_on_invariant = int(cluster_on == "invariant")
    modes = ("off", "auto", "on")
    if smooth not in modes:
        raise LcaeUsageError(f"smooth: expected off, auto or on, found '{smooth}'", 2)
    o.smooth.mode, o.smooth.size = modes.index(smooth), smooth_size  # threshold 0: lcae's
    o.smooth.fill_radius = fill_radius
    o.invariant_bin, o.invariant_steps = invariant_bin, invariant_steps
    o.invariant_restarts = invariant_restarts
    choices = ("loss", "agreement")
    if restart_choice not in choices:
        raise LcaeUsageError(f"restart_choice: expected loss or agreement, found "
                             f"'{restart_choice}'", 2)
    o.restart_choice = choices.index(restart_choice)
    o.restart_positions = restart_positions
    o.encode_batch, o.force, o.preset = encode_batch, int(force), b"python"
    if beam_map is not None:
        o.beam_map = os.fspath(beam_map).encode()
    f = C.c_uint()
    check(lib.lcae_figure_formats_parse(figure_format.encode(), C.byref(f)))
    o.figure_formats = f.value
    out_dir = os.fspath(out_dir)
    p, pp = _progress(progress)
    check(lib.lcae_run(C.byref(o), out_dir.encode(), pp))
    with builtins.open(os.path.join(out_dir, "run.json")) as fh:
        return json.load(fh)
