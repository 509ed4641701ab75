#!/usr/bin/env bash
# What metrics cost on the hottest request: HEAD of a blob, by wrk, against
# two berths started side by side from the same binary, one with metrics on
# (the default) and one with metrics.enabled: false, in alternating rounds
# (who goes first alternates), plus the reference registry (Debian's
# docker-registry) as the baseline of the same run. Plain HTTP, auth off.
#
#   bench/metrics.sh [ROUNDS] [SECONDS]    default 6 rounds of 5 s
#
# Prints each round and the medians, and writes bench/results/metrics.md.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
TOP=$(cd "$HERE/.." && pwd)
ROUNDS=${1:-6}
SECONDS_EACH=${2:-5}
BERTH_BIN=${BENCH_BERTH_BIN:-}
WORK=$(mktemp -d "${TMPDIR:-/tmp}/berth-bench-metrics.XXXXXX")
PIDS=()
trap 'for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done; wait 2>/dev/null; rm -rf "$WORK"' EXIT
log() { echo "[$(date +%T)] $*" >&2; }
die() { log "error: $*"; exit 1; }
for t in wrk curl docker-registry; do command -v "$t" >/dev/null || die "$t is missing (scripts/install-deps.sh --test)"; done

if [[ -z $BERTH_BIN ]]; then
  log "building berth (Release) in $TOP/build-bench"
  cmake -S "$TOP" -B "$TOP/build-bench" -DCMAKE_BUILD_TYPE=Release -DBERTH_TESTS=OFF >/dev/null
  cmake --build "$TOP/build-bench" -j "$(nproc)" --target berth >/dev/null
  BERTH_BIN=$TOP/build-bench/src/berth
fi

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }
wait_ready() { # URL PID
  for _ in $(seq 1 200); do
    [[ $(curl -s -o /dev/null -w '%{http_code}' "$1") != 000 ]] && return 0
    kill -0 "$2" 2>/dev/null || die "server exited during start-up ($1)"
    sleep 0.05
  done
  die "not ready: $1"
}

declare -A BASE PID
start_berth() { # NAME METRICS(true|false)
  local port mport
  port=$(free_port); mport=$(free_port)
  mkdir -p "$WORK/$1"
  env BERTH_STORAGE_ROOT="$WORK/$1" BERTH_REGISTRY_ADDR=127.0.0.1 BERTH_REGISTRY_PORT="$port" \
    BERTH_TLS_ENABLED=false BERTH_AUTH_ENABLED=false BERTH_LOG_LEVEL=warn \
    BERTH_METRICS_ENABLED="$2" BERTH_METRICS_PORT="$mport" "$BERTH_BIN" registry >"$WORK/$1.log" 2>&1 &
  PID[$1]=$!; PIDS+=("$!"); BASE[$1]=http://127.0.0.1:$port
  wait_ready "${BASE[$1]}/v2/" "${PID[$1]}"
}
start_ref() {
  local port
  port=$(free_port)
  mkdir -p "$WORK/ref"
  cat >"$WORK/ref.yml" <<YML
version: 0.1
log: { level: error, accesslog: { disabled: true } }
storage: { filesystem: { rootdirectory: $WORK/ref } }
http: { addr: 127.0.0.1:$port }
YML
  docker-registry serve "$WORK/ref.yml" >"$WORK/ref.log" 2>&1 &
  PID[ref]=$!; PIDS+=("$!"); BASE[ref]=http://127.0.0.1:$port
  wait_ready "${BASE[ref]}/v2/" "${PID[ref]}"
}

start_berth on true
start_berth off false
start_ref
# The empty blob: wrk's parser waits for the body of a HEAD answer that
# announces a non-zero Content-Length (bench/run.sh does the same).
BLOB=$(printf '' | sha256sum | cut -d' ' -f1)
for who in on off ref; do
  loc=$(curl -s -D - -o /dev/null -X POST "${BASE[$who]}/v2/bench/m/blobs/uploads/" | awk 'tolower($1)=="location:" {print $2}' | tr -d '\r')
  [[ $loc == /* ]] && loc=${BASE[$who]}$loc
  sep='?'; [[ $loc == *\?* ]] && sep='&'
  code=$(printf '' | curl -s -o /dev/null -w '%{http_code}' -X PUT --data-binary @- \
    -H 'Content-Type: application/octet-stream' "$loc${sep}digest=sha256:$BLOB")
  [[ $code == 201 ]] || die "blob push to $who: $code"
done
printf 'wrk.method = "HEAD"\n' >"$WORK/head.lua"

declare -A R U
# Server CPU seconds (user + system) so far, from /proc.
cpu_s() { awk -v t="$(getconf CLK_TCK)" '{ sub(/.*\) /, ""); print ($12 + $13) / t }' "/proc/$1/stat"; }
run_wrk() { # WHO -> "req/s cpu_us_per_request"
  local c0 c1 out
  c0=$(cpu_s "${PID[$1]}")
  out=$(wrk -t2 -c32 -d"${SECONDS_EACH}s" --timeout 10s -s "$WORK/head.lua" "${BASE[$1]}/v2/bench/m/blobs/sha256:$BLOB")
  c1=$(cpu_s "${PID[$1]}")
  awk -v c0="$c0" -v c1="$c1" '/requests in/ { n = $1 } /^Requests\/sec/ { r = $2 }
    END { printf "%s %.2f\n", r, (n > 0) ? (c1 - c0) * 1e6 / n : 0 }' <<<"$out"
}
median() { tr ' ' '\n' <<<"$1" | grep -v '^$' | sort -g | awk '{ a[NR] = $1 } END { print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }
for ((i = 1; i <= ROUNDS; i++)); do
  order="on off ref"; ((i % 2 == 0)) && order="off on ref"
  for who in $order; do
    read -r r u <<<"$(run_wrk "$who")"
    R[$who]+=" $r" U[$who]+=" $u"
    log "round $i $who: $r req/s, $u µs CPU per request"
  done
done
on=$(median "${R[on]}"); off=$(median "${R[off]}"); ref=$(median "${R[ref]}")
uon=$(median "${U[on]}"); uoff=$(median "${U[off]}"); uref=$(median "${U[ref]}")
ratio=$(awk -v a="$on" -v b="$off" 'BEGIN { printf "%.3f", a / b }')
cost=$(awk -v a="$on" -v b="$off" 'BEGIN { printf "%.1f", (1 - a / b) * 100 }')
ucost=$(awk -v a="$uon" -v b="$uoff" 'BEGIN { printf "%.1f", (a / b - 1) * 100 }')
mkdir -p "$HERE/results"
{
  echo "# Metrics overhead: HEAD blob, wrk -t2 -c32, $ROUNDS alternating rounds of $SECONDS_EACH s (medians)"
  echo
  echo "Run $(date -u '+%Y-%m-%d %H:%M UTC'), commit $(git -C "$TOP" rev-parse --short HEAD 2>/dev/null || echo unknown), $(nproc) cores."
  echo
  echo "| server | req/s (median) | server CPU µs per request (median) | req/s of each round |"
  echo "|---|---:|---:|---|"
  echo "| berth, metrics on | $on | $uon |${R[on]} |"
  echo "| berth, metrics off | $off | $uoff |${R[off]} |"
  echo "| reference registry | $ref | $uref |${R[ref]} |"
  echo
  echo "metrics on / off: req/s **$ratio** (cost $cost %), CPU per request +$ucost %;" \
    "berth with metrics / reference: $(awk -v a="$on" -v b="$ref" 'BEGIN { printf "%.1f", a / b }')x req/s"
} | tee "$HERE/results/metrics.md"
