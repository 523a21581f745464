#!/usr/bin/python3
"""Per-layer speed of src/nn against PyTorch (oneDNN), same shapes, same thread count,
in one run: for each layer, alternately runs bench_layers (lcae) on it and times it in
PyTorch, `rounds` times, and prints the best milliseconds of each and the speed ratio
PyTorch time / lcae time (> 1: lcae faster), with the CBLAS sgemm peak measured before
and after. Alternating matters: this machine's speed drifts by 2-3x within minutes.

    /usr/bin/python3 bench/layers_torch.py BUILD/bench_layers [--base 16] [--batch 32]
        [--size 128] [--reps 3] [--rounds 3] [--threads 2] [--only NAME] [--cpu]

Each side takes the best of `reps` timed repetitions after one warm-up, per round.
--cpu times process CPU time instead of wall time: with --threads 1, the measure that
other processes on the machine disturb least.
Backward times the input gradient (not for the first layer, whose input needs none) and
the parameter gradients from a kept forward graph.
"""
import argparse
import subprocess
import time

import torch
import torch.nn.functional as F


CLOCK = time.perf_counter


def best_ms(fn, reps):
    fn()
    best = float("inf")
    for _ in range(reps):
        t0 = CLOCK()
        fn()
        best = min(best, 1e3 * (CLOCK() - t0))
    return best


# How many times each shape occurs in one pass of the autoencoder (METHOD.md): the 3x3
# convs of the encoder recur in the decoder, and every conv but the last is followed by
# BatchNorm and ReLU (4 at each width; enc8's BN over 4 channels at H/16 is omitted).
COUNT = {"enc1": 2, "enc3": 2, "enc5": 2, "enc7": 2, "bnrelu_b": 4, "bnrelu_2b": 4,
         "bnrelu_4b": 4, "bnrelu_8b": 4}


def layers(b, S, lat=4):
    """name, kind (conv / convt / bnrelu), C, H, K, k, stride, pad: as bench_layers.c"""
    return [
        ("enc0", "conv", 1, S, b, 3, 1, 1),
        ("enc1", "conv", b, S, b, 3, 1, 1),
        ("enc2", "conv", b, S, 2 * b, 4, 2, 1),
        ("enc3", "conv", 2 * b, S // 2, 2 * b, 3, 1, 1),
        ("enc4", "conv", 2 * b, S // 2, 4 * b, 4, 2, 1),
        ("enc5", "conv", 4 * b, S // 4, 4 * b, 3, 1, 1),
        ("enc6", "conv", 4 * b, S // 4, 8 * b, 4, 2, 1),
        ("enc7", "conv", 8 * b, S // 8, 8 * b, 3, 1, 1),
        ("enc8", "conv", 8 * b, S // 8, lat, 4, 2, 1),
        ("dec5", "convt", lat, S // 16, 8 * b, 4, 2, 1),
        ("dec7", "convt", 8 * b, S // 8, 4 * b, 4, 2, 1),
        ("dec9", "convt", 4 * b, S // 4, 2 * b, 4, 2, 1),
        ("dec11", "convt", 2 * b, S // 2, b, 4, 2, 1),
        ("decout", "conv", b, S, 1, 3, 1, 1),
        ("bnrelu_b", "bnrelu", b, S, 0, 0, 0, 0),
        ("bnrelu_2b", "bnrelu", 2 * b, S // 2, 0, 0, 0, 0),
        ("bnrelu_4b", "bnrelu", 4 * b, S // 4, 0, 0, 0, 0),
        ("bnrelu_8b", "bnrelu", 8 * b, S // 8, 0, 0, 0, 0),
    ]


def torch_layer(kind, N, C, H, K, k, s, p, reps):
    x = torch.randn(N, C, H, H, requires_grad=C > 1)
    if kind == "bnrelu":
        g = torch.randn(C, requires_grad=True)
        be = torch.randn(C, requires_grad=True)
        rm, rv = torch.zeros(C), torch.ones(C)
        fwd = lambda: torch.relu(F.batch_norm(x, rm, rv, g, be, True, 0.1, 1e-5))
        params = [x, g, be]
    else:
        if kind == "conv":
            w = torch.randn(K, C, k, k, requires_grad=True)
            bias = torch.randn(K, requires_grad=True)
            fwd = lambda: F.conv2d(x, w, bias, s, p)
        else:
            w = torch.randn(C, K, k, k, requires_grad=True)
            bias = torch.randn(K, requires_grad=True)
            fwd = lambda: F.conv_transpose2d(x, w, bias, s, p)
        params = ([x] if C > 1 else []) + [w, bias]
    with torch.no_grad():
        t_f = best_ms(fwd, reps)
    y = fwd()
    dy = torch.randn_like(y)
    t_b = best_ms(lambda: torch.autograd.grad(y, params, dy, retain_graph=True), reps)
    return t_f, t_b


def run_lcae(a, only):
    cmd = [a.bench_layers, "--base", str(a.base), "--batch", str(a.batch), "--size",
           str(a.size), "--reps", str(a.reps), "--threads", str(a.threads), "--only", only,
           "--cpu", str(int(a.cpu))]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    res = {}
    for line in out.splitlines():
        if not line.startswith("#"):
            f = line.split()
            res[f[0] if f[1] == "peak" else f[1]] = (float(f[2]), float(f[4]))
    return res


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("bench_layers")
    ap.add_argument("--base", type=int, default=16)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--size", type=int, default=128)
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--only", default="")
    ap.add_argument("--cpu", action="store_true")
    a = ap.parse_args()
    global CLOCK
    if a.cpu:
        CLOCK = time.process_time
    torch.set_num_threads(a.threads)
    print("# base %d, batch %d, %dx%d, %d threads, best of %d x %d rounds, %s time; torch %s" % (
        a.base, a.batch, a.size, a.size, a.threads, a.reps, a.rounds,
        "CPU" if a.cpu else "wall", torch.__version__))
    peaks = run_lcae(a, "sgemm1024")
    peak = peaks["nn_sgemm1024"][1]
    print("# sgemm 1024^3 before: CBLAS %.1f GFLOP/s, src/nn's product (nn_sgemm) %.1f GFLOP/s"
          % (peaks["sgemm1024"][1], peak), flush=True)
    print("%-10s %-8s %10s %10s %8s %8s %6s" % ("layer", "pass", "lcae ms", "torch ms",
                                                "ratio", "GFLOP/s", "%peak"))
    tot = {"forward": [0, 0], "backward": [0, 0]}
    model = {"forward": [0, 0], "backward": [0, 0]}
    for name, kind, C, H, K, k, s, p in layers(a.base, a.size):
        if a.only and a.only != name:
            continue
        best = {"forward": [float("inf")] * 2, "backward": [float("inf")] * 2}
        gflops = {}
        for _ in range(a.rounds):
            ours = run_lcae(a, name)
            theirs = torch_layer(kind, a.batch, C, H, K, k, s, p, a.reps)
            for i, ps in enumerate(("forward", "backward")):
                if ours[ps][0] < best[ps][0]:
                    best[ps][0] = ours[ps][0]
                    gflops[ps] = ours[ps][1]
                best[ps][1] = min(best[ps][1], theirs[i])
        for ps in ("forward", "backward"):
            ms, t = best[ps]
            tot[ps][0] += ms
            tot[ps][1] += t
            model[ps][0] += ms * COUNT.get(name, 1)
            model[ps][1] += t * COUNT.get(name, 1)
            print("%-10s %-8s %10.2f %10.2f %7.2fx %8.1f %5.0f%%" % (
                name, ps, ms, t, t / ms, gflops[ps], 100 * gflops[ps] / peak), flush=True)
    for ps, (m, t) in tot.items():
        print("%-10s %-8s %10.2f %10.2f %7.2fx" % ("sum", ps, m, t, t / m))
    # the layers weighted by their count in the model: its conv/BN/ReLU time for one pass
    for ps, (m, t) in model.items():
        print("%-10s %-8s %10.2f %10.2f %7.2fx" % ("model", ps, m, t, t / m))
    peaks = run_lcae(a, "sgemm1024")
    print("# sgemm 1024^3 after: CBLAS %.1f GFLOP/s, nn_sgemm %.1f GFLOP/s; %%peak is of nn_sgemm's"
          " before" % (peaks["sgemm1024"][1], peaks["nn_sgemm1024"][1]))


if __name__ == "__main__":
    main()
