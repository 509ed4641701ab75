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

pytest_python pytest requests || { summary; exit 1; }

PORT=$(free_port)
start_berth "$WORK/root" "$PORT" || exit 1

API_BASE=$BASE API_CACERT=$CACERT API_NODES=${CLUSTER_N:-1} API_TARGET=${BERTH_TARGET:-one} \
  pytest_run "$WORK/api-pytest.xml" -q "$@" "$HERE/py/api"
check "berth still running after the suite" berth_alive
summary
