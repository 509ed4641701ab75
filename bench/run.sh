#!/usr/bin/env bash
# bench/run.sh: berth against the reference registry (distribution 2.8.2,
# Debian's docker-registry), side by side on loopback, same run, same client.
# Prints a markdown table (workload | berth | reference | ratio) and writes it
# to bench/results/latest.md, followed by the Google Benchmark micro-benchmarks.
#
#   bench/run.sh                  full sizes (1 GiB blob, 200 x 1 MiB, 1,000 tags, wrk 10 s)
#   BENCH_QUICK=1 bench/run.sh    small sizes, for a quick check (about two minutes)
#
# See bench/README.md for every knob and what each row means.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
TOP=$(cd "$HERE/.." && pwd)
CLIENT="$HERE/bench_client.py"

QUICK=${BENCH_QUICK:-0}
if [[ $QUICK == 1 ]]; then d_big=$((64 << 20)) d_n=50 d_tags=200 d_list=20 d_wrk=3 d_reps=2; else
  d_big=$((1 << 30)) d_n=200 d_tags=1000 d_list=100 d_wrk=10 d_reps=3; fi
BIG_BYTES=${BENCH_BIG_BYTES:-$d_big}           # workloads 1-2: one blob of this size
MANY_COUNT=${BENCH_MANY_COUNT:-$d_n}           # workload 3: this many 1 MiB blobs
MANY_SIZE=${BENCH_MANY_SIZE:-$((1 << 20))}
SMALL_COUNT=${BENCH_SMALL_COUNT:-$d_n}         # workload 5: small blobs pushed
SMALL_SIZE=${BENCH_SMALL_SIZE:-4096}
TAG_COUNT=${BENCH_TAG_COUNT:-$d_tags}          # workload 5: tags pushed, then listed
LIST_REPS=${BENCH_LIST_REPS:-$d_list}
WRK_SECONDS=${BENCH_WRK_SECONDS:-$d_wrk}       # workloads 4 and 7
WRK_THREADS=${BENCH_WRK_THREADS:-2}
WRK_CONNS=${BENCH_WRK_CONNS:-16}
REPS=${BENCH_REPS:-$d_reps}                    # repetitions of the big push/pull and workload 3 (median)
STEP_TIMEOUT=${BENCH_STEP_TIMEOUT:-600}        # bound on any one client command, seconds
BUILD=${BENCH_BUILD_DIR:-$TOP/build-bench}
JOBS=${BENCH_JOBS:-1}
LOG_LEVEL=${BENCH_LOG_LEVEL:-info}             # both servers log one access line per request at info
RESULTS=${BENCH_RESULTS:-$HERE/results/latest.md}
MICRO_MIN_TIME=${BENCH_MICRO_MIN_TIME:-0.05}

log() { printf '[bench %s] %s\n' "$(date +%T)" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

# ---------------------------------------------------------------- tools, build
ensure_tools() {
  local -A pkg_of=([wrk]=wrk [curl]=curl [jq]=jq [python3]=python3 [bc]=bc [openssl]=openssl
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
  if [[ -n "${BENCH_BERTH_BIN:-}" ]]; then BERTH_BIN=$BENCH_BERTH_BIN; MICRO_BIN=${BENCH_MICRO_BIN:-}; return; fi
  log "building berth (Release, -DBERTH_BENCH=ON) in $BUILD with -j$JOBS"
  cmake -S "$TOP" -B "$BUILD" -DCMAKE_BUILD_TYPE=Release -DBERTH_TESTS=OFF -DBERTH_BENCH=ON >/dev/null
  nice cmake --build "$BUILD" -j "$JOBS" --target berth berth_micro_bench >"$BUILD/bench-build.log" 2>&1 ||
    { tail -30 "$BUILD/bench-build.log"; die "build failed"; }
  BERTH_BIN=$BUILD/src/berth
  MICRO_BIN=$BUILD/bench/micro/berth_micro_bench
}

# ---------------------------------------------------------------- helpers
calc() { awk "BEGIN { printf \"%.${2:-2}f\", $1 }"; }
median() { printf '%s\n' "$@" | sort -g | awk '{ a[NR] = $1 } END { print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }
# utime+stime of a process, in seconds.
cpu_s() { awk -v hz="$(getconf CLK_TCK)" '{ sub(/^.*\) /, ""); split($0, f, " "); printf "%.2f", (f[12] + f[13]) / hz }' "/proc/$1/stat"; }
vmhwm_mib() { awk '/^VmHWM:/ { printf "%.1f", $2 / 1024 }' "/proc/$1/status"; }
json_get() { python3 -c 'import json,sys; print(json.loads(sys.stdin.read())[sys.argv[1]])' "$1"; }
run_bounded() { timeout "$STEP_TIMEOUT" "$@"; }
# Settles dirty pages so one server's unsynced writes do not slow the next measurement.
settle() { sync; sleep "${BENCH_SETTLE_S:-1}"; }

ROWS=()
NOTES=()
# row NAME BERTH REF [noratio]: the ratio is berth/reference; the row's name
# says whether higher or lower is better.
row() {
  local ratio="—"
  if [[ "${4:-}" != noratio && -n "$2" && -n "$3" && "$2" != "—" && "$3" != "—" && "$3" != "n/a" && "$2" != "n/a" ]] &&
     awk "BEGIN { exit !($3 > 0) }"; then ratio=$(calc "$2 / $3" 2); fi
  ROWS+=("| $1 | $2 | $3 | $ratio |")
}
note() { NOTES+=("$*"); }

# ---------------------------------------------------------------- servers
PIDS=()
cleanup() {
  local p
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
  if [[ "${BENCH_KEEP_WORK:-0}" != 1 && -n "${WORK:-}" ]]; then rm -rf "$WORK"; fi
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

# start_berth ROOT PORT TLS(0|1) [ROLE [ENV=VALUE...]]; sets B_PID, B_BASE
start_berth() {
  local root=$1 port=$2 tls=$3 role=${4:-registry} scheme=http
  shift 3; shift || true
  local tlsenv=(BERTH_TLS_ENABLED=false)
  if [[ $tls == 1 ]]; then scheme=https; tlsenv=(BERTH_TLS_ENABLED=true BERTH_TLS_CERT="$CERT" BERTH_TLS_KEY="$KEY"); fi
  mkdir -p "$root"
  env BERTH_STORAGE_ROOT="$root" BERTH_REGISTRY_ADDR=127.0.0.1 BERTH_REGISTRY_PORT="$port" \
    BERTH_LOG_LEVEL="$LOG_LEVEL" BERTH_AUTH_ENABLED=false "${tlsenv[@]}" "$@" \
    "$BERTH_BIN" "$role" >>"$root.log" 2>&1 &
  B_PID=$!; PIDS+=("$B_PID")
  B_BASE=$scheme://127.0.0.1:$port
  wait_ready "$B_PID" "$B_BASE/v2/" "$root.log" --cacert "$CERT"
}

# start_ref ROOT PORT TLS(0|1); sets R_PID, R_BASE
start_ref() {
  local root=$1 port=$2 tls=$3 scheme=http cfg=$1.yml
  mkdir -p "$root"
  {
    printf 'version: 0.1\nlog:\n  level: %s\n' "$LOG_LEVEL"
    printf 'storage:\n  cache:\n    blobdescriptor: inmemory\n  filesystem:\n    rootdirectory: %s\n' "$root"
    printf '  delete:\n    enabled: true\n'
    printf 'http:\n  addr: 127.0.0.1:%s\n  secret: bench-%s\n' "$port" "$RANDOM$RANDOM"
    if [[ $tls == 1 ]]; then printf '  tls:\n    certificate: %s\n    key: %s\n' "$CERT" "$KEY"; fi
  } >"$cfg"
  [[ $tls == 1 ]] && scheme=https
  docker-registry serve "$cfg" >>"$root.log" 2>&1 &
  R_PID=$!; PIDS+=("$R_PID")
  R_BASE=$scheme://127.0.0.1:$port
  wait_ready "$R_PID" "$R_BASE/v2/" "$root.log" --cacert "$CERT"
}

# ---------------------------------------------------------------- workloads
# push_big BASE -> prints "seconds"; monolithic POST + PUT streamed from disk.
push_big() {
  local base=$1 loc code t
  loc=$(curl -s -o /dev/null -X POST -w '%{http_code} %header{location}' "$base/v2/bench/big/blobs/uploads/")
  code=${loc%% *}; loc=${loc#* }
  [[ $code == 202 ]] || die "POST upload at $base: $code"
  [[ $loc == /* ]] && loc=$base$loc
  [[ $loc == *\?* ]] && loc="$loc&digest=$BIG_DIGEST" || loc="$loc?digest=$BIG_DIGEST"
  read -r code t <<<"$(run_bounded curl -s -o /dev/null -T "$BIG" -X PUT -H 'Expect:' \
    -H 'Content-Type: application/octet-stream' -w '%{http_code} %{time_total}' "$loc" || true)"
  [[ $code == 201 ]] || die "PUT upload at $base: $code"
  echo "$t"
}

# pull_big BASE -> prints "seconds" (HTTP/1.1 for both servers; see README).
pull_big() {
  local code size t
  read -r code size t <<<"$(run_bounded curl -s --http1.1 --cacert "$CERT" -o /dev/null \
    -w '%{http_code} %{size_download} %{time_total}' "$1/v2/bench/big/blobs/$BIG_DIGEST" || true)"
  [[ $code == 200 && $size == "$BIG_BYTES" ]] || die "pull at $1: $code, $size bytes"
  echo "$t"
}

# wrk_run URL [wrk args...] -> "rps requests p99_ms"
wrk_run() {
  local url=$1 out
  shift
  out=$(run_bounded wrk -t"$WRK_THREADS" -c"$WRK_CONNS" -d"${WRK_SECONDS}s" --timeout 10s --latency "$@" "$url")
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

# ---------------------------------------------------------------- main
main() {
  ensure_tools
  build
  [[ -x "$BERTH_BIN" ]] || die "no berth binary at $BERTH_BIN"

  LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)
  WORK=$(mktemp -d "${BENCH_TMPDIR:-/tmp}/berth-bench.XXXXXX")
  log "work dir $WORK ($(df -h --output=avail "$WORK" | tail -1 | tr -d ' ') free)"
  CERT=$WORK/tls.crt KEY=$WORK/tls.key
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout "$KEY" -out "$CERT" \
    -days 2 -subj /CN=localhost -addext "subjectAltName=IP:127.0.0.1,DNS:localhost" 2>/dev/null

  BIG=$WORK/big.bin
  log "generating a $BIG_BYTES-byte random file"
  head -c "$BIG_BYTES" /dev/urandom >"$BIG"
  BIG_DIGEST=sha256:$(sha256sum "$BIG" | cut -d' ' -f1)
  local gib; gib=$(calc "$BIG_BYTES / 1073741824" 4)
  local mb; mb=$(calc "$BIG_BYTES / 1000000" 4)

  local bport rport sport
  bport=$(free_port); rport=$(free_port)
  start_berth "$WORK/berth" "$bport" 0
  start_ref "$WORK/ref" "$rport" 0
  log "berth $B_BASE (pid $B_PID), reference $R_BASE (pid $R_PID)"

  # ---- 1. push of the big blob, plain HTTP; plus the sink ceiling
  local i bt=() rt=() st=() bc0 rc0 bc=0 rc=0 t
  for ((i = 1; i <= REPS; i++)); do
    for who in $( ((i % 2)) && echo "berth ref" || echo "ref berth"); do
      settle
      if [[ $who == berth ]]; then bc0=$(cpu_s "$B_PID"); t=$(push_big "$B_BASE"); bt+=("$t"); bc=$(calc "$bc + $(cpu_s "$B_PID") - $bc0")
      else rc0=$(cpu_s "$R_PID"); t=$(push_big "$R_BASE"); rt+=("$t"); rc=$(calc "$rc + $(cpu_s "$R_PID") - $rc0"); fi
      log "push $who: $t s"
    done
  done
  sport=$(free_port)
  python3 "$CLIENT" sink --port "$sport" --dir "$WORK" &
  local SINK_PID=$!; PIDS+=("$SINK_PID")
  wait_ready "$SINK_PID" "http://127.0.0.1:$sport/" /dev/null
  local sc0 sc code
  sc0=$(cpu_s "$SINK_PID")
  for ((i = 1; i <= REPS; i++)); do
    settle
    read -r code t <<<"$(run_bounded curl -s -o /dev/null -T "$BIG" -X PUT -H 'Expect:' \
      -w '%{http_code} %{time_total}' "http://127.0.0.1:$sport/sink" || true)"
    [[ $code == 201 ]] || die "sink: $code"
    st+=("$t"); log "push sink: $t s"
  done
  sc=$(calc "$(cpu_s "$SINK_PID") - $sc0")
  stop_pid "$SINK_PID"
  local bmbs rmbs smbs
  bmbs=$(calc "$mb / $(median "${bt[@]}")" 0); rmbs=$(calc "$mb / $(median "${rt[@]}")" 0)
  smbs=$(calc "$mb / $(median "${st[@]}")" 0)
  row "1. push $(calc "$gib" 2) GiB blob, plain HTTP (MB/s, higher is better)" "$bmbs" "$rmbs"
  row "1. push: server CPU s per GiB (lower is better)" "$(calc "$bc / ($REPS * $gib)" 2)" "$(calc "$rc / ($REPS * $gib)" 2)"
  row "1. push: sink ceiling, python hash+write+fsync (MB/s; same value both columns)" "$smbs" "$smbs" noratio
  row "1. push: % of sink ceiling (higher is better)" "$(calc "100 * $bmbs / $smbs" 0)" "$(calc "100 * $rmbs / $smbs" 0)"
  note "sink CPU: $(calc "$sc / ($REPS * $gib)" 2) s per GiB (python3 hashlib + os.write + fsync)."

  # ---- 2a. pull of the big blob, plain HTTP
  pull_rows() {  # pull_rows LABEL
    local bt=() rt=() bc=0 rc=0 c0 t i who
    for ((i = 1; i <= REPS; i++)); do
      for who in $( ((i % 2)) && echo "berth ref" || echo "ref berth"); do
        if [[ $who == berth ]]; then c0=$(cpu_s "$B_PID"); t=$(pull_big "$B_BASE"); bt+=("$t"); bc=$(calc "$bc + $(cpu_s "$B_PID") - $c0")
        else c0=$(cpu_s "$R_PID"); t=$(pull_big "$R_BASE"); rt+=("$t"); rc=$(calc "$rc + $(cpu_s "$R_PID") - $c0"); fi
        log "pull $1 $who: $t s"
      done
    done
    row "2. pull $(calc "$gib" 2) GiB blob, $1 (MB/s, higher is better)" "$(calc "$mb / $(median "${bt[@]}")" 0)" "$(calc "$mb / $(median "${rt[@]}")" 0)"
    row "2. pull, $1: server CPU s per GiB (lower is better)" "$(calc "$bc / ($REPS * $gib)" 2)" "$(calc "$rc / ($REPS * $gib)" 2)"
  }
  settle
  pull_rows "plain HTTP"

  # ---- 3. many 1 MiB blobs, 4 concurrent pullers
  local out
  for b in "$B_BASE" "$R_BASE"; do
    run_bounded python3 "$CLIENT" push-blobs --base "$b" --repo bench/many --count "$MANY_COUNT" \
      --size "$MANY_SIZE" --seed 3 --out "$WORK/many.digests" >/dev/null
  done
  bt=() rt=()
  for ((i = 1; i <= REPS; i++)); do
    for who in $( ((i % 2)) && echo "berth ref" || echo "ref berth"); do
      [[ $who == berth ]] && b=$B_BASE || b=$R_BASE
      out=$(run_bounded python3 "$CLIENT" pull-blobs --base "$b" --repo bench/many --digests "$WORK/many.digests" --threads 4)
      [[ $(json_get bytes <<<"$out") == $((MANY_COUNT * MANY_SIZE)) ]] || die "short pull-blobs at $b"
      t=$(json_get seconds <<<"$out")
      [[ $who == berth ]] && bt+=("$t") || rt+=("$t")
      log "pull $MANY_COUNT x $MANY_SIZE $who: $t s"
    done
  done
  row "3. pull $MANY_COUNT x $((MANY_SIZE >> 10)) KiB blobs, 4 clients (s, lower is better)" "$(calc "$(median "${bt[@]}")" 3)" "$(calc "$(median "${rt[@]}")" 3)"

  # ---- 4. HEAD empty blob, GET small manifest (wrk)
  local empty=sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855
  printf 'wrk.method = "HEAD"\n' >"$WORK/head.lua"
  for b in "$B_BASE" "$R_BASE"; do
    run_bounded python3 "$CLIENT" push-image --base "$b" --repo bench/small --tag small >/dev/null
    [[ $(curl -s -o /dev/null -w '%{http_code}' -I "$b/v2/bench/small/blobs/$empty") == 200 ]] || die "empty blob missing at $b"
  done
  wrk_rows() {  # wrk_rows LABEL PATH [wrk args...]
    local label=$1 path=$2 b who c0 c1 rps n p99 out
    shift 2
    local -A R=()
    for who in berth ref; do
      [[ $who == berth ]] && b=$B_BASE pid=$B_PID || b=$R_BASE pid=$R_PID
      c0=$(cpu_s "$pid")
      out=$(wrk_run "$b$path" "$@")
      read -r rps n p99 <<<"$out"
      c1=$(cpu_s "$pid")
      R[$who.rps]=$(calc "$rps" 0) R[$who.p99]=$p99 R[$who.cpu]=$(calc "1000000 * ($c1 - $c0) / $n" 1)
      log "$label $who: $rps req/s, p99 $p99 ms"
    done
    row "4. $label (req/s, higher is better)" "${R[berth.rps]}" "${R[ref.rps]}"
    row "4. $label: p99 latency (ms, lower is better)" "${R[berth.p99]}" "${R[ref.p99]}"
    row "4. $label: server CPU µs per request (lower is better)" "${R[berth.cpu]}" "${R[ref.cpu]}"
  }
  local pid
  wrk_rows "HEAD empty blob" "/v2/bench/small/blobs/$empty" -s "$WORK/head.lua"
  wrk_rows "GET small manifest by tag" "/v2/bench/small/manifests/small" \
    -H "Accept: application/vnd.oci.image.manifest.v1+json"

  # ---- 5. small blob pushes, tag pushes, tag listing
  local -A W=()
  for who in berth ref; do
    [[ $who == berth ]] && b=$B_BASE || b=$R_BASE
    settle
    out=$(run_bounded python3 "$CLIENT" push-blobs --base "$b" --repo bench/smallblobs --count "$SMALL_COUNT" --size "$SMALL_SIZE" --seed 5)
    W[$who.blobs]=$(calc "$(json_get seconds <<<"$out")" 3)
    settle
    out=$(run_bounded python3 "$CLIENT" push-tags --base "$b" --repo bench/tags --count "$TAG_COUNT" --threads 4)
    W[$who.tags]=$(calc "$(json_get seconds <<<"$out")" 3)
    out=$(run_bounded python3 "$CLIENT" list-tags --base "$b" --repo bench/tags --reps "$LIST_REPS")
    [[ $(json_get tags <<<"$out") == "$TAG_COUNT" ]] || die "tags/list at $b: $(json_get tags <<<"$out") tags"
    W[$who.list]=$(calc "$(json_get seconds <<<"$out")" 3)
    out=$(run_bounded python3 "$CLIENT" list-tags --base "$b" --repo bench/tags --reps "$LIST_REPS" --page 100)
    [[ $(json_get tags <<<"$out") == "$TAG_COUNT" ]] || die "paged tags/list at $b: $(json_get tags <<<"$out") tags"
    W[$who.paged]=$(calc "$(json_get seconds <<<"$out")" 3)
    W[$who.pages]=$(calc "$(json_get requests_per_rep <<<"$out")" 0)
    log "small/tags/list $who: ${W[$who.blobs]} ${W[$who.tags]} ${W[$who.list]} ${W[$who.paged]} s (${W[$who.pages]} pages)"
  done
  row "5. push $SMALL_COUNT x $((SMALL_SIZE >> 10)) KiB blobs, sequential (s, lower is better)" "${W[berth.blobs]}" "${W[ref.blobs]}"
  row "5. push $TAG_COUNT tags (PUT manifest), 4 clients (s, lower is better)" "${W[berth.tags]}" "${W[ref.tags]}"
  row "5. list $TAG_COUNT tags x $LIST_REPS, one request (s, lower is better)" "${W[berth.list]}" "${W[ref.list]}"
  row "5. list $TAG_COUNT tags x $LIST_REPS, n=100 + Link (s, lower is better)" "${W[berth.paged]}" "${W[ref.paged]}"
  row "5. … requests per paged listing" "${W[berth.pages]}" "${W[ref.pages]}" noratio
  if [[ ${W[ref.pages]} == 1 && ${W[berth.pages]} != 1 ]]; then
    note "the reference answers tags/list?n=100 with all $TAG_COUNT tags and no Link (no tag pagination in 2.8.2), so its paged figure is one request per listing."
  fi

  # ---- 6. peak RSS
  row "6. peak RSS after workloads 1-5 (MiB, lower is better)" "$(vmhwm_mib "$B_PID")" "$(vmhwm_mib "$R_PID")"
  row "… total server CPU for workloads 1-5 (s)" "$(cpu_s "$B_PID")" "$(cpu_s "$R_PID")"
  stop_pid "$B_PID"; stop_pid "$R_PID"

  # ---- 2b. pull over TLS: the same storage roots, restarted with the same certificate
  bport=$(free_port); rport=$(free_port)
  start_berth "$WORK/berth" "$bport" 1
  start_ref "$WORK/ref" "$rport" 1
  settle
  pull_rows "TLS (HTTP/1.1)"
  row "6. peak RSS of the TLS instances after the TLS pulls (MiB)" "$(vmhwm_mib "$B_PID")" "$(vmhwm_mib "$R_PID")"
  stop_pid "$B_PID"; stop_pid "$R_PID"

  # ---- 7. token issuance (berth only): the token server on plain HTTP, users in the embedded file
  local troot=$WORK/berth-token tport pw=bench-password-1
  mkdir -p "$troot"
  printf '%s\n' "$pw" | "$BERTH_BIN" user add bench --password-stdin -f "$troot/htpasswd" >/dev/null
  printf '%s\n' "$pw" | "$BERTH_BIN" user add bench4 --password-stdin --cost 4 -f "$troot/htpasswd" >/dev/null
  local auth10 auth4 turl
  auth10="Authorization: Basic $(printf 'bench:%s' "$pw" | base64 -w0)"
  auth4="Authorization: Basic $(printf 'bench4:%s' "$pw" | base64 -w0)"
  start_token() {  # start_token [ENV=VALUE...]; sets B_PID, turl
    bport=$(free_port); tport=$(free_port)
    env BERTH_STORAGE_ROOT="$troot" BERTH_REGISTRY_ADDR=127.0.0.1 BERTH_REGISTRY_PORT="$bport" \
      BERTH_TOKEN_ADDR=127.0.0.1 BERTH_TOKEN_PORT="$tport" BERTH_TLS_ENABLED=false BERTH_LOG_LEVEL="$LOG_LEVEL" \
      BERTH_AUTH_ENABLED=true BERTH_AUTH_REALM="http://127.0.0.1:$tport/token" "$@" \
      "$BERTH_BIN" serve >>"$troot.log" 2>&1 &
    B_PID=$!; PIDS+=("$B_PID")
    turl="http://127.0.0.1:$tport/token?service=berth&scope=repository:bench/x:pull,push"
    # /v2/ answers 401 with auth on: wait for a token instead.
    wait_ready "$B_PID" "$turl" "$troot.log" -H "$auth10"
    curl -s -H "$auth10" "$turl" | jq -e '.token | length > 0' >/dev/null || die "no token from berth"
  }
  token_row() {  # token_row LABEL HEADER
    local c0 rps n p99 out
    c0=$(cpu_s "$B_PID")
    out=$(wrk_run "$turl" -H "$2")
    read -r rps n p99 <<<"$out"
    row "7. token issuance, $1 (tokens/s, higher is better)" "$(calc "$rps" 0)" "n/a"
    row "7. … p99 ms / server CPU ms per token" "$p99 / $(calc "1000 * ($(cpu_s "$B_PID") - $c0) / $n" 3)" "n/a"
    log "token $1: $rps tokens/s, p99 $p99 ms"
  }
  if grep -q login_cache_ttl "$BERTH_BIN"; then
    start_token
    token_row "login cache warm (bcrypt cost 10)" "$auth10"
    stop_pid "$B_PID"
    start_token BERTH_TOKEN_LOGIN_CACHE_TTL=0
    token_row "login cache off, bcrypt cost 10 per request" "$auth10"
    token_row "login cache off, bcrypt cost 4 per request" "$auth4"
    note "token rows: the warm figure is berth's default (token.login_cache_ttl 60 s, the first request fills the cache); with token.login_cache_ttl=0 every request runs one bcrypt (cost 10 is \`berth user add\`'s default, cost 4 the minimum)."
  else
    start_token
    token_row "bcrypt cost 10 per request (no login cache in this build)" "$auth10"
    token_row "bcrypt cost 4 per request (no login cache in this build)" "$auth4"
    note "this berth has no login cache for the user file: every token request runs one bcrypt."
  fi
  stop_pid "$B_PID"

  report
}

report() {
  local micro=""
  if [[ -n "${MICRO_BIN:-}" && -x "$MICRO_BIN" ]]; then
    log "running micro-benchmarks (min time $MICRO_MIN_TIME s each)"
    run_bounded "$MICRO_BIN" --benchmark_min_time="$MICRO_MIN_TIME" --benchmark_format=json \
      --benchmark_out="$WORK/micro.json" --benchmark_out_format=json >/dev/null 2>"$WORK/micro.err" ||
      { cat "$WORK/micro.err" >&2; die "micro-benchmarks failed"; }
    micro=$(python3 - "$WORK/micro.json" <<'EOF'
import json, sys
d = json.load(open(sys.argv[1]))
def t(ns):
    return f"{ns/1e6:.2f} ms" if ns >= 1e6 else f"{ns/1e3:.2f} µs" if ns >= 1e3 else f"{ns:.1f} ns"
print("| benchmark | time | CPU | iterations | throughput |")
print("|---|---:|---:|---:|---:|")
for b in d["benchmarks"]:
    scale = {"ns": 1, "us": 1e3, "ms": 1e6, "s": 1e9}[b.get("time_unit", "ns")]
    bps = b.get("bytes_per_second")
    tp = f"{bps/2**20:.0f} MiB/s" if bps else ""
    print(f"| {b['name']} | {t(b['real_time']*scale)} | {t(b['cpu_time']*scale)} | {b['iterations']} | {tp} |")
EOF
)
  fi
  local cpu kernel
  cpu=$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)
  kernel=$(uname -sr)
  {
    echo "# berth vs reference registry (distribution $(docker-registry --version 2>/dev/null | awk '{print $3}'))"
    echo
    echo "- date: $(date -u '+%Y-%m-%d %H:%M:%S UTC')"
    echo "- machine: nproc $(nproc), CPU \"$cpu\", kernel $kernel, load average at the start $LOAD_START, at the end $(cut -d' ' -f1-3 /proc/loadavg)"
    echo "- berth: $(git -C "$TOP" rev-parse --short HEAD 2>/dev/null || echo '?')$(git -C "$TOP" diff --quiet HEAD -- src 2>/dev/null || echo ' (src modified)'), Release build; mode: $([[ $QUICK == 1 ]] && echo 'BENCH_QUICK=1 (small sizes)' || echo full)"
    echo "- sizes: big blob $BIG_BYTES B, $MANY_COUNT x $MANY_SIZE B pulled, $SMALL_COUNT x $SMALL_SIZE B pushed, $TAG_COUNT tags, listing x $LIST_REPS, wrk -t$WRK_THREADS -c$WRK_CONNS -d${WRK_SECONDS}s, median of $REPS for workloads 1-3"
    echo "- both servers on 127.0.0.1, plain HTTP unless the row says TLS, auth off, log level $LOG_LEVEL, temp storage roots on the same filesystem, client on the same machine"
    echo
    echo "| workload | berth | reference | ratio berth/reference |"
    echo "|---|---:|---:|---:|"
    printf '%s\n' "${ROWS[@]}"
    if ((${#NOTES[@]})); then echo; printf -- '- %s\n' "${NOTES[@]}"; fi
    if [[ -n $micro ]]; then
      echo
      echo "## Micro-benchmarks (Google Benchmark, --benchmark_min_time=$MICRO_MIN_TIME)"
      echo
      echo "$micro"
    fi
  } >"$WORK/report.md"
  mkdir -p "$(dirname "$RESULTS")"
  cp "$WORK/report.md" "$RESULTS"
  cat "$WORK/report.md"
  log "written to $RESULTS"
}

main "$@"
