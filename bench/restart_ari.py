#!/usr/bin/env python3
"""Each restart of the rotation-invariant model of claim.sh runs, clustered as the run
clusters the kept one: does the lowest final loss pick a good model?

    /usr/bin/python3 bench/restart_ari.py LCAE OUT [OUT...]

For every OUT/SETTING/seedS/inv whose invariant model was kept among restarts
(model.restartI.safetensors beside model.safetensors): encodes the scan with each restart
(lcae encode, the run's beam map), clusters the first invariant_dims features with the
run's HDBSCAN parameters, smoothing and --fill-radius (lcae cluster), and prints, per
restart, its final loss (the training log's), whether it was kept, and the class ARI of
HDBSCAN's labels and of the filled map against the truth (scikit-learn); the kept
restart's should be the run's own (score.json). Then, per run, the restart that the
final loss keeps and the one that agreement would keep: the restart whose HDBSCAN labels
agree most with the other restarts' (sum of pairwise ARI, noise a label; ties: the lower
final loss), each with its filled map's class ARI (docs/model.md). Latents and labels go
to a temporary folder."""
import glob
import json
import os
import subprocess
import sys
import tempfile
from collections import namedtuple

import numpy as np
from sklearn.metrics import adjusted_rand_score

# one restart of a run: its number, final loss, whether the run kept it, the class ARI of
# its HDBSCAN labels and of its filled map, and the labels
Restart = namedtuple("Restart", "restart final_loss kept ari ari_filled labels")


def restart_rows(lcae, run, tmp):
    rj = json.load(open(f"{run}/run.json"))
    inv = f"{run}/invariant"
    kept = json.load(open(f"{inv}/model.log.json"))
    chosen = kept.get("chosen_restart")
    if chosen is None:
        return []
    hd = json.load(open(f"{inv}/cluster.json"))
    truth = np.load(f"{run}/sample/truth_class.npy").ravel()
    ny, nx = np.load(f"{run}/sample/truth_class.npy").shape
    sm = rj["config"]["cluster"]["smooth"]
    fill = sm.get("fill_radius", 0)
    data = sorted(f for f in glob.glob(f"{run}/sample/scan*") if not f.endswith(".xml"))
    rows = []
    for r in kept["restarts"]:
        i = r["restart"]
        z, lab = f"{tmp}/z{i}.npy", f"{tmp}/l{i}.npy"
        subprocess.run([lcae, "encode", data[0], "-m", f"{inv}/model.restart{i}.safetensors",
                        "-o", z, "--beam-map", f"{run}/stats/beam_position.npy", "-q"],
                       check=True)
        np.save(z, np.load(z)[:, :hd["features"]])
        subprocess.run([lcae, "cluster", z, "-o", lab, "--min-cluster-size",
                        str(hd["min_cluster_size"]), "--min-samples", str(hd["min_samples"]),
                        "--scan", f"{ny}x{nx}", "--fill-radius", str(fill), "--smooth",
                        sm["mode"], "--smooth-size", str(sm["size"]), "--smooth-threshold",
                        str(sm["auto_threshold"]), "-q"], check=True)
        labels = np.load(lab)
        filled = np.load(lab.replace(".npy", "_filled.npy")) if fill else labels
        rows.append(Restart(i, r["final_loss"], i == chosen, adjusted_rand_score(truth, labels),
                            adjusted_rand_score(truth, filled), labels))
    return rows


def agreement_pick(rows):
    """Index into rows of the restart whose labels agree most with the others'."""
    def agreement(a):
        return sum(adjusted_rand_score(rows[a].labels, rows[b].labels)
                   for b in range(len(rows)) if b != a)
    return max(range(len(rows)), key=lambda a: (round(agreement(a), 9), -rows[a].final_loss))


def main():
    if len(sys.argv) < 3:
        sys.exit("usage: restart_ari.py LCAE OUT [OUT...]")
    lcae = sys.argv[1]
    print("| setting | seed | restart | final loss | kept | class ARI | filled map: class ARI |")
    print("|---|---|---|---|---|---|---|")
    picks = []
    with tempfile.TemporaryDirectory() as tmp:
        for out in sys.argv[2:]:
            for run in sorted(glob.glob(f"{out}/*/seed*/inv")):
                setting, seed = run.split(os.sep)[-3], run.split(os.sep)[-2][4:]
                rows = restart_rows(lcae, run, tmp)
                for i, loss, kept, ari, ari_filled, _ in rows:
                    print(f"| {setting} | {seed} | {i} | {loss:.4f} | {'yes' if kept else ''} "
                          f"| {ari:.3f} | {ari_filled:.3f} |", flush=True)
                if rows:
                    by_loss = min(rows, key=lambda r: r.final_loss)
                    by_agreement = rows[agreement_pick(rows)]
                    picks.append((setting, seed, by_loss, by_agreement))
    print("\n| setting | seed | kept by final loss: restart, filled class ARI "
          "| kept by agreement: restart, filled class ARI |\n|---|---|---|---|")
    for setting, seed, a, b in picks:
        print(f"| {setting} | {seed} | {a.restart}, {a.ari_filled:.3f} "
              f"| {b.restart}, {b.ari_filled:.3f} |")


if __name__ == "__main__":
    main()
