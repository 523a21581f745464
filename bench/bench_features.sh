#!/usr/bin/env bash
# bench_features (lcae features, both methods, on a simulated 256 x 256 scan of 128 x 128
# patterns, 4.4 GB), then its peer in the same run: numpy + scikit-learn computing the same
# features in memory (bench/features_peer.py), with their wall time and peak memory.
# Usage: bash bench/bench_features.sh BUILD_DIR [DIR] (DIR keeps the scan, simulated once;
# default /tmp/lcae-bench-features-scan, removed afterwards unless DIR is given)
set -uo pipefail
build=${1:-build}
here=$(cd "$(dirname "$0")/.." && pwd)
dir=${2:-/tmp/lcae-bench-features-scan}
scan=$dir/scan_x256_y256.raw
status=0
if [ ! -s "$scan" ]; then
  avail=$(df --output=avail -B1 "$(dirname "$dir")" | tail -1)
  if [ "$avail" -lt 6000000000 ]; then
    echo "bench_features: under 6 GB free beside $dir for the 4.4 GB scan" >&2
    exit 1
  fi
  "$build/lcae" simulate -o "$dir" --scan 256x256 -q || exit 1
fi
"$build/bench_features" "$build/lcae" --scan "$scan" || status=1
if ! /usr/bin/python3 -c 'import sklearn' 2>/dev/null; then
  echo "bench_features: no scikit-learn for /usr/bin/python3 (apt-get install python3-sklearn); peer skipped" >&2
  exit 1
fi
echo
echo "peer: numpy + scikit-learn, every row in memory, PCA's default solver (same run)"
printf "%-8s %8s %12s\n" method "wall s" "max RSS MiB"
for m in polar pca; do
  read -r name sec rss < <(/usr/bin/python3 "$here/bench/features_peer.py" $m "$scan" 256 256 2) || status=1
  printf "%-8s %8s %12s\n" "$name" "$sec" "$rss"
done
[ -n "${2:-}" ] || rm -rf "$dir"
exit $status
