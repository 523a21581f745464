#!/usr/bin/env bash
# lcae run end to end on a tiny built-in sample with a tiny model: the run directory,
# the scores against the truth (checked against lcae score on the same files), resuming
# (nothing redone, then only what a changed option touches), --force, a given scan with
# --truth, the low-dose sample (--sample-preset), and misuse. The report's own content is checked in test_report.c.
lcae=$1
t=$(mktemp -d /tmp/lcae-cli-run-XXXXXX)
source "${LCAE_SOURCE_DIR:?run through ctest}/tests/shell_helpers.sh"
# 16 x 16 positions of 32 x 32 patterns (binned to 16 x 16), a 2-wide model, two epochs
# (8 steps of 16 of the 64 positions; onecycle needs at least 5)
model=(--bin 2 --invariant-bin 1 --base 2 --steps 8 --subset 64 --batch 16 --min-cluster-size 8 --encode-batch 64)
tiny=(--sample-scan 16 --sample-det 32 --sample-grains 4 "${model[@]}")
d=$t/r

run "$lcae" run -o "$d" "${tiny[@]}"
expect_rc 0 "run on the built-in sample"
# the rotation-invariant model kept by agreement: its latent is the restart stage's
grep -q "encode: the kept restart's, from the restart stage" "$t/err" ||
  fail "the kept restart was encoded again: $err"
grep -q 'report/report.html' "$t/err" || fail "run does not say where the report is: $err"
for f in run.json sample/scan_x16_y16.raw sample/truth_class.npy stats/variance.npy \
         stats/stats.json stats/beam_position.npy report/beam_position.png report/report.html \
         report/report.json; do
  [ -s "$d/$f" ] || fail "run: no $f"
done
for m in standard invariant; do
  for f in model.safetensors model.log.json latent.npy labels.npy probabilities.npy score.json; do
    [ -s "$d/$m/$f" ] || fail "run: no $m/$f"
  done
  # the run's score is lcae score's on the same labels and truth
  run "$lcae" score "$d/$m/labels.npy" "$d/sample/truth_class.npy" --json -q
  expect_rc 0 "score $m"
  ari=$(grep -o '"ari":[^,]*' "$t/out" | head -1 | cut -d: -f2)
  tr -d ' \t\n' <"$d/$m/score.json" | grep -q "\"class\":{[^}]*\"ari\":$ari," ||
    fail "$m/score.json: class ARI is not lcae score's ($ari)"
  # latent vectors: (256, 16) float32 = 128-byte npy header + 256 * 16 * 4 bytes
  [ "$(stat -c %s "$d/$m/latent.npy")" = $((128 + 256 * 16 * 4)) ] || fail "$m/latent.npy size"
done
# the feature extractors are sources like the models: clustered and scored the same way
for m in polar pca; do
  for f in features.npy features.json labels.npy probabilities.npy score.json; do
    [ -s "$d/$m/$f" ] || fail "run: no $m/$f"
  done
  run "$lcae" score "$d/$m/labels.npy" "$d/sample/truth_class.npy" --json -q
  ari=$(grep -o '"ari":[^,]*' "$t/out" | head -1 | cut -d: -f2)
  tr -d ' \t\n' <"$d/$m/score.json" | grep -q "\"class\":{[^}]*\"ari\":$ari," ||
    fail "$m/score.json: class ARI is not lcae score's ($ari)"
done
grep -q 'Angular Fourier magnitudes' "$d/report/report.json" || fail "report: no polar source"
# the filled maps (cpu preset: --fill-radius 3): tools/fill_reference.py's (numpy/scipy)
# filling of each source's labels, scored under "filled", drawn in the report
for m in standard invariant polar pca; do
  /usr/bin/python3 "$LCAE_SOURCE_DIR/tools/fill_reference.py" "$d/$m/labels.npy" 16 16 3 \
    "$t/want_filled.npy" "$t/want_grains.npy"
  cmp -s "$d/$m/labels_filled.npy" "$t/want_filled.npy" ||
    fail "$m/labels_filled.npy differs from scipy's filling of its labels"
  cmp -s "$d/$m/labels_grains.npy" "$t/want_grains.npy" ||
    fail "$m/labels_grains.npy differs from scipy's pieces of the filled map"
  run "$lcae" score "$d/$m/labels_grains.npy" "$d/sample/truth_class.npy" --json -q
  ari=$(grep -o '"ari":[^,]*' "$t/out" | head -1 | cut -d: -f2)
  tr -d ' \t\n' <"$d/$m/score.json" | grep -q "\"grains\":{\"class\":{[^}]*\"ari\":$ari," ||
    fail "$m/score.json: the grain map's class ARI is not lcae score's ($ari)"
  run "$lcae" score "$d/$m/labels_filled.npy" "$d/sample/truth_class.npy" --json -q
  ari=$(grep -o '"ari":[^,]*' "$t/out" | head -1 | cut -d: -f2)
  tr -d ' \t\n' <"$d/$m/score.json" | grep -q "\"filled\":{\"class\":{[^}]*\"ari\":$ari," ||
    fail "$m/score.json: the filled map's class ARI is not lcae score's ($ari)"
done
[ -s "$d/report/filled_maps.png" ] || fail "report: no filled_maps.png"
grep -q '"score_filled"' "$d/report/report.json" || fail "report.json: no filled map scores"
grep -q '"score_grain_grains"' "$d/report/report.json" && grep -q 'vs true grains (grain map)' \
  "$d/report/report.html" || fail "report: no grain map scores"
# the cpu preset: the rotation-invariant model is the polar one at --invariant-bin (here
# 1: 32 x 32 inputs), clustered on its 10 invariant features; the standard model the CAE
# without the rotation loss at --bin (16 x 16)
log_has() { grep -q "\"$2\":[[:space:]]*$3" "$d/$1/model.log.json" || fail "$1 model log: $2 is not $3"; }
log_has invariant arch '"polar"'
log_has invariant rot_loss false
log_has invariant bin 1
# --steps given alone: the preset's --invariant-steps 400 gives way, both models train 8
log_has invariant steps 8
log_has standard steps 8
log_has standard arch '"cae"'
log_has standard rot_loss false
log_has standard bin 2
# the preset's --invariant-restarts 3: the rotation-invariant model kept among three
# trainings (its log lists them, the report shows them), the standard model trained once
log_has invariant restarts 3
log_has standard restarts 1
for i in 1 2 3; do
  [ -s "$d/invariant/model.restart$i.safetensors" ] || fail "run: no invariant/model.restart$i"
done
[ -e "$d/standard/model.restart1.safetensors" ] && fail "run: the standard model restarted"
grep -q '"chosen_restart"' "$d/invariant/model.log.json" || fail "invariant log: no chosen_restart"
# --restart-choice agreement (the default): each restart's labels (HDBSCAN on its 10
# invariant features) agree with the others' by the sum of scikit-learn's ARIs as the
# log says, and the kept model is the restart of highest agreement (ties within 1e-9:
# the lower final loss), byte for byte. check_agreement DIR STEP: the restarts encoded
# and clustered on the 16 x 16 scan's sub-grid of every STEP-th row and column, their
# latents lcae encode's of the whole scan at those positions.
check_agreement() {
  /usr/bin/python3 - "$1" "$2" "$lcae" "$d/sample/scan_x16_y16.raw" "$d/stats/beam_position.npy" \
    "$t" <<'EOF' || fail "restart kept by agreement (sub-grid step $2)"
import filecmp, json, subprocess, sys
import numpy as np
from sklearn.metrics import adjusted_rand_score
d, step, lcae, scan, beam, tmp = sys.argv[1], int(sys.argv[2]), *sys.argv[3:]
log = json.load(open(f"{d}/model.log.json"))
rs = log["restarts"]
labels = {r["restart"]: np.load(f"{d}/model.restart{r['restart']}.labels.npy") for r in rs}
bad = [] if log["restart_choice"] == "agreement" else [f"restart_choice {log['restart_choice']}"]
grid = (16 + step - 1) // step
for r in rs:
    if labels[r["restart"]].shape != (grid * grid,):
        bad.append(f"restart {r['restart']}: labels {labels[r['restart']].shape}, expected {grid * grid}")
    want = sum(adjusted_rand_score(labels[r["restart"]], labels[o["restart"]])
               for o in rs if o is not r)
    if abs(want - r["agreement"]) > 1e-9:
        bad.append(f"restart {r['restart']}: agreement {r['agreement']}, sklearn {want}")
best = max(rs, key=lambda r: (round(r["agreement"], 9), -r["final_loss"]))
if log["chosen_restart"] != best["restart"]:
    bad.append(f"kept restart {log['chosen_restart']}, expected {best['restart']}")
if not filecmp.cmp(f"{d}/model.safetensors", f"{d}/model.restart{best['restart']}.safetensors",
                   shallow=False):
    bad.append("model.safetensors is not the kept restart's")
for r in rs:
    k = r["restart"]
    # lcae encode of the restart's model, the run's batch of 64
    subprocess.run([lcae, "encode", scan, "-m", f"{d}/model.restart{k}.safetensors",
                    "--beam-map", beam, "--batch", "64", "-o", f"{tmp}/whole.npy", "-q"],
                   check=True)
    whole = np.load(f"{tmp}/whole.npy")
    # the encode stage's latent (copied from the restart stage's on every position,
    # encoded afresh on a sub-grid) is lcae encode's of the kept model, bit for bit
    if k == best["restart"] and not np.array_equal(np.load(f"{d}/latent.npy"), whole):
        bad.append("latent.npy is not lcae encode's of the kept model")
    want = whole.reshape(16, 16, -1)[::step, ::step].reshape(grid * grid, -1)
    z = np.load(f"{d}/model.restart{k}.latent.npy")
    # the same positions in other batches: sgemm's blocking may round otherwise
    same = np.array_equal(z, want) if step == 1 else np.allclose(z, want, rtol=1e-4, atol=1e-5)
    if not same:
        bad.append(f"restart {k}'s latent is not the whole scan's encoding at its positions")
if len(set(round(r["agreement"], 6) for r in rs)) < 2:
    bad.append("every restart agrees equally: the test cannot tell the rules apart")
print("\n".join(bad), file=sys.stderr)
sys.exit(1 if bad else 0)
EOF
}
check_agreement "$d/invariant" 1
grep -q 'kept restart [1-3], the one whose clustering agrees most' "$d/report/report.html" ||
  fail "report: the restarts and the rule that kept one are not shown"
grep -q '"restart_choice":[[:space:]]*"agreement"' "$d/report/report.json" || fail "report.json: no restart_choice"
grep -q '"on":[[:space:]]*"invariant"' "$d/run.json" ||
  fail "run.json: the cpu preset should cluster the invariant model on its invariant features"
find "$d" -name '*.tmp.*' | grep -q . && fail "temporary files left"

# the training redone with its record lost (a later run with other options killed while
# training): the restart stage, up to date by its own record, runs again too, so the model
# file is the restart kept by agreement again, not lcae_train's lowest final loss
cp "$d/invariant/model.safetensors" "$t/kept-before"
/usr/bin/python3 - "$d/run.json" <<'EOF' || fail "run.json: no invariant/train record to drop"
import json, sys
r = json.load(open(sys.argv[1]))
del r["stages"]["invariant/train"]
json.dump(r, open(sys.argv[1], "w"), indent=1)
EOF
run "$lcae" run -o "$d" "${tiny[@]}"
expect_rc 0 "run after the training's record was dropped"
grep -q 'invariant/restart: up to date' "$t/err" && fail "the restart stage was skipped after its training ran"
cmp -s "$t/kept-before" "$d/invariant/model.safetensors" ||
  fail "after the training ran again, the model is not the restart kept by agreement"

# resuming: nothing is redone
cp "$d/standard/model.safetensors" "$t/model-before"
run "$lcae" run -o "$d" "${tiny[@]}"
expect_rc 0 "second run"
# sample, 5 stages of each model, 3 of each feature extractor
[ "$(grep -c 'up to date' "$t/err")" = 17 ] || fail "second run: expected 17 stages up to date: $err"
cmp -s "$t/model-before" "$d/standard/model.safetensors" || fail "second run retrained"
# a clustering option redoes the clustering and what follows, not the training
run "$lcae" run -o "$d" "${tiny[@]}" --min-samples 4
expect_rc 0 "run with another min-samples"
grep -q 'standard/train: up to date' "$t/err" || fail "min-samples retrained: $err"
grep -q 'standard/cluster: up to date' "$t/err" && fail "min-samples did not recluster"
# ... and, for the model kept among restarts by agreement, the choice, not the training
grep -q 'invariant/train: up to date' "$t/err" || fail "min-samples retrained the restarts: $err"
grep -q 'invariant/restart: up to date' "$t/err" && fail "min-samples did not choose the restart again"
grep -q 'standard/restart: up to date' "$t/err" || fail "min-samples: the standard model's restart stage ran"
# --restart-choice loss: the restart of lowest final loss, training not redone
run "$lcae" run -o "$d" "${tiny[@]}" --min-samples 4 --restart-choice loss
expect_rc 0 "run with --restart-choice loss"
grep -q 'invariant/train: up to date' "$t/err" || fail "--restart-choice retrained: $err"
/usr/bin/python3 - "$d/invariant" <<'EOF' || fail "restart kept by final loss"
import filecmp, json, sys
d = sys.argv[1]
log = json.load(open(f"{d}/model.log.json"))
best = min(log["restarts"], key=lambda r: r["final_loss"])["restart"]
ok = (log["restart_choice"] == "final_loss" and log["chosen_restart"] == best and
      filecmp.cmp(f"{d}/model.safetensors", f"{d}/model.restart{best}.safetensors", shallow=False)
      and not any("agreement" in r for r in log["restarts"]))
sys.exit(0 if ok else 1)
EOF
# --restart-positions 64: the agreement encodes and clusters the 8 x 8 sub-grid (every
# 2nd row and column of 16 x 16), min_samples 4 / 2^2 = 1 and min_cluster_size 8 / 4 = 2
# there; the choice again, not the training, and the run's own maps are the whole scan's
run "$lcae" run -o "$d" "${tiny[@]}" --min-samples 4 --restart-positions 64
expect_rc 0 "run with --restart-positions 64"
grep -q 'invariant/train: up to date' "$t/err" || fail "--restart-positions retrained: $err"
grep -q 'invariant/restart: up to date' "$t/err" && fail "--restart-positions did not choose again"
grep -q 'sub-grid: 8 x 8 positions, every 2nd row and column' "$t/err" ||
  fail "--restart-positions: the sub-grid is not said: $err"
check_agreement "$d/invariant" 2
[ "$(stat -c %s "$d/invariant/labels.npy")" = $((128 + 256 * 4)) ] ||
  fail "--restart-positions: the cluster stage's labels are not the whole scan's"
# --invariant-steps trains the rotation-invariant model alone again, for that many steps
run "$lcae" run -o "$d" "${tiny[@]}" --min-samples 4 --invariant-steps 6
expect_rc 0 "run with --invariant-steps 6"
grep -q 'standard/train: up to date' "$t/err" || fail "--invariant-steps retrained the standard model"
grep -q 'invariant/train: up to date' "$t/err" && fail "--invariant-steps did not retrain"
log_has invariant steps 6
log_has standard steps 8
# --invariant-restarts 1: one training, and the earlier restarts' files are gone
run "$lcae" run -o "$d" "${tiny[@]}" --min-samples 4 --invariant-steps 6 --invariant-restarts 1
expect_rc 0 "run with --invariant-restarts 1"
log_has invariant restarts 1
ls "$d/invariant" | grep -q restart && fail "--invariant-restarts 1 left restart files"
[ -s "$d/invariant/model.ckpt.safetensors" ] || fail "--invariant-restarts 1: no checkpoint"
# no filled map asked for: the earlier one, which would not match the labels, is removed
run "$lcae" run -o "$d" "${tiny[@]}" --min-samples 4 --fill-radius 0
expect_rc 0 "run with --fill-radius 0"
[ -e "$d/standard/labels_filled.npy" ] && fail "--fill-radius 0 left labels_filled.npy"
[ -e "$d/standard/labels_grains.npy" ] && fail "--fill-radius 0 left labels_grains.npy"
grep -q '"filled"' "$d/standard/score.json" && fail "--fill-radius 0: filled map scored"
# --force redoes everything
run "$lcae" run -o "$d" "${tiny[@]}" --force
expect_rc 0 "run --force"
grep -q 'up to date' "$t/err" && fail "--force skipped a stage: $err"

# a given scan with its truth: the sample of the first run
run "$lcae" run "$d/sample/scan_x16_y16.raw" -o "$t/g" --truth "$d/sample" "${model[@]}" -q
expect_rc 0 "run on a given scan"
[ -s "$t/g/invariant/score.json" ] && [ ! -e "$t/g/sample" ] || fail "given scan: outputs"

# the low-dose sample: its scan.npy is the run's scan; the --sample-* options override
# the preset (detector 32 here, binned to 16)
run "$lcae" run -o "$t/low" --sample-preset lowdose "${tiny[@]}" -q
expect_rc 0 "run on the low-dose sample"
[ -s "$t/low/sample/scan.npy" ] && [ -s "$t/low/invariant/score.json" ] &&
  [ ! -e "$t/low/sample/scan_x16_y16.raw" ] || fail "low-dose sample: outputs"
tr -d ' \t\n' <"$t/low/run.json" | grep -q '"det":32,.*"counting":true,.*"format":"npy"' ||
  fail "run.json: the low-dose sample's setting"
run "$lcae" run -o "$t/x" --sample-preset high
expect_rc 2 "unknown sample preset"
one_line_error "unknown sample preset"
grep -q -- "--sample-preset" "$t/err" || fail "unknown sample preset: message names the option"

# misuse and bad input: one line, exit 2 or 1, nothing written
run "$lcae" run "${tiny[@]}"
expect_rc 2 "run without -o"
one_line_error "run without -o"
run "$lcae" run -o "$t/x" --preset fast
expect_rc 2 "unknown preset"
one_line_error "unknown preset"
# --arch cae: the paper's rotation-invariant model (the rotation loss), clustered on all 16
run "$lcae" run -o "$t/cae" "${tiny[@]}" --arch cae --cluster-on all -q
expect_rc 0 "run with the paper's rotation-invariant model"
grep -q '"rot_loss":[[:space:]]*true' "$t/cae/invariant/model.log.json" &&
  grep -q '"arch":[[:space:]]*"cae"' "$t/cae/invariant/model.log.json" ||
  fail "--arch cae: the invariant model should be the CAE with the rotation loss"
grep -q '"rot_loss":[[:space:]]*false' "$t/cae/standard/model.log.json" ||
  fail "--arch cae: the standard model has no rotation loss"
run "$lcae" run -o "$t/x" --invariant-bin 3
expect_rc 2 "run --invariant-bin 3"
one_line_error "run --invariant-bin 3"
run "$lcae" run -o "$t/x" --cluster-on some
expect_rc 2 "bad --cluster-on"
for f in --rot-loss --no-rot-loss; do # run trains both models: the option has no meaning
  run "$lcae" run -o "$t/x" $f
  expect_rc 2 "run $f"
  one_line_error "run $f"
done
# at the preset's own detector (64, binned to 32) 94 % of the pixels are zero: sigma68 is
# 0 and the normalization falls back to the standard deviation, recorded in the model
run "$lcae" run -o "$t/low64" --sample-preset lowdose --sample-scan 16 "${model[@]}" -q
expect_rc 0 "run on the low-dose sample at its 64 x 64 detector"
tr -d ' \t\n' <"$t/low64/standard/model.log.json" | grep -q '"norm":"std"' ||
  fail "low-dose 64: the normalization rule is not the standard deviation"
# options that mean nothing in this run are errors naming them
run "$lcae" run -o "$t/x" --format npy
expect_rc 2 "--format without a scan"
grep -q -- "--format: only for a given scan" "$t/err" || fail "--format without a scan: $err"
run "$lcae" run "$d/sample/scan_x16_y16.raw" -o "$t/x" --sample-dose 300
expect_rc 2 "--sample-dose with a scan"
grep -q -- "--sample-dose: only for the built-in sample" "$t/err" || fail "--sample-dose: $err"
# the help shows the preset's values, not lcae train's
"$lcae" run --help | grep -q -- '--steps N .*(default 1500)' || fail "run --help: cpu preset's steps"
"$lcae" run --preset paper --help | grep -q -- '--transform .*(default none)' ||
  fail "run --help: the paper preset's transform"
"$lcae" run --help | grep -q -- '--rot-loss ' && fail "run --help lists --rot-loss"
run "$lcae" run "$t/missing.raw" -o "$t/x"
expect_rc 1 "missing scan"
one_line_error "missing scan"
[ -e "$t/x" ] && fail "misuse left $t/x behind"

echo "cli_run: $fails failed"
[ "$fails" = 0 ]
