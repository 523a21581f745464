#!/usr/bin/env bash
# bench_cluster (lcae cluster on the fixtures' 16-D sets, against the hdbscan library's
# recorded times and the bars), then the one stage whose peer runs here, in the same run:
# core distances (min_samples 60) by lcae against the hdbscan library's own way,
# scikit-learn's KDTree dual-tree query over 2 joblib workers (bench/cluster_knn_sklearn.py).
# Usage: bash bench/bench_cluster.sh BUILD_DIR [bench_cluster options, e.g. --reps 3]
# (scripts/bench runs it with BUILD_DIR alone)
set -uo pipefail
build=${1:-build}
here=$(cd "$(dirname "$0")/.." && pwd)
shared=${LCAE_SHARED_DIR:-$here/../shared}
dir=/tmp/lcae-bench-cluster
status=0
"$build/bench_cluster" "$build/lcae" --dir "$dir" "${@:2}" || status=1
if ! /usr/bin/python3 -c 'import sklearn, joblib' 2>/dev/null; then
  echo "bench_cluster: no scikit-learn for /usr/bin/python3 (apt-get install python3-sklearn); peer skipped" >&2
  exit 1
fi
echo
echo "core distances, min_samples 60: lcae (2 threads) vs scikit-learn KDTree.query(k=61,"
echo "dualtree=True, breadth_first=True) over 2 joblib workers, as the hdbscan library does"
printf "%-9s %16s %16s %18s %9s\n" points "lcae stage s" "lcae whole s" "scikit-learn s" "x stage"
for f in "$shared/fixtures/hdbscan/blobs_16k_d16.npy" "$shared/fixtures/hdbscan/blobs_65k_d16.npy"; do
  log=$("$build/lcae" cluster "$f" -o "$dir/labels.npy" --min-cluster-size 60 2>&1 >/dev/null) || status=1
  stage=$(sed -n 's/.*core distances: \([0-9]*\) points in \([0-9.]*\) s.*/\2/p' <<<"$log")
  whole=$(sed -n 's/.*noise, \([0-9.]*\) s$/\1/p' <<<"$log")
  n=$(sed -n 's/.*core distances: \([0-9]*\) points.*/\1/p' <<<"$log")
  peer=$(/usr/bin/python3 "$here/bench/cluster_knn_sklearn.py" "$f" 61 2) || status=1
  printf "%-9s %16s %16s %18s %9s\n" "$n" "$stage" "$whole" "$peer" \
    "$(awk -v a="$peer" -v b="$stage" 'BEGIN { if (b > 0) printf "%.1f", a / b; else print "n/a" }')"
done
exit $status
