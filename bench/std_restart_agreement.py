#!/usr/bin/env python3
"""The standard model's restarts, kept by agreement: would it help the standard model?

    /usr/bin/python3 bench/std_restart_agreement.py LCAE SAMPLE RUN [RUN...]

Each RUN is an `lcae run -o RUN ... --restarts 3` folder of the scan in SAMPLE (a folder
with the scan file and truth_grain.npy, e.g. claim.sh's OUT/SETTING/seed0/inv/sample):
each standard-model restart encodes the scan (lcae encode, the run's beam map) and is
clustered on all its features as the run clusters (lcae cluster: HDBSCAN parameters and
smoothing from the run, --fill-radius 3). Prints, per run, each restart's filled grain
ARI (scikit-learn), its agreement (the sum of the ARIs of its HDBSCAN labels with the
other restarts', noise a label), and the restart that the final loss and that agreement
keep (ties: the lower final loss), as `lcae run`'s restart stage chooses (docs/model.md).
One thread per lcae call."""
import glob
import json
import os
import subprocess
import sys
import tempfile

import numpy as np
from sklearn.metrics import adjusted_rand_score as ari


def restarts(lcae, sample, run, tmp, env):
    data = sorted(f for f in glob.glob(f"{sample}/scan*") if not f.endswith(".xml"))[0]
    truth = np.load(f"{sample}/truth_grain.npy")
    ny, nx = truth.shape
    hd = json.load(open(f"{run}/standard/cluster.json"))
    sm = json.load(open(f"{run}/run.json"))["config"]["cluster"]["smooth"]
    rows = []
    for r in json.load(open(f"{run}/standard/model.log.json"))["restarts"]:
        i = r["restart"]
        z, lab = f"{tmp}/z{i}.npy", f"{tmp}/l{i}.npy"
        subprocess.run([lcae, "encode", data, "-m", f"{run}/standard/model.restart{i}.safetensors",
                        "-o", z, "--beam-map", f"{run}/stats/beam_position.npy", "-q"],
                       check=True, env=env)
        subprocess.run([lcae, "cluster", z, "-o", lab, "--min-cluster-size",
                        str(hd["min_cluster_size"]), "--min-samples", str(hd["min_samples"]),
                        "--scan", f"{ny}x{nx}", "--fill-radius", "3", "--smooth", sm["mode"],
                        "--smooth-size", str(sm["size"]), "--smooth-threshold",
                        str(sm["auto_threshold"]), "-q"], check=True, env=env)
        filled = np.load(lab.replace(".npy", "_filled.npy"))
        rows.append((i, r["final_loss"], np.load(lab), ari(truth.ravel(), filled)))
    return rows


def main():
    if len(sys.argv) < 4:
        sys.exit("usage: std_restart_agreement.py LCAE SAMPLE RUN [RUN...]")
    lcae, sample = sys.argv[1:3]
    env = dict(os.environ, OMP_NUM_THREADS="1")
    for run in sys.argv[3:]:
        with tempfile.TemporaryDirectory() as tmp:
            rows = restarts(lcae, sample, run, tmp, env)
        agree = [sum(ari(a[2], b[2]) for b in rows if b is not a) for a in rows]
        pick = max(range(len(rows)), key=lambda k: (round(agree[k], 9), -rows[k][1]))
        by_loss = min(range(len(rows)), key=lambda k: rows[k][1])
        print(f"{run}: filled grain ARI {', '.join(f'{r[3]:.3f}' for r in rows)}; agreement "
              f"{', '.join(f'{a:.3f}' for a in agree)}; final loss keeps {rows[by_loss][0]} "
              f"({rows[by_loss][3]:.3f}), agreement keeps {rows[pick][0]} ({rows[pick][3]:.3f})",
              flush=True)


if __name__ == "__main__":
    main()
