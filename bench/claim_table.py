#!/usr/bin/python3
"""Aggregates the score.json files written by bench/claim.sh into Markdown tables.

    /usr/bin/python3 bench/claim_table.py OUT [OUT...]

For each simulator setting (OUT/SETTING/seedS/{inv,all}): the standard model (always
clustered on all its features), the rotation-invariant model clustered on its invariant
features ("inv", the CPU preset's choice) and on all ("all"), and beside them the
features that need no training (polar, pca: the same in both runs, shown once), with the
mean and the range [min, max] over the training seeds of ARI and AMI against the class
truth and the grain truth, the same ARIs of the full map (--assign-noise: every noise
position in its nearest cluster) and of the filled map (--fill-radius: boundaries and noise
given to the regions around them; runs before it existed show n/a), clusters, noise fraction, fragmentation (clusters /
true classes), boundary recovery, and for the models the spread ratio (mean standard
deviation of the first invariant_dims latent features over that of the others, on the
training log's probe set at the last epoch). Then the wall and CPU time of every run.
Several OUT folders (claim.sh runs started in parallel, e.g. one per seed) are merged.
Standard library only.
"""
import json
import os
import statistics
import sys

# (source folder, row title, run folder, clustered on)
ROWS = [("standard", "standard", "inv", "all 16"),
        ("invariant", "rotation-invariant", "inv", "invariant 10"),
        ("invariant", "rotation-invariant", "all", "all 16"),
        ("polar", "polar features", "inv", "all"),
        ("pca", "pca features", "inv", "all")]
RUNS = ("inv", "all")
# (column title, truth, key); truth "full/class" is the full map's score
COLUMNS = [
    ("ARI class", "class", "ari"),
    ("AMI class", "class", "ami"),
    ("ARI grain", "grain", "ari"),
    ("AMI grain", "grain", "ami"),
    ("full map: ARI class", "full/class", "ari"),
    ("full map: ARI grain", "full/grain", "ari"),
    ("filled map: ARI class", "filled/class", "ari"),
    ("filled map: ARI grain", "filled/grain", "ari"),
    ("clusters", "class", "clusters"),
    ("noise", "class", "noise_fraction"),
    ("fragmentation", "class", "fragmentation"),
    ("boundary recovery", "class", "boundary_recovery"),
]


def load(path):
    with open(path) as f:
        return json.load(f)


def seed_dirs(outs, setting):
    """{seedS: its folder} over every OUT that has OUT/setting/seedS."""
    found = {}
    for out in outs:
        sdir = os.path.join(out, setting)
        if os.path.isdir(sdir):
            for d in os.listdir(sdir):
                if d.startswith("seed"):
                    found.setdefault(d, os.path.join(sdir, d))
    return dict(sorted(found.items(), key=lambda kv: int(kv[0][4:])))


def times(path):
    """wall and CPU seconds from wall.txt (the CPU time is missing in early runs)."""
    with open(path) as f:
        t = f.read().split()
    return t[0], (t[1] if len(t) > 1 else "n/a")


def score_value(score, truth, key):
    for part in truth.split("/"):
        score = score.get(part) if score else None
    return score.get(key) if score else None


def spread_ratio(log_path):
    """mean spread of the invariant features over that of the others (None: no log)."""
    if not os.path.exists(log_path):
        return None
    log = load(log_path)
    n = log["options"]["invariant_dims"]
    s = log["epochs"][-1].get("latent_spread")
    if not s or n <= 0 or n >= len(s):
        return None
    return statistics.mean(s[:n]) / statistics.mean(s[n:])


def cell(values, integer=False):
    """mean [min, max] of the values present; n/a when none is."""
    values = [v for v in values if v is not None]
    if not values:
        return "n/a"
    mean = ("{:.1f}" if integer else "{:.3f}").format(statistics.mean(values))
    if len(values) == 1:
        return mean
    fmt = "{:.0f}" if integer else "{:.3f}"
    return "{} [{}, {}]".format(mean, fmt.format(min(values)), fmt.format(max(values)))


def config_but_seed(run):
    c = json.loads(json.dumps(run["config"]))
    del c["train"]["seed"]
    return c


def describe(run):
    c = run["config"]
    s, t = c["sample"], c["train"]
    steps = "{} steps".format(t["steps"]) if t["steps"] else "{} epochs".format(t["epochs"])
    return ("scan {}x{}, detector {}, {} grains, boundary width {}, dose {:g}{}, simulator "
            "seed {}; preset {}: bin {} (rotation-invariant model: {}{}, bin {}{}{}), base {}, {}, "
            "batch {}, lr {:g} {}, {} loss, subset {}, min_cluster_size {}").format(
                s["ny"], s["nx"], s["det"], s["grains"], s["boundary_width"], s["dose"],
                " (counting)" if s.get("counting") else "", s["seed"], c["preset"], t["bin"],
                t["arch"],
                " (power mean of order {} over the angle)".format(t["angle_pool"])
                if t["arch"] == "polar" and t.get("angle_pool") else "",
                c.get("invariant_bin") or t["bin"],
                ", {} steps".format(c["invariant_steps"]) if c.get("invariant_steps") else "",
                ", {} restarts, kept by {}".format(
                    c["invariant_restarts"],
                    "agreement" if c.get("restart_choice") == "agreement" else "final loss")
                if (c.get("invariant_restarts") or 1) > 1 else "",
                t["base"], steps, t["batch"],
                t["lr"], t["lr_schedule"], t["recon"], t["subset"] or "all",
                "scaled (60 sqrt(n / 65536))"
                if c["cluster"].get("min_cluster_size_from") == "positions"
                else c["cluster"]["hdbscan"]["min_cluster_size"])


def main():
    if len(sys.argv) < 2:
        sys.exit("usage: claim_table.py OUT [OUT...]")
    outs = sys.argv[1:]
    settings = sorted({d for out in outs for d in os.listdir(out)
                       if os.path.isdir(os.path.join(out, d))})
    # the built-in sample first
    settings.sort(key=lambda d: d != "default")
    walls = []
    for setting in settings:
        seeds = {s: d for s, d in seed_dirs(outs, setting).items()
                 if all(os.path.exists(os.path.join(d, v, m, "score.json"))
                        and os.path.exists(os.path.join(d, v, "wall.txt"))
                        for m, _, v, _ in ROWS)}
        if not seeds:
            print("### {}: no finished run\n".format(setting))
            continue
        first = load(os.path.join(next(iter(seeds.values())), "inv", "run.json"))
        for d in seeds.values():  # merged folders must hold the same experiment
            if config_but_seed(load(os.path.join(d, "inv", "run.json"))) != \
                    config_but_seed(first):
                sys.exit("claim_table.py: {} was run with another configuration than the "
                         "other seeds of {}".format(d, setting))
        print("### {} ({} training seed{}: {})\n".format(
            setting, len(seeds), "s" if len(seeds) > 1 else "",
            ", ".join(s[4:] for s in seeds)))
        print(describe(first) + "\n")
        print("| source | clustered on | " + " | ".join(c[0] for c in COLUMNS) +
              " | spread ratio |")
        print("|---|---|" + "---|" * (len(COLUMNS) + 1))
        for m, mname, v, vname in ROWS:
            scores = [load(os.path.join(d, v, m, "score.json")) for d in seeds.values()]
            cells = [cell([score_value(sc, truth, key) for sc in scores], key == "clusters")
                     for _, truth, key in COLUMNS]
            cells.append(cell([spread_ratio(os.path.join(d, v, m, "model.log.json"))
                               for d in seeds.values()]))
            print("| {} | {} | {} |".format(mname, vname, " | ".join(cells)))
        print()
        for s, d in seeds.items():
            st = load(os.path.join(d, "inv", "run.json"))["stages"]
            walls.append((setting, s[4:]) + times(os.path.join(d, "inv", "wall.txt"))
                         + times(os.path.join(d, "all", "wall.txt"))
                         + ("{:.0f}".format(st["standard/train"]["seconds"]),
                            "{:.0f}".format(st["invariant/train"]["seconds"])))
    if walls:
        print("Time of each run in seconds (`lcae run` as claim.sh runs it; CPU = user + "
              "system over all threads), and the wall time of the training stages inside "
              "it:\n")
        print("| setting | seed | run: wall | run: CPU | re-cluster on all: wall | "
              "re-cluster: CPU | train standard: wall | train rotation-invariant: wall |")
        print("|---|---|---|---|---|---|---|---|")
        for row in walls:
            print("| " + " | ".join(row) + " |")


if __name__ == "__main__":
    main()
