#!/usr/bin/env bash
# What scaling out costs, in one run, side by side. Plain HTTP, auth off.
#
# 1. A big random blob through berth on S3 (a throwaway Ceph RGW,
#    tests/support/ceph.sh) against a plain S3 client on the same RGW:
#    berth gets one monolithic push (POST, then PUT ?digest= with the
#    whole body) and one
#    pull (GET blob) by curl; the plain client is curl --aws-sigv4 PUT and
#    GET of the same file. ROUNDS alternating rounds (berth first, then the
#    plain client first), a fresh file each round (berth would not store a
#    digest twice); MiB/s, berth/plain, and berth's CPU seconds per GiB.
#    A second berth with another s3.part_size (BENCH_SCALEOUT_PART_SIZE2,
#    default 32 MiB; 0 leaves it out), on its own bucket and database, is a
#    row of its own.
# 2. HEAD and GET of a manifest by tag: two berths on PostgreSQL + S3 (one
#    client per node at once, half the connections each, req/s summed)
#    against one berth on SQLite + filesystem and the reference registry
#    (Debian's docker-registry). GET with wrk -t2 -c32; HEAD with ab -k -i
#    (wrk 4.1 waits for the body of a HEAD answer with a non-zero
#    Content-Length, so it never completes one). ROUNDS alternating rounds.
#    req/s, p99 and server CPU µs per request (berth nodes, and the
#    PostgreSQL server's processes for the PostgreSQL row).
#
#   bench/scaleout.sh [SIZE_MIB] [ROUNDS]      default 256 MiB, 3 rounds
#
# Everything the script starts (PostgreSQL, Ceph, the berths, the clients)
# runs in one cpu cgroup of its own, so that the kernel schedules it as one
# group of threads, like the SQLite berth and its client. Outside one, every
# PostgreSQL backend is an autogroup of its own (a backend calls setsid), and
# on a busy machine the scheduler then left backends runnable but not running
# for up to ~2 s, which was the ~1 s GET p99 of the PostgreSQL row
# (bench/README.md).
#
# Knobs: BENCH_BERTH_BIN (else a Release build in build-bench/),
# BENCH_SCALEOUT_WRK_SECONDS (5), BENCH_SCALEOUT_PART_SIZE2 (33554432),
# BENCH_SCALEOUT_BIN2 (the second berth runs this binary instead: an A/B of
# two builds in one run, e.g. with BENCH_SCALEOUT_PART_SIZE2=8388608),
# BENCH_SCALEOUT_REF (1: the reference rows), BENCH_SCALEOUT_ONLY (empty:
# everything; "manifest": section 2 alone, without the second part-size
# berth), BENCH_SCALEOUT_CGROUP (1: one cpu cgroup for the run; 0: none),
# BENCH_RESULTS (bench/results/scaleout.md), BENCH_KEEP_WORK=1 (keep the
# temp directory with the server logs). Needs root (PostgreSQL runs as
# `postgres`; the cgroup).
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
TOP=$(cd "$HERE/.." && pwd)
SIZE=${1:-256}
ROUNDS=${2:-3}
WRK_SECONDS=${BENCH_SCALEOUT_WRK_SECONDS:-5}
PART2=${BENCH_SCALEOUT_PART_SIZE2:-33554432}
WITH_REF=${BENCH_SCALEOUT_REF:-1}
ONLY=${BENCH_SCALEOUT_ONLY:-}
USE_CGROUP=${BENCH_SCALEOUT_CGROUP:-1}
[[ -z $ONLY || $ONLY == manifest ]] || { echo "BENCH_SCALEOUT_ONLY must be empty or manifest" >&2; exit 2; }
[[ $ONLY == manifest ]] && PART2=0
RESULTS=${BENCH_RESULTS:-$HERE/results/scaleout.md}
BERTH_BIN=${BENCH_BERTH_BIN:-}
BIN2=${BENCH_SCALEOUT_BIN2:-}
SUPPORT=$TOP/tests/support
ACCEPT='Accept: application/vnd.oci.image.manifest.v1+json'

log() { echo "[$(date +%T)] $*" >&2; }
die() { log "error: $*"; exit 1; }
for t in wrk ab curl psql python3 sha256sum; do
  command -v "$t" >/dev/null || die "$t is missing (scripts/install-deps.sh --test)"
done
((WITH_REF)) && { command -v docker-registry >/dev/null || die "docker-registry is missing"; }

WORK=$(mktemp -d "${TMPDIR:-/tmp}/berth-bench-scaleout.XXXXXX")
PIDS=()
CGROUP="" CGROUP_PARENT=""
cleanup() {
  local p
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
  wait 2>/dev/null
  bash "$SUPPORT/ceph.sh" stop "$WORK/ceph" >/dev/null 2>&1
  bash "$SUPPORT/postgres.sh" stop "$WORK/pg" >/dev/null 2>&1
  if [[ -n $CGROUP ]]; then
    echo $$ >"$CGROUP_PARENT/cgroup.procs" 2>/dev/null
    rmdir "$CGROUP" 2>/dev/null || log "could not remove $CGROUP: $(wc -l <"$CGROUP/cgroup.procs") processes left in it"
  fi
  if [[ ${BENCH_KEEP_WORK:-0} == 1 ]]; then
    rm -rf "$WORK/ceph/osd" "$WORK/blob"
    log "kept $WORK (server logs)"
  else
    rm -rf "$WORK"
  fi
}
trap cleanup EXIT

# One cpu cgroup for this shell and so for everything it starts (cgroup v1's
# cpu controller, or v2 with cpu enabled for the children of the root).
# Autogroups apply only to tasks in the root cgroup.
if ((USE_CGROUP)); then
  if [[ -w /sys/fs/cgroup/cpu/cgroup.procs ]]; then
    CGROUP_PARENT=/sys/fs/cgroup/cpu
  elif grep -qw cpu /sys/fs/cgroup/cgroup.subtree_control 2>/dev/null; then
    CGROUP_PARENT=/sys/fs/cgroup
  fi
  if [[ -n $CGROUP_PARENT ]] && mkdir "$CGROUP_PARENT/berth-bench-scaleout.$$" 2>/dev/null; then
    CGROUP=$CGROUP_PARENT/berth-bench-scaleout.$$
    echo $$ >"$CGROUP/cgroup.procs" || die "cannot enter $CGROUP"
    log "running in cpu cgroup $CGROUP"
  else
    die "no cpu cgroup could be made (not root, or no cpu controller): BENCH_SCALEOUT_CGROUP=0 runs without one"
  fi
fi

if [[ -z $BERTH_BIN ]]; then
  log "building berth (Release) in $TOP/build-bench"
  cmake -S "$TOP" -B "$TOP/build-bench" -DCMAKE_BUILD_TYPE=Release -DBERTH_TESTS=OFF >/dev/null
  cmake --build "$TOP/build-bench" -j "$(nproc)" --target berth >/dev/null
  BERTH_BIN=$TOP/build-bench/src/berth
fi
# A copy: a rebuild during the run does not change what runs.
cp "$BERTH_BIN" "$WORK/berth"
BERTH_BIN=$WORK/berth
if [[ -n $BIN2 ]]; then
  cp "$BIN2" "$WORK/berth2"
  BIN2=$WORK/berth2
fi

# Services. Their env files are sourced without export: berth refuses
# unknown BERTH_* variables such as BERTH_PG_DSN.
log "starting PostgreSQL and Ceph RGW"
bash "$SUPPORT/postgres.sh" start "$WORK/pg" >"$WORK/pg.out" 2>&1 || { cat "$WORK/pg.out" >&2; die "postgres.sh"; }
# shellcheck disable=SC1091
source "$WORK/pg/pg.env"
# Each round stores the blob three times (berth, berth with the second part
# size, plain), and an upload's parts are reclaimed by RGW only later.
MEMSTORE_MIB=$((6 * ROUNDS * SIZE + 1024))
[[ $ONLY == manifest ]] && MEMSTORE_MIB=1024
CEPH_MEMSTORE_BYTES=$((MEMSTORE_MIB << 20)) \
  bash "$SUPPORT/ceph.sh" start "$WORK/ceph" >"$WORK/ceph.out" 2>&1 || { cat "$WORK/ceph.out" >&2; die "ceph.sh"; }
# shellcheck disable=SC1091
source "$WORK/ceph/s3.env"
psql "$BERTH_PG_DSN" -qAt -c "CREATE DATABASE berth_p2" >/dev/null
DSN_P2=$(sed -E 's/dbname=[^ ]*/dbname=berth_p2/' <<<"$BERTH_PG_DSN")
PG_POSTMASTER=$(head -1 "$WORK/pg/data/postmaster.pid")

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }
wait_ready() { # URL PID
  for _ in $(seq 1 300); do
    [[ $(curl -s -o /dev/null -w '%{http_code}' "$1") == 200 ]] && return 0
    kill -0 "$2" 2>/dev/null || die "server exited during start-up ($1)"
    sleep 0.05
  done
  die "not ready: $1"
}

declare -A BASE PID
start_berth() { # NAME [ENV=VALUE...]; BIN= overrides the binary
  local name=$1 port mport bin=${BIN:-$BERTH_BIN}
  shift
  port=$(free_port); mport=$(free_port)
  mkdir -p "$WORK/$name"
  env BERTH_STORAGE_ROOT="$WORK/$name" BERTH_REGISTRY_ADDR=127.0.0.1 BERTH_REGISTRY_PORT="$port" \
    BERTH_TLS_ENABLED=false BERTH_AUTH_ENABLED=false BERTH_LOG_LEVEL=warn BERTH_GC_INTERVAL=0 \
    BERTH_METRICS_ADDR=127.0.0.1 BERTH_METRICS_PORT="$mport" "$@" "$bin" registry >"$WORK/$name.log" 2>&1 &
  PID[$name]=$!; PIDS+=("$!"); BASE[$name]=http://127.0.0.1:$port
  wait_ready "${BASE[$name]}/readyz" "${PID[$name]}"
}
s3_env() { # ARRAY BUCKET DSN: the environment of a berth on S3 + PostgreSQL
  local -n env_=$1
  # shellcheck disable=SC2034  # a nameref: it sets the caller's array
  env_=(BERTH_STORAGE_DRIVER=s3 "BERTH_S3_ENDPOINT=$S3_ENDPOINT" "BERTH_S3_REGION=$S3_REGION"
    "BERTH_S3_BUCKET=$2" BERTH_S3_CREATE_BUCKET=true "BERTH_S3_ACCESS_KEY=$S3_ACCESS_KEY"
    "BERTH_S3_SECRET_KEY=$S3_SECRET_KEY" BERTH_METADATA_DRIVER=postgres "BERTH_POSTGRES_DSN=$3")
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
  for _ in $(seq 1 200); do
    [[ $(curl -s -o /dev/null -w '%{http_code}' "${BASE[ref]}/v2/") == 200 ]] && return 0
    sleep 0.05
  done
  die "the reference registry is not ready"
}

log "starting berths: pg1, pg2 (S3 + PostgreSQL), sqlite (filesystem + SQLite)"
s3_env S3_MAIN scaleout "$BERTH_PG_DSN"
start_berth pg1 "${S3_MAIN[@]}"
start_berth pg2 "${S3_MAIN[@]}"
start_berth sqlite
P2_NAME=""
if [[ $PART2 != 0 ]]; then
  P2_NAME=p2
  s3_env S3_P2 scaleout-p2 "$DSN_P2"
  BIN=$BIN2 start_berth p2 "${S3_P2[@]}" BERTH_S3_PART_SIZE="$PART2"
fi
((WITH_REF)) && start_ref

cpu_s() { awk -v t="$(getconf CLK_TCK)" '{ sub(/.*\) /, ""); printf "%.3f\n", ($12 + $13) / t }' "/proc/$1/stat"; }
# CPU seconds of the PostgreSQL server: the postmaster and its children
# (berth's pooled connections stay open across a measurement).
pg_cpu_s() {
  local p s=0
  for p in "$PG_POSTMASTER" $(ps -o pid= --ppid "$PG_POSTMASTER"); do
    s=$(awk -v s="$s" -v c="$(cpu_s "$p" 2>/dev/null || echo 0)" 'BEGIN { print s + c }')
  done
  echo "$s"
}
now() { date +%s.%N; }
median() { tr ' ' '\n' <<<"$1" | grep -v '^$' | sort -g | awk '{ a[NR] = $1 } END { print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }
calc() { awk "BEGIN { printf \"$1\", $2 }"; }

######## 1. push and pull, berth on S3 vs a plain S3 client
sig=(--aws-sigv4 "aws:amz:$S3_REGION:s3" --user "$S3_ACCESS_KEY:$S3_SECRET_KEY"
  -H 'x-amz-content-sha256: UNSIGNED-PAYLOAD')
PLAIN_URL=$S3_ENDPOINT/$S3_BUCKET
GIB=$(calc %.6f "$SIZE / 1024")
declare -A T   # T[who.push] = " MiB/s per round", T[who.pushcpu] = " s/GiB per round"

# xfer_berth WHO ROUND: push then pull of $WORK/blob; appends to T.
xfer_berth() {
  local who=$1 t0 t1 c0 c1 code got
  local loc sep
  c0=$(cpu_s "${PID[$who]}"); t0=$(now)
  # POST, then PUT <Location>&digest= with the body (what docker does; curl
  # -T would append the file's name to a URL ending in /).
  loc=$(curl -s -D - -o /dev/null -X POST "${BASE[$who]}/v2/bench/big/blobs/uploads/" |
    awk 'tolower($1) == "location:" { print $2 }' | tr -d '\r')
  [[ $loc == /* ]] && loc=${BASE[$who]}$loc
  sep='?'; [[ $loc == *\?* ]] && sep='&'
  code=$(curl -s -o "$WORK/push.out" -w '%{http_code}' -T "$WORK/blob" -H 'Expect:' \
    -H 'Content-Type: application/octet-stream' "$loc${sep}digest=$DIGEST")
  t1=$(now); c1=$(cpu_s "${PID[$who]}")
  [[ $code == 201 ]] || { cat "$WORK/push.out" >&2; tail "$WORK/$who.log" >&2; die "push to $who: $code"; }
  T[$who.push]+=" $(calc %.1f "$SIZE / ($t1 - $t0)")" T[$who.pushcpu]+=" $(calc %.3f "($c1 - $c0) / $GIB")"
  c0=$(cpu_s "${PID[$who]}"); t0=$(now)
  read -r code got < <(curl -s -o /dev/null -w '%{http_code} %{size_download}\n' "${BASE[$who]}/v2/bench/big/blobs/$DIGEST")
  t1=$(now); c1=$(cpu_s "${PID[$who]}")
  [[ $code == 200 && $got == $((SIZE << 20)) ]] || die "pull from $who: $code, $got bytes"
  T[$who.pull]+=" $(calc %.1f "$SIZE / ($t1 - $t0)")" T[$who.pullcpu]+=" $(calc %.3f "($c1 - $c0) / $GIB")"
}
# xfer_plain ROUND: curl --aws-sigv4 PUT then GET of the same file.
xfer_plain() {
  local key=$PLAIN_URL/plain-$1 t0 t1 got
  t0=$(now)
  # No -H 'Expect:' here: curl would sign the removed header and RGW refuse it.
  curl -sf "${sig[@]}" -T "$WORK/blob" -o /dev/null "$key" || die "plain PUT"
  t1=$(now)
  T[plain.push]+=" $(calc %.1f "$SIZE / ($t1 - $t0)")"
  t0=$(now)
  got=$(curl -sf "${sig[@]}" -o /dev/null -w '%{size_download}' "$key") || die "plain GET"
  t1=$(now)
  [[ $got == $((SIZE << 20)) ]] || die "plain GET: $got bytes"
  T[plain.pull]+=" $(calc %.1f "$SIZE / ($t1 - $t0)")"
}

XFER=(pg1 ${P2_NAME:+"$P2_NAME"} plain)
[[ $ONLY == manifest ]] && XFER=()
for ((r = 1; r <= ROUNDS && ${#XFER[@]} > 0; r++)); do
  head -c $((SIZE << 20)) /dev/urandom >"$WORK/blob"
  DIGEST=sha256:$(sha256sum "$WORK/blob" | cut -d' ' -f1)
  order=("${XFER[@]}")
  ((r % 2 == 0)) && mapfile -t order < <(printf '%s\n' "${XFER[@]}" | tac)
  for who in "${order[@]}"; do
    if [[ $who == plain ]]; then xfer_plain "$r"; else xfer_berth "$who"; fi
  done
  line="round $r ($SIZE MiB):"
  for who in "${XFER[@]}"; do
    line+=" $who push ${T[$who.push]##* } pull ${T[$who.pull]##* } MiB/s;"
  done
  log "$line"
  # The plain objects go at once; RGW's GC reclaims them later.
  curl -sf "${sig[@]}" -X DELETE "$PLAIN_URL/plain-$r" >/dev/null || true
done
# Untimed: the last blob read back through the other node is the same bytes.
[[ $ONLY == manifest ]] || [[ $(curl -s "${BASE[pg2]}/v2/bench/big/blobs/$DIGEST" | sha256sum | cut -d' ' -f1) == "${DIGEST#sha256:}" ]] ||
  die "the blob pushed through pg1 reads back wrong through pg2"
[[ $ONLY == manifest ]] || log "the last blob reads back through pg2 with the right digest"

######## 2. HEAD and GET manifest by tag
for who in sqlite pg1 ${WITH_REF:+ref}; do
  [[ $who == ref && $WITH_REF == 0 ]] && continue
  python3 "$HERE/bench_client.py" push-image --base "${BASE[$who]}" --repo bench/small --tag small >/dev/null ||
    die "image push to $who"
done
[[ $(curl -s -o /dev/null -w '%{http_code}' -H "$ACCEPT" "${BASE[pg2]}/v2/bench/small/manifests/small") == 200 ]] ||
  die "pg2 does not see the manifest pushed through pg1"

# one_client KIND URL CONNS OUT: wrk (GET) or ab -k -i (HEAD); OUT gets
# "requests req/s p99_ms".
one_client() {
  local kind=$1 url=$2 conns=$3 out=$4 raw
  if [[ $kind == get ]]; then
    raw=$(timeout $((WRK_SECONDS + 30)) wrk -t2 -c"$conns" -d"${WRK_SECONDS}s" --timeout 10s --latency -H "$ACCEPT" "$url")
    grep -q 'Non-2xx\|Socket errors' <<<"$raw" && { echo "$raw" >&2; die "wrk saw errors on $url"; }
    awk '/requests in/ { n = $1 } /^Requests\/sec/ { r = $2 }
      $1 == "99%" { v = $2; u = v; sub(/[0-9.]+/, "", u); sub(/[a-z]+$/, "", v)
        p = (u == "us") ? v / 1000 : (u == "s") ? v * 1000 : v }
      END { printf "%s %s %.2f\n", n, r, p }' <<<"$raw" >"$out"
  else
    # -t before -n: -t alone caps the run at 50,000 requests.
    raw=$(timeout $((WRK_SECONDS + 30)) ab -k -i -q -c"$conns" -t "$WRK_SECONDS" -n 100000000 -H "$ACCEPT" "$url" 2>&1)
    grep -q '^Non-2xx' <<<"$raw" && { echo "$raw" >&2; die "ab saw non-2xx answers on $url"; }
    awk '/^Complete requests:/ { n = $3 } /^Failed requests:/ { f = $3 } /^Requests per second:/ { r = $4 }
      $1 == "99%" { p = $2 } END { if (f > 0) exit 1; printf "%s %s %s\n", n, r, p }' <<<"$raw" >"$out" ||
      { echo "$raw" >&2; die "ab saw failed requests on $url"; }
  fi
}
declare -A W   # W[kind.who.rps|p99|us|pgus] = " per round"
# run_load KIND WHO: one measurement; WHO pg runs one client per node at once.
run_load() {
  local kind=$1 who=$2 path=/v2/bench/small/manifests/small c0 c1 q0 q1 n r p
  if [[ $who == pg ]]; then
    c0=$(awk -v a="$(cpu_s "${PID[pg1]}")" -v b="$(cpu_s "${PID[pg2]}")" 'BEGIN { print a + b }'); q0=$(pg_cpu_s)
    one_client "$kind" "${BASE[pg1]}$path" 16 "$WORK/o1" &
    local w1=$!
    one_client "$kind" "${BASE[pg2]}$path" 16 "$WORK/o2" &
    local w2=$!
    wait "$w1" || die "client on pg1"
    wait "$w2" || die "client on pg2"
    c1=$(awk -v a="$(cpu_s "${PID[pg1]}")" -v b="$(cpu_s "${PID[pg2]}")" 'BEGIN { print a + b }'); q1=$(pg_cpu_s)
    read -r n r p < <(cat "$WORK/o1" "$WORK/o2" | awk '{ n += $1; r += $2; if ($3 > p) p = $3 } END { print n, r, p }')
    W[$kind.pg.pgus]+=" $(calc %.1f "($q1 - $q0) * 1e6 / $n")"
  else
    c0=$(cpu_s "${PID[$who]}")
    one_client "$kind" "${BASE[$who]}$path" 32 "$WORK/o1"
    c1=$(cpu_s "${PID[$who]}")
    read -r n r p <"$WORK/o1"
  fi
  W[$kind.$who.rps]+=" $r" W[$kind.$who.p99]+=" $p" W[$kind.$who.us]+=" $(calc %.1f "($c1 - $c0) * 1e6 / $n")"
  log "$kind $who: $r req/s, p99 $p ms, $(calc %.1f "($c1 - $c0) * 1e6 / $n") µs server CPU per request" \
    "$([[ $who == pg ]] && echo ", $(calc %.1f "($q1 - $q0) * 1e6 / $n") µs PostgreSQL CPU")"
}
LOAD=(pg sqlite)
((WITH_REF)) && LOAD+=(ref)
for kind in head get; do
  for ((r = 1; r <= ROUNDS; r++)); do
    order=("${LOAD[@]}")
    ((r % 2 == 0)) && order=(sqlite pg "${LOAD[@]:2}")
    for who in "${order[@]}"; do run_load "$kind" "$who"; done
  done
done

######## report
M() { median "${T[$1]}"; }
MW() { median "${W[$1]}"; }
COMMIT=$(git -C "$TOP" rev-parse --short HEAD 2>/dev/null || echo unknown)
mkdir -p "$(dirname "$RESULTS")"
{
  echo "# Scale-out: berth on S3 (Ceph RGW) + PostgreSQL"
  echo
  echo "Run $(date -u '+%Y-%m-%d %H:%M UTC'), commit $COMMIT, $(nproc) cores," \
    "load average $(cut -d' ' -f1-3 /proc/loadavg) at the end; plain HTTP, auth off; RGW with a memstore OSD," \
    "PostgreSQL 15 (fsync on), everything on 127.0.0.1 of this machine. Medians of $ROUNDS alternating rounds."
  echo
  if [[ -n $CGROUP ]]; then
    echo "Scheduling: everything the run started shared one cpu cgroup (BENCH_SCALEOUT_CGROUP=1)."
  else
    echo "Scheduling: no cgroup of its own (BENCH_SCALEOUT_CGROUP=0): with autogroups on, every PostgreSQL backend" \
      "was a scheduling group of its own."
  fi
  echo
  if [[ $ONLY != manifest ]]; then
  echo "## 1. A $SIZE MiB blob: berth on S3 vs curl --aws-sigv4 on the same RGW"
  echo
  echo "berth: one monolithic push (\`POST\` then \`PUT <Location>&digest=\` with the whole body, curl -T) and one GET of the blob;" \
    "plain: \`curl --aws-sigv4\` PUT and GET (UNSIGNED-PAYLOAD). Wall time of each curl; CPU is berth's (utime+stime)."
  echo
  echo "| client | push MiB/s | pull MiB/s | push / plain | pull / plain | berth CPU s/GiB push | berth CPU s/GiB pull |"
  echo "|---|---:|---:|---:|---:|---:|---:|"
  pp=$(M plain.push); pl=$(M plain.pull)
  for who in pg1 ${P2_NAME:+"$P2_NAME"}; do
    label="berth, s3.part_size 8 MiB (default)"
    [[ $who == p2 ]] && label="berth, s3.part_size $((PART2 >> 20)) MiB${BIN2:+, second binary}"
    echo "| $label | $(M "$who.push") | $(M "$who.pull") | **$(calc %.2f "$(M "$who.push") / $pp")** |" \
      "**$(calc %.2f "$(M "$who.pull") / $pl")** | $(M "$who.pushcpu") | $(M "$who.pullcpu") |"
  done
  echo "| plain curl --aws-sigv4 | $pp | $pl | 1 | 1 | | |"
  echo
  echo "Rounds (MiB/s; berth CPU s/GiB):"
  echo
  for who in "${XFER[@]}"; do
    echo "- $who: push${T[$who.push]}; pull${T[$who.pull]}${T[$who.pushcpu]:+; CPU push${T[$who.pushcpu]}; CPU pull${T[$who.pullcpu]}}"
  done
  echo
  fi
  echo "## 2. Manifest by tag: two berths on PostgreSQL vs one on SQLite"
  echo
  echo "GET: wrk -t2, $WRK_SECONDS s; HEAD: ab -k -i, $WRK_SECONDS s, keep-alive (wrk 4.1 never" \
    "completes a HEAD whose answer has a Content-Length). 32 connections in all: the PostgreSQL row runs one client per node at once" \
    "with 16 each and sums req/s (p99: the worse node). CPU µs per request: the berth processes (both nodes" \
    "summed for PostgreSQL), and the PostgreSQL server's processes. ab gives p99 in whole ms."
  echo
  echo "| server | HEAD req/s | HEAD p99 ms | GET req/s | GET p99 ms | server CPU µs/req HEAD | GET | PostgreSQL CPU µs/req HEAD | GET |"
  echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|"
  for who in pg sqlite ${WITH_REF:+ref}; do
    [[ $who == ref && $WITH_REF == 0 ]] && continue
    case $who in
      pg) label="2 berths, S3 + PostgreSQL" ;;
      sqlite) label="1 berth, filesystem + SQLite" ;;
      ref) label="reference registry (docker-registry, filesystem)" ;;
    esac
    pgh="" pgg=""
    [[ $who == pg ]] && { pgh=$(MW head.pg.pgus); pgg=$(MW get.pg.pgus); }
    cpu_h=$(MW "head.$who.us") cpu_g=$(MW "get.$who.us")
    echo "| $label | $(MW "head.$who.rps") | $(MW "head.$who.p99") | $(MW "get.$who.rps") | $(MW "get.$who.p99") |" \
      "$cpu_h | $cpu_g | $pgh | $pgg |"
  done
  echo
  echo "2 PostgreSQL berths / 1 SQLite berth: HEAD $(calc %.2f "$(MW head.pg.rps) / $(MW head.sqlite.rps)")x," \
    "GET $(calc %.2f "$(MW get.pg.rps) / $(MW get.sqlite.rps)")x req/s."
  echo
  echo "Rounds (req/s; p99 ms; server CPU µs/req):"
  echo
  for kind in head get; do
    for who in "${LOAD[@]}"; do
      echo "- $kind $who: ${W[$kind.$who.rps]# }; p99${W[$kind.$who.p99]}; CPU${W[$kind.$who.us]}${W[$kind.$who.pgus]:+; PostgreSQL CPU${W[$kind.$who.pgus]}}"
    done
  done
} | tee "$RESULTS"
