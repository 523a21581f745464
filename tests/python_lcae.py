"""The Python package (python/lcae) against the lcae command line, the hdbscan library's
recorded answers (tests/fixtures/shared) and scikit-learn: run by ctest with Debian's
/usr/bin/python3, LCAE_LIBRARY (the built liblcae.so) and LCAE_BIN (the lcae program).
Exit 77 (skip) when numpy is missing, except under CI, where that fails."""
import json
import os
import subprocess
import sys
import tempfile

ci = os.environ.get("CI", "") not in ("", "false")
try:
    import numpy as np
except ImportError:
    print("python_lcae: numpy missing (apt-get install python3-numpy)", file=sys.stderr)
    sys.exit(1 if ci else 77)

sys.path.insert(0, os.path.join(os.environ["LCAE_SOURCE_DIR"], "python"))
import lcae  # noqa: E402

LCAE = os.environ["LCAE_BIN"]
SHARED = os.environ["LCAE_SHARED_DIR"]
failed = checks = 0


def check(ok, what):
    global failed, checks
    checks += 1
    if not ok:
        failed += 1
        print(f"FAIL: {what}", file=sys.stderr)


def cli(*args):
    r = subprocess.run([LCAE, *map(str, args), "-q"], capture_output=True, text=True)
    if r.returncode:
        raise RuntimeError(f"lcae {' '.join(map(str, args))}: {r.stderr}")


def ari(a, b):
    """Adjusted Rand index from the contingency table (Hubert and Arabie)."""
    _, ia = np.unique(a, return_inverse=True)
    _, ib = np.unique(b, return_inverse=True)
    t = np.zeros((ia.max() + 1, ib.max() + 1))
    np.add.at(t, (ia, ib), 1)
    c2 = lambda v: (v * (v - 1) / 2).sum()  # noqa: E731
    s, sa, sb, n = c2(t), c2(t.sum(1)), c2(t.sum(0)), c2(np.array([a.size]))
    e = sa * sb / n
    return (s - e) / ((sa + sb) / 2 - e)


tmpdir = tempfile.TemporaryDirectory(prefix="lcae-python-")
tmp = tmpdir.name

# ---- lcae.hdbscan equals lcae cluster on the fixtures, label for label -----------------
fx = os.path.join(SHARED, "fixtures", "hdbscan")
index = json.load(open(os.path.join(fx, "index.json")))
done = 0
for e in index:
    X = np.load(os.path.join(fx, e["features"]))
    if X.shape[0] > 20000:  # the largest sets are the C test's (tests/test_cluster.c)
        continue
    prm = e["params"]
    kw = {k: prm[k] for k in ("min_cluster_size", "min_samples", "cluster_selection_method",
                               "cluster_selection_epsilon", "allow_single_cluster") if k in prm}
    r = lcae.hdbscan(X, **kw, progress=False)
    args = [os.path.join(fx, e["features"]), "-o", f"{tmp}/l.npy", "--probabilities",
            f"{tmp}/p.npy", "--outlier-scores", f"{tmp}/s.npy", "--tree", f"{tmp}/t.npy",
            "--min-cluster-size", prm["min_cluster_size"]]
    flags = {"min_samples": "--min-samples", "cluster_selection_method": "--method",
             "cluster_selection_epsilon": "--epsilon"}
    for k, f in flags.items():
        if k in prm:
            args += [f, prm[k]]
    if prm.get("allow_single_cluster"):
        args.append("--allow-single-cluster")
    cli("cluster", *args)
    name = f"{e['features']} {prm}"
    check(np.array_equal(r.labels, np.load(f"{tmp}/l.npy")), f"{name}: labels differ from lcae cluster")
    # the command line writes float32
    check(np.array_equal(r.probabilities.astype(np.float32), np.load(f"{tmp}/p.npy")),
          f"{name}: probabilities differ")
    check(np.array_equal(r.outlier_scores.astype(np.float32), np.load(f"{tmp}/s.npy")),
          f"{name}: outlier scores differ")
    t = np.load(f"{tmp}/t.npy")
    check(t.shape == (r.condensed_tree.size, 4) and
          np.array_equal(t[:, 0], r.condensed_tree["parent"]) and
          np.array_equal(t[:, 1], r.condensed_tree["child"]) and
          np.array_equal(t[:, 2], r.condensed_tree["lambda_val"]) and
          np.array_equal(t[:, 3], r.condensed_tree["child_size"]), f"{name}: condensed tree differs")
    # and the library's own exact answer: the same partition up to tie-ambiguous points
    lib = np.load(os.path.join(fx, e["exact"]["labels"]))
    a = ari(r.labels, lib)
    check(a > 0.995 and r.n_clusters == e["exact"]["clusters"],
          f"{name}: ARI {a} against the hdbscan library, {r.n_clusters} clusters")
    done += 1
check(done >= 5, f"only {done} fixtures compared")

# parameters and errors
rng = np.random.default_rng(1)
X = np.concatenate([rng.normal(0, 0.3, (200, 3)), rng.normal(5, 0.3, (200, 3))])
r = lcae.hdbscan(X, min_cluster_size=20, method="leaf", epsilon=0.5, progress=False)
np.save(f"{tmp}/x.npy", X)
cli("cluster", f"{tmp}/x.npy", "-o", f"{tmp}/l.npy", "--min-cluster-size", 20, "--method", "leaf",
    "--epsilon", 0.5)
check(np.array_equal(r.labels, np.load(f"{tmp}/l.npy")), "leaf/epsilon labels differ")
r = lcae.hdbscan(X, min_cluster_size=20, assign_noise=True, progress=False)
check(r.labels_full is not None and (r.labels_full >= 0).all(), "assign_noise")
Xn = X.copy()
Xn[3, 1] = np.nan
try:
    lcae.hdbscan(Xn, min_cluster_size=20, progress=False)
    check(False, "NaN accepted")
except lcae.LcaeError as err:
    check("X: row 3 has a NaN" in str(err) and err.code == 1, f"NaN message: {err}")
r = lcae.hdbscan(Xn, min_cluster_size=20, nonfinite="noise", progress=False)
check(r.labels[3] == -1 and r.outlier_scores[3] == 1, "nonfinite noise")
try:
    lcae.hdbscan(X, min_cluster_size=1, progress=False)
    check(False, "min_cluster_size 1 accepted")
except lcae.LcaeUsageError as err:
    check(isinstance(err, ValueError) and err.code == 2, f"usage error: {err}")

# ---- datasets: a file and a numpy array read the same, indexing as numpy's ----------
A = rng.integers(0, 1000, (6, 5, 16, 16)).astype(np.uint16)
np.save(f"{tmp}/scan.npy", A)
with lcae.open(f"{tmp}/scan.npy") as ds:
    check(ds.shape == A.shape and ds.dtype == np.uint16 and ds.format == "npy",
          f"file dataset {ds!r}")
    for key in [(2, 3), (slice(1, 4), 2), (1,), (slice(None), slice(None, None, 2), 3, slice(4, 9)),
                (np.array([4, 0, 1]), 1)]:
        check(np.array_equal(ds[key], A[key].astype(np.float32)), f"ds[{key}]")
    batches = list(ds.iter_batches(7))
    check([b[0] for b in batches] == [0, 7, 14, 21, 28] and
          np.array_equal(np.concatenate([b[1] for b in batches]), A.reshape(30, 16, 16)),
          "iter_batches")
for arr in (A, A.astype(">u2"), np.asfortranarray(A), A.astype(np.float64)):
    ds = lcae.open(arr)
    check(ds.shape == A.shape and np.array_equal(ds[:, :], A.astype(np.float32)),
          f"array dataset {arr.dtype} {arr.flags['C_CONTIGUOUS']}")
ds = lcae.open(A.reshape(30, 16, 16), scan=(6, 5))
check(ds.shape == A.shape, "(n, h, w) with scan")
for bad, exc, msg in ((np.zeros((2, 0, 4, 4)), lcae.LcaeError, "implausible shape"),
                      (np.zeros((2, 4, 4)), lcae.LcaeUsageError, "scan=(ny, nx)"),
                      (np.zeros((1, 1, 2, 2), np.complex64), lcae.LcaeUsageError, "complex64")):
    try:
        lcae.open(bad)
        check(False, f"{bad.shape} {bad.dtype} accepted")
    except exc as err:
        check(msg in str(err), f"{bad.shape} {bad.dtype}: {err}")
try:
    lcae.open(f"{tmp}/missing.npy")
    check(False, "missing file opened")
except lcae.LcaeError as err:
    check(f"{tmp}/missing.npy: cannot open" in str(err), f"missing file: {err}")

# ---- features and statistics of an array equal lcae features / stats of the file -----
S = rng.poisson(3, (8, 8, 32, 32)).astype(np.float32)
S[:, :, 14:18, 14:18] += 200
np.save(f"{tmp}/s.npy", S)
for method in ("polar", "pca"):
    events = []
    F = lcae.features(S, method=method, bin=2, progress=lambda *a: events.append(a))
    cli("features", f"{tmp}/s.npy", "--method", method, "--bin", 2, "-o", f"{tmp}/f.npy")
    check(np.array_equal(F, np.load(f"{tmp}/f.npy")), f"features {method} differ from the CLI")
    check(events and events[-1][1] == events[-1][2] and events[-1][2] > 0,
          f"progress events {events[:1]} .. {events[-1:]}")
st = lcae.stats(S, progress=False)
cli("stats", f"{tmp}/s.npy", "-o", f"{tmp}/stats")
sj = json.load(open(f"{tmp}/stats/stats.json"))
check(abs(st["median"] - sj["median"]) <= 1e-6 * abs(sj["median"]) + 1e-12,
      f"median {st['median']} vs {sj['median']}")
check(np.array_equal(st["variance"], np.load(f"{tmp}/stats/variance.npy")), "variance map")
check(np.allclose(st["mean_pattern"], S.mean(axis=(0, 1)), rtol=1e-5), "mean pattern vs numpy")

# ---- score against scikit-learn ---------------------------------------------------------
lab = rng.integers(-1, 4, 500)
tru = rng.integers(0, 3, 500)
s = lcae.score(lab, tru)
try:
    from sklearn.metrics import adjusted_mutual_info_score, adjusted_rand_score
    check(abs(s["ari"] - adjusted_rand_score(tru, lab)) < 1e-12, "ARI vs sklearn")
    check(abs(s["ami"] - adjusted_mutual_info_score(tru, lab)) < 1e-9, "AMI vs sklearn")
except ImportError:
    check(not ci, "scikit-learn missing (python3-sklearn)")
    check(abs(s["ari"] - ari(tru, lab)) < 1e-12, "ARI vs the contingency table")

# ---- fill_map against numpy/scipy (tools/fill_reference.py) on its fixture -------------
sys.path.insert(0, os.path.join(os.environ["LCAE_SOURCE_DIR"], "tools"))
try:
    from fill_reference import fill
    fmap = np.load(os.path.join(os.environ["LCAE_SOURCE_DIR"], "tests", "fixtures", "fill", "map.npy")).reshape(40, 56)
    got, info = lcae.fill_map(fmap, radius=2)
    want, regions = fill(fmap, 2)
    check(np.array_equal(got, want) and info["regions"] == regions, "fill_map vs scipy")
except ImportError:
    check(not ci, "scipy missing (python3-scipy)")
try:
    lcae.fill_map(np.zeros(5, np.int32))
    check(False, "fill_map of a 1-D array accepted")
except lcae.LcaeUsageError as err:
    check("2-D" in str(err), f"fill_map 1-D: {err}")

# ---- train and encode: the model file and the latents as the CLI's -------------------
m = lcae.train(S, path=f"{tmp}/m.safetensors", bin=2, base=2, steps=8, batch=16, seed=3,
               progress=False)
check(m.latent == 16 and m.input_size == 16 and len(m.log["epochs"]) >= 1, "trained model")
z = m.encode(S, progress=False)
cli("encode", f"{tmp}/s.npy", "-m", f"{tmp}/m.safetensors", "-o", f"{tmp}/z.npy")
check(np.array_equal(z, np.load(f"{tmp}/z.npy")), "encode differs from lcae encode")
m.save(f"{tmp}/m2.safetensors")
check(np.array_equal(lcae.Model.load(f"{tmp}/m2.safetensors").encode(S, progress=False), z),
      "save/load round trip")
try:
    lcae.train(S, bin=3, steps=8, progress=False)
    check(False, "bin 3 accepted")
except lcae.LcaeError as err:
    check("bin" in str(err), f"bin 3: {err}")

# ---- lcae.run: the command line's run on the tiny sample, the same labels ------------
model = dict(bin=2, base=2, steps=8, subset=64, batch=16)
# the cpu preset's settings beyond what is given (lcae run applies them; lcae.run does not)
recipe = dict(lr=2e-3, lr_schedule="onecycle", recon="mse", arch="polar", angle_pool=4)
rj = lcae.run(f"{tmp}/py-run", sample=dict(ny=16, nx=16, det=32, grains=4),
              train={**model, **recipe}, invariant_bin=1, invariant_restarts=3,
              cluster_on="invariant", smooth="auto",
              fill_radius=3,
              hdbscan=dict(min_cluster_size=8, assign_noise=True), encode_batch=64,
              figure_format="png,svg", progress=False)
check(set(rj["stages"]) >= {"stats", "report"}, f"run.json stages {sorted(rj['stages'])}")
cli("run", "-o", f"{tmp}/cli-run", "--sample-scan", 16, "--sample-det", 32, "--sample-grains", 4,
    *[a for k, v in model.items() for a in (f"--{k}", v)], "--invariant-bin", 1,
    "--min-cluster-size", 8, "--encode-batch", 64)
for src in ("standard", "invariant", "polar", "pca"):
    for f in ("labels", "labels_full", "labels_filled"):
        a, b = (np.load(f"{tmp}/{d}/{src}/{f}.npy") for d in ("py-run", "cli-run"))
        check(np.array_equal(a, b), f"run: {src} {f} differ from lcae run's")
check(os.path.exists(f"{tmp}/py-run/report/fig1_cluster_maps.svg") and
      not os.path.exists(f"{tmp}/py-run/report/fig1_cluster_maps.pdf") and
      os.path.exists(f"{tmp}/cli-run/report/fig1_cluster_maps.pdf"), "figure formats of the runs")

tmpdir.cleanup()
print(f"python_lcae: {checks} checks, {failed} failed")
sys.exit(1 if failed else 0)
