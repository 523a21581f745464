#!/usr/bin/env bash
# lcae run's min_cluster_size and full maps: scaled with the positions unless given (the
# paper preset keeps 60), the size used recorded in run.json and score.json; with
# --assign-noise, labels_full.npy for every source, scored under "full" as lcae score
# scores it; without, no full map is left from an earlier run.
lcae=$1
t=$(mktemp -d /tmp/lcae-cli-run-sizes-XXXXXX)
source "${LCAE_SOURCE_DIR:?run through ctest}/tests/shell_helpers.sh"
# 16 x 16 positions of 32 x 32 patterns (binned to 16 x 16), a 2-wide model, 8 steps (as cli_run.sh)
tiny=(--sample-scan 16 --sample-det 32 --sample-grains 4 --bin 2 --invariant-bin 1 --base 2 --steps 8 --subset 64
      --batch 16 --encode-batch 64 -q)
sources="standard invariant polar pca"
flat() { tr -d ' \t\n' <"$1"; }
d=$t/r

# 256 positions: round(60 sqrt(256 / 65536)) = 4, at least 5; the cpu preset writes the
# full maps (--assign-noise) unasked
run "$lcae" run -o "$d" "${tiny[@]}"
expect_rc 0 "run (the cpu preset's --assign-noise)"
flat "$d/run.json" | grep -q '"hdbscan":{"min_cluster_size":5,"min_samples":5,[^}]*"assign_noise":true}' ||
  fail "run.json: the scaled min_cluster_size 5 and assign_noise"
flat "$d/run.json" | grep -q '"min_cluster_size_from":"positions"' ||
  fail "run.json: where min_cluster_size came from"
for m in $sources; do
  [ -s "$d/$m/labels_full.npy" ] || fail "--assign-noise: no $m/labels_full.npy"
  flat "$d/$m/score.json" | grep -q '"min_cluster_size":5,"min_samples":5,"full":{"class":{' ||
    fail "$m/score.json: min_cluster_size and the full map's scores"
  # the full map's score is lcae score's on labels_full.npy, with no noise in it
  run "$lcae" score "$d/$m/labels_full.npy" "$d/sample/truth_class.npy" --json -q
  expect_rc 0 "score $m/labels_full.npy"
  ari=$(grep -o '"ari":[^,]*' "$t/out" | head -1 | cut -d: -f2)
  flat "$d/$m/score.json" | grep -q "\"full\":{\"class\":{[^}]*\"ari\":$ari," ||
    fail "$m/score.json: the full map's class ARI is not lcae score's ($ari)"
  grep -q '"noise_fraction":0,' "$t/out" || fail "$m/labels_full.npy has noise: $out"
done

# --no-assign-noise: reclustered, the full map removed, no "full" scores
run "$lcae" run -o "$d" "${tiny[@]}" --min-cluster-size 8 --no-assign-noise
expect_rc 0 "run --no-assign-noise"
flat "$d/run.json" | grep -q '"hdbscan":{"min_cluster_size":8,.*"min_cluster_size_from":"given"' ||
  fail "run.json: the given min_cluster_size"
for m in $sources; do
  [ -e "$d/$m/labels_full.npy" ] && fail "$m/labels_full.npy left from the earlier run"
  flat "$d/$m/score.json" | grep -q '"full"' && fail "$m/score.json: full scores without a map"
  flat "$d/$m/score.json" | grep -q '"min_cluster_size":8,' || fail "$m/score.json: size 8"
done

# the paper preset keeps 60 at any size (its model shrunk here as above)
run "$lcae" run -o "$t/p" --preset paper "${tiny[@]}" --bin 2
expect_rc 0 "paper preset"
flat "$t/p/run.json" | grep -q '"hdbscan":{"min_cluster_size":60,.*"min_cluster_size_from":"given"' ||
  fail "run.json: the paper preset's min_cluster_size 60"
flat "$t/p/run.json" | grep -q '"assign_noise":false' || fail "run.json: the paper preset assigns noise"
[ -e "$t/p/standard/labels_full.npy" ] && fail "the paper preset wrote a full map"

echo "cli_run_sizes: $fails failed"
[ "$fails" = 0 ]
