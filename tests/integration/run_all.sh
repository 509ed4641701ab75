#!/usr/bin/env bash
# Runs every integration test script (tests/integration/*_test.sh), or the
# ones named (run_all.sh api stall), against the built binary and prints one
# closing line over all of them. The storage lifecycle suites (gc, gc_race,
# gc_crash: docs/lifecycle.md) are among them; gc needs skopeo, podman and
# libfaketime (scripts/install-deps.sh --test). With BERTH_TARGET=cluster the
# suites run against two berths on S3 + PostgreSQL behind HAProxy
# (cluster_target.sh).
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
passed=0
failed=0
suites=("$HERE"/*_test.sh)
if (($# > 0)); then
  suites=()
  for name in "$@"; do suites+=("$HERE/${name}_test.sh"); done
fi
label=integration${BERTH_TARGET:+ (BERTH_TARGET=$BERTH_TARGET)}
for t in "${suites[@]}"; do
  echo "=== $(basename "$t")${BERTH_TARGET:+ (BERTH_TARGET=$BERTH_TARGET)}"
  t0=$SECONDS
  out=$(bash "$t" 2>&1)
  rc=$?
  echo "$out"
  echo "# $(basename "$t"): $((SECONDS - t0)) s"
  line=$(echo "$out" | grep -E '^[0-9]+ passed, [0-9]+ failed$' | tail -1)
  p=$(echo "$line" | awk '{print $1}')
  f=$(echo "$line" | awk '{print $3}')
  passed=$((passed + ${p:-0}))
  failed=$((failed + ${f:-0}))
  if [[ $rc -ne 0 && ${f:-0} -eq 0 ]]; then
    echo "FAIL - $(basename "$t") exited $rc"
    failed=$((failed + 1))
  fi
done
echo "$label: $passed passed, $failed failed"
[[ $failed -eq 0 ]]
