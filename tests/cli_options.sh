#!/usr/bin/env bash
# The training options, each declared once (lcae_train_option_table), held to the defaults
# the documentation states (include/lcae/model.h, the README) written out here: every
# option appears once in `lcae train --help` with its default, once in the log's
# "options" with the value trained with, and (but --epochs, --steps, --exact-norm and
# --restarts) in the checkpoint's metadata, where changing it refuses a resume naming it;
# every numeric option's range is refused on the command line with one line naming the
# option, what it expects and what it found; lcae run's presets show in its help. The same for the
# built-in sample's parameters, HDBSCAN's and the smoothing's, the statistics' and the
# beam finder's, and lcae features'.
lcae=$1
t=$(mktemp -d /tmp/lcae-cli-options-XXXXXX)
source "${LCAE_SOURCE_DIR:?run through ctest}/tests/shell_helpers.sh"
scan=$LCAE_SOURCE_DIR/tests/fixtures/model/scan.npy # 2 x 3 positions, 68 x 72 detector
py=/usr/bin/python3

# name, the documented default as help and the checkpoint write it, the JSON value
defaults='
epochs 10 10
steps 0 0
batch 32 32
lr 0.0001 0.0001
lr-schedule constant "constant"
recon l1 "l1"
rot-loss on true
rot-loss-form scaled "scaled"
invariant-dims 10 10
lambda 1 1
max-angle 360 360
seed 0 "0"
subset 0 0
exact-norm off false
mask disk "disk"
interp bilinear "bilinear"
restarts 1 1
arch cae "cae"
angle-pool 0 0
base 64 64
latent-channels 4 4
latent 16 16'

"$lcae" train --help >"$t/help" || fail "train --help"
while read -r name def json; do
  [ -n "$name" ] || continue
  [ "$(grep -cE -- "^  (-., |    )--$name( |$)" "$t/help")" = 1 ] || fail "help: --$name not listed once"
  if [ "$def" = on ] || [ "$def" = off ]; then # a flag: "(default on" or stated in words
    [ "$def" = off ] || grep -q -- "--$name .*(default on" "$t/help" ||
      fail "help: --$name's default"
  else
    grep -q -- "--$name [^ ]* .*(default $def[);]" "$t/help" || fail "help: --$name's default $def"
  fi
done <<<"$defaults"

# one epoch with the defaults but for the sizes this scan needs
run "$lcae" train "$scan" -o "$t/m.safetensors" --crop 64 --bin 2 --base 2 --epochs 1 \
  --batch 3 -q
expect_rc 0 "train"
given='epochs=1 batch=3 base=2'
$py - "$t/m.log.json" "$t/m.ckpt.safetensors" "$given" "$defaults" <<'EOF' || fail "log or checkpoint"
import json, struct, sys
log, ckpt, given, table = sys.argv[1:]
rows = [l.split() for l in table.strip().splitlines()]
want = {n: json.loads(j) for n, _, j in rows}
text = {n: d for n, d, _ in rows}
for kv in given.split():
    k, v = kv.split("=")
    want[k] = json.loads(v)
    text[k] = v
# the CLI's own preparation (README: log transform, centred on the beam)
want.update({"bin": 2, "crop": 64, "transform": "log", "offset": 0, "center": "beam"})
text.update({"bin": "2", "crop": "64", "transform": "log", "offset": "0", "center": "beam"})
opts = json.load(open(log))["options"]
bad = []
for name, v in want.items():
    key = name.replace("-", "_")
    if opts.get(key, "missing") != v or isinstance(opts.get(key), bool) != isinstance(v, bool):
        bad.append(f"log {key}: {opts.get(key, 'missing')!r}, expected {v!r}")
extra = set(opts) - {n.replace("-", "_") for n in want} - {"input_size"}
if extra:
    bad.append(f"log: unexpected keys {sorted(extra)}")
with open(ckpt, "rb") as f:
    n = struct.unpack("<Q", f.read(8))[0]
    meta = json.loads(f.read(n))["__metadata__"]
for name in want:
    key = "lcae.train." + name
    if name in ("epochs", "steps", "exact-norm", "restarts"):
        if key in meta:
            bad.append(f"checkpoint: {key} recorded (it may change on resume)")
    elif meta.get(key) != text[name]:
        bad.append(f"checkpoint {key}: {meta.get(key)!r}, expected {text[name]!r}")
print("\n".join(bad), file=sys.stderr)
sys.exit(1 if bad else 0)
EOF

# a resume with any one option changed is refused, naming it (--lr-schedule onecycle
# would first need a longer run, --arch polar drops the rotation loss, --bin and --crop
# change the input size: each says so in its own words)
base=(train "$scan" -o "$t/m.safetensors" --crop 64 --bin 2 --base 2 --epochs 2 --batch 3
      --resume -q)
for change in "batch 4" "lr 0.001" "recon mse" "no-rot-loss" "rot-loss-form paper" \
  "invariant-dims 5" "lambda 2" "max-angle 90" "seed 5" "subset 5" "transform sqrt" \
  "offset 1" "center none" "mask none" "interp nearest" "base 4" "latent-channels 2" \
  "latent 12" "angle-pool 4"; do
  read -r name value <<<"$change"
  run "$lcae" "${base[@]}" "--$name" ${value:+"$value"}
  expect_rc 2 "resume with --$change"
  one_line_error "resume with --$change"
  [ "$name" = no-rot-loss ] && name=rot-loss
  grep -q -- "cannot resume: --$name is " "$t/err" || fail "resume with --$change: $err"
done
run "$lcae" "${base[@]}"
expect_rc 0 "resume with the same options"

# ranges: OPTION VALUE EXPECTED (each with an otherwise valid command line)
while IFS='|' read -r name value want; do
  [ -n "$name" ] || continue
  run "$lcae" train "$scan" -o "$t/r.safetensors" --crop 64 --bin 2 --base 2 --batch 3 \
    "--$name" "$value"
  expect_rc 2 "--$name $value"
  one_line_error "--$name $value"
  grep -qF -- "option --$name: expected $want, found $value" "$t/err" ||
    fail "--$name $value: $err"
done <<'EOF'
epochs|-1|0 or more
epochs|0|1 or more (or --steps)
steps|-1|0 or more
batch|1|2 or more
lr|0|more than 0
lr|-0.5|more than 0
invariant-dims|0|1 or more
invariant-dims|17|1 to 16 (--latent)
lambda|-1|0 or more
max-angle|-5|0 or more
seed|-1|0 or more
subset|-2|0 or more
crop|-1|0 or more
bin|0|1 to 16
base|0|1 or more
latent-channels|0|1 or more
latent|0|1 or more
angle-pool|17|0 to 16
angle-pool|-1|0 to 16
EOF
for bad in "epochs|x|an integer" "lr|fast|a number" "mask|ring|disk or none" \
  "lr-schedule|cosine|constant or onecycle" "arch|vit|cae or polar"; do
  IFS='|' read -r name value want <<<"$bad"
  run "$lcae" train "$scan" -o "$t/r.safetensors" "--$name" "$value"
  expect_rc 2 "--$name $value"
  grep -qF -- "option --$name: expected $want, found '$value'" "$t/err" ||
    fail "--$name $value: $err"
done
[ -e "$t/r.safetensors" ] && fail "a refused run wrote its model"

# lcae run: the presets are lists of option values, listed by the help, whose defaults
# become the preset's
"$lcae" run --help >"$t/run.help"
grep -q '^  cpu    --bin 4 --base 8 --steps 1500 --lr 2e-3 --lr-schedule onecycle' "$t/run.help" ||
  fail "run --help: the cpu preset"
grep -q -- '--lr LR .*(default 0.002)' "$t/run.help" || fail "run --help: cpu's lr"
grep -q -- '--arch cae|polar .*(default polar)' "$t/run.help" || fail "run --help: cpu's arch"
"$lcae" run --preset paper --help >"$t/paper.help"
grep -q -- '--lambda L .*(default 50;' "$t/paper.help" || fail "run --help: paper's lambda"
grep -q -- '--rot-loss-form paper|scaled .*(default paper)' "$t/paper.help" ||
  fail "run --help: paper's rotation loss form"

# the built-in sample's parameters (include/lcae/sim.h): each once in lcae simulate's
# help with its documented default, and each range refused naming the option
"$lcae" simulate --help >"$t/sim.help"
while read -r name def; do
  [ -n "$name" ] || continue
  [ "$(grep -cE -- "^  (-., |    )--$name( |$)" "$t/sim.help")" = 1 ] || fail "simulate --help: --$name not listed once"
  grep -q -- "--$name [^ ]* .*(default:\? $def[),]" "$t/sim.help" ||
    fail "simulate --help: --$name's default $def"
done <<'EOF2'
det 128
grains 12
boundary-width 4
dose 75000
seed 1
kv 200
camera-length 460
pixel 150
convergence 1.1
step 0.91015625
thickness 40
thickness-var 0.25
bend 3
tilt 0.2
general 0
drift 2
psf 0.5
gain 1
gain-spread 0.02
offset 0
readout-noise 0.1
hot-pixels 3
outlier-rate 1e-05
batch 256
output-format empad
EOF2
while IFS='|' read -r cmd name value want; do
  [ -n "$cmd" ] || continue
  case $cmd in
    simulate) run "$lcae" simulate -o "$t/never" "--$name" "$value" ;;
    cluster) run "$lcae" cluster "$t/none.npy" -o "$t/never.npy" "--$name" "$value" ;;
    stats) run "$lcae" stats "$scan" -o "$t/never" "--$name" "$value" ;;
    run) run "$lcae" run -o "$t/never" "--$name" "$value" ;;
  esac
  expect_rc 2 "$cmd --$name $value"
  one_line_error "$cmd --$name $value"
  # a name not among the choices is quoted, a number out of range is not
  grep -qF -e "option --$name: expected $want, found $value" \
    -e "option --$name: expected $want, found '$value'" "$t/err" || fail "$cmd --$name $value: $err"
done <<'EOF2'
simulate|det|8|16 to 1024
simulate|grains|0|1 to 10000
simulate|boundary-width|-1|0 to 1000
simulate|dose|0|more than 0 and at most 1e+12
simulate|kv|5|10 to 3000
simulate|camera-length|0|more than 0 and at most 100000
simulate|pixel|0|more than 0 and at most 10000
simulate|convergence|0|more than 0 and at most 100
simulate|step|0|more than 0 and at most 1e+06
simulate|thickness|0|more than 0 and at most 10000
simulate|thickness-var|1|at least 0 and less than 1
simulate|bend|91|0 to 90
simulate|tilt|-1|0 to 90
simulate|general|-1|0 or more
simulate|drift|-1|0 or more
simulate|psf|3|0 to 2
simulate|gain|0|more than 0 and at most 1e+06
simulate|gain-spread|0.5|at least 0 and less than 0.5
simulate|offset|nan|a finite number
simulate|readout-noise|-1|0 to 1e+06
simulate|hot-pixels|-1|0 or more
simulate|outlier-rate|0.1|0 to 0.01
simulate|batch|0|1 to 65536
simulate|output-format|tiff|empad or npy
cluster|min-samples|-1|0 or more
cluster|epsilon|-1|0 or more
cluster|method|best|eom or leaf
cluster|nonfinite|skip|error or noise
cluster|smooth|maybe|off, auto or on
cluster|smooth-size|1|3 or more
cluster|smooth-threshold|-0.5|0 or more
stats|sample|0|1 to 67108864
stats|seed|-1|0 or more
stats|beam-fit|cubic|quadratic, plane or none
stats|beam-radius|-1|0 or more
stats|beam-sample|0|1 to 1048576
run|invariant-bin|5|0 to 4
run|invariant-bin|3|0, 1, 2 or 4
run|encode-batch|0|1 or more
run|cluster-on|some|all or invariant
run|sample-dose|-3|more than 0 and at most 1e+12
run|sample-grains|0|1 to 10000
EOF2
[ -e "$t/never" ] || [ -e "$t/never.npy" ] && fail "a refused command wrote its output"
# the library's own checks, whatever the command line: a counting detector has no gain
run "$lcae" simulate -o "$t/never" --counting --gain 2
expect_rc 2 "simulate --counting --gain 2"
grep -qF "option --gain: expected 1 with a counting detector, found 2" "$t/err" || fail "counting gain: $err"

# lcae features' options (lcae_features_option_table): each once in the help with its
# documented default; each value given recorded in FEATURES.json; the defaults resolved
# as the help states them (for 16 x 16 prepared patterns: rings 3*16/32 = 1 to
# 16/2-2 = 6, orders 0..6, 40 angles: the multiple of 8 at or above 2 pi 6 = 37.7); each
# range refused naming the option
fscan=$LCAE_SOURCE_DIR/tests/fixtures/features/scan.npy # 8 x 10 positions, 32 x 32
"$lcae" features --help >"$t/features.help"
while IFS='|' read -r name def; do
  [ -n "$name" ] || continue
  [ "$(grep -cE -- "^  (-., |    )--$name( |$)" "$t/features.help")" = 1 ] ||
    fail "features --help: --$name not listed once"
  grep -qF -- "$def" <(grep -E -- "^  (-., |    )--$name( |$)" "$t/features.help") ||
    fail "features --help: --$name's default $def"
done <<'EOF2'
method|(required)
dims|(default: polar 10, pca 16;
radii|(default: 3*size/32:size/2-2)
orders|(default: 6)
n-theta|(default: the multiple of 8 at or above 2 pi R1)
standardize|(default: no)
solver|(default auto)
power-iterations|(default 2)
seed|(default 0)
EOF2
features_json() { # features_json FILE 'KEY=JSON ...': FILE's values at the dotted KEYs
  $py - "$@" <<'EOF2'
import json, sys
j = json.load(open(sys.argv[1]))
bad = []
for kv in sys.argv[2].split():
    k, v = kv.split("=")
    x = j
    for part in k.split("."):
        x = x.get(part, "missing") if isinstance(x, dict) else "missing"
    if x != json.loads(v) or isinstance(x, bool) != isinstance(json.loads(v), bool):
        bad.append(f"{sys.argv[1]}: {k} is {x!r}, expected {v}")
print("\n".join(bad), file=sys.stderr)
sys.exit(1 if bad else 0)
EOF2
}
run "$lcae" features "$fscan" --method polar --bin 2 -o "$t/fd.npy" -q
expect_rc 0 "features, the defaults"
features_json "$t/fd.json" 'method="polar" dims=10 polar.r0=1 polar.r1=6 polar.orders=6
  polar.n_theta=40 polar.standardize=false pca.solver="covariance"' || fail "features defaults"
run "$lcae" features "$fscan" --method pca --bin 2 -o "$t/fp.npy" -q
expect_rc 0 "features --method pca, the defaults"
features_json "$t/fp.json" 'method="pca" dims=16 row_dims=256' || fail "features pca defaults"
run "$lcae" features "$fscan" --method polar --bin 2 --dims 3 --radii 2:7 --orders 4 \
  --n-theta 48 --standardize --solver covariance -o "$t/fg.npy" -q
expect_rc 0 "features, the polar options given"
features_json "$t/fg.json" 'method="polar" dims=3 polar.r0=2 polar.r1=7 polar.orders=4
  polar.n_theta=48 polar.standardize=true pca.solver="covariance" row_dims=30' ||
  fail "features polar options"
run "$lcae" features "$fscan" --method pca --bin 2 --dims 5 --solver randomized \
  --power-iterations 1 --seed 9 -o "$t/fr.npy" -q
expect_rc 0 "features, the PCA options given"
features_json "$t/fr.json" 'method="pca" dims=5 pca.solver="randomized"
  pca.power_iterations=1 pca.seed=9 pca.passes=5' || fail "features PCA options"
while IFS='|' read -r args want; do
  [ -n "$args" ] || continue
  read -r -a a <<<"$args"
  run "$lcae" features "$fscan" -o "$t/never.npy" "${a[@]}"
  expect_rc 2 "features $args"
  one_line_error "features $args"
  grep -qF -- "$want" "$t/err" || fail "features $args: $err"
done <<'EOF2'
--method svd|option --method: expected polar or pca, found 'svd'
--method polar --dims -2|option --dims: expected 0 or more, found -2
--method pca --dims 0|option --dims: expected 1 or more with --method pca, found 0
--method polar --radii 5|option --radii: expected R0:R1 (each 0 to 100000, R0 <= R1), found '5'
--method polar --radii 7:2|option --radii: expected R0:R1 (each 0 to 100000, R0 <= R1), found '7:2'
--method polar --orders -1|option --orders: expected 0 to 1000, found -1
--method polar --orders 1001|option --orders: expected 0 to 1000, found 1001
--method polar --n-theta -3|option --n-theta: expected 0 to 65536, found -3
--method pca --power-iterations 21|option --power-iterations: expected 0 to 20, found 21
--method pca --seed -1|option --seed: expected 0 or more, found -1
--method pca --solver svd|option --solver: expected auto, covariance or randomized, found 'svd'
--method pca --orders 3|option --orders: for --method polar only (found 3 with --method pca)
--method pca --radii 1:4|option --radii: for --method polar only (found 1:4 with --method pca)
--method pca --n-theta 16|option --n-theta: for --method polar only (found 16 with --method pca)
--method pca --standardize|option --standardize: for --method polar only (found on with --method pca)
--bin 2|features: the method is required
EOF2
[ -e "$t/never.npy" ] && fail "features: a refused command wrote its output"

[ "$fails" = 0 ] && echo "cli_options: all checks passed"
exit $((fails > 0))
