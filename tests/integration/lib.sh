# Shared helpers for the integration tests: start the real berth binary on a
# loopback port with a temporary storage root, make assertions, print the
# summary line ("N passed, N failed") that CI reads. Source it; do not run it.

set -u
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
TOP=$(cd "$HERE/../.." && pwd)
BERTH_BIN=${BERTH_BIN:-$TOP/build/src/berth}
# These knobs are the tests', not berth's, and berth refuses unknown BERTH_*
# variables at start-up: keep them out of its environment.
export -n BERTH_BIN BERTH_ROLE BERTH_TEST_LOG_LEVEL BERTH_TARGET 2>/dev/null
# Every berth a suite starts (often several at once) serves metrics on a
# port of its own choosing, unless the suite names one: the default
# 127.0.0.1:9003 would let only one start.
export BERTH_METRICS_PORT=${BERTH_METRICS_PORT:-0}
PASSED=0
FAILED=0
BERTH_PID=""
WORK=$(mktemp -d "${TMPDIR:-/tmp}/berth-it.XXXXXX")

cleanup() {
  stop_berth
  if [[ "${KEEP_WORK:-0}" != 1 ]]; then rm -rf "$WORK"; fi
}
trap cleanup EXIT

# A free TCP port on 127.0.0.1.
free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

# start_berth ROOT PORT [ENV=VALUE ...]: runs `berth registry` (or
# $BERTH_ROLE) in the background on 127.0.0.1:PORT with HTTPS (the generated
# certificate) and auth off unless an ENV=VALUE turns it on, and
# waits until it answers (BERTH_TLS_ENABLED=false among the ENV=VALUEs: plain
# HTTP). Sets BERTH_PID, BASE (https://127.0.0.1:PORT),
# CACERT and CERTDIR (a folder with ca.crt, for skopeo/podman). The array
# START_ARGS, when set, adds arguments to berth's command line (-c FILE).
start_berth() {
  local root=$1 port=$2
  shift 2
  env BERTH_STORAGE_ROOT="$root" BERTH_REGISTRY_ADDR=127.0.0.1 BERTH_REGISTRY_PORT="$port" \
    BERTH_LOG_LEVEL="${BERTH_TEST_LOG_LEVEL:-info}" BERTH_AUTH_ENABLED=false "$@" \
    "$BERTH_BIN" "${BERTH_ROLE:-registry}" ${START_ARGS[@]+"${START_ARGS[@]}"} >>"$root.log" 2>&1 &
  BERTH_PID=$!
  BASE=https://127.0.0.1:$port
  CACERT=$root/keys/tls.crt
  CERTDIR=$root/certs.d
  local plain=0 i
  [[ " $* " == *" BERTH_TLS_ENABLED=false "* ]] && plain=1 && BASE=http://127.0.0.1:$port
  for i in $(seq 1 100); do
    if ((plain)) && [[ $(curl -s -o /dev/null -w '%{http_code}' "$BASE/v2/") != 000 ]]; then
      return 0
    fi
    if [[ -f "$CACERT" ]] &&
      [[ $(curl -s --cacert "$CACERT" -o /dev/null -w '%{http_code}' "$BASE/v2/") != 000 ]]; then
      mkdir -p "$CERTDIR" && cp "$CACERT" "$CERTDIR/ca.crt"
      return 0
    fi
    if ! kill -0 "$BERTH_PID" 2>/dev/null; then
      echo "berth exited during start-up:"; tail -20 "$root.log"; return 1
    fi
    sleep 0.1
  done
  echo "berth did not become ready"; tail -20 "$root.log"; return 1
}

# stop_berth [SIGNAL]: stops the berth started last and waits for it.
# Bounded: a berth that has not stopped after 20 s is killed (and that is a
# bug worth a test of its own, not a reason to hang the suite).
stop_berth() {
  if [[ -n "$BERTH_PID" ]]; then
    kill "-${1:-TERM}" "$BERTH_PID" 2>/dev/null
    local i
    for i in $(seq 1 200); do
      kill -0 "$BERTH_PID" 2>/dev/null || break
      sleep 0.1
    done
    kill -KILL "$BERTH_PID" 2>/dev/null
    wait "$BERTH_PID" 2>/dev/null
    BERTH_PID=""
  fi
}

# root_env ROOT: the environment (VAR=VALUE lines) under which a berth
# command (user, revoke-tokens, gc) acts on the stores of the berth on ROOT.
root_env() { echo "BERTH_STORAGE_ROOT=$1"; }

# berth_alive: the berth started last still runs.
berth_alive() { [[ -n $BERTH_PID ]] && kill -0 "$BERTH_PID" 2>/dev/null; }

pass() { PASSED=$((PASSED + 1)); echo "ok   - $*"; }
fail() { FAILED=$((FAILED + 1)); echo "FAIL - $*"; }

# check NAME COMMAND...: passes when COMMAND exits 0.
check() {
  local name=$1
  shift
  if "$@"; then pass "$name"; else fail "$name"; fi
}

# expect_eq NAME EXPECTED ACTUAL
expect_eq() {
  if [[ "$2" == "$3" ]]; then pass "$1"; else fail "$1 (expected '$2', got '$3')"; fi
}

# expect_contains NAME NEEDLE HAYSTACK
expect_contains() {
  if [[ "$3" == *"$2"* ]]; then pass "$1"; else fail "$1 (no '$2' in '${3:0:300}')"; fi
}

# Fails the suite for every log under $WORK holding a sanitizer report
# (make integration-asan): berth prints them to stderr, into its log, where
# no check would look. Run after berth has stopped, since leaks are reported
# at exit.
check_sanitizer_reports() {
  local f
  while IFS= read -r f; do
    fail "sanitizer report in ${f#"$WORK"/}"
    grep -a -m1 -A40 -E 'ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:' "$f"
  done < <(grep -r -l -a --include='*.log' -E 'ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:' "$WORK")
}

# Stops berth, checks the logs, prints the closing line and returns non-zero
# when anything failed.
summary() {
  stop_berth
  check_sanitizer_reports
  echo "$PASSED passed, $FAILED failed"
  [[ $FAILED -eq 0 ]]
}

# pytest_python MODULE...: sets PY to a python3 that imports every MODULE,
# or fails the check and returns 1. Debian's python3-* packages are for
# Debian's python3, which may not be the first on PATH.
pytest_python() {
  local p mods
  mods=$(IFS=,; echo "$*")
  PY=""
  for p in python3 /usr/bin/python3; do "$p" -c "import $mods" 2>/dev/null && PY=$p && return 0; done
  fail "a python3 with $* (scripts/install-deps.sh --test)"
  return 1
}

# pytest_run XML [PYTEST ARGS...]: runs pytest (with PY) and adds its results
# to PASSED and FAILED: errors count as failures, skips as neither. An exit
# status other than "some tests failed" with failures counted (an
# interrupted run, a collection or usage error, no tests) is a failure of its
# own.
pytest_run() {
  local xml=$1 rc counts
  shift
  PYTHONDONTWRITEBYTECODE=1 timeout 900 "$PY" -m pytest -p no:cacheprovider --tb=short -rfEs \
    --junitxml="$xml" "$@"
  rc=$?
  counts=$("$PY" - "$xml" <<'PY' 2>/dev/null
import sys, xml.etree.ElementTree as ET
t = f = s = 0
for suite in ET.parse(sys.argv[1]).getroot().iter("testsuite"):
    t += int(suite.get("tests", 0)); s += int(suite.get("skipped", 0))
    f += int(suite.get("failures", 0)) + int(suite.get("errors", 0))
print(t - f - s, f)
PY
  )
  if [[ -z $counts ]]; then
    fail "pytest wrote no results (exit status $rc)"
    return
  fi
  PASSED=$((PASSED + ${counts% *}))
  FAILED=$((FAILED + ${counts#* }))
  if ((rc != 0 && (rc != 1 || ${counts#* } == 0))); then fail "pytest exited $rc"; fi
  echo "# pytest: ${counts% *} passed, ${counts#* } failed"
}

# BERTH_TARGET=cluster runs the suite against two nodes on S3 and PostgreSQL
# behind HAProxy instead of one berth (cluster_target.sh).
if [[ ${BERTH_TARGET:-one} == cluster ]]; then
  source "$HERE/cluster_target.sh"
fi
