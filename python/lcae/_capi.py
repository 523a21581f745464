"""liblcae through ctypes: the library, the C structures of include/lcae/*.h, errors and
progress. The structures mirror the headers field by field (same order, same C types),
so ctypes lays them out as the C compiler does; tests/python/test_lcae.py checks every
stage against the command line, which would catch a drifted field."""
import ctypes as C
import os

import numpy as np

i32, i64, u64, dbl = C.c_int, C.c_int64, C.c_uint64, C.c_double
P = C.POINTER

LCAE_OK, LCAE_EFAIL, LCAE_EUSAGE, LCAE_ENOMEM = 0, 1, 2, 3


class LcaeError(RuntimeError):
    """A failure inside liblcae; the message is lcae's one line ("FILE: what (expected
    ..., found ...)"), `code` its status (1 failure, 2 misuse, 3 out of memory)."""

    def __init__(self, message, code=LCAE_EFAIL):
        super().__init__(message)
        self.code = code


class LcaeUsageError(LcaeError, ValueError):
    """The call asked for something that makes no sense (lcae's exit status 2)."""


def _find_library():
    """LCAE_LIBRARY, else liblcae.so installed beside this package, else the build
    folder of the source tree this package sits in (python/ beside build/)."""
    here = os.path.dirname(os.path.abspath(__file__))
    candidates = [os.environ.get("LCAE_LIBRARY"), os.path.join(here, "liblcae.so"),
                  os.path.join(here, "..", "..", "build", "liblcae.so")]
    for c in candidates:
        if c and os.path.exists(c):
            return c
    raise ImportError("lcae: liblcae.so not found (set LCAE_LIBRARY, or build it with "
                      "`make build` and `make python`); looked in: "
                      + ", ".join(c for c in candidates if c))


lib = C.CDLL(_find_library())


# ---- core.h -----------------------------------------------------------------------
BEGIN = C.CFUNCTYPE(None, C.c_void_p, C.c_char_p, i64, C.c_char_p)
UPDATE = C.CFUNCTYPE(None, C.c_void_p, i64, C.c_char_p)
END = C.CFUNCTYPE(None, C.c_void_p, C.c_char_p)


class Progress(C.Structure):
    _fields_ = [("begin", BEGIN), ("update", UPDATE), ("end", END), ("ctx", C.c_void_p)]


lib.lcae_last_error.restype = C.c_char_p
lib.lcae_version.restype = C.c_char_p


def check(rc):
    """Raises the exception for a status, with lcae's message."""
    if rc == LCAE_OK:
        return
    msg = lib.lcae_last_error().decode("utf-8", "replace")
    if rc == LCAE_ENOMEM:
        raise MemoryError(msg)
    raise (LcaeUsageError if rc == LCAE_EUSAGE else LcaeError)(msg, rc)


# ---- io.h -------------------------------------------------------------------------
class OpenOptions(C.Structure):
    _fields_ = [("format", i32), ("scan_ny", i64), ("scan_nx", i64), ("det_h", i64),
                ("det_w", i64), ("dtype", i32), ("big_endian", i32), ("header_bytes", i64),
                ("frame_header_bytes", i64), ("frame_footer_bytes", i64)]


class DatasetInfo(C.Structure):
    _fields_ = [("format", i32), ("ny", i64), ("nx", i64), ("h", i64), ("w", i64),
                ("dtype", i32), ("file_bytes", i64), ("count", i64)]


lib.lcae_dataset_open.argtypes = [C.c_char_p, P(OpenOptions), P(C.c_void_p)]
lib.lcae_dataset_from_memory.argtypes = [C.c_void_p, i32, i64, i64, i64, i64, C.c_char_p,
                                         P(C.c_void_p)]
lib.lcae_dataset_close.argtypes = [C.c_void_p]
lib.lcae_dataset_get_info.argtypes = [C.c_void_p]
lib.lcae_dataset_get_info.restype = P(DatasetInfo)
lib.lcae_dataset_read.argtypes = [C.c_void_p, i64, i64, P(C.c_float)]
lib.lcae_dtype_name.restype = C.c_char_p
lib.lcae_dtype_from_name.argtypes = [C.c_char_p]
lib.lcae_format_from_name.argtypes = [C.c_char_p]
lib.lcae_format_name.restype = C.c_char_p


# ---- prep.h, features.h -----------------------------------------------------------
class Prep(C.Structure):
    _fields_ = [("crop", i32), ("bin", i32), ("center", i32), ("transform", i32),
                ("offset", dbl), ("median", dbl), ("scale", dbl), ("norm", i32)]


class PolarParams(C.Structure):
    _fields_ = [("r0", i32), ("r1", i32), ("orders", i32), ("n_theta", i32)]


class FeaturesOptions(C.Structure):
    _fields_ = [("method", i32), ("prep", Prep), ("dims", i32), ("polar", PolarParams),
                ("standardize", i32), ("solver", i32), ("power_iters", i32), ("seed", u64)]


class Features(C.Structure):
    # lcae_features: only the leading fields are read here; the rest (the options used,
    # the PCA) is room that lcae_features_compute fills and lcae_features_free releases
    _fields_ = [("n", i64), ("dims", i32), ("x", P(C.c_float)), ("_rest", C.c_byte * 4096)]


lib.lcae_features_defaults.argtypes = [i32]
lib.lcae_features_defaults.restype = FeaturesOptions
lib.lcae_features_method_from_name.argtypes = [C.c_char_p]
lib.lcae_transform_from_name.argtypes = [C.c_char_p]
lib.lcae_center_from_name.argtypes = [C.c_char_p]
lib.lcae_pca_solver_from_name.argtypes = [C.c_char_p]
lib.lcae_features_compute.argtypes = [C.c_void_p, P(FeaturesOptions), P(C.c_float),
                                      P(Progress), P(Features)]
lib.lcae_features_free.argtypes = [P(Features)]
lib.lcae_prep_beam_map.argtypes = [C.c_void_p, C.c_char_p, P(Progress), P(P(C.c_float))]
libc = C.CDLL(None)
libc.free.argtypes = [C.c_void_p]


# ---- stats.h ----------------------------------------------------------------------
class StatsOptions(C.Structure):
    _fields_ = [("exact", i32), ("sample_size", i64), ("seed", u64), ("virtual_images", i32),
                ("refuse_nonfinite", i32), ("prepare", C.c_void_p), ("prepare_ctx", C.c_void_p),
                ("prepared_px", i64)]


class Stats(C.Structure):
    _fields_ = [("median", dbl), ("p16", dbl), ("p84", dbl), ("sigma68", dbl), ("min", dbl),
                ("max", dbl), ("mean", dbl), ("std", dbl), ("scale", dbl), ("norm", i32),
                ("pixels", i64), ("nonfinite", i64), ("first_nonfinite", i64), ("exact", i32),
                ("sample_size", i64), ("seed", u64), ("median_se", dbl), ("sigma68_se", dbl),
                ("sum", P(C.c_float)), ("variance", P(C.c_float)),
                ("mean_pattern", P(C.c_float))]


lib.lcae_stats_compute.argtypes = [C.c_void_p, P(StatsOptions), P(Progress), P(Stats)]
lib.lcae_stats_free.argtypes = [P(Stats)]


# ---- model.h ----------------------------------------------------------------------
class ModelConfig(C.Structure):
    _fields_ = [("input_size", i32), ("base", i32), ("latent_ch", i32), ("latent", i32),
                ("kind", i32), ("invariant", i32), ("angle_pool", i32)]


class TrainOptions(C.Structure):
    _fields_ = [("arch", ModelConfig), ("epochs", i32), ("steps", i64), ("batch", i32),
                ("lr", dbl), ("lr_schedule", i32), ("recon", i32), ("rot_loss", i32),
                ("rot_form", i32), ("invariant_dims", i32), ("lambda_", dbl), ("max_angle", dbl), ("seed", u64),
                ("subset", i64), ("bin", i32), ("crop", i32), ("transform", i32),
                ("offset", dbl), ("center", i32), ("exact_norm", i32), ("mask", i32),
                ("interp", i32), ("restarts", i32), ("resume", i32)]


lib.lcae_train_defaults.argtypes = [P(TrainOptions)]
lib.lcae_train.argtypes = [C.c_void_p, P(TrainOptions), P(C.c_float), C.c_char_p, P(Progress)]
lib.lcae_model_load.argtypes = [C.c_char_p, P(C.c_void_p)]
lib.lcae_model_save.argtypes = [C.c_void_p, C.c_char_p]
lib.lcae_model_free.argtypes = [C.c_void_p]
lib.lcae_model_get_config.argtypes = [C.c_void_p]
lib.lcae_model_get_config.restype = P(ModelConfig)
# lcae_model_meta begins with its lcae_prep: only that is read here
lib.lcae_model_get_meta.argtypes = [C.c_void_p]
lib.lcae_model_get_meta.restype = P(Prep)
lib.lcae_encode.argtypes = [C.c_void_p, C.c_void_p, P(C.c_float), i32, P(C.c_float),
                            P(Progress)]


# ---- cluster.h --------------------------------------------------------------------
class HdbscanParams(C.Structure):
    _fields_ = [("min_cluster_size", i64), ("min_samples", i64), ("method", i32),
                ("epsilon", dbl), ("allow_single_cluster", i32), ("nonfinite_noise", i32),
                ("assign_noise", i32)]


class CondensedTree(C.Structure):
    _fields_ = [("rows", i64), ("parent", P(i64)), ("child", P(i64)), ("child_size", P(i64)),
                ("lambda_", P(dbl))]


class HdbscanResult(C.Structure):
    _fields_ = [("n", i64), ("min_cluster_size", i64), ("min_samples", i64),
                ("n_clusters", i64), ("n_nonfinite", i64), ("labels", P(C.c_int32)),
                ("probabilities", P(dbl)), ("outlier_scores", P(dbl)),
                ("labels_full", P(C.c_int32)), ("tree", CondensedTree),
                ("cluster_node", P(i64))]


lib.lcae_hdbscan_defaults.restype = HdbscanParams
lib.lcae_min_cluster_size_for.argtypes = [i64]
lib.lcae_min_cluster_size_for.restype = i64
lib.lcae_hdbscan.argtypes = [P(dbl), i64, i64, P(HdbscanParams), C.c_char_p, P(Progress),
                             P(HdbscanResult)]
lib.lcae_hdbscan_result_free.argtypes = [P(HdbscanResult)]


# ---- sim.h, score.h ------------------------------------------------------------------------
class SimParams(C.Structure):
    _fields_ = [("ny", i64), ("nx", i64), ("det", i32), ("grains", i32),
                ("boundary_width", dbl), ("dose", dbl), ("seed", u64), ("kv", dbl),
                ("camera_length_mm", dbl), ("pixel_um", dbl), ("convergence_mrad", dbl),
                ("step_nm", dbl), ("thickness_nm", dbl), ("thickness_var", dbl),
                ("bend_deg", dbl), ("tilt_deg", dbl), ("general", i32), ("counting", i32),
                ("drift_px", dbl), ("psf_px", dbl), ("gain", dbl), ("gain_spread", dbl),
                ("offset", dbl), ("readout_noise", dbl), ("hot_pixels", i32),
                ("outlier_rate", dbl), ("batch", i32), ("format", i32)]


class ScoreResult(C.Structure):
    _fields_ = [("n", i64), ("clusters", i32), ("classes", i32), ("noise_fraction", dbl),
                ("ari", dbl), ("ami", dbl), ("ari_no_noise", dbl), ("ami_no_noise", dbl),
                ("fragmentation", dbl), ("purity", dbl), ("boundary_recovery", dbl),
                ("has_region", i32)]


lib.lcae_sim_preset.argtypes = [C.c_char_p, P(SimParams)]
lib.lcae_simulate.argtypes = [P(SimParams), C.c_char_p, P(Progress)]
lib.lcae_sim_scan_name.argtypes = [P(SimParams), C.c_char_p, C.c_size_t]
lib.lcae_sim_scan_name.restype = C.c_char_p
class SmoothParams(C.Structure):
    _fields_ = [("mode", i32), ("ny", i64), ("nx", i64), ("size", i32), ("auto_threshold", dbl),
                ("fill_radius", i32)]


class FillSummary(C.Structure):
    _fields_ = [("regions", i64), ("filled", i64)]


class RunOptions(C.Structure):
    _fields_ = [("data", C.c_char_p), ("open", OpenOptions), ("truth_dir", C.c_char_p),
                ("sim", SimParams), ("train", TrainOptions), ("invariant_bin", i32),
                ("invariant_steps", i64), ("invariant_restarts", i32),
                ("restart_choice", i32), ("restart_positions", i64), ("beam_map", C.c_char_p),
                ("hdbscan", HdbscanParams), ("cluster_on_invariant", i32),
                ("smooth", SmoothParams),
                ("encode_batch", i32), ("force", i32), ("preset", C.c_char_p),
                ("figure_formats", C.c_uint)]


lib.lcae_run.argtypes = [P(RunOptions), C.c_char_p, P(Progress)]
lib.lcae_figure_formats_parse.argtypes = [C.c_char_p, P(C.c_uint)]
lib.lcae_sim_check.argtypes = [P(SimParams)]
lib.lcae_score.argtypes = [P(C.c_int32), P(C.c_int32), P(C.c_int32), i64, P(ScoreResult)]
lib.lcae_fill_map.argtypes = [P(C.c_int32), i64, i64, i32, P(C.c_int32), P(FillSummary)]


def fptr(a):
    """A float32 C-contiguous array's data as float* (None stays NULL)."""
    return None if a is None else a.ctypes.data_as(P(C.c_float))


def enum(from_name, value, what):
    """An enum's value from its lcae name (as the CLI spells it)."""
    v = from_name(str(value).encode())
    if v < 0:
        raise LcaeUsageError(f"{what}: unknown value '{value}'", LCAE_EUSAGE)
    return v


def copy_out(ptr, n, dtype):
    """A numpy copy of n elements behind a C pointer (the C side frees its own)."""
    if not ptr or n == 0:
        return np.zeros(0, dtype)
    return np.ctypeslib.as_array(ptr, shape=(int(n),)).astype(dtype, copy=True)
