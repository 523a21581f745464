#!/usr/bin/env bash
# lcae run on 2 MPI ranks (docs/mpi.md) against the same run in one process: the same
# files; the sample, statistics, features and their clusters and scores byte for byte
# (partitioned passes; the rest on rank 0); the standard model trained data-parallel
# with each epoch's losses within 5e-3 (relative) of one process's (measured: 8e-4 after 8
# steps of the run's onecycle schedule: summation order, amplified by training); the invariant (polar)
# model, trained whole on every rank, byte for byte. A second run on 2 ranks finds every
# stage up to date (the statistics are always computed).
lcae=$1
t=$(mktemp -d /tmp/lcae-mpi-run-XXXXXX)
source "${LCAE_SOURCE_DIR:?run through ctest}/tests/shell_helpers.sh"
[ -x /usr/bin/python3 ] && /usr/bin/python3 -c 'import json' 2>/dev/null ||
  missing "/usr/bin/python3"
# cli_run.sh's tiny run: 16 x 16 positions of 32 x 32 patterns, 2-wide models, 8 steps
tiny=(--bin 2 --invariant-bin 1 --base 2 --steps 8 --subset 64 --batch 16 --min-cluster-size 8
      --encode-batch 64 --sample-scan 16 --sample-det 32 --sample-grains 4)
run "$lcae" run -o "$t/one" "${tiny[@]}" -q
expect_rc 0 "run, one process"
run mpi 2 "$lcae" run -o "$t/two" "${tiny[@]}"
expect_rc 0 "run, 2 ranks"
grep -q "report: $t/two/report/report.html" "$t/err" || fail "run, 2 ranks: no report line: $err"
[ "$(cd "$t/one" && find . -type f | sort)" = "$(cd "$t/two" && find . -type f | sort)" ] ||
  fail "run, 2 ranks: not the files of one process"
for f in sample/scan_x16_y16.raw sample/truth_class.npy stats/sum.npy stats/variance.npy \
         stats/mean_pattern.npy stats/beam_position.npy invariant/model.safetensors \
         invariant/latent.npy invariant/labels.npy; do
  cmp -s "$t/one/$f" "$t/two/$f" || fail "run, 2 ranks: $f differs from one process's"
done
for m in polar pca; do
  for f in features.npy labels.npy probabilities.npy score.json; do
    cmp -s "$t/one/$m/$f" "$t/two/$m/$f" || fail "run, 2 ranks: $m/$f differs from one process's"
  done
done
/usr/bin/python3 - "$t" <<'PY' || fail "run, 2 ranks: the standard model's losses are not one process's"
import json, sys
t = sys.argv[1]
ref = json.load(open(f"{t}/one/standard/model.log.json"))["epochs"]
got = json.load(open(f"{t}/two/standard/model.log.json"))["epochs"]
bad = [(a["epoch"], k, a[k], b[k]) for a, b in zip(ref, got)
       for k in ("loss", "recon", "recon_rot", "rot") if abs(a[k] - b[k]) > 5e-3 * abs(a[k])]
print(bad or "")
sys.exit(1 if bad or len(ref) != len(got) else 0)
PY
run mpi 2 "$lcae" run -o "$t/two" "${tiny[@]}"
expect_rc 0 "run again, 2 ranks"
for s in sample standard/train standard/encode polar/features pca/cluster; do
  grep -q "^lcae: $s: up to date" "$t/err" || fail "run again, 2 ranks: $s not up to date: $err"
done
exit $((fails > 0))
