#!/usr/bin/env bash
# Runs the libFuzzer targets of a BERTH_FUZZ build one after the other (the
# CI machine has 2 cores; one fuzzer per core would starve the other jobs).
#
#   tests/fuzz/run.sh short BUILD_DIR SECONDS [TARGET...]
#       Fresh copy of the committed seeds (corpus/<target>/) in a temp dir,
#       removed afterwards: the repository is never written. For make test.
#   tests/fuzz/run.sh long BUILD_DIR SECONDS [TARGET...]
#       Keeps a growing corpus in BUILD_DIR/fuzz-corpus/<target>/, seeded
#       from the committed one, so successive long runs build on each other.
#
# Crashing inputs go to BUILD_DIR/fuzz-artifacts/<target>/. Prints one line
# per target ("fuzz manifest: 123456 execs in 20 s, 0 crashes") and exits 1
# when any target crashed, leaked, timed out or ran out of memory.
set -euo pipefail

mode=${1:?usage: run.sh short|long BUILD_DIR SECONDS [TARGET...]}
build=${2:?build dir}
seconds=${3:?seconds per target}
shift 3
here=$(cd "$(dirname "$0")" && pwd)
targets=("$@")
if ((${#targets[@]} == 0)); then
  targets=(names scope manifest jwt htpasswd keystone http_session)
fi

# Longest input per target: a little over the largest real value, so the
# fuzzer spends its time on plausible sizes.
max_len() {
  case "$1" in
    names) echo 256 ;;      # repository names stop at 200, digests at 135
    scope) echo 1024 ;;     # several scopes in one parameter
    manifest) echo 8192 ;;  # an index with a few dozen descriptors
    jwt) echo 4096 ;;       # a token with an RSA x5c chain of two
    htpasswd) echo 4096 ;;  # a few dozen lines
    keystone) echo 4096 ;;  # a token body with roles (nocatalog)
    http_session) echo 16384 ;;  # a few pipelined requests with chunked bodies
    *) echo 4096 ;;
  esac
}

# Every sanitizer report must stop the run; UB already aborts (-fno-sanitize-recover).
export ASAN_OPTIONS=${ASAN_OPTIONS:-halt_on_error=1:detect_leaks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
failed=0
for t in "${targets[@]}"; do
  bin="$build/tests/fuzz/fuzz_$t"
  if [[ ! -x "$bin" ]]; then
    echo "fuzz $t: no binary at $bin (make build-fuzz builds it)" >&2
    failed=1
    continue
  fi
  if [[ "$mode" == short ]]; then
    corpus="$tmp/corpus-$t"
  else
    corpus="$build/fuzz-corpus/$t"
  fi
  mkdir -p "$corpus"
  # Seeds not there yet (cp -n's exit status differs between coreutils versions).
  for seed in "$here/corpus/$t/"*; do
    [[ -e "$corpus/${seed##*/}" ]] || cp "$seed" "$corpus/"
  done
  # Artifacts land in a fresh dir first, so that counting them counts this run.
  fresh="$tmp/artifacts-$t"
  artifacts="$build/fuzz-artifacts/$t"
  mkdir -p "$fresh" "$artifacts"
  log="$tmp/$t.log"
  rc=0
  "$bin" "$corpus" -max_total_time="$seconds" -max_len="$(max_len "$t")" -timeout=10 \
    -rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix="$fresh/" >"$log" 2>&1 || rc=$?
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  crashes=$(find "$fresh" -type f | wc -l)
  if ((rc != 0 && crashes == 0)); then crashes=1; fi
  if ((crashes > 0)); then cp "$fresh"/* "$artifacts/" 2>/dev/null || true; fi
  echo "fuzz $t: ${execs:-0} execs in $seconds s, $crashes crashes"
  if ((rc != 0)); then
    failed=1
    echo "---- fuzz $t failed (exit $rc); input saved in $artifacts/; log tail:" >&2
    tail -n 40 "$log" >&2
  fi
done
exit "$failed"
