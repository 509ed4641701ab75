#!/usr/bin/env bash
# The OCI distribution API (spec v1.1) end to end against the real berth
# binary over HTTPS on 127.0.0.1: every endpoint, every error code, exact
# status codes and the headers/body fields clients rely on.
#
# This script starts berth (lib.sh; two nodes behind HAProxy with
# BERTH_TARGET=cluster) and the checks live in pytest,
# tests/integration/py/api/ (one file per area of the API). pytest learns
# where berth is from API_* variables (py/api/client.py, Registry.from_env).
# Its results count into the closing "N passed, M failed" line; a pytest
# crash or collection error counts as a failure. Arguments go to pytest:
# `api_test.sh -k range` runs the Range cases only.
source "$(dirname "$0")/lib.sh"

# Debian's python3-pytest and python3-requests are for Debian's python3,
# which may not be the first on PATH.
PY=""
for p in python3 /usr/bin/python3; do "$p" -c 'import pytest, requests' 2>/dev/null && PY=$p && break; done
if [[ -z $PY ]]; then
  fail "python3-pytest and python3-requests are installed (scripts/install-deps.sh --test)"
  summary
  exit 1
fi

PORT=$(free_port)
start_berth "$WORK/root" "$PORT" || exit 1

# run_pytest [PYTEST ARGS...]: runs the suite and adds its counts to PASSED
# and FAILED.
run_pytest() {
  local xml=$WORK/api-pytest.xml rc counts
  API_BASE=$BASE API_CACERT=$CACERT API_NODES=${CLUSTER_N:-1} API_TARGET=${BERTH_TARGET:-one} \
    PYTHONDONTWRITEBYTECODE=1 timeout 600 "$PY" -m pytest -p no:cacheprovider -q --tb=short -rfEs \
    --junitxml="$xml" "$@" "$HERE/py/api"
  rc=$?
  # tests, failures + errors, skipped
  counts=$("$PY" -c '
import sys, xml.etree.ElementTree as ET
t = f = s = 0
for suite in ET.parse(sys.argv[1]).getroot().iter("testsuite"):
    t += int(suite.get("tests", 0)); s += int(suite.get("skipped", 0))
    f += int(suite.get("failures", 0)) + int(suite.get("errors", 0))
print(t - f - s, f)' "$xml" 2>/dev/null)
  if [[ -z $counts ]]; then
    fail "pytest wrote no results (exit status $rc)"
    return
  fi
  PASSED=$((PASSED + ${counts% *}))
  FAILED=$((FAILED + ${counts#* }))
  # Exit 1 is "some tests failed", counted above; anything else (an
  # interrupted run, an internal or usage error, no tests) is a failure of
  # its own, as is a non-zero status with nothing counted as failed.
  if ((rc != 0 && (rc != 1 || ${counts#* } == 0))); then
    fail "pytest exited $rc"
  fi
}

run_pytest "$@"
check "berth still running after the suite" berth_alive
summary
