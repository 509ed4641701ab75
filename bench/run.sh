#!/usr/bin/env bash
# bench/run.sh: berth against the reference registry (distribution 2.8,
# Debian's docker-registry), side by side on loopback, same run, same client.
# Three configuration classes, each on fresh storage roots: both plain HTTP,
# both TLS, then berth with token auth against the reference without. Every
# workload alternates between the two servers over several rounds; medians
# are reported. Prints markdown tables (workload | berth | reference | ratio)
# and one BENCH_JSON line, and writes them to bench/results/latest.md and
# latest.json, followed by the Google Benchmark micro-benchmarks.
#
#   bench/run.sh            full sizes (1 GiB blob, 200 x 1 MiB, 1,000 tags, wrk 10 s); under 10 minutes
#   bench/run.sh --quick    small sizes, to check that everything works; under 2 minutes
#
# BENCH_QUICK=1 is the same as --quick. See bench/README.md for every knob
# and what each row means.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
TOP=$(cd "$HERE/.." && pwd)
CLIENT="$HERE/bench_client.py"

usage() { sed -n '2,15s/^# \{0,1\}//p' "${BASH_SOURCE[0]}"; }
QUICK=${BENCH_QUICK:-0}
for arg in "$@"; do
  case $arg in
    --quick) QUICK=1 ;;
    -h | --help) usage; exit 0 ;;
    *) usage >&2; echo "unknown argument: $arg" >&2; exit 2 ;;
  esac
done

if [[ $QUICK == 1 ]]; then
  d_big=$((64 << 20)) d_chunk=$((16 << 20)) d_n=50 d_tags=200 d_list=20 d_wrk=3 d_reps=2 d_wrk_rounds=1 d_wrk_rounds_ta=1 d_wrk_token=3
  d_limit=120 d_settle=0.1 d_ssl=1
else
  d_big=$((1 << 30)) d_chunk=$((64 << 20)) d_n=200 d_tags=1000 d_list=100 d_wrk=10 d_reps=3 d_wrk_rounds=2 d_wrk_rounds_ta=1 d_wrk_token=5
  d_limit=600 d_settle=0.3 d_ssl=2
fi
BIG_BYTES=${BENCH_BIG_BYTES:-$d_big}           # the big blob: pushed monolithic and chunked, then pulled
CHUNK_BYTES=${BENCH_CHUNK_BYTES:-$d_chunk}     # PATCH size of the chunked push
MANY_COUNT=${BENCH_MANY_COUNT:-$d_n}           # this many 1 MiB blobs, pushed and pulled by 4 clients
MANY_SIZE=${BENCH_MANY_SIZE:-$((1 << 20))}
CLIENTS=${BENCH_CLIENTS:-4}                    # concurrent clients of the many-blob and tag workloads
TAG_COUNT=${BENCH_TAG_COUNT:-$d_tags}          # tags pushed, then listed
LIST_REPS=${BENCH_LIST_REPS:-$d_list}
WRK_SECONDS=${BENCH_WRK_SECONDS:-$d_wrk}
WRK_TOKEN_SECONDS=${BENCH_WRK_TOKEN_SECONDS:-$d_wrk_token}  # wrk duration of the token issuance rows
WRK_THREADS=${BENCH_WRK_THREADS:-2}
WRK_CONNS=${BENCH_WRK_CONNS:-32}
REPS=${BENCH_REPS:-$d_reps}                    # rounds of every workload but wrk (median)
WRK_ROUNDS=${BENCH_WRK_ROUNDS:-$d_wrk_rounds}  # rounds of each wrk workload of the plain class (median)
WRK_ROUNDS_TA=${BENCH_WRK_ROUNDS_TLS_AUTH:-$d_wrk_rounds_ta}  # the same for the TLS and auth classes
TIME_LIMIT=${BENCH_TIME_LIMIT:-$d_limit}       # bound on the whole run after the build, seconds
STEP_TIMEOUT=${BENCH_STEP_TIMEOUT:-600}        # bound on any one client command, seconds
SETTLE_S=${BENCH_SETTLE_S:-$d_settle}          # pause after the sync before each big push
SSL_SECONDS=${BENCH_SSL_SECONDS:-$d_ssl}       # openssl speed -seconds
BUILD=${BENCH_BUILD_DIR:-$TOP/build-bench}
JOBS=${BENCH_JOBS:-1}
LOG_LEVEL=${BENCH_LOG_LEVEL:-info}             # both servers log one access line per request at info
RESULTS=${BENCH_RESULTS:-$HERE/results/latest.md}
MICRO_MIN_TIME=${BENCH_MICRO_MIN_TIME:-0.05}

log() { printf '[bench %s] %s\n' "$(date +%T)" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

# ---------------------------------------------------------------- tools, build
ensure_tools() {
  local -A pkg_of=([wrk]=wrk [curl]=curl [jq]=jq [python3]=python3 [openssl]=openssl
    [docker-registry]=docker-registry [ps]=procps [timeout]=coreutils [cmake]=cmake)
  local missing=() t
  for t in "${!pkg_of[@]}"; do command -v "$t" >/dev/null 2>&1 || missing+=("${pkg_of[$t]}"); done
  if ! dpkg-query -W -f='${Status}' libbenchmark-dev 2>/dev/null | grep -q "install ok installed"; then
    missing+=(libbenchmark-dev)
  fi
  "$TOP/scripts/install-deps.sh"   # berth's build dependencies; installs only what is missing
  if ((${#missing[@]})); then
    log "installing: ${missing[*]}"
    local sudo=""; [[ $(id -u) -ne 0 ]] && sudo=sudo
    DEBIAN_FRONTEND=noninteractive $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  fi
}

build() {
  BERTH_BIN=${BENCH_BERTH_BIN:-} MICRO_BIN=${BENCH_MICRO_BIN:-} SINK_BIN=${BENCH_SINK_BIN:-}
  PULL_BIN=${BENCH_PULL_BIN:-}
  if [[ -n $BERTH_BIN && -n $SINK_BIN && -n $PULL_BIN ]]; then return; fi
  local targets=(berth_bench_sink berth_bench_pull)
  [[ -z $BERTH_BIN ]] && targets+=(berth berth_micro_bench)
  log "building ${targets[*]} (Release, -DBERTH_BENCH=ON) in $BUILD with -j$JOBS"
  cmake -S "$TOP" -B "$BUILD" -DCMAKE_BUILD_TYPE=Release -DBERTH_TESTS=OFF -DBERTH_BENCH=ON >/dev/null
  nice cmake --build "$BUILD" -j "$JOBS" --target "${targets[@]}" >"$BUILD/bench-build.log" 2>&1 ||
    { tail -30 "$BUILD/bench-build.log"; die "build failed"; }
  SINK_BIN=$BUILD/bench/sink/berth_bench_sink PULL_BIN=$BUILD/bench/pull/berth_bench_pull
  if [[ -z $BERTH_BIN ]]; then BERTH_BIN=$BUILD/src/berth MICRO_BIN=$BUILD/bench/micro/berth_micro_bench; fi
}

# ---------------------------------------------------------------- helpers
calc() { awk "BEGIN { printf \"%.${2:-2}f\", $1 }"; }
median() { tr -s ' ' '\n' <<<"$*" | sed '/^$/d' | sort -g | awk '{ a[NR] = $1 } END { print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }
free_port() { "$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }
# utime+stime of a process, in seconds.
cpu_s() { awk -v hz="$(getconf CLK_TCK)" '{ sub(/^.*\) /, ""); split($0, f, " "); printf "%.2f", (f[12] + f[13]) / hz }' "/proc/$1/stat"; }
vmhwm_mib() { awk '/^VmHWM:/ { printf "%.1f", $2 / 1024 }' "/proc/$1/status"; }
# Every client command is bounded by STEP_TIMEOUT and by what is left of TIME_LIMIT.
run_bounded() {
  local left=$((DEADLINE - $(date +%s)))
  ((left > 0)) || die "over the time limit of $TIME_LIMIT s (BENCH_TIME_LIMIT)"
  timeout "$((left < STEP_TIMEOUT ? left : STEP_TIMEOUT))" "$@" && return 0
  local rc=$?
  (($(date +%s) < DEADLINE)) || die "over the time limit of $TIME_LIMIT s (BENCH_TIME_LIMIT): stopped $1"
  return "$rc"
}
# Settles dirty pages so that one server's unsynced writes do not slow the next measurement.
settle() { sync; sleep "$SETTLE_S"; }
# order ROUND: the two servers in the order of that round (berth first in odd rounds).
order() { if (($1 % 2)); then echo "berth ref"; else echo "ref berth"; fi; }

# ---------------------------------------------------------------- report rows and figures
ROWS=()
NOTES=()
FIGS=""   # file: one "key<TAB>value" line per figure, for BENCH_JSON
fig() { [[ -n "$2" && "$2" != "n/a" && "$2" != "—" ]] && printf '%s\t%s\n' "$1" "$2" >>"$FIGS"; return 0; }
section() {  # section TITLE: a new table of berth | reference | ratio
  ROWS+=("" "### $1" "" "| workload | berth | reference | ratio berth/reference |" "|---|---:|---:|---:|")
}
# row LABEL KEY BERTH REF [noratio]: the ratio is berth/reference; the label
# says whether higher or lower is better. The figures go to BENCH_JSON as KEY.berth and KEY.ref.
row() {
  local ratio="—"
  if [[ "${5:-}" != noratio && "$3" != "n/a" && "$4" != "n/a" ]] && awk "BEGIN { exit !($4 > 0) }"; then
    ratio=$(calc "$3 / $4" 2)
  fi
  ROWS+=("| $1 | $3 | $4 | $ratio |")
  fig "$2.berth" "$3"; fig "$2.ref" "$4"; [[ $ratio == "—" ]] || fig "$2.ratio" "$ratio"
}
note() { NOTES+=("$*"); }

# ---------------------------------------------------------------- servers
PIDS=()
WATCHDOG=""
cleanup() {
  local p
  set +e
  [[ -n $WATCHDOG ]] && kill "$WATCHDOG" 2>/dev/null
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${PIDS[@]}" $WATCHDOG; do wait "$p" 2>/dev/null || true; done
  if [[ "${BENCH_KEEP_WORK:-0}" != 1 && -n "${WORK:-}" ]]; then log "removing $WORK"; rm -rf "$WORK"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

stop_pid() { kill "$1" 2>/dev/null || true; wait "$1" 2>/dev/null || true; }

wait_ready() {  # wait_ready PID URL LOG [CURL_ARGS...]
  local pid=$1 url=$2 logf=$3 i
  shift 3
  for i in $(seq 1 200); do
    [[ $(curl -s -o /dev/null -w '%{http_code}' "$@" "$url" || true) == 200 ]] && return 0
    kill -0 "$pid" 2>/dev/null || { tail -20 "$logf" >&2; die "server exited during start-up: $url"; }
    sleep 0.05
  done
  tail -20 "$logf" >&2; die "server not ready: $url"
}

# The servers of the current class: BASE[who], PID[who], HDR[who] (an extra
# request header, the bearer token of the auth class), who = berth | ref.
declare -A BASE PID HDR

# start_berth ROOT TLS(0|1): fresh storage root, auth off; role registry.
start_berth() {
  local root=$1 port scheme=http tlsenv=(BERTH_TLS_ENABLED=false)
  port=$(free_port)
  if [[ $2 == 1 ]]; then scheme=https; tlsenv=(BERTH_TLS_ENABLED=true BERTH_TLS_CERT="$CERT" BERTH_TLS_KEY="$KEY"); fi
  mkdir -p "$root"
  env BERTH_STORAGE_ROOT="$root" BERTH_REGISTRY_ADDR=127.0.0.1 BERTH_REGISTRY_PORT="$port" \
    BERTH_LOG_LEVEL="$LOG_LEVEL" BERTH_AUTH_ENABLED=false "${tlsenv[@]}" \
    "$BERTH_BIN" registry >>"$root.log" 2>&1 &
  PID[berth]=$!; PIDS+=("$!")
  BASE[berth]=$scheme://127.0.0.1:$port HDR[berth]=""
  wait_ready "${PID[berth]}" "${BASE[berth]}/v2/" "$root.log" --cacert "$CERT"
}

# start_berth_auth ROOT USER PASSWORD [ENV=VALUE...]: `berth serve` (registry
# and token server) with auth on, plain HTTP, USER in the root's user file.
# Sets TOKEN_URL (no scope) and the registry as BASE[berth].
start_berth_auth() {
  local root=$1 user=$2 pw=$3 port tport
  shift 3
  port=$(free_port); tport=$(free_port)
  mkdir -p "$root"
  grep -qs "^$user:" "$root/htpasswd" || printf '%s\n' "$pw" | "$BERTH_BIN" user add "$user" --password-stdin -f "$root/htpasswd" >/dev/null
  env BERTH_STORAGE_ROOT="$root" BERTH_REGISTRY_ADDR=127.0.0.1 BERTH_REGISTRY_PORT="$port" \
    BERTH_TOKEN_ADDR=127.0.0.1 BERTH_TOKEN_PORT="$tport" BERTH_TLS_ENABLED=false BERTH_LOG_LEVEL="$LOG_LEVEL" \
    BERTH_AUTH_ENABLED=true BERTH_AUTH_REALM="http://127.0.0.1:$tport/token" BERTH_TOKEN_HTPASSWD="$root/htpasswd" \
    BERTH_TOKEN_TTL=3600 "$@" "$BERTH_BIN" serve >>"$root.log" 2>&1 &
  PID[berth]=$!; PIDS+=("$!")
  BASE[berth]=http://127.0.0.1:$port HDR[berth]=""
  TOKEN_URL="http://127.0.0.1:$tport/token?service=berth"
  # /v2/ answers 401 with auth on: wait for a token instead.
  wait_ready "${PID[berth]}" "$TOKEN_URL&scope=repository:$user/x:pull" "$root.log" -u "$user:$pw"
}

# start_ref ROOT TLS(0|1): fresh storage root, the packaged defaults, no auth.
start_ref() {
  local root=$1 port scheme=http cfg=$1.yml
  port=$(free_port)
  mkdir -p "$root"
  {
    printf 'version: 0.1\nlog:\n  level: %s\n' "$LOG_LEVEL"
    printf 'storage:\n  cache:\n    blobdescriptor: inmemory\n  filesystem:\n    rootdirectory: %s\n' "$root"
    printf '  delete:\n    enabled: true\n'
    printf 'http:\n  addr: 127.0.0.1:%s\n  secret: bench-%s\n' "$port" "$RANDOM$RANDOM"
    if [[ $2 == 1 ]]; then printf '  tls:\n    certificate: %s\n    key: %s\n' "$CERT" "$KEY"; fi
  } >"$cfg"
  [[ $2 == 1 ]] && scheme=https
  docker-registry serve "$cfg" >>"$root.log" 2>&1 &
  PID[ref]=$!; PIDS+=("$!")
  BASE[ref]=$scheme://127.0.0.1:$port HDR[ref]=""
  wait_ready "${PID[ref]}" "${BASE[ref]}/v2/" "$root.log" --cacert "$CERT"
}

stop_servers() {  # stop_servers CLASS: peak RSS and total CPU of the class's pair, then stop them
  row "peak RSS over the class (VmHWM, MiB, lower is better)" "$1.rss_peak_mib" \
    "$(vmhwm_mib "${PID[berth]}")" "$(vmhwm_mib "${PID[ref]}")"
  row "total server CPU over the class, set-up included (s, lower is better)" "$1.cpu_total_s" \
    "$(cpu_s "${PID[berth]}")" "$(cpu_s "${PID[ref]}")"
  stop_pid "${PID[berth]}"; stop_pid "${PID[ref]}"
  # The roots stay until the end: deleting tens of thousands of files can
  # take a minute on a busy disk, and that would only eat into the time limit.
}

# ---------------------------------------------------------------- clients
# client WHO CMD...: runs CMD (which prints one JSON line) against server WHO
# in the foreground; sets OUT (that JSON) and CPU (the server's CPU seconds meanwhile).
client() {
  local who=$1 c0
  shift
  c0=$(cpu_s "${PID[$who]}")
  run_bounded "$@" >"$WORK/out.json" || die "client failed against $who (${BASE[$who]}): $*"
  CPU=$(calc "$(cpu_s "${PID[$who]}") - $c0" 2)
  OUT=$(<"$WORK/out.json")
}
# py WHO SUBCOMMAND ARGS...: bench_client.py against server WHO, with its base URL, CA and header.
py() {
  local who=$1 sub=$2
  shift 2
  local args=("$PY" "$CLIENT" "$sub" --base "${BASE[$who]}" --cacert "$CERT")
  [[ -n ${HDR[$who]} ]] && args+=(--header "${HDR[$who]}")
  client "$who" "${args[@]}" "$@"
}
jget() { jq -r ".$1" <<<"$OUT"; }

# push_rows CLASS MODE(mono|chunked) [sink]: REPS rounds of pushing the big blob,
# alternating; rows MB/s and server CPU s per GiB. With "sink", also the % of
# the sink's speed; and if the sink has not been measured yet, it takes part in
# the same rounds (last in odd rounds, first in even ones), so that it meets
# the same disk and CPU weather as the servers.
push_rows() {
  local class=$1 mode=$2 chunk=0 i who t with_sink=0 whos
  local -A T=([berth]="" [ref]="" [sink]="") C=([berth]=0 [ref]=0 [sink]=0)
  [[ $mode == chunked ]] && chunk=$CHUNK_BYTES
  [[ ${3:-} == sink && -z ${SINK_MBPS:-} ]] && with_sink=1 && start_sink
  for ((i = 1; i <= REPS; i++)); do
    whos=$(order "$i")
    ((with_sink)) && { if ((i % 2)); then whos="$whos sink"; else whos="sink $whos"; fi; }
    for who in $whos; do
      settle
      if [[ $who == sink ]]; then
        py sink push-file --sink --file "$BIG" --digest "$BIG_DIGEST"
      else
        py "$who" push-file --repo bench/big --file "$BIG" --digest "$BIG_DIGEST" --chunk "$chunk"
      fi
      t=$(jget seconds); T[$who]+=" $t"; C[$who]=$(calc "${C[$who]} + $CPU")
      log "$class push $mode $who: $t s, $CPU s CPU"
    done
  done
  if ((with_sink)); then
    stop_pid "${PID[sink]}"
    SINK_MBPS=$(calc "$MB / $(median "${T[sink]}")" 0)
    local sink_cpu; sink_cpu=$(calc "${C[sink]} / ($REPS * $GIB)" 2)
    LIMITS+=("| push of the $GIB_LABEL blob to berth_bench_sink: receive, hash, write, fsync, one thread (MB/s) | $SINK_MBPS |")
    LIMITS+=("| … sink CPU s per GiB | $sink_cpu |")
    fig limits.sink.mbps "$SINK_MBPS"; fig limits.sink.cpu_s_per_gib "$sink_cpu"
  fi
  local what="monolithic (POST + PUT)"
  [[ $mode == chunked ]] && what="chunked (PATCH $((CHUNK_BYTES >> 20)) MiB chunks)"
  local bm rmb
  bm=$(calc "$MB / $(median "${T[berth]}")" 0); rmb=$(calc "$MB / $(median "${T[ref]}")" 0)
  row "push $GIB_LABEL blob, $what (MB/s, higher is better)" "$class.push_$mode.mbps" "$bm" "$rmb"
  row "… server CPU s per GiB (lower is better)" "$class.push_$mode.cpu_s_per_gib" \
    "$(calc "${C[berth]} / ($REPS * $GIB)" 2)" "$(calc "${C[ref]} / ($REPS * $GIB)" 2)"
  if [[ ${3:-} == sink ]]; then
    row "… % of the sink's push speed (higher is better)" "$class.push_$mode.pct_of_sink" \
      "$(calc "100 * $bm / $SINK_MBPS" 0)" "$(calc "100 * $rmb / $SINK_MBPS" 0)"
  fi
}

# pull_rows CLASS [lean]: REPS rounds of pulling the big blob, alternating,
# with curl (HTTP/1.1), or with "lean" the bench's own client
# (bench/pull/pull.cpp: 1 MiB reads, nothing else), which needs less CPU per
# byte than curl and so shows a server's own limit where curl would be it.
pull_rows() {
  local class=$1 client=${2:-curl} i who out code size t c0 key=pull label="pull $GIB_LABEL blob"
  [[ $client == lean ]] && key=pull_lean label="pull $GIB_LABEL blob, lean client (bench/pull)"
  local -A T=([berth]="" [ref]="") C=([berth]=0 [ref]=0)
  for ((i = 1; i <= REPS; i++)); do
    for who in $(order "$i"); do
      local hdr=() url="${BASE[$who]}/v2/bench/big/blobs/$BIG_DIGEST"
      settle
      c0=$(cpu_s "${PID[$who]}")
      if [[ $client == lean ]]; then
        [[ -n ${HDR[$who]} ]] && hdr=(--header "${HDR[$who]}")
        out=$(run_bounded "$PULL_BIN" "$url" "$BIG_BYTES" --cacert "$CERT" "${hdr[@]}" || true)
        code=$(jq -r .status <<<"$out" 2>/dev/null) size=$(jq -r .bytes <<<"$out" 2>/dev/null)
        t=$(jq -r .seconds <<<"$out" 2>/dev/null)
      else
        [[ -n ${HDR[$who]} ]] && hdr=(-H "${HDR[$who]}")
        out=$(run_bounded curl -s --http1.1 --cacert "$CERT" "${hdr[@]}" -o /dev/null \
          -w '%{http_code} %{size_download} %{time_total}' "$url" || true)
        read -r code size t <<<"$out"
      fi
      C[$who]=$(calc "${C[$who]} + $(cpu_s "${PID[$who]}") - $c0")
      [[ $code == 200 && $size == "$BIG_BYTES" ]] || die "$class $key at $who: ${code:-none}, ${size:-0} bytes"
      T[$who]+=" $t"
      log "$class $key $who: $t s"
    done
  done
  row "$label (MB/s, higher is better)" "$class.$key.mbps" \
    "$(calc "$MB / $(median "${T[berth]}")" 0)" "$(calc "$MB / $(median "${T[ref]}")" 0)"
  row "… server CPU s per GiB (lower is better)" "$class.$key.cpu_s_per_gib" \
    "$(calc "${C[berth]} / ($REPS * $GIB)" 2)" "$(calc "${C[ref]} / ($REPS * $GIB)" 2)"
}

# small_image CLASS: the empty blob and a small image (tag "small") on both
# servers, then one sequential HEAD of the 1 KiB layer on each with curl -I:
# 200, the right Content-Length and Docker-Content-Digest.
small_image() {
  local who layer head
  for who in berth ref; do
    py "$who" push-image --repo bench/small --tag small
    layer=$(jget layer)
    local hdr=(); [[ -n ${HDR[$who]} ]] && hdr=(-H "${HDR[$who]}")
    head=$(curl -s -I --cacert "$CERT" "${hdr[@]}" "${BASE[$who]}/v2/bench/small/blobs/$layer" | tr -d '\r')
    if ! { grep -q '^HTTP/[0-9.]* 200' <<<"$head" && grep -qi '^content-length: 1024$' <<<"$head" &&
      grep -qi "^docker-content-digest: $layer\$" <<<"$head"; }; then
      echo "$head" >&2; die "$1: HEAD of the 1 KiB layer at $who is wrong"
    fi
  done
  log "$1: HEAD of the 1 KiB layer: 200, Content-Length 1024, Docker-Content-Digest right on both"
}

# wrk_run URL [wrk args...] -> "rps requests p99_ms"; runs WRK_SECONDS unless told otherwise
wrk_run() {
  local url=$1 out
  shift
  out=$(run_bounded wrk -t"$WRK_THREADS" -c"$WRK_CONNS" -d"${WRK_RUN_SECONDS:-$WRK_SECONDS}s" --timeout 10s --latency "$@" "$url") ||
    die "wrk failed on $url"
  if grep -q 'Non-2xx or 3xx' <<<"$out" || grep -q 'Socket errors' <<<"$out"; then
    echo "$out" >&2; die "wrk saw errors on $url"
  fi
  awk '
    /Requests\/sec:/ { rps = $2 }
    / requests in / { n = $1 }
    $1 == "99%" { v = $2; u = v; gsub(/[0-9.]/, "", u); sub(/[a-z]+$/, "", v)
                  p99 = (u == "us") ? v / 1000 : (u == "s") ? v * 1000 : (u == "m") ? v * 60000 : v }
    END { printf "%s %s %.2f\n", rps, n, p99 }' <<<"$out"
}

# wrk_rows CLASS KEY LABEL PATH [wrk args...]: ROUNDS_NOW rounds, alternating
# (and who goes first alternates from one call to the next, so that a single
# round does not always favour the same server); rows req/s, p99 and server
# CPU µs per request (medians).
WRK_CALLS=0
wrk_rows() {
  local class=$1 key=$2 label=$3 path=$4 i who c0 rps n p99
  shift 4
  local -A R=([berth]="" [ref]="") P=([berth]="" [ref]="") U=([berth]="" [ref]="")
  for ((i = 1; i <= ROUNDS_NOW; i++)); do
    for who in $(order "$((i + WRK_CALLS))"); do
      local hdr=(); [[ -n ${HDR[$who]} ]] && hdr=(-H "${HDR[$who]}")
      c0=$(cpu_s "${PID[$who]}")
      read -r rps n p99 <<<"$(wrk_run "${BASE[$who]}$path" "${hdr[@]}" "$@")"
      U[$who]+=" $(calc "1000000 * ($(cpu_s "${PID[$who]}") - $c0) / $n" 1)"
      R[$who]+=" $rps" P[$who]+=" $p99"
      log "$class $label $who: $rps req/s, p99 $p99 ms"
    done
  done
  WRK_CALLS=$((WRK_CALLS + 1))
  {
    row "$label (req/s, higher is better)" "$class.$key.rps" "$(calc "$(median "${R[berth]}")" 0)" "$(calc "$(median "${R[ref]}")" 0)"
    row "… p99 latency (ms, lower is better)" "$class.$key.p99_ms" "$(calc "$(median "${P[berth]}")" 2)" "$(calc "$(median "${P[ref]}")" 2)"
    row "… server CPU µs per request (lower is better)" "$class.$key.cpu_us_per_req" "$(calc "$(median "${U[berth]}")" 1)" "$(calc "$(median "${U[ref]}")" 1)"
  }
}

EMPTY=sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855
MANIFEST_ACCEPT="Accept: application/vnd.oci.image.manifest.v1+json"

# ---------------------------------------------------------------- classes
# The machine's own limits, reported in a table of their own before the servers'.
LIMITS=()
sha256_limit() {
  # openssl prints "sha256  <bytes per second / 1000>k" for the one block size asked.
  local k mbps
  k=$(openssl speed -evp sha256 -bytes 16384 -seconds "$SSL_SECONDS" 2>/dev/null | awk '$1 == "sha256" { v = $NF } END { print v }')
  [[ $k == *k ]] || die "cannot read openssl speed's output"
  mbps=$(calc "${k%k} / 1000" 0)
  log "openssl speed -evp sha256, 16 KiB blocks: $mbps MB/s"
  LIMITS+=("| single-core SHA-256, \`openssl speed -evp sha256\`, 16 KiB blocks (MB/s) | $mbps |")
  fig limits.sha256_16k_mbps "$mbps"
}

# start_sink: berth_bench_sink as server "sink"; push_rows sends it the big
# blob through the same client as the servers' pushes.
start_sink() {
  local root=$WORK/sink port
  mkdir -p "$root"
  port=$(free_port)
  "$SINK_BIN" "$port" "$root" >>"$root.log" 2>&1 &
  PID[sink]=$!; PIDS+=("$!"); BASE[sink]=http://127.0.0.1:$port HDR[sink]=""
  wait_ready "${PID[sink]}" "${BASE[sink]}/" "$root.log"
}

class_plain() {
  section "Plain HTTP, both servers"
  start_berth "$WORK/plain-berth" 0
  start_ref "$WORK/plain-ref" 0
  log "plain: berth ${BASE[berth]} (pid ${PID[berth]}), reference ${BASE[ref]} (pid ${PID[ref]})"
  ROUNDS_NOW=$WRK_ROUNDS
  push_rows plain mono sink
  push_rows plain chunked sink
  pull_rows plain
  pull_rows plain lean

  # 200 distinct 1 MiB blobs by 4 clients: new blobs each round (the seed), the same for both servers.
  # settle first: the reference leaves its 200 MiB unsynced, and berth's
  # fsyncs would otherwise queue behind the kernel writing them back.
  local i who t
  local -A T=([berth]="" [ref]="")
  for ((i = 1; i <= REPS; i++)); do
    for who in $(order "$i"); do
      settle
      py "$who" push-blobs --repo bench/many --count "$MANY_COUNT" --size "$MANY_SIZE" --seed "$((100 + i))" \
        --threads "$CLIENTS" --out "$WORK/many.$i.digests"
      t=$(jget seconds); T[$who]+=" $t"
      log "plain push $MANY_COUNT x $MANY_SIZE $who: $t s"
    done
  done
  row "push $MANY_COUNT x $((MANY_SIZE >> 10)) KiB blobs, $CLIENTS clients (s, lower is better)" "plain.push_many.s" \
    "$(calc "$(median "${T[berth]}")" 3)" "$(calc "$(median "${T[ref]}")" 3)"
  T=([berth]="" [ref]="")
  for ((i = 1; i <= REPS; i++)); do
    for who in $(order "$i"); do
      py "$who" pull-blobs --repo bench/many --digests "$WORK/many.1.digests" --threads "$CLIENTS"
      [[ $(jget bytes) == $((MANY_COUNT * MANY_SIZE)) ]] || die "short pull-blobs at $who"
      t=$(jget seconds); T[$who]+=" $t"
      log "plain pull $MANY_COUNT x $MANY_SIZE $who: $t s"
    done
  done
  row "pull $MANY_COUNT x $((MANY_SIZE >> 10)) KiB blobs, $CLIENTS clients (s, lower is better)" "plain.pull_many.s" \
    "$(calc "$(median "${T[berth]}")" 3)" "$(calc "$(median "${T[ref]}")" 3)"

  small_image plain
  wrk_rows plain head_empty "HEAD empty blob, wrk" "/v2/bench/small/blobs/$EMPTY" -s "$WORK/head.lua"
  wrk_rows plain get_manifest "GET manifest by tag, wrk" "/v2/bench/small/manifests/small" -H "$MANIFEST_ACCEPT"
  wrk_rows plain get_v2 "GET /v2/, wrk" "/v2/"

  # Tags: each round pushes TAG_COUNT new tags into a new repository, then lists them.
  local -A TP=([berth]="" [ref]="") L=([berth]="" [ref]="") LP=([berth]="" [ref]="") PG=()
  for ((i = 1; i <= REPS; i++)); do
    for who in $(order "$i"); do
      py "$who" push-tags --repo "bench/tags$i" --count "$TAG_COUNT" --threads "$CLIENTS"
      TP[$who]+=" $(calc "$TAG_COUNT / $(jget seconds)" 0)"
      py "$who" list-tags --repo "bench/tags$i" --reps "$LIST_REPS"
      [[ $(jget tags) == "$TAG_COUNT" ]] || die "tags/list at $who: $(jget tags) tags"
      L[$who]+=" $(calc "1000 * $(jget seconds) / $LIST_REPS" 3)"
      py "$who" list-tags --repo "bench/tags$i" --reps "$LIST_REPS" --page 100
      [[ $(jget tags) == "$TAG_COUNT" ]] || die "paged tags/list at $who: $(jget tags) tags"
      LP[$who]+=" $(calc "1000 * $(jget seconds) / $LIST_REPS" 3)"
      PG[$who]=$(calc "$(jget requests_per_rep)" 0)
      log "plain tags $who: push ${TP[$who]##* } tags/s, list ${L[$who]##* } ms, paged ${LP[$who]##* } ms (${PG[$who]} requests)"
    done
  done
  {
    row "push $TAG_COUNT tags (PUT manifest), $CLIENTS clients (tags/s, higher is better)" "plain.push_tags.tags_per_s" \
      "$(calc "$(median "${TP[berth]}")" 0)" "$(calc "$(median "${TP[ref]}")" 0)"
    row "list $TAG_COUNT tags, whole list (ms per listing, lower is better)" "plain.list_tags.ms" \
      "$(calc "$(median "${L[berth]}")" 3)" "$(calc "$(median "${L[ref]}")" 3)"
    row "list $TAG_COUNT tags, n=100 + Link (ms per listing, lower is better)" "plain.list_tags_paged.ms" \
      "$(calc "$(median "${LP[berth]}")" 3)" "$(calc "$(median "${LP[ref]}")" 3)"
    row "… requests per paged listing" "plain.list_tags_paged.requests" "${PG[berth]}" "${PG[ref]}" noratio
  }
  if [[ ${PG[ref]} == 1 && ${PG[berth]} != 1 ]]; then
    note "plain: the reference answers tags/list?n=100 with all $TAG_COUNT tags and no Link (no tag pagination in 2.8), so its paged figure is one request per listing."
  fi
  stop_servers plain
}

class_tls() {
  section "TLS, both servers (same self-signed ECDSA P-256 certificate, HTTP/1.1)"
  start_berth "$WORK/tls-berth" 1
  start_ref "$WORK/tls-ref" 1
  log "tls: berth ${BASE[berth]} (pid ${PID[berth]}), reference ${BASE[ref]} (pid ${PID[ref]})"
  ROUNDS_NOW=$WRK_ROUNDS_TA
  push_rows tls mono
  pull_rows tls
  pull_rows tls lean
  small_image tls
  wrk_rows tls head_empty "HEAD empty blob, wrk" "/v2/bench/small/blobs/$EMPTY" -s "$WORK/head.lua"
  wrk_rows tls get_manifest "GET manifest by tag, wrk" "/v2/bench/small/manifests/small" -H "$MANIFEST_ACCEPT"
  stop_servers tls
}

class_auth() {
  section "berth with token auth on (Bearer token on every request) vs the reference without auth, plain HTTP"
  local user=bench pw=bench-password-1 tok
  start_berth_auth "$WORK/auth-berth" "$user" "$pw"
  start_ref "$WORK/auth-ref" 0
  tok=$(curl -s -u "$user:$pw" "$TOKEN_URL&scope=repository:bench/small:pull,push&scope=repository:bench/big:pull,push" |
    jq -r '.token // empty')
  [[ -n $tok ]] || die "no token from berth's token server"
  HDR[berth]="Authorization: Bearer $tok"
  # Without the token berth must refuse.
  [[ $(curl -s -o /dev/null -w '%{http_code}' "${BASE[berth]}/v2/bench/small/tags/list") == 401 ]] ||
    die "berth with auth on answers an anonymous request with something else than 401"
  log "auth: berth ${BASE[berth]} (pid ${PID[berth]}, token from $TOKEN_URL), reference ${BASE[ref]} (pid ${PID[ref]})"
  ROUNDS_NOW=$WRK_ROUNDS_TA
  push_rows auth mono
  small_image auth
  wrk_rows auth head_empty "HEAD empty blob, wrk" "/v2/bench/small/blobs/$EMPTY" -s "$WORK/head.lua"
  wrk_rows auth get_manifest "GET manifest by tag, wrk" "/v2/bench/small/manifests/small" -H "$MANIFEST_ACCEPT"
  stop_servers auth
}

# Token issuance (berth only): the token server on plain HTTP, users in the embedded file.
class_token() {
  ROWS+=("" "### Token issuance (berth only: the reference has no token server)" ""
    "| workload | tokens/s | p99 ms | server CPU ms per token |" "|---|---:|---:|---:|")
  local root=$WORK/token pw=bench-password-1 auth10 auth4
  mkdir -p "$root"
  printf '%s\n' "$pw" | "$BERTH_BIN" user add bench4 --password-stdin --cost 4 -f "$root/htpasswd" >/dev/null
  auth10="Authorization: Basic $(printf 'bench:%s' "$pw" | base64 -w0)"
  auth4="Authorization: Basic $(printf 'bench4:%s' "$pw" | base64 -w0)"
  token_row() {  # token_row KEY LABEL HEADER
    local c0 rps n p99 cpu url="$TOKEN_URL&scope=repository:bench/x:pull,push"
    curl -s -H "$3" "$url" | jq -e '.token | length > 0' >/dev/null || die "no token from berth ($2)"
    c0=$(cpu_s "${PID[berth]}")
    read -r rps n p99 <<<"$(WRK_RUN_SECONDS=$WRK_TOKEN_SECONDS wrk_run "$url" -H "$3")"
    cpu=$(calc "1000 * ($(cpu_s "${PID[berth]}") - $c0) / $n" 3)
    ROWS+=("| $2 | $(calc "$rps" 0) | $p99 | $cpu |")
    fig "token.$1.tokens_per_s.berth" "$(calc "$rps" 0)"; fig "token.$1.p99_ms.berth" "$p99"
    fig "token.$1.cpu_ms_per_token.berth" "$cpu"
    log "token $2: $rps tokens/s, p99 $p99 ms"
  }
  if grep -q login_cache_ttl "$BERTH_BIN"; then
    start_berth_auth "$root" bench "$pw"
    token_row warm "login cache warm (bcrypt cost 10)" "$auth10"
    stop_pid "${PID[berth]}"
    start_berth_auth "$root" bench "$pw" BERTH_TOKEN_LOGIN_CACHE_TTL=0
    token_row cost10 "login cache off, bcrypt cost 10 per request" "$auth10"
    token_row cost4 "login cache off, bcrypt cost 4 per request" "$auth4"
    note "token rows: the warm figure is berth's default (token.login_cache_ttl 60 s, the first request fills the cache); with token.login_cache_ttl=0 every request runs one bcrypt (cost 10 is \`berth user add\`'s default, cost 4 the minimum)."
  else
    start_berth_auth "$root" bench "$pw"
    token_row cost10 "bcrypt cost 10 per request (no login cache in this build)" "$auth10"
    token_row cost4 "bcrypt cost 4 per request (no login cache in this build)" "$auth4"
    note "this berth has no login cache for the user file: every token request runs one bcrypt."
  fi
  stop_pid "${PID[berth]}"
}

# ---------------------------------------------------------------- main
main() {
  ensure_tools
  build
  [[ -x "$BERTH_BIN" ]] || die "no berth binary at $BERTH_BIN"
  [[ -x "$SINK_BIN" ]] || die "no sink binary at $SINK_BIN"
  [[ -x "$PULL_BIN" ]] || die "no pull client at $PULL_BIN"
  PY=$(python3 -c 'import sys; print(sys.executable)')   # the interpreter itself, not a version-manager shim

  # The time limit counts from here: the build is not part of it.
  T0=$(date +%s)
  DEADLINE=$((T0 + TIME_LIMIT))
  (
    trap 'kill "$s" 2>/dev/null; exit 0' TERM
    sleep "$TIME_LIMIT" & s=$!
    wait "$s"
    log "ERROR: over the time limit of $TIME_LIMIT s (BENCH_TIME_LIMIT): stopping"
    kill -TERM $$
  ) &
  WATCHDOG=$!

  LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)
  WORK=$(mktemp -d "${BENCH_TMPDIR:-/tmp}/berth-bench.XXXXXX")
  FIGS=$WORK/figures.tsv
  : >"$FIGS"
  log "work dir $WORK ($(df -h --output=avail "$WORK" | tail -1 | tr -d ' ') free)"
  CERT=$WORK/tls.crt KEY=$WORK/tls.key
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout "$KEY" -out "$CERT" \
    -days 2 -subj /CN=localhost -addext "subjectAltName=IP:127.0.0.1,DNS:localhost" 2>/dev/null
  printf 'wrk.method = "HEAD"\n' >"$WORK/head.lua"

  BIG=$WORK/big.bin
  log "generating a $BIG_BYTES-byte random file"
  openssl rand -out "$BIG" "$BIG_BYTES"
  BIG_DIGEST=sha256:$(openssl dgst -sha256 -r "$BIG" | cut -d' ' -f1)
  GIB=$(calc "$BIG_BYTES / 1073741824" 4)
  MB=$(calc "$BIG_BYTES / 1000000" 4)
  if ((BIG_BYTES % (1 << 30) == 0)); then GIB_LABEL="$((BIG_BYTES >> 30)) GiB"; else GIB_LABEL="$((BIG_BYTES >> 20)) MiB"; fi

  sha256_limit
  class_plain
  class_tls
  class_auth
  class_token
  report
}

report() {
  local micro=""
  if [[ -n "${MICRO_BIN:-}" && -x "$MICRO_BIN" ]]; then
    log "running micro-benchmarks (min time $MICRO_MIN_TIME s each)"
    run_bounded "$MICRO_BIN" --benchmark_min_time="$MICRO_MIN_TIME" --benchmark_format=json \
      --benchmark_out="$WORK/micro.json" --benchmark_out_format=json >/dev/null 2>"$WORK/micro.err" ||
      { cat "$WORK/micro.err" >&2; die "micro-benchmarks failed"; }
    micro=$("$PY" - "$WORK/micro.json" "$FIGS" <<'EOF'
import json, sys
d = json.load(open(sys.argv[1]))
figs = open(sys.argv[2], "a")
def t(ns):
    return f"{ns/1e6:.2f} ms" if ns >= 1e6 else f"{ns/1e3:.2f} µs" if ns >= 1e3 else f"{ns:.1f} ns"
print("| benchmark | time | CPU | iterations | throughput |")
print("|---|---:|---:|---:|---:|")
for b in d["benchmarks"]:
    scale = {"ns": 1, "us": 1e3, "ms": 1e6, "s": 1e9}[b.get("time_unit", "ns")]
    bps = b.get("bytes_per_second")
    tp = f"{bps/2**20:.0f} MiB/s" if bps else ""
    print(f"| {b['name']} | {t(b['real_time']*scale)} | {t(b['cpu_time']*scale)} | {b['iterations']} | {tp} |")
    figs.write(f"micro.{b['name']}.cpu_ns\t{b['cpu_time']*scale:.1f}\n")
EOF
)
  fi
  local elapsed=$(($(date +%s) - T0))
  local cpu kernel commit mode
  cpu=$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)
  kernel=$(uname -sr)
  commit="$(git -C "$TOP" rev-parse --short HEAD 2>/dev/null || echo '?')$(git -C "$TOP" diff --quiet HEAD -- src 2>/dev/null || echo ' (src modified)')"
  local built="Release build"
  [[ -n ${BENCH_BERTH_BIN:-} ]] && built="binary given by BENCH_BERTH_BIN, not built from this tree"
  mode=$([[ $QUICK == 1 ]] && echo 'quick (--quick, small sizes)' || echo full)
  {
    echo "# berth vs reference registry (distribution $(docker-registry --version 2>/dev/null | awk '{print $3}'))"
    echo
    echo "- date: $(date -u '+%Y-%m-%d %H:%M:%S UTC'); measured in $elapsed s (limit $TIME_LIMIT s, build not counted)"
    echo "- machine: nproc $(nproc), CPU \"$cpu\", kernel $kernel, load average at the start $LOAD_START, at the end $(cut -d' ' -f1-3 /proc/loadavg)"
    echo "- berth: tree at $commit, $built; mode: $mode"
    echo "- sizes: big blob $BIG_BYTES B (chunks of $CHUNK_BYTES B), $MANY_COUNT x $MANY_SIZE B by $CLIENTS clients, $TAG_COUNT tags, listing x $LIST_REPS, wrk -t$WRK_THREADS -c$WRK_CONNS -d${WRK_SECONDS}s (token rows -d${WRK_TOKEN_SECONDS}s)"
    echo "- rounds: median of $REPS alternating rounds for every workload, $WRK_ROUNDS for each wrk workload of the plain class and $WRK_ROUNDS_TA of the TLS and auth classes (berth first in odd rounds, the reference first in even ones; for wrk, who goes first also alternates from one endpoint to the next)"
    echo "- both servers on 127.0.0.1, fresh storage roots per class on the same filesystem, log level $LOG_LEVEL, client on the same machine"
    printf '%s\n' "" "### Machine limits (same run)" "" "| limit | value |" "|---|---:|" "${LIMITS[@]}"
    printf '%s\n' "${ROWS[@]}"
    if ((${#NOTES[@]})); then echo; printf -- '- %s\n' "${NOTES[@]}"; fi
    if [[ -n $micro ]]; then
      echo
      echo "### Micro-benchmarks (Google Benchmark, --benchmark_min_time=$MICRO_MIN_TIME)"
      echo
      echo "$micro"
    fi
  } >"$WORK/report.md"
  local json
  json=$("$PY" - "$FIGS" "$(date -u '+%Y-%m-%dT%H:%M:%SZ')" "$commit" "$built" "$mode" "$elapsed" "$(nproc)" "$BIG_BYTES" <<'EOF'
import json, sys
figs, date, commit, built, mode, elapsed, nproc, big = sys.argv[1:]
d = {"date": date, "commit": commit, "berth_build": "release" if built == "Release build" else "given binary",
     "mode": mode.split()[0], "measured_s": int(elapsed), "nproc": int(nproc), "big_bytes": int(big)}
for line in open(figs):
    k, v = line.rstrip("\n").split("\t", 1)
    try:
        d[k] = float(v) if any(c in v for c in ".eE") else int(v)
    except ValueError:
        d[k] = v
print(json.dumps(d, separators=(",", ":")))
EOF
)
  mkdir -p "$(dirname "$RESULTS")"
  cp "$WORK/report.md" "$RESULTS"
  printf '%s\n' "$json" >"${RESULTS%.md}.json"
  cat "$WORK/report.md"
  echo
  echo "BENCH_JSON $json"
  log "measured in $elapsed s; written to $RESULTS and ${RESULTS%.md}.json"
}

main "$@"
