#!/usr/bin/env bash
# lcae train / encode from the command line: outputs, the log, resume, misuse and bad
# input (exit status and message). The PyTorch check of an lcae-written model is
# tests/cli_model_torch.sh.
set -u
lcae=$1
src=${LCAE_SOURCE_DIR:?run through ctest}
scan=$src/tests/fixtures/model/scan.npy   # 2 x 3 positions, 68 x 72 detector
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail=0
check() { if ! eval "$2"; then echo "FAILED: $1" >&2; fail=1; fi; }

"$lcae" train "$scan" -o "$tmp/m.safetensors" --crop 64 --bin 2 --base 2 --epochs 2 \
  --batch 3 --seed 4 2>"$tmp/train.err"
check "train exits 0" "[ $? -eq 0 ]"
check "model, checkpoint and log written" \
  "[ -s $tmp/m.safetensors ] && [ -s $tmp/m.ckpt.safetensors ] && [ -s $tmp/m.log.json ]"
check "one line per epoch" "grep -q 'epoch 1/2' $tmp/train.err && grep -q 'epoch 2/2.*loss' $tmp/train.err"
check "log has two epochs" "[ \$(grep -c '\"recon_rot\"' $tmp/m.log.json) -eq 2 ]"
"$lcae" train "$scan" -o "$tmp/m.safetensors" --crop 64 --bin 2 --base 2 --epochs 3 \
  --batch 3 --seed 4 --resume -q
check "resume to a third epoch" "[ $? -eq 0 ] && [ \$(grep -c '\"recon_rot\"' $tmp/m.log.json) -eq 3 ]"

"$lcae" encode "$scan" -m "$tmp/m.safetensors" -o "$tmp/z.npy" --batch 4 2>"$tmp/enc.err"
check "encode exits 0" "[ $? -eq 0 ] && [ -s $tmp/z.npy ]"
check "encode shape (6, 16)" "head -c 128 $tmp/z.npy | grep -q \"'shape': (6, 16)\""
# --verbose: the backend and each layer's algorithm (Winograd: 3x3 stride 1, >= 8
# channels in and out; here base 2 at 32 x 32, so enc.5 (8 -> 8) and not enc.0 (1 -> 2))
"$lcae" encode "$scan" -m "$tmp/m.safetensors" -o "$tmp/zv.npy" --verbose -q 2>"$tmp/verbose.err"
check "verbose: backend" "grep -q '^backend cpu: ' $tmp/verbose.err"
check "verbose: enc.0 im2col" "grep -q '^enc.0 conv 1->2 32x32 k3/1: forward im2col' $tmp/verbose.err"
check "verbose: enc.5 winograd F(2x2)" \
  "grep -q '^enc.5 conv 8->8 8x8 k3/1: forward winograd-2x2, input gradient winograd-2x2, weight gradient winograd-2x2' $tmp/verbose.err"
LCAE_CONV=winograd-4x4 "$lcae" encode "$scan" -m "$tmp/m.safetensors" -o "$tmp/z4.npy" \
  --verbose -q 2>"$tmp/verbose.err"
check "verbose: LCAE_CONV=winograd-4x4" \
  "grep -q '^enc.5 conv 8->8 8x8 k3/1: forward winograd-4x4, input gradient winograd-4x4, weight gradient winograd-4x4' $tmp/verbose.err"
LCAE_CONV=im2col "$lcae" encode "$scan" -m "$tmp/m.safetensors" -o "$tmp/zi.npy" --verbose -q \
  2>"$tmp/verbose.err"
check "verbose: LCAE_CONV=im2col" "grep -q '^enc.5 conv 8->8 8x8 k3/1: forward im2col' $tmp/verbose.err"
check "--verbose adds nothing to the output" "cmp -s $tmp/z.npy $tmp/zv.npy"

# --restarts 3: three trainings from three initializations on the same batches, the one of
# lowest final loss kept. Batches of 6 on 6 positions: one step per epoch, so the final
# loss (the mean loss of the last quarter of the 4 steps) is the last epoch's loss.
r="--crop 64 --bin 2 --base 2 --epochs 4 --batch 6 --seed 4"
"$lcae" train "$scan" -o "$tmp/r.safetensors" $r --restarts 3 2>"$tmp/restarts.err"
check "restarts exit 0" "[ $? -eq 0 ]"
check "one progress line per restart's epoch" \
  "grep -q 'restart 3/3, epoch 4/4' $tmp/restarts.err && grep -q 'kept restart' $tmp/restarts.err"
"$lcae" train "$scan" -o "$tmp/plain.safetensors" $r -q
check "restart 1 is the plain training" "cmp -s $tmp/plain.safetensors $tmp/r.restart1.safetensors"
check "the restarts differ" "! cmp -s $tmp/r.restart1.safetensors $tmp/r.restart2.safetensors"
/usr/bin/python3 - "$tmp" >"$tmp/chosen" 2>"$tmp/restarts.py.err" <<'PY'
import json, sys
d = sys.argv[1]
logs = [json.load(open(f"{d}/r.restart{i}.log.json")) for i in (1, 2, 3)]
for g in logs:  # one step per epoch: the final loss is the last epoch's loss
    assert abs(g["final_loss"] - g["epochs"][-1]["loss"]) <= 1e-12 * abs(g["final_loss"]), g
losses = [g["final_loss"] for g in logs]
best = 1 + min(range(3), key=lambda i: (losses[i], i))
kept = json.load(open(f"{d}/r.log.json"))
assert kept["chosen_restart"] == best, (kept["chosen_restart"], losses)
assert [e["final_loss"] for e in kept["restarts"]] == losses, kept["restarts"]
assert kept["restarts"][0]["init_seed"] == "4"
assert kept["epochs"] == logs[best - 1]["epochs"]
print(best)
PY
check "the kept model is the restart of lowest final loss ($(cat "$tmp/restarts.py.err"))" \
  "[ -s $tmp/chosen ] && cmp -s $tmp/r.safetensors $tmp/r.restart\$(cat $tmp/chosen).safetensors"
# --resume resumes every restart; grown from 2 to 4 epochs, the same model and final losses
# as the uninterrupted 4 (the tail, the 4th step, is trained after the resume)
"$lcae" train "$scan" -o "$tmp/rr.safetensors" ${r/--epochs 4/--epochs 2} --restarts 3 -q &&
  "$lcae" train "$scan" -o "$tmp/rr.safetensors" $r --restarts 3 --resume -q
check "restarts resumed: the uninterrupted model" "cmp -s $tmp/r.safetensors $tmp/rr.safetensors"
# a restart whose loss becomes non-finite is left out and logged; all of them: an error.
# At --lr 1e5 some of the three diverge here (which ones may depend on the vector set):
# the kept one must be the finite one of lowest final loss, the diverged ones logged with
# no final loss and no model file
"$lcae" train "$scan" -o "$tmp/d.safetensors" $r --restarts 3 --lr 1e5 -q 2>"$tmp/d.err"
/usr/bin/python3 - "$tmp" "$?" >"$tmp/d.chosen" 2>"$tmp/d.py.err" <<'PY'
import json, os, sys
d, status = sys.argv[1], int(sys.argv[2])
if status:  # every restart diverged
    assert "every restart diverged" in open(f"{d}/d.err").read()
    assert not os.path.exists(f"{d}/d.safetensors")
    print(0)
    sys.exit()
kept = json.load(open(f"{d}/d.log.json"))
finite = {}
for e in kept["restarts"]:
    model = f"{d}/d.restart{e['restart']}.safetensors"
    assert e["diverged"] == (e["final_loss"] is None) == (not os.path.exists(model)), e
    if not e["diverged"]:
        finite[e["restart"]] = e["final_loss"]
assert kept["chosen_restart"] == min(finite, key=lambda i: (finite[i], i)), kept["restarts"]
print(kept["chosen_restart"])
PY
check "diverged restarts left out ($(cat "$tmp/d.py.err"))" \
  "[ -s $tmp/d.chosen ] && { [ \$(cat $tmp/d.chosen) = 0 ] || cmp -s $tmp/d.safetensors $tmp/d.restart\$(cat $tmp/d.chosen).safetensors; }"
"$lcae" train "$scan" -o "$tmp/dd.safetensors" $r --restarts 3 --lr 1e9 2>"$tmp/dd.err"
check "every restart diverged: exit 1, one error line, no model" \
  "[ $? -eq 1 ] && [ \$(grep -c 'lcae: error' $tmp/dd.err) = 1 ] && grep -q 'every restart diverged' $tmp/dd.err && [ ! -e $tmp/dd.safetensors ]"
losses() { grep -A2 '"restart"' "$1" | grep final_loss; }
check "restarts resumed: the uninterrupted final losses" \
  "[ \$(losses $tmp/r.log.json | wc -l) = 3 ] && [ \"\$(losses $tmp/rr.log.json)\" = \"\$(losses $tmp/r.log.json)\" ]"

expect() { # expect STATUS "MESSAGE PART" lcae args...
  local want=$1 msg=$2; shift 2
  "$lcae" "$@" >/dev/null 2>"$tmp/err"; local got=$?
  if [ $got -ne "$want" ] || ! grep -q -- "$msg" "$tmp/err"; then
    echo "FAILED: lcae $* -> status $got (expected $want), stderr: $(cat "$tmp/err")" >&2; fail=1
  fi
}
expect 2 "model file is required" train "$scan"
expect 2 "option --restarts" train "$scan" -o "$tmp/x.safetensors" --crop 64 --restarts 0
expect 2 "option --mask" train "$scan" -o "$tmp/x.safetensors" --mask ring
expect 2 "option --rot-loss-form: expected paper or scaled, found 'vicreg'" train "$scan" \
  -o "$tmp/x.safetensors" --rot-loss-form vicreg
# the default form is the scaled one, recorded in the log and the model; resuming with
# the paper's form is refused, naming the option
check "the log records the scaled form" "grep -q '\"rot_loss_form\":[[:space:]]*\"scaled\"' $tmp/m.log.json"
check "the model records the scaled form" "grep -aq '\"lcae.rot_form\":\"scaled\"' $tmp/m.safetensors"
expect 2 "cannot resume: --rot-loss-form" train "$scan" -o "$tmp/m.safetensors" --crop 64 \
  --bin 2 --base 2 --epochs 4 --batch 3 --seed 4 --resume --rot-loss-form paper
expect 2 "not square" train "$scan" -o "$tmp/x.safetensors"
expect 2 "multiple of 16" train "$scan" -o "$tmp/x.safetensors" --crop 40
expect 2 "binning" train "$scan" -o "$tmp/x.safetensors" --crop 64 --bin 3
expect 1 "cannot open" train "$scan" -o "$tmp/new.safetensors" --crop 64 --resume
expect 2 "cannot resume: --base" train "$scan" -o "$tmp/m.safetensors" --crop 64 --bin 2 \
  --epochs 4 --batch 3 --seed 4 --resume
expect 2 "required" encode "$scan" -o "$tmp/z2.npy"
expect 1 "cannot open" encode "$scan" -m "$tmp/none.safetensors" -o "$tmp/z2.npy"
expect 1 "not a safetensors file" encode "$scan" -m "$scan" -o "$tmp/z2.npy"
check "no output after failures" "[ ! -e $tmp/x.safetensors ] && [ ! -e $tmp/z2.npy ]"

[ $fail -eq 0 ] && echo "cli_model: all checks passed"
exit $fail
