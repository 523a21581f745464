#!/usr/bin/python3
"""Aggregates the score.json files written by bench/claim.sh into Markdown tables.

    /usr/bin/python3 bench/claim_table.py OUT

For each simulator setting (OUT/SETTING/seedS/{all,inv}): the standard and the
rotation-invariant model, clustered on all latent features ("all") and on the invariant
ones ("inv"), with the mean and the min-max range over the training seeds of ARI and AMI
against the class truth and the grain truth, clusters, noise fraction, fragmentation
(clusters / true classes) and boundary recovery. Then the wall time of every run.
Standard library only.
"""
import json
import os
import statistics
import sys

MODELS = [("standard", "standard"), ("invariant", "rotation-invariant")]
CLUSTER_ON = [("all", "all 16"), ("inv", "invariant 10")]
# (column title, truth, key)
COLUMNS = [
    ("ARI class", "class", "ari"),
    ("AMI class", "class", "ami"),
    ("ARI grain", "grain", "ari"),
    ("AMI grain", "grain", "ami"),
    ("clusters", "class", "clusters"),
    ("noise", "class", "noise_fraction"),
    ("fragmentation", "class", "fragmentation"),
    ("boundary recovery", "class", "boundary_recovery"),
]


def load(path):
    with open(path) as f:
        return json.load(f)


def seed_dirs(setting_dir):
    seeds = [d for d in os.listdir(setting_dir) if d.startswith("seed")]
    return sorted(seeds, key=lambda d: int(d[4:]))


def cell(values, integer=False):
    """mean (min-max) of the values present; n/a when none is."""
    values = [v for v in values if v is not None]
    if not values:
        return "n/a"
    mean = ("{:.1f}" if integer else "{:.3f}").format(statistics.mean(values))
    if len(values) == 1:
        return mean
    fmt = "{:.0f}" if integer else "{:.3f}"
    return "{} ({}-{})".format(mean, fmt.format(min(values)), fmt.format(max(values)))


def describe(run):
    c = run["config"]
    s, t = c["sample"], c["train"]
    return ("scan {}x{}, detector {}, {} grains, boundary width {}, simulator seed {}; "
            "preset {}: bin {}, base {}, {} epochs, subset {}, min_cluster_size {}").format(
                s["ny"], s["nx"], s["det"], s["grains"], s["boundary_width"], s["seed"],
                c["preset"], t["bin"], t["base"], t["epochs"], t["subset"] or "all",
                c["cluster"]["hdbscan"]["min_cluster_size"])


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: claim_table.py OUT")
    out = sys.argv[1]
    settings = sorted(d for d in os.listdir(out) if os.path.isdir(os.path.join(out, d)))
    # the built-in sample first
    settings.sort(key=lambda d: d != "default")
    walls = []
    for setting in settings:
        sdir = os.path.join(out, setting)
        seeds = [s for s in seed_dirs(sdir)
                 if all(os.path.exists(os.path.join(sdir, s, v, m, "score.json"))
                        for v, _ in CLUSTER_ON for m, _ in MODELS)]
        if not seeds:
            print("### {}: no finished run\n".format(setting))
            continue
        first = load(os.path.join(sdir, seeds[0], "all", "run.json"))
        print("### {} ({} training seeds: {})\n".format(
            setting, len(seeds), ", ".join(s[4:] for s in seeds)))
        print(describe(first) + "\n")
        print("| model | clustered on | " + " | ".join(c[0] for c in COLUMNS) + " |")
        print("|---|---|" + "---|" * len(COLUMNS))
        for m, mname in MODELS:
            for v, vname in CLUSTER_ON:
                scores = [load(os.path.join(sdir, s, v, m, "score.json")) for s in seeds]
                cells = [cell([sc[truth][key] for sc in scores], key == "clusters")
                         for _, truth, key in COLUMNS]
                print("| {} | {} | {} |".format(mname, vname, " | ".join(cells)))
        print()
        for s in seeds:
            run = load(os.path.join(sdir, s, "all", "run.json"))
            st = run["stages"]
            w = [open(os.path.join(sdir, s, v, "wall.txt")).read().strip()
                 for v, _ in CLUSTER_ON]
            walls.append((setting, s[4:], w[0], w[1],
                          "{:.0f}".format(st["standard/train"]["seconds"]),
                          "{:.0f}".format(st["invariant/train"]["seconds"])))
    if walls:
        print("Wall time of each run (seconds; `lcae run` under nice -n 10 on the shared "
              "machine), and the training stages inside it:\n")
        print("| setting | seed | run, all features | re-cluster on invariant | "
              "train standard | train rotation-invariant |")
        print("|---|---|---|---|---|---|")
        for row in walls:
            print("| " + " | ".join(row) + " |")


if __name__ == "__main__":
    main()
