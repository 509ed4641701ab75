#!/usr/bin/env bash
# High availability: two berth processes share ONE storage root. A (port P1)
# holds <root>/LOCK and serves; B (port P2, --wait-for-lock) waits for the
# lock and does not listen. A third berth without --wait-for-lock must refuse
# to start and name the holder. Then CLIENTS clients push and pull without
# pause; each talks to its current port and, when a connection fails, tries
# the other port (alternating, short backoff, bounded). The active process is
# killed with SIGKILL at random moments (FAILOVER_KILLS times, default 8) and
# restarted with --wait-for-lock, so it becomes the new standby. For every
# kill the time from the kill to the first 200 from /readyz on the other port
# (polled every 20 ms) is measured; the target is < 2 s. At the end every
# acknowledged (201) push must be intact, every client must have finished and
# `berth fsck` must exit 0.
#
# FAILOVER_KILLS, FAILOVER_CLIENTS, FAILOVER_TLS (1: HTTPS with the generated
# certificate, 0: plain HTTP).
source "$(dirname "$0")/lib.sh"

KILLS=${FAILOVER_KILLS:-8}
CLIENTS=${FAILOVER_CLIENTS:-4}
TLS=${FAILOVER_TLS:-1}
TARGET_MS=2000
ROOT=$WORK/root
STOP=$WORK/stop
if [[ $TLS == 1 ]]; then SCHEME=https; TLS_ENABLED=true; else SCHEME=http; TLS_ENABLED=false; fi
CACERT=$ROOT/keys/tls.crt

P=("$(free_port)" "")
for _ in 1 2 3 4 5; do P[1]=$(free_port); [[ ${P[1]} != "${P[0]}" ]] && break; done
NAME=(A B)
NPID=("" "")
NLOG=("" "")
NRUN=(0 0)
CLIENT_PIDS=()
THIRD_PID=""

# Kills what this script started: clients first, then both berth processes.
failover_cleanup() {
  local p
  touch "$STOP" 2>/dev/null
  for p in "${CLIENT_PIDS[@]}" $THIRD_PID; do kill -KILL "$p" 2>/dev/null; done
  for p in "${NPID[@]}"; do [[ -n $p ]] && kill -KILL "$p" 2>/dev/null; done
  for p in "${CLIENT_PIDS[@]}" "${NPID[@]}" $THIRD_PID; do [[ -n $p ]] && wait "$p" 2>/dev/null; done
  cleanup
}
trap failover_cleanup EXIT

url() { echo "$SCHEME://127.0.0.1:${P[$1]}$2"; }

# code IDX PATH: HTTP status of a GET (000 when nothing answers).
code() {
  curl -s --connect-timeout 1 --max-time 2 --cacert "$CACERT" -o /dev/null -w '%{http_code}' "$(url "$1" "$2")"
}

# start_node IDX [--wait-for-lock]: starts berth IDX in the background on its
# port; its log is NLOG[IDX] (one file per run).
start_node() {
  local i=$1
  shift
  NRUN[i]=$((NRUN[i] + 1))
  NLOG[i]=$WORK/node-${NAME[i]}.${NRUN[i]}.log
  env BERTH_STORAGE_ROOT="$ROOT" BERTH_REGISTRY_ADDR=127.0.0.1 BERTH_REGISTRY_PORT="${P[i]}" \
    BERTH_LOG_LEVEL="${BERTH_TEST_LOG_LEVEL:-info}" BERTH_AUTH_ENABLED=false \
    BERTH_TLS_ENABLED=$TLS_ENABLED BERTH_HTTP_SHUTDOWN_GRACE=2 \
    "$BERTH_BIN" registry "$@" >"${NLOG[i]}" 2>&1 &
  NPID[i]=$!
}

# wait_ready IDX: until /readyz on IDX answers 200 (5 s at most).
wait_ready() {
  local j
  for j in $(seq 1 250); do
    [[ -f $CACERT || $TLS != 1 ]] && [[ $(code "$1" /readyz) == 200 ]] && return 0
    kill -0 "${NPID[$1]}" 2>/dev/null || { echo "${NAME[$1]} exited:"; tail -5 "${NLOG[$1]}"; return 1; }
    sleep 0.02
  done
  echo "${NAME[$1]} not ready after 5 s"; tail -5 "${NLOG[$1]}"
  return 1
}

# wait_standby IDX: until IDX logs that it waits for the lock (5 s at most).
wait_standby() {
  local j
  for j in $(seq 1 250); do
    grep -q 'waiting for it (--wait-for-lock)' "${NLOG[$1]}" 2>/dev/null && return 0
    kill -0 "${NPID[$1]}" 2>/dev/null || { echo "${NAME[$1]} exited:"; tail -5 "${NLOG[$1]}"; return 1; }
    sleep 0.02
  done
  echo "${NAME[$1]} did not start waiting for the lock"; tail -5 "${NLOG[$1]}"
  return 1
}

# ---------------------------------------------------------------------------
# 1. One holder, one standby, one refused.
start_node 0
wait_ready 0 || { fail "A starts and becomes ready"; summary; exit 1; }
pass "A (port ${P[0]}) holds the lock and is ready"
start_node 1 --wait-for-lock
if wait_standby 1; then pass "B (port ${P[1]}, --wait-for-lock) waits for the lock"; else fail "B waits for the lock"; fi
sleep 0.3
expect_eq "B does not listen (no /readyz) while A holds the lock" 000 "$(code 1 /readyz)"
expect_eq "B does not answer /v2/ while A holds the lock" 000 "$(code 1 /v2/)"
kill -0 "${NPID[1]}" 2>/dev/null && pass "B is still alive, waiting" || fail "B is still alive, waiting"
kill -HUP "${NPID[1]}"
sleep 0.3
kill -0 "${NPID[1]}" 2>/dev/null && pass "SIGHUP (systemctl reload) does not kill the waiting standby" ||
  fail "SIGHUP (systemctl reload) does not kill the waiting standby"

P3=$(free_port)
env BERTH_STORAGE_ROOT="$ROOT" BERTH_REGISTRY_ADDR=127.0.0.1 BERTH_REGISTRY_PORT="$P3" \
  BERTH_AUTH_ENABLED=false BERTH_TLS_ENABLED=$TLS_ENABLED \
  timeout 10 "$BERTH_BIN" registry >"$WORK/third.log" 2>&1 &
THIRD_PID=$!
wait "$THIRD_PID"
third_rc=$?
THIRD_PID=""
if [[ $third_rc != 0 && $third_rc != 124 ]]; then pass "a third berth without --wait-for-lock refuses to start (exit $third_rc)"; else
  fail "a third berth without --wait-for-lock refuses to start (exit $third_rc)"; fi
third_msg=$(cat "$WORK/third.log")
expect_contains "its message names the holder's host" "host=" "$third_msg"
expect_contains "its message names the holder's pid" "pid=${NPID[0]}" "$third_msg"
echo "   third berth said: $(grep -m1 'in use' "$WORK/third.log")"
expect_eq "A still serves after the refused start" 200 "$(code 0 /readyz)"
expect_eq "B still does not listen after the refused start" 000 "$(code 1 /readyz)"

# ---------------------------------------------------------------------------
# 2. Clients push and pull while the active process is killed again and again.

# client N: pushes blobs (monolithic and chunked), a config and a tagged
# manifest per blob, and pulls a blob it pushed before; records acknowledged
# pushes in acked.N, bad pulls in bad.N, counters in stats.N.
client() {
  local n=$1 i=0 cur=0 acked=$WORK/acked.$n bad=$WORK/bad.$n
  local body=$WORK/body.$n hdr=$WORK/hdr.$n f=$WORK/blob.$n
  local switches=0 gaveup=0 pulls=0 c5xx=0 pushes=0
  local deadline=$((SECONDS + 150))
  : >"$acked"
  # rq PATH CURL-ARGS...: sends one request to the current port; when no HTTP
  # answer comes (refused, reset, timed out, cut short) it switches to the
  # other port and retries, 40 attempts at most. Sets code (000: gave up);
  # not run in a subshell, so the port switch sticks.
  rq() {
    local path=$1 t rc
    shift
    for t in $(seq 1 40); do
      code=$(curl -s --connect-timeout 1 --max-time 10 --cacert "$CACERT" -o "$body" -D "$hdr" \
        -w '%{http_code}' "$@" "$SCHEME://127.0.0.1:${P[cur]}$path")
      rc=$?
      if [[ $rc == 0 && $code != 000 ]]; then
        [[ $code == 5* ]] && { c5xx=$((c5xx + 1)); echo "$(date +%T.%N) $code $* $path $(head -c 300 "$body")" >>"$WORK/5xx.$n"; }
        return 0
      fi
      cur=$((1 - cur))
      switches=$((switches + 1))
      sleep "0.0$((t < 5 ? 2 * t : 9))"
    done
    gaveup=$((gaveup + 1))
    code=000
  }
  while [[ ! -e $STOP ]] && ((SECONDS < deadline && i < 100000)); do
    i=$((i + 1))
    local size=$((RANDOM * 8 + RANDOM % 997 + 1)) repo=ha/c$n d code loc
    head -c "$size" /dev/urandom >"$f"
    d=sha256:$(sha256sum "$f" | cut -d' ' -f1)
    pushes=$((pushes + 1))
    if ((i % 2)); then
      rq "/v2/$repo/blobs/uploads/?digest=$d" -X POST --data-binary @"$f"
    else
      rq "/v2/$repo/blobs/uploads/" -X POST
      [[ $code == 202 ]] || continue
      loc=$(awk -F': ' 'tolower($1)=="location"{print $2}' "$hdr" | tr -d '\r')
      [[ -n $loc ]] || continue
      rq "$loc" -X PATCH -H "Content-Type: application/octet-stream" \
        -H "Content-Range: 0-$((size - 1))" --data-binary @"$f"
      [[ $code == 202 ]] || continue
      rq "$loc?digest=$d" -X PUT
    fi
    [[ $code == 201 ]] || continue
    echo "blob $repo $d $(date +%s%N)" >>"$acked"
    local cfg='{}' cd m md
    cd=sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a
    rq "/v2/$repo/blobs/uploads/?digest=$cd" -X POST --data-binary "$cfg"
    if [[ $code == 201 ]]; then
      m=$(printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"%s","size":2},"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar","digest":"%s","size":%d}]}' "$cd" "$d" "$size")
      md=sha256:$(printf '%s' "$m" | sha256sum | cut -d' ' -f1)
      rq "/v2/$repo/manifests/t$i" -X PUT -H 'Content-Type: application/vnd.oci.image.manifest.v1+json' --data-binary "$m"
      [[ $code == 201 ]] && echo "manifest $repo t$i $md $(date +%s%N)" >>"$acked"
    fi
    # Pull something this client pushed earlier.
    local line
    line=$(grep '^blob ' "$acked" | shuf -n 1)
    if [[ -n $line ]]; then
      local pd
      pd=$(cut -d' ' -f3 <<<"$line")
      rq "/v2/$repo/blobs/$pd"
      pulls=$((pulls + 1))
      if [[ $code == 200 ]]; then
        [[ sha256:$(sha256sum "$body" | cut -d' ' -f1) == "$pd" ]] || echo "pull $repo $pd: wrong content" >>"$bad"
      elif [[ $code != 000 ]]; then
        echo "pull $repo $pd: status $code" >>"$bad"
      fi
    fi
  done
  echo "pushes=$pushes pulls=$pulls switches=$switches gaveup=$gaveup c5xx=$c5xx" >"$WORK/stats.$n"
  echo done >"$WORK/done.$n"
}

for n in $(seq 1 "$CLIENTS"); do
  client "$n" &
  CLIENT_PIDS+=($!)
done

sleep 2 # some pushes are acknowledged before the first kill
first_kill_ns=$(date +%s%N)
times=()
active=0
standby_listened=0
deadline=$((SECONDS + 90))
for k in $(seq 1 "$KILLS"); do
  ((SECONDS < deadline)) || { fail "kill loop took too long (stopped after $((k - 1)) kills)"; break; }
  sleep "0.$((RANDOM % 8 + 2))"
  sb=$((1 - active))
  t0=$(date +%s%N)
  kill -KILL "${NPID[active]}"
  wait "${NPID[active]}" 2>/dev/null
  NPID[active]=""
  ok=0
  for j in $(seq 1 500); do # 20 ms apart; 10 s at most (plus curl time)
    if [[ $(curl -s --connect-timeout 1 --max-time 1 --cacert "$CACERT" -o /dev/null -w '%{http_code}' \
      "$(url "$sb" /readyz)") == 200 ]]; then
      ok=1
      break
    fi
    sleep 0.02
  done
  t1=$(date +%s%N)
  ms=$(((t1 - t0) / 1000000))
  if ((ok)); then
    times+=("$ms")
    echo "   kill $k: ${NAME[active]} killed, ${NAME[sb]} served after $ms ms"
  else
    fail "kill $k: ${NAME[sb]} did not become ready within 10 s"
    tail -5 "${NLOG[sb]}"
    break
  fi
  # The killed one comes back as the new standby.
  start_node "$active" --wait-for-lock
  wait_standby "$active" || { fail "kill $k: ${NAME[active]} restarts as standby"; break; }
  [[ $(code "$active" /readyz) == 000 ]] || {
    standby_listened=$((standby_listened + 1))
    echo "standby ${NAME[active]} answered while ${NAME[sb]} holds the lock"
  }
  active=$sb
done
expect_eq "$KILLS SIGKILLs, each followed by a failover" "$KILLS" "${#times[@]}"
expect_eq "a restarted standby never answered while the other held the lock" 0 "$standby_listened"

if ((${#times[@]} > 0)); then
  sorted=($(printf '%s\n' "${times[@]}" | sort -n))
  cnt=${#sorted[@]}
  min=${sorted[0]} max=${sorted[cnt - 1]}
  if ((cnt % 2)); then med=${sorted[cnt / 2]}; else med=$(((sorted[cnt / 2 - 1] + sorted[cnt / 2]) / 2)); fi
  echo "failover time (kill -> first /readyz 200 on the other port), $cnt kills: min $min ms, median $med ms, max $max ms"
  if ((max < TARGET_MS)); then pass "failover under ${TARGET_MS} ms (max $max ms)"; else
    fail "failover took $max ms (> ${TARGET_MS} ms target); times: ${times[*]}"; fi
fi

# A planned switch-over: SIGTERM to the active one, the standby takes over.
sb=$((1 - active))
t0=$(date +%s%N)
kill -TERM "${NPID[active]}"
for j in $(seq 1 500); do kill -0 "${NPID[active]}" 2>/dev/null || break; sleep 0.02; done
if kill -0 "${NPID[active]}" 2>/dev/null; then
  # Do not wait forever for a berth that ignores SIGTERM: fail, kill it and
  # let the standby take over anyway.
  fail "SIGTERM to the active ${NAME[active]} was ignored for 10 s (killed); 'signal 15 received' logged: $(grep -c 'signal 15 received' "${NLOG[active]}")"
  kill -KILL "${NPID[active]}"
  wait "${NPID[active]}" 2>/dev/null
else
  wait "${NPID[active]}" 2>/dev/null
  expect_eq "SIGTERM to the active ${NAME[active]}: it exits 0" 0 "$?"
fi
NPID[active]=""
if wait_ready "$sb"; then
  pass "after SIGTERM, ${NAME[sb]} serves ($((($(date +%s%N) - t0) / 1000000)) ms)"
else
  fail "after SIGTERM, ${NAME[sb]} serves"
fi
start_node "$active" --wait-for-lock
wait_standby "$active" || fail "${NAME[active]} restarts as standby after the switch-over"
active=$sb

# ---------------------------------------------------------------------------
# 3. The clients finish; everything acknowledged is there.
touch "$STOP"
for j in $(seq 1 300); do # 60 s at most
  [[ $(ls "$WORK"/done.* 2>/dev/null | wc -l) -ge $CLIENTS ]] && break
  sleep 0.2
done
expect_eq "every client finished" "$CLIENTS" "$(ls "$WORK"/done.* 2>/dev/null | wc -l)"
for p in "${CLIENT_PIDS[@]}"; do kill -KILL "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
CLIENT_PIDS=()
for n in $(seq 1 "$CLIENTS"); do echo "   client $n: $(cat "$WORK/stats.$n" 2>/dev/null)"; done
gaveup=$(cat "$WORK"/stats.* 2>/dev/null | sed -n 's/.*gaveup=\([0-9]*\).*/\1/p' | paste -sd+ | bc)
expect_eq "no client request gave up (always one port answered within its retries)" 0 "${gaveup:-0}"
badpulls=$(cat "$WORK"/bad.* 2>/dev/null | wc -l)
expect_eq "every pull during the kills returned the right content" 0 "$badpulls"
cat "$WORK"/bad.* 2>/dev/null | head -5
c5xx=$(cat "$WORK"/5xx.* 2>/dev/null | wc -l)
if [[ $c5xx == 0 ]]; then pass "no 5xx answers during failovers"; else
  fail "$c5xx requests answered 5xx during failovers: $(head -c 400 "$WORK"/5xx.* | tr '\n' ' ')"; fi

blobs=0 manifests=0 lost=0 before=0
C=(curl -s --max-time 30 --cacert "$CACERT")
while read -r kind repo a b ts; do
  if [[ $kind == blob ]]; then
    got=sha256:$("${C[@]}" "$(url "$active" "/v2/$repo/blobs/$a")" | sha256sum | cut -d' ' -f1)
    if [[ $got == "$a" ]]; then blobs=$((blobs + 1)); else lost=$((lost + 1)); echo "lost blob $repo $a"; fi
    [[ ${b:-0} -lt $first_kill_ns ]] && before=$((before + 1))
  else
    got=sha256:$("${C[@]}" "$(url "$active" "/v2/$repo/manifests/$a")" | sha256sum | cut -d' ' -f1)
    if [[ $got == "$b" ]]; then manifests=$((manifests + 1)); else lost=$((lost + 1)); echo "lost manifest $repo:$a"; fi
    [[ ${ts:-0} -lt $first_kill_ns ]] && before=$((before + 1))
  fi
done < <(cat "$WORK"/acked.* 2>/dev/null)
echo "acknowledged and verified: $blobs blobs, $manifests manifests ($before of these $((blobs + manifests)) acks came before the first kill)"
expect_eq "every acknowledged push is intact after $KILLS failovers" 0 "$lost"
if ((before > 0 && blobs > 20 && manifests > 10)); then pass "enough pushes got through ($blobs/$manifests, $before before the first kill)"; else
  fail "too few pushes got through to prove anything ($blobs/$manifests, $before before the first kill)"; fi

fsck_out=$(env BERTH_STORAGE_ROOT="$ROOT" timeout 60 "$BERTH_BIN" fsck 2>&1)
fsck_rc=$?
expect_eq "berth fsck (online, while ${NAME[active]} serves) exits 0" 0 "$fsck_rc"
echo "   $(tail -1 <<<"$fsck_out")"
[[ $fsck_rc == 0 ]] || head -5 <<<"$fsck_out"

# Stop everything: first the standby (it waits for the lock: SIGTERM must
# end it at once, exit 0), then the active one.
for i in $((1 - active)) $active; do
  if [[ -n ${NPID[i]} ]]; then
    kill -TERM "${NPID[i]}" 2>/dev/null
    for j in $(seq 1 250); do kill -0 "${NPID[i]}" 2>/dev/null || break; sleep 0.02; done
    if kill -0 "${NPID[i]}" 2>/dev/null; then
      what="berth ${NAME[i]} ($([[ $i == "$active" ]] && echo active || echo standby)) still runs 5 s after SIGTERM (killed)"
      fail "$what; log ends: $(tail -1 "${NLOG[i]}")"
      kill -KILL "${NPID[i]}" 2>/dev/null
    fi
    wait "${NPID[i]}" 2>/dev/null
    rc=$?
    [[ $i == "$active" ]] || expect_eq "SIGTERM to the waiting standby ${NAME[i]}: exit 0" 0 "$rc"
    NPID[i]=""
  fi
done
fsck_out=$(env BERTH_STORAGE_ROOT="$ROOT" timeout 60 "$BERTH_BIN" fsck 2>&1)
expect_eq "berth fsck (offline) exits 0" 0 "$?"
summary
