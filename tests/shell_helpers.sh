# Helpers for the command-line tests (sourced): a temporary folder $t removed at exit,
# a failure count, and checks of exit status and of the one-line error message.
# Usage: t=$(mktemp -d /tmp/lcae-cli-NAME-XXXXXX); source tests/shell_helpers.sh
set -u
trap 'rm -rf "$t"' EXIT
fails=0
fail() { echo "FAIL: $*" >&2; fails=$((fails + 1)); }
# run CMD...: sets rc, out (stdout), err (stderr)
run() { "$@" >"$t/out" 2>"$t/err"; rc=$?; out=$(cat "$t/out"); err=$(cat "$t/err"); }
expect_rc() { [ "$rc" = "$1" ] || fail "$2: exit $rc, expected $1 (stderr: $err)"; }
one_line_error() {
  [ "$(wc -l <"$t/err")" = 1 ] && grep -q '^lcae: error: ' "$t/err" ||
    fail "$1: expected one 'lcae: error:' line, got: $err"
}
# expect_files DIR NAME...: DIR holds exactly these names (ls -A: with hidden ones, as
# the temporary outputs ".NAME.tmp.XXXXXX" are)
expect_files() {
  local dir=$1 want have
  shift
  want=$( (($#)) && printf '%s\n' "$@" | sort | tr '\n' ' ')
  have=$(ls -A "$dir" | sort | tr '\n' ' ')
  [ "$have" = "$want" ] || fail "$dir: expected [$want], found [$have]"
}
