#!/usr/bin/env bash
# berth's S3 client against a real Ceph RGW: starts a throwaway single-node
# cluster (tests/support/ceph.sh), runs the client's gtest binary with its
# S3_* variables, and requires every test to run and pass (a skip is a
# failure here: it means the endpoint was not seen). Then checks that the
# cluster stops cleanly.
#   BERTH_BUILD   the build directory (default: two levels above $BERTH_BIN)
source "$(dirname "$0")/lib.sh"

BUILD=${BERTH_BUILD:-$(dirname "$(dirname "$BERTH_BIN")")}
TESTS=$BUILD/tests/unit/berth_s3_tests
CEPH=$TOP/tests/support/ceph.sh
CEPH_DIR=$WORK/ceph

s3_cleanup() {
  "$CEPH" stop "$CEPH_DIR" >/dev/null 2>&1
  cleanup
}
trap s3_cleanup EXIT

if [[ ! -x $TESTS ]]; then
  fail "no $TESTS (build the berth_s3_tests target, or set BERTH_BUILD)"
  summary
  exit 1
fi

t0=$(date +%s%N)
if ! "$CEPH" start "$CEPH_DIR" >"$WORK/ceph-start.out" 2>&1; then
  fail "ceph.sh start"
  cat "$WORK/ceph-start.out"
  summary
  exit 1
fi
ms=$((($(date +%s%N) - t0) / 1000000))
pass "Ceph mon + OSD + RGW up in ${ms} ms ($(grep -o 'RSS.*' "$WORK/ceph-start.out"))"
for v in S3_ENDPOINT S3_ACCESS_KEY S3_SECRET_KEY S3_REGION S3_BUCKET; do
  check "s3.env has $v" grep -q "^$v=." "$CEPH_DIR/s3.env"
done
check "nothing of the cluster outside its directory" \
  bash -c "! grep -E '(/etc/ceph|/var/lib/ceph)' '$CEPH_DIR/ceph.conf'"

set -a
# shellcheck disable=SC1091
source "$CEPH_DIR/s3.env"
set +a
timeout 600 "$TESTS" --gtest_color=no >"$WORK/gtest.out" 2>&1
rc=$?
unset S3_ENDPOINT S3_ACCESS_KEY S3_SECRET_KEY S3_REGION S3_BUCKET
while read -r line; do
  name=${line#*] }
  name=${name%% (*}
  case $line in
    "[       OK ]"*) pass "$name" ;;
    "[  FAILED  ]"*" ms)") fail "$name"; grep -B15 -F "[  FAILED  ] $name (" "$WORK/gtest.out" | head -30 ;;
    "[  SKIPPED ]"*" ms)") fail "$name was skipped" ;;
  esac
done < <(grep -E '^\[ +(OK|FAILED|SKIPPED) +\] .* \([0-9]+ ms\)$' "$WORK/gtest.out")
ran=$(grep -cE '^\[ RUN +\]' "$WORK/gtest.out")
if ((ran < 30)); then fail "only $ran tests ran"; fi
if ((rc != 0)); then fail "berth_s3_tests exited $rc"; tail -20 "$WORK/gtest.out"; fi

# A clean stop: every daemon gone, promptly.
pids=$(cat "$CEPH_DIR"/{rgw,osd,mon}.pid 2>/dev/null)
t0=$(date +%s%N)
"$CEPH" stop "$CEPH_DIR"
ms=$((($(date +%s%N) - t0) / 1000000))
left=""
for p in $pids; do kill -0 "$p" 2>/dev/null && left+=" $p"; done
expect_eq "ceph.sh stop leaves no daemon (took ${ms} ms)" "" "$left"
check "ceph.sh stop removes the PID files" bash -c "! ls '$CEPH_DIR'/*.pid 2>/dev/null | grep -q ."

summary
