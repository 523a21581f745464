# %% [markdown]
# # lcae from Python: the built-in sample, end to end
#
# A notebook-style script (cells marked `# %%`, as Jupyter's jupytext and VS Code read
# them): it writes the built-in sample, opens it, computes features that need no
# training, trains a small autoencoder, encodes every pattern, clusters with HDBSCAN,
# scores against the sample's truth and plots the maps with matplotlib when it is
# installed. Run it with the package on the path and liblcae.so built:
#
#     make build && PYTHONPATH=python /usr/bin/python3 docs/python.py [OUT_DIR]
#
# `make test` runs it (ctest's py_python) with LCAE_DOC_SMALL=1: a 32 x 32 scan of 64 x 64
# patterns and a few training steps instead of the full 128 x 128 sample and the cpu
# preset's 1,500 steps.
import os
import sys
import tempfile

try:
    import numpy as np
except ImportError:
    print("docs/python.py: numpy missing (apt-get install python3-numpy)", file=sys.stderr)
    sys.exit(1 if os.environ.get("CI", "") not in ("", "false") else 77)
import lcae

small = os.environ.get("LCAE_DOC_SMALL") == "1"
# OUT_DIR keeps the sample, the model and the plot; without it they go when the script ends
tmp = None if len(sys.argv) > 1 else tempfile.TemporaryDirectory(prefix="lcae-notebook-")
out = sys.argv[1] if tmp is None else tmp.name
os.makedirs(out, exist_ok=True)
print(f"lcae {lcae.version()}, writing to {out}")

# %% [markdown]
# ## The built-in sample
# A simulated polycrystal (aluminium and iron grains at several zone axes, boundaries, an
# amorphous grain, Poisson noise, detector defects, descan drift) with its truth.
sample = dict(ny=32, nx=32, det=64, grains=4) if small else {}
scan, truth = lcae.simulate(os.path.join(out, "sample"), **sample)
ds = lcae.open(scan)
print(ds, "truth classes:", np.unique(truth["class"]).size)
ny, nx, h, w = ds.shape

# %% [markdown]
# ## Statistics and a virtual image
st = lcae.stats(ds)
print(f"median {st['median']:.3g}, sigma68 {st['sigma68']:.3g}")
pattern = ds[ny // 2, nx // 2]  # one diffraction pattern, (h, w) float32
assert pattern.shape == (h, w)

# %% [markdown]
# ## Features that need no training, clustered
# Angular Fourier magnitudes about the beam (rotation-invariant: finds classes) and
# HDBSCAN with the hdbscan library's parameter names; min_cluster_size=None takes lcae's
# size for the number of positions.
F = lcae.features(ds, method="polar")
polar = lcae.hdbscan(F, min_cluster_size=None)
s = lcae.score(polar.labels, truth["class"], truth["region"])
print(f"polar: {polar.n_clusters} clusters, class ARI {s['ari']:.2f}")

# %% [markdown]
# ## An autoencoder, trained and used
# The cpu preset's rotation-invariant model (docs/model.md): the polar autoencoder (the
# power mean of order 4 over the angle) on patterns binned to 64 x 64, base width 8, MSE,
# one-cycle learning rate up to 2e-3, 1,500 steps of 32; clustered on its 10 invariant
# features.
recipe = dict(arch="polar", angle_pool=4, bin=2, base=8, recon="mse", lr=2e-3,
              lr_schedule="onecycle", batch=32, steps=1500)
if small:
    recipe.update(base=2, steps=8, batch=16, subset=64)
model = lcae.train(ds, path=os.path.join(out, "model.safetensors"), **recipe)
z = model.encode(ds)
print(f"latent {z.shape}, last epoch loss {model.log['epochs'][-1]['loss']:.4g}")
latent = lcae.hdbscan(z[:, :10], min_cluster_size=None)
s2 = lcae.score(latent.labels, truth["class"], truth["region"])
print(f"polar autoencoder (invariant features): {latent.n_clusters} clusters, class ARI {s2['ari']:.2f}")

# %% [markdown]
# ## The maps
try:
    import matplotlib

    matplotlib.use(os.environ.get("MPLBACKEND", "Agg"))
    import matplotlib.pyplot as plt
except ImportError:
    plt = None
    print("matplotlib not installed: no plot (apt-get install python3-matplotlib)")
if plt is not None:
    fig, ax = plt.subplots(1, 4, figsize=(14, 4))
    maps = [(st["variance"], "variance over reciprocal space"),
            (truth["class"], "true classes"),
            (polar.labels.reshape(ny, nx), "polar features + HDBSCAN"),
            (latent.labels.reshape(ny, nx), "autoencoder + HDBSCAN")]
    labels = plt.get_cmap("tab20").with_extremes(bad="0.5")  # noise (-1) in grey
    for k, (a, (m, title)) in enumerate(zip(ax, maps)):
        if k:
            m = np.ma.masked_less(m, 0)
        a.imshow(m, cmap=labels if k else "viridis", interpolation="nearest")
        a.set_title(title)
        a.set_axis_off()
    fig.tight_layout()
    fig.savefig(os.path.join(out, "maps.png"), dpi=100)
    print("maps:", os.path.join(out, "maps.png"))
