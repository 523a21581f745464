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
# missing WHAT: the test cannot run here because WHAT (reference data, an outside tool)
# is missing: a skip (exit 77, which ctest reports as skipped), except under CI (CI set,
# neither empty nor "false"), where every test must run: a failure naming what is missing.
missing() {
  if [ -n "${CI:-}" ] && [ "$CI" != false ]; then
    echo "FAIL: $* (CI=$CI: nothing may be skipped)" >&2
    exit 1
  fi
  echo "skipped: $*"
  exit 77
}
# expect STATUS SUBSTRING -- ARGS...: runs "$lcae" ARGS in the current folder; checks the
# exit status and, for a failure, nothing on stdout, one line "lcae: error: ..." holding
# SUBSTRING on stderr, and no file appearing
expect() {
  local want=$1 text=$2 before after o e st
  shift 3
  before=$(ls -A | sort)
  "$lcae" "$@" >"$t/.out" 2>"$t/.err"
  st=$?
  o=$(cat "$t/.out")
  e=$(cat "$t/.err")
  rm -f "$t/.out" "$t/.err"
  after=$(ls -A | sort)
  if [ "$st" != "$want" ]; then
    fail "lcae $*: exit $st, expected $want ($e)"
    return
  fi
  [ "$want" = 0 ] && return
  if [ -n "$o" ] || [ "$(printf '%s\n' "$e" | wc -l)" != 1 ] ||
     [[ "$e" != "lcae: error: "* ]] || [[ "$e" != *"$text"* ]]; then
    fail "lcae $*: stdout '$o', stderr '$e' (expected one line with '$text')"
  fi
  [ "$before" = "$after" ] || fail "lcae $*: files appeared: $after"
}
# mpi N CMD...: CMD on N MPI ranks (tests/mpi_*.sh; ctest sets LCAE_MPIEXEC in an MPI
# build), as root and beyond the cores if need be
mpi() { "${LCAE_MPIEXEC:?run through ctest}" --allow-run-as-root --oversubscribe -np "$@"; }
