#!/usr/bin/env bash
# bench/gc.sh: berth's online garbage collection, at scale, under load, and
# against the reference registry's offline garbage-collect (distribution 2.8,
# Debian's docker-registry). Every server on 127.0.0.1, fresh storage roots.
#
#   1. scale:   100,000 blobs, 10,000 manifests in 1,000 repositories (10 x 10
#               each), half of the manifests deleted or untagged, then one
#               POST /v2/_berth/gc: wall time, server CPU, peak RSS.
#   2. load:    HEAD and GET manifest latency (p50/p99) and small-blob push
#               throughput, together, idle and while GC runs back to back;
#               alternating rounds, medians.
#   3. vs ref:  the same images pushed to both, the same manifests deleted;
#               berth's online GC against `docker-registry garbage-collect
#               --delete-untagged` (registry stopped): time, downtime, bytes.
#
#   bench/gc.sh            full sizes; 4 to 6 minutes on a 2-core VM
#   bench/gc.sh --quick    10x fewer of everything; under 2 minutes
#
# BENCH_QUICK=1 is the same as --quick. Prints markdown tables and one
# BENCH_JSON line, and writes bench/results/gc.md and gc.json. See
# bench/README.md ("GC benchmark") for every knob and what each row means.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
TOP=$(cd "$HERE/.." && pwd)
CLIENT="$HERE/gc_client.py"

usage() { sed -n '2,22s/^# \{0,1\}//p' "${BASH_SOURCE[0]}"; }
QUICK=${BENCH_QUICK:-0}
for arg in "$@"; do
  case $arg in
    --quick) QUICK=1 ;;
    -h | --help) usage; exit 0 ;;
    *) usage >&2; echo "unknown argument: $arg" >&2; exit 2 ;;
  esac
done

if [[ $QUICK == 1 ]]; then
  d_repos=100 d_rounds=2 d_seconds=4 d_ref_repos=2 d_limit=120
else
  d_repos=1000 d_rounds=3 d_seconds=10 d_ref_repos=20 d_limit=1200
fi
REPOS=${BENCH_GC_REPOS:-$d_repos}            # part 1 and 2: repositories
PER_REPO=${BENCH_GC_PER_REPO:-10}            # manifests per repository (half kept)
BLOBS=${BENCH_GC_BLOBS:-10}                  # blobs per manifest (config + layers), all distinct
SIZE=${BENCH_GC_SIZE:-256}                   # bytes per blob, parts 1 and 2
BATCH=${BENCH_GC_BATCH:-}                    # gc.batch of part 1 (empty: berth's default)
LOAD_BATCH=${BENCH_GC_LOAD_BATCH:-}          # gc.batch of part 2 (empty: berth's default)
ROUNDS=${BENCH_GC_ROUNDS:-$d_rounds}         # part 2: rounds (each: idle and GC phase)
LOAD_SECONDS=${BENCH_GC_LOAD_SECONDS:-$d_seconds}  # part 2: seconds of each phase (the workloads run together)
LAT_THREADS=${BENCH_GC_LAT_THREADS:-2}       # part 2: client processes of the latency loops
LAT_RATE=${BENCH_GC_LAT_RATE:-500}           # part 2: requests/s of each latency loop, paced; 0: closed loops
PUSH_THREADS=${BENCH_GC_PUSH_THREADS:-4}     # part 2: client threads of the push loop
PUSH_SIZE=${BENCH_GC_PUSH_SIZE:-1024}        # part 2: bytes per pushed blob
REF_REPOS=${BENCH_GC_REF_REPOS:-$d_ref_repos}  # part 3: repositories (x PER_REPO x BLOBS)
REF_SIZE=${BENCH_GC_REF_SIZE:-16384}         # part 3: bytes per blob
PROCS=${BENCH_GC_PROCS:-2}                   # populate: client processes
THREADS=${BENCH_GC_THREADS:-16}              # populate: threads per process
TIME_LIMIT=${BENCH_TIME_LIMIT:-$d_limit}     # bound on the whole run after the build, seconds
STEP_TIMEOUT=${BENCH_STEP_TIMEOUT:-600}      # bound on any one client command, seconds
LOG_LEVEL=${BENCH_LOG_LEVEL:-info}
BUILD=${BENCH_BUILD_DIR:-$TOP/build-bench}
JOBS=${BENCH_JOBS:-1}
RESULTS=${BENCH_RESULTS:-$HERE/results/gc.md}
# BERTH_BIN is accepted as well; it must not reach berth, which refuses
# BERTH_* variables that name no configuration key.
BERTH_BIN=${BENCH_BERTH_BIN:-${BERTH_BIN:-}}
export -n BERTH_BIN 2>/dev/null || true

log() { printf '[gcbench %s] %s\n' "$(date +%T)" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

# ---------------------------------------------------------------- tools, build
ensure_tools() {
  local -A pkg_of=([curl]=curl [jq]=jq [python3]=python3 [docker-registry]=docker-registry
    [timeout]=coreutils [du]=coreutils)
  local missing=() t
  for t in "${!pkg_of[@]}"; do command -v "$t" >/dev/null 2>&1 || missing+=("${pkg_of[$t]}"); done
  [[ -x /usr/bin/time ]] || missing+=(time)
  if ((${#missing[@]})); then
    log "installing: ${missing[*]}"
    local sudo=""; [[ $(id -u) -ne 0 ]] && sudo=sudo
    DEBIAN_FRONTEND=noninteractive $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  fi
}

build() {
  [[ -n $BERTH_BIN ]] && return
  "$TOP/scripts/install-deps.sh"
  log "building berth (Release) in $BUILD with -j$JOBS"
  cmake -S "$TOP" -B "$BUILD" -DCMAKE_BUILD_TYPE=Release -DBERTH_TESTS=OFF -DBERTH_BENCH=ON >/dev/null
  nice cmake --build "$BUILD" -j "$JOBS" --target berth >"$BUILD/gc-bench-build.log" 2>&1 ||
    { tail -30 "$BUILD/gc-bench-build.log"; die "build failed"; }
  BERTH_BIN=$BUILD/src/berth
}

# ---------------------------------------------------------------- helpers
calc() { awk "BEGIN { printf \"%.${2:-2}f\", $1 }"; }
median() { tr -s ' ' '\n' <<<"$*" | sed '/^$/d' | sort -g | awk '{ a[NR] = $1 } END { print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }
free_port() { "$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }
cpu_s() { awk -v hz="$(getconf CLK_TCK)" '{ sub(/^.*\) /, ""); split($0, f, " "); printf "%.2f", (f[12] + f[13]) / hz }' "/proc/$1/stat"; }
status_mib() { awk -v k="$2:" '$1 == k { printf "%.1f", $2 / 1024 }' "/proc/$1/status"; }
du_disk() { du -s --block-size=1 "$1" | cut -f1; }      # bytes of disk blocks
du_apparent() { du -s -b "$1" | cut -f1; }              # apparent bytes (directories count too)
blob_files() { find "$1/blobs" -type f | wc -l; }
mb() { calc "$1 / 1000000" "${2:-1}"; }
run_bounded() {
  local left=$((DEADLINE - $(date +%s)))
  ((left > 0)) || die "over the time limit of $TIME_LIMIT s (BENCH_TIME_LIMIT)"
  timeout "$((left < STEP_TIMEOUT ? left : STEP_TIMEOUT))" "$@" && return 0
  local rc=$?
  (($(date +%s) < DEADLINE)) || die "over the time limit of $TIME_LIMIT s (BENCH_TIME_LIMIT): stopped $1"
  return "$rc"
}

# ---------------------------------------------------------------- report rows and figures
ROWS=()
NOTES=()
FIGS=""
fig() { [[ -n "$2" && "$2" != "n/a" && "$2" != "—" ]] && printf '%s\t%s\n' "$1" "$2" >>"$FIGS"; return 0; }
note() { NOTES+=("$*"); }
table() {  # table TITLE HEADER...: a new markdown table
  local title=$1 h sep="|"
  shift
  ROWS+=("" "### $title" "")
  h="|"; for c in "$@"; do h+=" $c |"; sep+="---|"; done
  ROWS+=("$h" "$sep")
}
line() { local l="|"; for c in "$@"; do l+=" $c |"; done; ROWS+=("$l"); }
ratio() { if [[ $1 != n/a && $2 != n/a ]] && awk "BEGIN { exit !($2 > 0) }"; then calc "$1 / $2" 2; else echo "—"; fi; }

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

wait_ready() {  # wait_ready PID URL LOG
  local pid=$1 url=$2 logf=$3 i
  for i in $(seq 1 400); do
    [[ $(curl -s -o /dev/null -w '%{http_code}' "$url" || true) == 200 ]] && return 0
    kill -0 "$pid" 2>/dev/null || { tail -20 "$logf" >&2; die "server exited during start-up: $url"; }
    sleep 0.025
  done
  tail -20 "$logf" >&2; die "server not ready: $url"
}

declare -A BASE PID
GC_ENV=()

# start_berth ROOT [BATCH]: plain HTTP, auth off, role registry; with the GC
# on demand only (interval 0) and both delays 0, so that what the client
# deleted is garbage at once. Sets BASE[berth] and PID[berth].
start_berth() {
  local root=$1 batch=${2:-} port env=()
  port=$(free_port)
  mkdir -p "$root"
  env=("${GC_ENV[@]}")
  [[ -n $batch && $GC_CONFIG == 1 ]] && env+=(BERTH_GC_BATCH="$batch")
  env BERTH_STORAGE_ROOT="$root" BERTH_REGISTRY_ADDR=127.0.0.1 BERTH_REGISTRY_PORT="$port" \
    BERTH_LOG_LEVEL="$LOG_LEVEL" BERTH_AUTH_ENABLED=false BERTH_TLS_ENABLED=false "${env[@]}" \
    "$BERTH_BIN" registry >>"$root.log" 2>&1 &
  PID[berth]=$!; PIDS+=("$!")
  BASE[berth]=http://127.0.0.1:$port
  wait_ready "${PID[berth]}" "${BASE[berth]}/v2/" "$root.log"
}

# start_ref ROOT: the packaged defaults (inmemory blob descriptor cache,
# filesystem driver), delete enabled, no auth. The config is ROOT.yml; a
# second call with the same ROOT reuses it (same port).
start_ref() {
  local root=$1 cfg=$1.yml port
  mkdir -p "$root"
  if [[ ! -f $cfg ]]; then
    port=$(free_port)
    {
      printf 'version: 0.1\nlog:\n  level: %s\n' "$LOG_LEVEL"
      printf 'storage:\n  cache:\n    blobdescriptor: inmemory\n  filesystem:\n    rootdirectory: %s\n' "$root"
      printf '  delete:\n    enabled: true\n'
      printf 'http:\n  addr: 127.0.0.1:%s\n  secret: bench-%s\n' "$port" "$RANDOM$RANDOM"
    } >"$cfg"
  fi
  port=$(awk '/addr:/ { sub(/.*:/, "", $2); print $2 }' "$cfg")
  docker-registry serve "$cfg" >>"$root.log" 2>&1 &
  PID[ref]=$!; PIDS+=("$!")
  BASE[ref]=http://127.0.0.1:$port
  wait_ready "${PID[ref]}" "${BASE[ref]}/v2/" "$root.log"
}

# py WHO SUBCOMMAND ARGS...: gc_client.py against WHO; OUT = its JSON line.
py() {
  local who=$1 sub=$2
  shift 2
  run_bounded "$PY" "$CLIENT" "$sub" --base "${BASE[$who]}" "$@" >"$WORK/out.json" ||
    die "client failed against $who (${BASE[$who]}): $sub $*"
  OUT=$(<"$WORK/out.json")
}
jget() { jq -r ".$1" <<<"$OUT"; }

# gc_call WHO [gc_client args]: one POST /v2/_berth/gc; OUT its JSON, GC_CPU the
# server's CPU seconds meanwhile. Returns 1 when berth has no GC API.
gc_call() {
  local who=$1 c0
  shift
  c0=$(cpu_s "${PID[$who]}")
  py "$who" gc "$@"
  GC_CPU=$(calc "$(cpu_s "${PID[$who]}") - $c0" 2)
  [[ $(jget unsupported) == null ]]
}

# The figures of gc_client.py verify (in OUT), and notes for what is wrong.
verify_label() { echo "kept manifests right / their blobs 200 / garbage blobs 404 (wrong: manifests, blobs missing, garbage left)"; }
verify_cell() {
  echo "$(jget manifests_ok) / $(jget blobs_ok) / $(jget blobs_gone) (wrong: $(jget manifests_bad), $(jget blobs_missing), $(jget blobs_not_gone))"
}
verify_notes() {  # verify_notes PART WHO
  if (($(jget manifests_bad) + $(jget blobs_missing))); then
    note "$1: **DATA LOSS at $2**: after the GC $(jget manifests_bad) kept manifests and $(jget blobs_missing) of their blobs do not answer as they should."
    log "$1: DATA LOSS at $2: $OUT"
  fi
  if (($(jget blobs_not_gone))); then
    note "$1: at $2, $(jget blobs_not_gone) garbage blobs still answer HEAD after the GC."
  fi
  return 0
}

# ---------------------------------------------------------------- 1. scale
part_scale() {
  local root=$WORK/scale k=$PER_REPO
  local n_blobs=$((REPOS * PER_REPO * BLOBS)) n_man=$((REPOS * PER_REPO))
  table "1. Scale: GC of $(printf "%'d" "$n_blobs") blobs, $(printf "%'d" "$n_man") manifests in $(printf "%'d" "$REPOS") repositories, half of them garbage (berth alone)" \
    "figure" "value"
  start_berth "$root" "$BATCH"
  log "scale: berth ${BASE[berth]} (pid ${PID[berth]}): pushing $n_blobs blobs of $SIZE B, $n_man manifests"
  py berth populate --repos "$REPOS" --per-repo "$PER_REPO" --blobs "$BLOBS" --size "$SIZE" --prefix gc --seed 1 \
    --upload post --procs "$PROCS" --threads "$THREADS"
  [[ $(jget blobs) == "$n_blobs" && $(jget manifests) == "$n_man" ]] || die "populate: $OUT"
  local push_s del_s bps garbage_blobs untagged deleted
  push_s=$(calc "$(jget push_seconds)" 1) del_s=$(calc "$(jget delete_seconds)" 2) bps=$(calc "$(jget blobs_per_s)" 0)
  garbage_blobs=$(jget garbage_blobs) untagged=$(jget untagged) deleted=$(jget deleted)
  log "scale: pushed in $push_s s ($bps blobs/s); $deleted manifests deleted in $del_s s, $untagged untagged"
  line "populate through the API: $n_blobs blobs (monolithic POST, $SIZE B) + $n_man manifest PUTs, $((PROCS * THREADS)) clients (s)" "$push_s"
  line "… blobs per second" "$bps"
  line "DELETE of $deleted manifests by digest (s); $untagged more lost their tag to a tag move" "$del_s"
  fig scale.populate.s "$push_s"; fig scale.populate.blobs_per_s "$bps"; fig scale.delete.s "$del_s"
  local pop_rss; pop_rss=$(status_mib "${PID[berth]}" VmHWM)
  stop_pid "${PID[berth]}"
  local du0 files0
  du0=$(du_disk "$root"); files0=$(blob_files "$root")
  # A fresh process: its VmHWM is then the GC's peak, not the populate's.
  start_berth "$root" "$BATCH"
  sleep 1   # the delays are 0 s, compared with timestamps in seconds
  local rss0 wall cpu hwm rss1
  rss0=$(status_mib "${PID[berth]}" VmRSS)
  if ! gc_call berth; then
    line "POST /v2/_berth/gc" "answered $(jget unsupported): no GC in this berth"
    note "scale: this berth has no GC API (POST /v2/_berth/gc answered $(jget unsupported)); the GC rows are missing."
    GC_API=0
    line "peak RSS during the populate (VmHWM, MiB)" "$pop_rss"
    return
  fi
  wall=$(calc "$(jget wall_s)" 2) cpu=$GC_CPU hwm=$(status_mib "${PID[berth]}" VmHWM) rss1=$(status_mib "${PID[berth]}" VmRSS)
  log "scale: GC $wall s wall, $cpu s CPU, peak RSS $hwm MiB: $OUT"
  local got_b got_l got_m freed
  got_b=$(jget blobs_deleted) got_l=$(jget links_deleted) got_m=$(jget manifests_deleted) freed=$(jget bytes_freed)
  line "**GC wall time** (POST /v2/_berth/gc until its answer, s)" "**$wall**"
  line "… as berth reports it (\`seconds\`)" "$(calc "$(jget seconds)" 2)"
  line "**GC CPU** (berth's utime+stime over the POST, s; target < 10)" "**$cpu**"
  line "**peak RSS** of the berth process, started fresh before the GC (VmHWM, MiB)" "**$hwm**"
  line "… RSS before the GC / after it (VmRSS, MiB)" "$rss0 / $rss1"
  line "… peak RSS of the process that took the pushes (VmHWM, MiB)" "$pop_rss"
  line "deleted: manifests / blob links / blobs (expected $untagged / $garbage_blobs / $garbage_blobs)" "$got_m / $got_l / $got_b"
  line "bytes freed (berth's \`bytes_freed\`; expected $((garbage_blobs * SIZE)))" "$freed"
  fig scale.gc.wall_s "$wall"; fig scale.gc.cpu_s "$cpu"; fig scale.gc.rss_peak_mib "$hwm"
  fig scale.gc.rss_before_mib "$rss0"; fig scale.gc.blobs_deleted "$got_b"; fig scale.gc.links_deleted "$got_l"
  fig scale.gc.manifests_deleted "$got_m"; fig scale.gc.bytes_freed "$freed"
  fig scale.gc.server_s "$(jget seconds)"; fig scale.populate.rss_peak_mib "$pop_rss"
  [[ $got_m == "$untagged" ]] || note "scale: the GC deleted $got_m manifests, expected $untagged."
  # More runs until one finds nothing: a run may leave what it made garbage
  # itself (see the note); the last run is the cost of looking at a clean store.
  local runs=1 tot_wall=$wall tot_cpu=$cpu tot_b=$got_b tot_l=$got_l wall2 cpu2
  while true; do
    gc_call berth
    wall2=$(calc "$(jget wall_s)" 2) cpu2=$GC_CPU
    [[ $(jget blobs_deleted) == 0 && $(jget links_deleted) == 0 && $(jget manifests_deleted) == 0 ]] && break
    runs=$((runs + 1))
    tot_wall=$(calc "$tot_wall + $wall2" 2) tot_cpu=$(calc "$tot_cpu + $cpu2" 2)
    tot_b=$((tot_b + $(jget blobs_deleted))) tot_l=$((tot_l + $(jget links_deleted)))
    log "scale: GC run $runs: $OUT"
    ((runs < 5)) || { note "scale: 5 GC runs and still something to collect."; break; }
  done
  if ((runs > 1)); then
    line "runs until nothing is left: runs; their wall / CPU (s); links / blobs deleted" \
      "$runs; $tot_wall / $tot_cpu; $tot_l / $tot_b"
    note "scale: the first GC run left $((garbage_blobs - got_b)) of the $garbage_blobs garbage blobs, which the next run removed: with gc.delay 0 a run's cut-off is its start second + 1, and removing a manifest stamps its links with the current second, so the links of the manifests that the run itself removed after its first second wait for the next run."
  fi
  fig scale.gc_all.runs "$runs"; fig scale.gc_all.wall_s "$tot_wall"; fig scale.gc_all.cpu_s "$tot_cpu"
  fig scale.gc_all.blobs_deleted "$tot_b"
  line "GC with nothing left to collect: wall / CPU (s)" "$wall2 / $cpu2"
  fig scale.gc_noop.wall_s "$wall2"; fig scale.gc_noop.cpu_s "$cpu2"
  local du1 files1
  du1=$(du_disk "$root"); files1=$(blob_files "$root")
  line "blob files under blobs/ before / after" "$files0 / $files1"
  line "storage root on disk before / after (du, MB; metadata.db does not shrink)" "$(mb "$du0") / $(mb "$du1")"
  fig scale.blob_files.before "$files0"; fig scale.blob_files.after "$files1"
  fig scale.du.before "$du0"; fig scale.du.after "$du1"
  ((files0 - files1 == tot_b)) || note "scale: blob files went from $files0 to $files1, but the GC runs reported $tot_b blobs deleted."
  py berth verify --repos "$REPOS" --per-repo "$PER_REPO" --blobs "$BLOBS" --size "$SIZE" --prefix gc --seed 1 \
    --sample "$(((REPOS + 49) / 50))" --expect-gone --threads 4
  log "scale: verified after GC: $OUT"
  line "check after the GC (1 repository in $(((REPOS + 49) / 50))): $(verify_label)" "$(verify_cell)"
  verify_notes scale berth
  # Part 2 goes on with this store and this process.
}

# ---------------------------------------------------------------- 2. under load
# phase_run PHASE(idle|gc) ROUND: the same three workloads in every phase,
# run at the same time for LOAD_SECONDS: HEAD and GET of a manifest (paced
# latency loops) and small-blob pushes (as fast as they go). In the GC phase
# POST /v2/_berth/gc runs back to back from just before them until they end.
declare -A M
phase_run() {
  local ph=$1 r=$2 loop_pid="" stop=$WORK/gc-loop.stop w pids=() c0
  if [[ $ph == gc ]]; then
    rm -f "$stop"
    run_bounded "$PY" "$CLIENT" gc-loop --base "${BASE[berth]}" --stop "$stop" --max-seconds "$STEP_TIMEOUT" \
      >"$WORK/gc-loop.json" 2>"$WORK/gc-loop.err" &
    loop_pid=$!
    sleep 0.2   # the first run is under way
  fi
  c0=$(cpu_s "${PID[berth]}")
  for w in head get push; do
    case $w in
      head | get)
        run_bounded "$PY" "$CLIENT" latency --base "${BASE[berth]}" --method "${w^^}" --path "$TARGET" --accept "$ACCEPT" \
          --seconds "$LOAD_SECONDS" --threads "$LAT_THREADS" --rate "$LAT_RATE" >"$WORK/$w.json" 2>"$WORK/$w.err" & ;;
      push)
        run_bounded "$PY" "$CLIENT" push-rate --base "${BASE[berth]}" --repo gc/push --seconds "$LOAD_SECONDS" \
          --threads "$PUSH_THREADS" --size "$PUSH_SIZE" --upload post >"$WORK/$w.json" 2>"$WORK/$w.err" & ;;
    esac
    pids+=($!)
  done
  for w in 0 1 2; do
    wait "${pids[$w]}" || { cat "$WORK"/{head,get,push}.err >&2; die "load r$r $ph: a workload failed"; }
  done
  M[$ph.cpu]+=" $(calc "$(cpu_s "${PID[berth]}") - $c0" 2)"
  for w in head get; do
    OUT=$(<"$WORK/$w.json")
    M[$ph.$w.p50]+=" $(jget p50_ms)" M[$ph.$w.p99]+=" $(jget p99_ms)" M[$ph.$w.rps]+=" $(jget rps)"
    log "load r$r $ph: ${w^^} p50 $(calc "$(jget p50_ms)" 3) p99 $(calc "$(jget p99_ms)" 3) max $(calc "$(jget max_ms)" 1) ms, $(calc "$(jget rps)" 0) req/s"
  done
  OUT=$(<"$WORK/push.json")
  M[$ph.push.bps]+=" $(jget blobs_per_s)" M[$ph.push.p50]+=" $(jget p50_ms)" M[$ph.push.p99]+=" $(jget p99_ms)"
  M[$ph.push.max]+=" $(jget max_ms)"
  log "load r$r $ph: push $(calc "$(jget blobs_per_s)" 0) blobs/s, p50 $(calc "$(jget p50_ms)" 1) p99 $(calc "$(jget p99_ms)" 1) max $(calc "$(jget max_ms)" 0) ms"
  if [[ $ph == gc ]]; then
    touch "$stop"
    wait "$loop_pid" || { cat "$WORK/gc-loop.err" >&2; die "the GC loop failed"; }
    OUT=$(<"$WORK/gc-loop.json")
    local runs; runs=$(jget runs)
    ((runs > 0)) || die "the GC loop made no run"
    M[gc.runs]+=" $runs" M[gc.busy]+=" $(jget busy_s)" M[gc.blobs]+=" $(jget blobs_deleted)"
    M[gc.run_first]+=" $(jq '.run_s[0]' <<<"$OUT")"
    M[gc.run_med]+=" $(jq '.run_s | sort | .[length/2|floor]' <<<"$OUT")"
    log "load r$r gc loop: $runs runs, busy $(calc "$(jget busy_s)" 1) s, first $(calc "$(jq '.run_s[0]' <<<"$OUT")" 2) s, $(jget blobs_deleted) blobs deleted"
  fi
}

rate_label() { if [[ $LAT_RATE == 0 ]]; then echo "closed loops"; else echo "paced at $LAT_RATE/s"; fi; }

part_load() {
  local kept_max=$(((PER_REPO / 2) - 1))
  ((ROUNDS <= kept_max)) || die "BENCH_GC_ROUNDS=$ROUNDS: at most $kept_max rounds (one kept manifest per repository deleted per round)"
  table "2. Under load: idle vs GC running back to back (berth, the store of part 1; medians of $ROUNDS rounds)" \
    "workload" "idle" "GC running" "ratio GC/idle" "target"
  if [[ $GC_API == 0 ]]; then line "no GC API in this berth" "" "" "" ""; return; fi
  # Restart with the batch size of this part.
  stop_pid "${PID[berth]}"
  start_berth "$WORK/scale" "$LOAD_BATCH"
  TARGET=/v2/gc/r00000/manifests/v0 ACCEPT=application/vnd.oci.image.manifest.v1+json
  py berth latency --method HEAD --path "$TARGET" --accept "$ACCEPT" --seconds 1 --threads "$LAT_THREADS" --rate "$LAT_RATE"   # warm-up
  local r ph
  for ((r = 1; r <= ROUNDS; r++)); do
    # Fresh garbage for this round's GC phase: kept manifest r of every repository.
    py berth delete-kept --repos "$REPOS" --per-repo "$PER_REPO" --blobs "$BLOBS" --size "$SIZE" --prefix gc --seed 1 \
      --index "$r" --threads 8
    log "load r$r: deleted manifest v$r in $REPOS repositories ($(jget garbage_blobs) blobs of garbage) in $(calc "$(jget seconds)" 1) s"
    sleep 1
    local phases="gc idle"
    ((r % 2)) && phases="idle gc"
    for ph in $phases; do phase_run "$ph" "$r"; done
  done
  lrow() {  # lrow LABEL KEY TARGET DIGITS
    local i g; i=$(calc "$(median "${M[idle.$2]}")" "$4") g=$(calc "$(median "${M[gc.$2]}")" "$4")
    line "$1" "$i" "$g" "$(ratio "$g" "$i")" "$3"
    fig "load.$2.idle" "$i"; fig "load.$2.gc" "$g"; fig "load.$2.ratio" "$(ratio "$g" "$i")"
  }
  lrow "HEAD manifest by tag, p50 (ms)" head.p50 "" 3
  lrow "HEAD manifest by tag, **p99** (ms)" head.p99 "≤ 2" 3
  lrow "… requests/s ($LAT_THREADS client processes, $(rate_label))" head.rps "" 0
  lrow "GET manifest by tag, p50 (ms)" get.p50 "" 3
  lrow "GET manifest by tag, **p99** (ms)" get.p99 "≤ 2" 3
  lrow "… requests/s ($LAT_THREADS client processes, $(rate_label))" get.rps "" 0
  lrow "**push** $PUSH_SIZE B blobs, $PUSH_THREADS clients (blobs/s)" push.bps "≥ 0.9" 0
  lrow "… one push (monolithic POST), p50 (ms)" push.p50 "" 1
  lrow "… one push, p99 (ms)" push.p99 "" 1
  lrow "… one push, slowest (ms)" push.max "" 0
  lrow "berth CPU over the phase (s)" cpu "" 2
  local runs busy first
  runs=$(median "${M[gc.runs]}") busy=$(median "${M[gc.busy]}") first=$(calc "$(median "${M[gc.run_first]}")" 2)
  line "GC runs per GC phase of ~$LOAD_SECONDS s: runs; the first (the round's garbage, s); median run (s)" "" \
    "$runs; $first; $(calc "$(median "${M[gc.run_med]}")" 2)" "" ""
  line "… blobs deleted per GC phase (the round's garbage + the pushed blobs)" "" "$(median "${M[gc.blobs]}")" "" ""
  fig load.gc.runs "$runs"; fig load.gc.busy_s "$busy"; fig load.gc.run_first_s "$first"
  fig load.gc.run_med_s "$(median "${M[gc.run_med]}")"; fig load.gc.blobs_deleted "$(median "${M[gc.blobs]}")"
  note "load: each round first deletes one kept manifest in every repository ($REPOS manifests, $((REPOS * BLOBS)) blobs of garbage); the idle phase goes first in odd rounds, the GC phase in even ones. gc.batch: ${LOAD_BATCH:-the default}."
  stop_pid "${PID[berth]}"
}

# ---------------------------------------------------------------- 3. against the reference
part_ref() {
  local n_blobs=$((REF_REPOS * PER_REPO * BLOBS)) n_man=$((REF_REPOS * PER_REPO)) who
  table "3. Online GC (berth) vs offline garbage-collect (reference), same images: $n_blobs blobs of $REF_SIZE B, $n_man manifests in $REF_REPOS repositories, half garbage" \
    "figure" "berth (online)" "reference (offline)" "ratio berth/reference"
  start_berth "$WORK/cmp-berth"
  start_ref "$WORK/cmp-ref"
  log "ref: berth ${BASE[berth]} (pid ${PID[berth]}), reference ${BASE[ref]} (pid ${PID[ref]})"
  local -A PUSH DU0 DU1 AP0 AP1 F0 F1
  for who in berth ref; do
    py "$who" populate --repos "$REF_REPOS" --per-repo "$PER_REPO" --blobs "$BLOBS" --size "$REF_SIZE" --prefix cmp \
      --seed 2 --upload postput --procs "$PROCS" --threads 4
    [[ $(jget blobs) == "$n_blobs" ]] || die "populate at $who: $OUT"
    PUSH[$who]=$(calc "$(jget push_seconds)" 1)
    log "ref: populated $who in ${PUSH[$who]} s, deleted $(jget deleted) in $(calc "$(jget delete_seconds)" 2) s"
  done
  local garbage=$((REF_REPOS * BLOBS * (PER_REPO - PER_REPO / 2)))
  sleep 1
  for who in berth ref; do
    DU0[$who]=$(du_disk "$WORK/cmp-$who") AP0[$who]=$(du_apparent "$WORK/cmp-$who")
  done
  F0[berth]=$(blob_files "$WORK/cmp-berth") F0[ref]=$(find "$WORK/cmp-ref" -name data -type f | wc -l)
  # berth: online, a probe HEADs a kept manifest every 10 ms meanwhile.
  local b_wall b_cpu b_rss b_del b_probe b_bad r_wall r_cpu r_rss r_del r_down r_restart t0 t1
  gc_call berth --probe /v2/cmp/r00000/manifests/v0 || true
  if [[ $(jget unsupported) != null ]]; then
    b_wall=n/a b_cpu=n/a b_rss=n/a b_del=n/a b_probe=n/a b_bad=n/a
    note "ref: this berth has no GC API (POST /v2/_berth/gc answered $(jget unsupported)); berth's column is empty."
  else
    b_wall=$(calc "$(jget wall_s)" 2) b_cpu=$GC_CPU b_rss=$(status_mib "${PID[berth]}" VmHWM) b_del=$(jget blobs_deleted)
    b_bad=$(jget probe.bad) b_probe=$(($(jget probe.ok) + b_bad))
    log "ref: berth GC $b_wall s, $b_cpu s CPU, probes $b_probe ($b_bad failed): $OUT"
  fi
  # The reference: stopped, garbage-collect, started again.
  t0=$($PY -c 'import time; print(time.monotonic())')
  stop_pid "${PID[ref]}"
  run_bounded /usr/bin/time -f '%e %U %S %M' -o "$WORK/ref-gc.time" \
    docker-registry garbage-collect --delete-untagged "$WORK/cmp-ref.yml" >"$WORK/ref-gc.log" 2>&1 ||
    { tail -20 "$WORK/ref-gc.log" >&2; die "docker-registry garbage-collect failed"; }
  start_ref "$WORK/cmp-ref"
  t1=$($PY -c 'import time; print(time.monotonic())')
  read -r r_wall r_user r_sys r_rss_kb <"$WORK/ref-gc.time"
  r_cpu=$(calc "$r_user + $r_sys" 2) r_rss=$(calc "$r_rss_kb / 1024" 1)
  r_down=$(calc "$t1 - $t0" 2) r_restart=$(calc "$t1 - $t0 - $r_wall" 2)
  r_del=$(grep -c 'blob eligible for deletion' "$WORK/ref-gc.log" || true)
  log "ref: reference garbage-collect $r_wall s, $r_cpu s CPU, downtime $r_down s, $r_del blobs eligible"
  F1[berth]=$(blob_files "$WORK/cmp-berth") F1[ref]=$(find "$WORK/cmp-ref" -name data -type f | wc -l)
  for who in berth ref; do
    DU1[$who]=$(du_disk "$WORK/cmp-$who") AP1[$who]=$(du_apparent "$WORK/cmp-$who")
  done
  line "populate through the API, POST + PUT per blob, $((PROCS * 4)) clients (s)" "${PUSH[berth]}" "${PUSH[ref]}" "$(ratio "${PUSH[berth]}" "${PUSH[ref]}")"
  line "**GC run time** (berth: the POST; reference: garbage-collect, s)" "**$b_wall**" "**$(calc "$r_wall" 2)**" "$(ratio "$b_wall" "$r_wall")"
  line "GC CPU (s)" "$b_cpu" "$r_cpu" "$(ratio "$b_cpu" "$r_cpu")"
  line "**downtime** (reference: stop, garbage-collect, start until /v2/ answers, s)" "$([[ $b_wall == n/a ]] && echo n/a || echo "**0** ($b_probe probes, $b_bad failed)")" "**$r_down**" "—"
  line "… of which the restart (s)" "—" "$r_restart" "—"
  line "peak RSS (berth: the serving process's VmHWM; reference: garbage-collect's maxrss, MiB)" "$b_rss" "$r_rss" "$(ratio "$b_rss" "$r_rss")"
  line "blobs deleted (berth: \`blobs_deleted\`; reference: 'blob eligible for deletion' lines, manifests included; garbage: $garbage layers+configs, $((n_man / 2)) manifests)" "$b_del" "$r_del" "—"
  line "blob data files before → after" "${F0[berth]} → ${F1[berth]}" "${F0[ref]} → ${F1[ref]}" "—"
  local bd rd ba ra
  bd=$((DU0[berth] - DU1[berth])) rd=$((DU0[ref] - DU1[ref])) ba=$((AP0[berth] - AP1[berth])) ra=$((AP0[ref] - AP1[ref]))
  line "storage root on disk before → after (du, MB)" "$(mb "${DU0[berth]}") → $(mb "${DU1[berth]}")" "$(mb "${DU0[ref]}") → $(mb "${DU1[ref]}")" "—"
  line "**reclaimed on disk** (du, MB)" "**$(mb "$bd" 2)**" "**$(mb "$rd" 2)**" "$(ratio "$bd" "$rd")"
  line "reclaimed, apparent bytes (du -b, MB; garbage blob bytes: $(mb $((garbage * REF_SIZE)) 2))" "$(mb "$ba" 2)" "$(mb "$ra" 2)" "$(ratio "$ba" "$ra")"
  fig ref.populate_s.berth "${PUSH[berth]}"; fig ref.populate_s.ref "${PUSH[ref]}"
  fig ref.gc_s.berth "$b_wall"; fig ref.gc_s.ref "$r_wall"; fig ref.gc_cpu_s.berth "$b_cpu"; fig ref.gc_cpu_s.ref "$r_cpu"
  fig ref.downtime_s.berth 0; fig ref.downtime_s.ref "$r_down"; fig ref.restart_s.ref "$r_restart"
  fig ref.probe_failed.berth "$b_bad"; fig ref.rss_mib.berth "$b_rss"; fig ref.rss_mib.ref "$r_rss"
  fig ref.blobs_deleted.berth "$b_del"; fig ref.blobs_deleted.ref "$r_del"
  fig ref.reclaimed_disk_bytes.berth "$bd"; fig ref.reclaimed_disk_bytes.ref "$rd"
  fig ref.reclaimed_apparent_bytes.berth "$ba"; fig ref.reclaimed_apparent_bytes.ref "$ra"
  fig ref.du_before.berth "${DU0[berth]}"; fig ref.du_before.ref "${DU0[ref]}"
  fig ref.du_after.berth "${DU1[berth]}"; fig ref.du_after.ref "${DU1[ref]}"
  # Both still serve every kept image; the garbage blobs are gone.
  local -A OK
  for who in berth ref; do
    local gone=(--expect-gone)
    [[ $who == berth && $b_wall == n/a ]] && gone=()
    py "$who" verify --repos "$REF_REPOS" --per-repo "$PER_REPO" --blobs "$BLOBS" --size "$REF_SIZE" --prefix cmp --seed 2 \
      "${gone[@]}" --threads 4
    OK[$who]=$(verify_cell)
    verify_notes ref "$who"
  done
  line "check after the GC: $(verify_label)" "${OK[berth]}" "${OK[ref]}" "—"
  note "ref: the reference runs with its packaged defaults (filesystem driver, inmemory blob descriptor cache) and \`garbage-collect --delete-untagged\`, the registry stopped; berth runs with gc.delay = gc.untagged_delay = 0 and serves throughout. du counts the whole storage root: berth's metadata.db does not shrink, and the reference keeps the repositories' link files of the deleted layers."
  stop_pid "${PID[berth]}"; stop_pid "${PID[ref]}"
}

# ---------------------------------------------------------------- main
main() {
  ensure_tools
  build
  [[ -x "$BERTH_BIN" ]] || die "no berth binary at $BERTH_BIN"
  PY=$(python3 -c 'import sys; print(sys.executable)')
  GC_CONFIG=0
  if grep -qa 'untagged_delay' "$BERTH_BIN"; then
    GC_CONFIG=1 GC_ENV=(BERTH_GC_INTERVAL=0 BERTH_GC_DELAY=0 BERTH_GC_UNTAGGED_DELAY=0)
  fi
  GC_API=1

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
  WORK=$(mktemp -d "${BENCH_TMPDIR:-/tmp}/berth-gcbench.XXXXXX")
  FIGS=$WORK/figures.tsv
  : >"$FIGS"
  log "work dir $WORK ($(df -h --output=avail "$WORK" | tail -1 | tr -d ' ') free); berth $BERTH_BIN"
  # A copy: a rebuild of the given binary during the run must not change what the restarts run.
  BERTH_ORIG=$BERTH_BIN
  cp "$BERTH_BIN" "$WORK/berth"
  BERTH_BIN=$WORK/berth
  ((GC_CONFIG)) || note "this berth binary knows no gc.* configuration: it ran without BERTH_GC_* variables."

  part_scale
  part_load
  part_ref
  report
}

report() {
  local elapsed=$(($(date +%s) - T0)) cpu kernel commit mode built
  cpu=$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)
  kernel=$(uname -sr)
  commit="$(git -C "$TOP" rev-parse --short HEAD 2>/dev/null || echo '?')"
  built="Release build of this tree"
  if [[ $BERTH_ORIG != "$BUILD/src/berth" ]]; then
    # The commit of the git checkout the given binary sits in, if any (no path goes into the report).
    local bdir btop
    bdir=$(dirname "$(realpath "$BERTH_ORIG")")
    if btop=$(git -C "$bdir" rev-parse --short HEAD 2>/dev/null); then
      git -C "$bdir" diff --quiet HEAD -- src 2>/dev/null || btop+=" (src modified)"
      built="given binary (BENCH_BERTH_BIN), built in a checkout at commit $btop"
    else
      built="given binary (BENCH_BERTH_BIN), commit unknown"
    fi
  fi
  mode=$([[ $QUICK == 1 ]] && echo 'quick (--quick, 10x smaller)' || echo full)
  {
    echo "# berth online GC benchmark (reference: distribution $(docker-registry --version 2>/dev/null | awk '{print $3}'))"
    echo
    echo "- date: $(date -u '+%Y-%m-%d %H:%M:%S UTC'); measured in $elapsed s (limit $TIME_LIMIT s, build not counted)"
    echo "- machine: nproc $(nproc), CPU \"$cpu\", kernel $kernel, load average at the start $LOAD_START, at the end $(cut -d' ' -f1-3 /proc/loadavg)"
    echo "- bench tree at $commit; berth: $built; mode: $mode"
    echo "- berth: \`berth registry\`, plain HTTP, auth off, log level $LOG_LEVEL, gc.interval 0, gc.delay 0, gc.untagged_delay 0; gc.batch ${BATCH:-default} (part 1), ${LOAD_BATCH:-default} (part 2)"
    echo "- sizes: part 1/2 $REPOS repositories x $PER_REPO manifests x $BLOBS blobs of $SIZE B; part 2 $ROUNDS rounds of two phases of ${LOAD_SECONDS} s (HEAD and GET at $LAT_RATE/s each, $PUSH_THREADS pushers); part 3 $REF_REPOS repositories x $PER_REPO x $BLOBS blobs of $REF_SIZE B"
    printf '%s\n' "${ROWS[@]}"
    if ((${#NOTES[@]})); then echo; printf -- '- %s\n' "${NOTES[@]}"; fi
  } >"$WORK/report.md"
  local json
  json=$("$PY" - "$FIGS" "$(date -u '+%Y-%m-%dT%H:%M:%SZ')" "$commit" "$mode" "$elapsed" "$(nproc)" <<'EOF'
import json, sys
figs, date, commit, mode, elapsed, nproc = sys.argv[1:]
d = {"date": date, "commit": commit, "mode": mode.split()[0], "measured_s": int(elapsed), "nproc": int(nproc)}
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
