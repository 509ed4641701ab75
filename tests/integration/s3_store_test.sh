#!/usr/bin/env bash
# The S3 stores (storage/s3/) against a real Ceph RGW: starts a throwaway
# single-node cluster (tests/support/ceph.sh), runs the S3StoresTest cases of
# the unit test binary with its S3_* environment, and requires every case
# to run: a skipped case here means the S3 was not reached. S3_BENCH=1 also
# runs the throughput measurement (256 MiB; needs ~2 GiB of RAM for RGW).
source "$(dirname "$0")/lib.sh"

UNIT_BIN=${UNIT_BIN:-$TOP/build/tests/unit/berth_storage_s3_tests}
if [[ ! -x $UNIT_BIN ]]; then
  fail "unit test binary $UNIT_BIN not built"
  summary
  exit 1
fi

CEPH_DIR=$WORK/ceph
stop_ceph() { "$TOP/tests/support/ceph.sh" stop "$CEPH_DIR" >/dev/null 2>&1 || true; }
trap 'stop_ceph; cleanup' EXIT

if ! timeout 180 "$TOP/tests/support/ceph.sh" start "$CEPH_DIR" >"$WORK/ceph-start.log" 2>&1; then
  fail "Ceph RGW started"
  tail -30 "$WORK/ceph-start.log"
  summary
  exit 1
fi
pass "Ceph RGW started"
set -a
# shellcheck disable=SC1091
source "$CEPH_DIR/s3.env"
set +a

filter='S3StoresTest.*:-S3StoresTest.Throughput'
[[ ${S3_BENCH:-0} == 1 ]] && filter='S3StoresTest.*'
out=$(timeout 900 "$UNIT_BIN" --gtest_filter="$filter" 2>&1)
rc=$?
echo "$out" | grep -E '^\[ +(OK|FAILED|SKIPPED) +\]|^BENCH|Failure|error' | head -80
expect_eq "S3 store unit tests exit 0" 0 "$rc"
ran=$(echo "$out" | grep -cE '^\[ +OK +\]')
skipped=$(echo "$out" | grep -cE '^\[ +SKIPPED +\]')
failed=$(echo "$out" | grep -cE '^\[ +FAILED +\] S3StoresTest\.')
listed=$("$UNIT_BIN" --gtest_filter="$filter" --gtest_list_tests | grep -c '^  ')
check "every listed S3 store case ran ($ran of $listed)" test "$ran" -eq "$listed" -a "$listed" -ge 18
expect_eq "no S3 store case skipped" 0 "$skipped"
expect_eq "no S3 store case failed" 0 "$failed"

summary
