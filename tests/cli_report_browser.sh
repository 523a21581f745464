#!/usr/bin/env bash
# report.html in a real browser: writes a report with test_report (beside the lcae binary),
# then tests/report_browser/check_report.js loads it in Debian's headless Chromium through
# playwright-core: no console error, and hovering a cluster map shows a pattern and its
# clusters. Skipped (exit 77) where chromium, node or node_modules are missing, except
# under CI, where that fails (`make test` installs them: scripts/install-deps test, npm ci
# --prefix tests/report_browser).
lcae="$1"
here="$(cd "$(dirname "$0")" && pwd)"
out="$(mktemp -d /tmp/lcae-browser-XXXXXX)"
t=$out
source "$here/shell_helpers.sh"
chromium="${CHROMIUM:-/usr/bin/chromium}"
[ -x "$chromium" ] || missing "cli_report_browser: no Chromium at $chromium (apt-get install chromium)"
command -v node >/dev/null 2>&1 || missing "cli_report_browser: no node (apt-get install nodejs)"
[ -d "$here/report_browser/node_modules/playwright-core" ] ||
  missing "cli_report_browser: no playwright-core (npm ci --prefix tests/report_browser)"
gen="$(dirname "$lcae")/test_report"
[ -x "$gen" ] || { echo "cli_report_browser: no $gen to write a report" >&2; exit 1; }
"$gen" "$out/report" >"$out/log" 2>&1 || { cat "$out/log" >&2; echo "cli_report_browser: test_report failed" >&2; exit 1; }
node "$here/report_browser/check_report.js" "$out/report/report.html"
