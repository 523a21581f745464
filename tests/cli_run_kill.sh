#!/usr/bin/env bash
# A run killed at any moment and run again ends as if it had never been killed: lcae run
# on a tiny built-in sample is killed with SIGKILL at 20 moments spread over its whole
# length (every stage), then run again; the labels and scores must be bit-identical to an
# uninterrupted run's (same seed, same threads), and no temporary file may remain. Also
# the issue's case: a run with other options killed during training must not leave its
# half-trained model to be called up to date by the next run. And lcae train --resume
# after a kill gives the uninterrupted model.
lcae=$1
t=$(mktemp -d /tmp/lcae-cli-run-kill-XXXXXX)
source "${LCAE_SOURCE_DIR:?run through ctest}/tests/shell_helpers.sh"
tiny=(--sample-scan 16 --sample-det 32 --sample-grains 4 --bin 2 --invariant-bin 1 --base 2 --steps 8 --subset 64
      --batch 16 --min-cluster-size 8 --encode-batch 64)
outputs=(standard/labels.npy standard/score.json invariant/labels.npy invariant/score.json
         standard/model.safetensors invariant/model.safetensors stats/variance.npy)

now() { date +%s%N; }
same_outputs() { # $1: run folder; compares with the reference run
  for f in "${outputs[@]}"; do
    cmp -s "$t/ref/$f" "$1/$f" || { fail "$2: $f differs from the uninterrupted run's"; return; }
  done
  local tmp
  tmp=$(find "$1" -name '.*.tmp.*')
  [ -z "$tmp" ] || fail "$2: temporary files left: $tmp"
}

t0=$(now)
"$lcae" run -o "$t/ref" "${tiny[@]}" -q || fail "reference run"
span=$(( $(now) - t0 ))  # nanoseconds
for i in $(seq 0 19); do
  d=$t/k$i
  "$lcae" run -o "$d" "${tiny[@]}" -q &
  pid=$!
  # the i-th of 20 equal parts of the reference run's length, at its middle
  sleep "$(awk -v s="$span" -v i="$i" 'BEGIN { printf "%.3f", s * (i + 0.5) / 20 / 1e9 }')"
  kill -KILL "$pid" 2>/dev/null
  wait "$pid" 2>/dev/null
  run "$lcae" run -o "$d" "${tiny[@]}"
  expect_rc 0 "run after a kill at point $i"
  same_outputs "$d" "kill at point $i"
done

# options A, then B killed while training, then A again: A's training is redone (B's
# half-trained model is never taken for A's), and A's answer comes back
d=$t/stale
"$lcae" run -o "$d" "${tiny[@]}" -q || fail "stale: first run"
"$lcae" run -o "$d" "${tiny[@]}" -q --lr 1e-3 --steps 1600 &
pid=$!
for _ in $(seq 1 400); do # until B has finished an epoch of the standard model
  grep -q '"epoch": 1' "$d/standard/model.log.json" 2>/dev/null &&
    grep -q '1e-3\|0.001' "$d/standard/model.log.json" && break
  sleep 0.05
done
kill -KILL "$pid" 2>/dev/null
wait "$pid" 2>/dev/null
run "$lcae" run -o "$d" "${tiny[@]}"
expect_rc 0 "stale: run A again"
grep -q 'standard/train: up to date' "$t/err" && fail "stale: B's interrupted training was taken as A's"
same_outputs "$d" "stale"

# one run at a time in a folder
"$lcae" run -o "$t/lock" "${tiny[@]}" -q --steps 1600 &
pid=$!
# the first run holds the lock from just after DIR/.lock appears (created, then locked at
# once); waiting for the file, not a fixed time, keeps a loaded machine from starting the
# second run first
for _ in $(seq 300); do [ -e "$t/lock/.lock" ] && break; sleep 0.1; done
sleep 0.2 # open and flock are two calls
run "$lcae" run -o "$t/lock" "${tiny[@]}" -q
expect_rc 1 "a second run in a folder in use"
grep -q 'another lcae run is using this folder' "$t/err" || fail "lock message: $err"
kill -KILL "$pid" 2>/dev/null
wait "$pid" 2>/dev/null

# lcae train --resume after a kill in the middle of training gives the uninterrupted model
scan=$t/ref/sample/scan_x16_y16.raw
# the CPU preset's recipe: a step budget (6 epochs of 16 steps, the last cut to 10), the
# onecycle schedule (its rate depends on the step, also across the resume) and MSE
train=(--bin 2 --base 2 --steps 90 --lr-schedule onecycle --lr 2e-3 --recon mse --batch 16
       --seed 3 -q)
"$lcae" train "$scan" -o "$t/whole.safetensors" "${train[@]}" || fail "train"
"$lcae" train "$scan" -o "$t/cut.safetensors" "${train[@]}" &
pid=$!
for _ in $(seq 1 400); do
  grep -q '"epoch": 2' "$t/cut.log.json" 2>/dev/null && break
  sleep 0.02
done
kill -KILL "$pid" 2>/dev/null
wait "$pid" 2>/dev/null
run "$lcae" train "$scan" -o "$t/cut.safetensors" "${train[@]}" --resume
expect_rc 0 "train --resume after a kill"
cmp -s "$t/whole.safetensors" "$t/cut.safetensors" || fail "resumed training differs"
[ -z "$(find "$t" -maxdepth 1 -name '.*.tmp.*')" ] || echo "note: train's temporaries of the killed run remain in $t"

echo "cli_run_kill: $fails failed"
[ "$fails" = 0 ]
