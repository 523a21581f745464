#!/usr/bin/env bash
# The paper's claim, measured: `lcae run --assign-noise` (default CPU preset) on the
# built-in sample, two other simulator settings and the low-dose counting one, 3 training
# seeds each, the rotation-invariant model clustered on its invariant features (the
# preset's choice) and on all its latent features; then bench/claim_table.py aggregates
# every score.json.
#
#   bash bench/claim.sh OUT [extra lcae run options...]
#
# env: LCAE (the lcae binary, default build/lcae), SETTINGS (names below, default all
# three), SEEDS (training seeds, default "0 1 2"). Extra options go to every run (e.g. a
# tiny check: --sample-scan 32 --sample-det 64 --epochs 1 --subset 256). A run whose
# scores exist is skipped, so the script can be re-run after an interruption.
#
# Layout: OUT/SETTING/seedS/inv (the run, --cluster-on invariant) and OUT/SETTING/seedS/all
# (the same run directory re-run with --cluster-on all: clustering, scoring and report
# redone, training and encoding reused), each with wall.txt (wall and CPU seconds of the
# lcae invocation). Seeds after the first of a setting start from a copy of the first seed's
# sample/ (hard links) and run.json, so the deterministic simulation is not repeated;
# `lcae run` recognises the sample stage as up to date and retrains both models.
set -euo pipefail

out=${1:?usage: bash bench/claim.sh OUT [extra lcae run options...]}
shift
extra=("$@")
lcae=${LCAE:-build/lcae}
seeds=${SEEDS:-0 1 2}
settings=${SETTINGS:-default s2-g20-w2 s3-g8-w6 lowdose}

# simulator options of each setting (the built-in sample is the simulator's defaults:
# seed 1, 12 grains, boundaries 4 scan pixels wide)
sample_options() {
    case $1 in
    default) echo "" ;;
    s2-g20-w2) echo "--sample-seed 2 --sample-grains 20 --sample-boundary-width 2" ;;
    s3-g8-w6) echo "--sample-seed 3 --sample-grains 8 --sample-boundary-width 6" ;;
    lowdose) echo "--sample-preset lowdose" ;;
    *) echo "claim.sh: unknown setting '$1' (expected default, s2-g20-w2, s3-g8-w6 or lowdose)" >&2
       return 1 ;;
    esac
}

# runs lcae run in DIR with the given options; DIR/wall.txt gets the wall time and the
# CPU time (user + system, all threads) in seconds
timed_run() {
    local dir=$1
    shift
    /usr/bin/time -f "%e %U %S" -o "$dir/time.txt" nice -n 10 "$lcae" run -o "$dir" "$@"
    awk '{ printf "%.1f %.1f\n", $1, $2 + $3 }' "$dir/time.txt" >"$dir/wall.txt"
}

done_in() { [[ -f $1/wall.txt && -f $1/standard/score.json && -f $1/invariant/score.json ]]; }

for setting in $settings; do
    read -r -a sopts <<<"$(sample_options "$setting")"
    first=""
    for seed in $seeds; do
        base=$out/$setting/seed$seed
        opts=("${sopts[@]}" --seed "$seed" --assign-noise "${extra[@]}")
        echo "== $(date +%T) $setting seed $seed: lcae run ${opts[*]} --cluster-on invariant"
        if ! done_in "$base/inv"; then
            rm -rf "$base/inv"
            mkdir -p "$base/inv"
            if [[ -n $first ]]; then
                cp -al "$first/sample" "$base/inv/sample"
                cp "$first/run.json" "$base/inv/run.json"
            fi
            timed_run "$base/inv" "${opts[@]}" --cluster-on invariant
        fi
        [[ -n $first ]] || first=$base/inv
        echo "== $(date +%T) $setting seed $seed: --cluster-on all"
        if ! done_in "$base/all"; then
            rm -rf "$base/all"
            mkdir -p "$base/all"
            # every output of lcae is replaced by rename, never rewritten in place, so
            # hard links to the finished run cannot change it
            cp -al "$base/inv/." "$base/all/"
            rm -f "$base/all/wall.txt" "$base/all/time.txt"
            timed_run "$base/all" "${opts[@]}" --cluster-on all
            # the models must be the ones trained above (training not redone)
            for m in standard invariant; do
                if [[ ! "$base/all/$m/model.safetensors" -ef "$base/inv/$m/model.safetensors" ]]; then
                    echo "claim.sh: $base/all/$m/model.safetensors was rewritten:" \
                         "--cluster-on all retrained" >&2
                    exit 1
                fi
            done
        fi
    done
done
echo "== $(date +%T) done: /usr/bin/python3 bench/claim_table.py $out"
