#!/usr/bin/env bash
# Crash safety of online GC (docs/lifecycle.md: "rows go before files ... a
# manifest is never visible without its blobs"). A store gets a few thousand
# untagged manifests and unreferenced blob links as garbage, next to tagged
# images that must be kept (some blobs shared by both). gc.batch is 1, so a
# collection is many small transactions and takes a few seconds: the kills
# land in every step of it (manifests, links, blob rows and files); when a
# run gets to its end before the kill, more garbage is pushed. Then
# GC_CRASH_KILLS times (default 20): POST /v2/_berth/gc in the background,
# SIGKILL berth 0-300 ms later (the window widens by half, up to 3 s, after
# each interrupted run that removed no blob file, and narrows again after a
# run that finished, so that on a slow or loaded machine, where the scan
# alone outlasts 300 ms, kills still reach the removal of files), `berth
# fsck` on the stopped store (exit 0),
# restart, and check that every kept image pulls fully and that no garbage
# manifest that is still served misses a blob (nothing half-deleted shows).
# A last GC run to completion must leave exactly the kept blobs on disk.
#
# HA: a second berth waits for the lock on the same root (--wait-for-lock);
# the active one is killed in the middle of a collection; the standby takes
# over, everything kept pulls, and a collection there finishes the job.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/oci.sh"

KILLS=${GC_CRASH_KILLS:-20}
GARBAGE=${GC_CRASH_GARBAGE:-300} # untagged manifests (config + unique layer + shared layer)
LINKS=${GC_CRASH_LINKS:-100}     # blob links that no manifest references
ROOT=$WORK/root
CONF=$WORK/berth.yaml
printf 'storage:\n  root: %s\n' "$ROOT" >"$CONF"
# shellcheck disable=SC2034 # read by lib.sh start_berth
START_ARGS=(-c "$CONF")
ENVS=(BERTH_TLS_ENABLED=false BERTH_GC_INTERVAL=0 BERTH_GC_DELAY=0 BERTH_GC_UNTAGGED_DELAY=0 BERTH_GC_BATCH=1)
PORT=$(free_port)
B_PID=""
CURL_PID=""
crash_cleanup() {
  [[ -n $CURL_PID ]] && kill -KILL "$CURL_PID" 2>/dev/null
  [[ -n $B_PID ]] && { kill -KILL "$B_PID" 2>/dev/null; wait "$B_PID" 2>/dev/null; }
  cleanup
}
trap crash_cleanup EXIT

for _ in $(seq 1 18); do [[ -x $BERTH_BIN ]] && break; echo "waiting for $BERTH_BIN"; sleep 10; done
need jq || { summary; exit 1; }
tool() { timeout 300 python3 "$HERE/gc_tool.py" --base "$BASE" "$@"; }
blob_files() { find "$ROOT/blobs" -type f | wc -l; }
trash_files() { find "$ROOT/trash" -type f 2>/dev/null | wc -l; }
# fsck_ok LABEL: berth fsck on the store exits 0 (prints the problems if not).
fsck_ok() {
  local out rc
  out=$(timeout 120 "$BERTH_BIN" fsck -c "$CONF" 2>&1)
  rc=$?
  if [[ $rc == 0 ]]; then return 0; fi
  echo "   fsck $1: exit $rc: $(grep -v '"summary"' <<<"$out" | head -5 | cut -c1-300)"
  return 1
}
# wait_http PORT: until /v2/ on PORT answers (10 s at most).
wait_http() {
  local _
  for _ in $(seq 1 500); do
    [[ $(curl -s --max-time 1 -o /dev/null -w '%{http_code}' "http://127.0.0.1:$1/readyz") == 200 ]] && return 0
    sleep 0.02
  done
  return 1
}

start_berth "$ROOT" "$PORT" "${ENVS[@]}" || { fail "berth starts"; summary; exit 1; }
t0=$SECONDS
tool push-images crash/keep --seed ck --indices 0-39 --layers 2 --layer-size 8192 --shared-seed cs \
  --shared-size 4096 --prefix t --threads 2 --quiet --out "$WORK/kept.json" ||
  fail "push the kept images"
tool fill-garbage crash/g --seed g1 --out "$WORK/garbage.json" --manifests "$GARBAGE" --links "$LINKS" \
  --shared-seed cs --shared-size 4096 --threads 4 || fail "push the garbage"
echo "   pushed $(wc -l <"$WORK/kept.json") kept images, $GARBAGE garbage manifests and $LINKS lone links in $((SECONDS - t0)) s; $(blob_files) blob files"
jq -r '.blobs | to_entries[] | "\(.key) \(.value)"' "$WORK/kept.json" | sort -u >"$WORK/kept.blobs"
KEPT_FILES=$(wc -l <"$WORK/kept.blobs")
KEPT_BYTES=$(awk '{s += $2} END {print s + 0}' "$WORK/kept.blobs")

# What a run has to do. (The dry run counts only what is garbage already:
# the links and blobs that the removal of the manifests frees are not in it;
# gc_test checks the dry run.)
dry=$(tool gc --dry-run)
echo "   dry run: $(jq -c '{seconds, manifests_deleted, links_deleted, blobs_deleted}' <<<"$dry" 2>/dev/null)"
expect_eq "dry run: every garbage manifest would go" "$GARBAGE" "$(jq -r .manifests_deleted <<<"$dry")"

# ---------------------------------------------------------------- kill loop
interrupted=0 completed=0 bad_checks=0 bad_fsck=0 in_files=0 refills=0 window=300
deadline=$((SECONDS + 150))
for k in $(seq 1 "$KILLS"); do
  ((SECONDS < deadline)) || { fail "kill loop took too long (stopped after $((k - 1)) kills)"; break; }
  before=$(blob_files)
  curl -s --max-time 120 -o "$WORK/gc.$k" -w '%{http_code}' -X POST "$BASE/v2/_berth/gc" >"$WORK/gc.$k.code" 2>/dev/null &
  CURL_PID=$!
  ms=$((RANDOM % (window + 1)))
  sleep "$(printf '%d.%03d' $((ms / 1000)) $((ms % 1000)))"
  kill -KILL "$BERTH_PID"
  wait "$BERTH_PID" 2>/dev/null
  BERTH_PID=""
  wait "$CURL_PID"
  CURL_PID=""
  after=$(blob_files)
  ((after < before)) && in_files=$((in_files + 1))
  if [[ $(cat "$WORK/gc.$k.code") == 200 ]]; then completed=$((completed + 1)); st=completed; else
    interrupted=$((interrupted + 1)); st=interrupted; fi
  if [[ $st == completed ]]; then window=$((window * 2 / 3 < 300 ? 300 : window * 2 / 3))
  elif ((after == before)); then window=$((window * 3 / 2 > 3000 ? 3000 : window * 3 / 2)); fi
  fsck_ok "after kill $k" || bad_fsck=$((bad_fsck + 1))
  if ! start_berth "$ROOT" "$PORT" "${ENVS[@]}" >"$WORK/start.out" 2>&1; then
    fail "restart after kill $k: $(head -c 2000 "$WORK/start.out")"
    summary
    exit 1
  fi
  chk=$(tool check-crash --kept "$WORK/kept.json" --garbage "$WORK/garbage.json" --sample 300)
  [[ $? == 0 ]] || { bad_checks=$((bad_checks + 1)); echo "   kill $k: $(jq -c .problems <<<"$chk" | cut -c1-400)"; }
  echo "   kill $k after $ms ms (next window $window ms): GC $st; blob files $before -> $after, in trash/ $(trash_files); $(jq -c 'del(.problems)' <<<"$chk")"
  if [[ $st == completed ]] && ((k < KILLS)); then
    refills=$((refills + 1))
    tool fill-garbage crash/g --seed "g1-$k" --out "$WORK/garbage.json" --manifests "$GARBAGE" --links "$LINKS" \
      --shared-seed cs --shared-size 4096 --threads 4 || fail "push more garbage"
  fi
done
expect_eq "after every kill: berth fsck on the stopped store exits 0" 0 "$bad_fsck"
expect_eq "after every restart: every kept image pulls fully, no garbage manifest misses a blob" 0 "$bad_checks"
echo "   $interrupted GC runs killed in flight, $completed finished before the kill ($refills garbage refills); $in_files kills came while blob files were being removed"
if ((interrupted >= KILLS / 2)); then pass "most kills hit a running collection ($interrupted of $KILLS)"; else
  fail "most kills hit a running collection (only $interrupted of $KILLS; more garbage: GC_CRASH_GARBAGE)"; fi
if ((in_files >= 2)); then pass "kills also hit the removal of blob files ($in_files times)"; else
  fail "kills also hit the removal of blob files (only $in_files times)"; fi

# ---------------------------------------------------------------- to completion
# kept_only LABEL: the blob files left are exactly the kept blobs, and the
# garbage manifests are all gone.
kept_only() {
  local chk have_bytes
  chk=$(tool check-crash --kept "$WORK/kept.json" --garbage "$1")
  expect_eq "$2: every kept image pulls; no garbage manifest is left" "40 0 0 0" \
    "$(jq -r '"\(.kept_ok) \(.kept_bad) \(.garbage_present) \(.garbage_half)"' <<<"$chk")"
  have_bytes=$(find "$ROOT/blobs" -type f -printf '%s\n' | awk '{s += $1} END {print s + 0}')
  echo "   $2: blob files $(blob_files) ($have_bytes bytes); kept images use $KEPT_FILES ($KEPT_BYTES bytes)"
  find "$ROOT/blobs" -type f -printf '%f\n' | sort >"$WORK/have.files"
  cut -c8-71 "$WORK/kept.blobs" | sort >"$WORK/want.files"
  expect_eq "$2: no kept blob file is missing" 0 "$(comm -23 "$WORK/want.files" "$WORK/have.files" | wc -l)"
  # (GC renames a file into trash/ and unlinks it after the run: a crash
  # may leave some there, which the next run must remove)
  expect_eq "$2: nothing is left in trash/" 0 "$(find "$ROOT/trash" -type f 2>/dev/null | wc -l)"
  if [[ $(comm -13 "$WORK/want.files" "$WORK/have.files" | wc -l) == 0 && $have_bytes == "$KEPT_BYTES" ]]; then
    pass "$2: the blob files left are exactly the kept blobs ($KEPT_FILES files, $KEPT_BYTES bytes)"
    return 0
  fi
  fail "$2: the blob files left are exactly the kept blobs ($(comm -13 "$WORK/want.files" "$WORK/have.files" | wc -l) garbage files left)"
  return 1
}
gcj=$(tool gc)
expect_eq "a GC run to completion answers 200" 200 "$(jq -r .http_status <<<"$gcj")"
echo "   that run: $(jq -c '{seconds, manifests_deleted, links_deleted, blobs_deleted, orphan_files_deleted, bytes_freed}' <<<"$gcj")"
if ! kept_only "$WORK/garbage.json" "after one run to completion"; then
  # (gc.delay 0: links of manifests the run removed after its first second
  # are left for the next run; see the report)
  gcj=$(tool gc)
  echo "   a second run: $(jq -c '{seconds, manifests_deleted, links_deleted, blobs_deleted, orphan_files_deleted, bytes_freed}' <<<"$gcj")"
  kept_only "$WORK/garbage.json" "after a second run"
fi
check "berth fsck exits 0 after the collection" fsck_ok final

# ---------------------------------------------------------------- HA
# (4 times the garbage: the run must still be under way 250 ms after it began)
tool fill-garbage crash/h --seed g2 --out "$WORK/garbage2.json" --manifests $((4 * GARBAGE)) --links $((4 * LINKS)) \
  --shared-seed cs --shared-size 4096 --threads 4 || fail "push the garbage for the HA run"
cat "$WORK/garbage.json" "$WORK/garbage2.json" >"$WORK/garbage-all.json"
stop_berth
PA=$PORT
PB=$(free_port)
start_berth "$ROOT" "$PA" "${ENVS[@]}" || { fail "A starts"; summary; exit 1; }
A_PID=$BERTH_PID
env BERTH_STORAGE_ROOT="$ROOT" BERTH_REGISTRY_ADDR=127.0.0.1 BERTH_REGISTRY_PORT="$PB" \
  BERTH_LOG_LEVEL="${BERTH_TEST_LOG_LEVEL:-info}" BERTH_AUTH_ENABLED=false "${ENVS[@]}" \
  "$BERTH_BIN" registry -c "$CONF" --wait-for-lock >"$WORK/b.log" 2>&1 &
B_PID=$!
for _ in $(seq 1 250); do grep -q 'waiting for it (--wait-for-lock)' "$WORK/b.log" && break; sleep 0.02; done
check "B waits for the lock" grep -q 'waiting for it (--wait-for-lock)' "$WORK/b.log"
curl -s --max-time 120 -o "$WORK/gc.ha" -w '%{http_code}' -X POST "$BASE/v2/_berth/gc" >"$WORK/gc.ha.code" 2>/dev/null &
CURL_PID=$!
sleep 0.25
filesA=$(blob_files)
kill -KILL "$A_PID"
wait "$A_PID" 2>/dev/null
BERTH_PID=""
t1=$(date +%s%N)
wait "$CURL_PID"
CURL_PID=""
if [[ $(cat "$WORK/gc.ha.code") != 200 ]]; then pass "A was killed in the middle of a collection"; else
  fail "A was killed in the middle of a collection (it had finished: more garbage needed)"; fi
if wait_http "$PB"; then pass "B took over ($((($(date +%s%N) - t1) / 1000000)) ms)"; else
  fail "B took over"; tail -5 "$WORK/b.log"; summary; exit 1; fi
BASE=http://127.0.0.1:$PB
chk=$(tool check-crash --kept "$WORK/kept.json" --garbage "$WORK/garbage-all.json" --sample 500)
expect_eq "on B: every kept image pulls, no half-deleted garbage shows" "40 0 0" \
  "$(jq -r '"\(.kept_ok) \(.kept_bad) \(.garbage_half)"' <<<"$chk")"
echo "   on B before its GC: blob files $(blob_files) (A had $filesA when killed); $(jq -c 'del(.problems)' <<<"$chk")"
gcj=$(tool gc)
expect_eq "a GC on B answers 200" 200 "$(jq -r .http_status <<<"$gcj")"
echo "   B's run: $(jq -c '{seconds, manifests_deleted, links_deleted, blobs_deleted, orphan_files_deleted, bytes_freed}' <<<"$gcj")"
if ! kept_only "$WORK/garbage-all.json" "on B after one run"; then
  gcj=$(tool gc)
  echo "   B's second run: $(jq -c '{seconds, manifests_deleted, links_deleted, blobs_deleted, orphan_files_deleted, bytes_freed}' <<<"$gcj")"
  kept_only "$WORK/garbage-all.json" "on B after a second run"
fi
kill -TERM "$B_PID"
for _ in $(seq 1 250); do kill -0 "$B_PID" 2>/dev/null || break; sleep 0.02; done
kill -KILL "$B_PID" 2>/dev/null
wait "$B_PID" 2>/dev/null
B_PID=""
check "berth fsck exits 0 at the end" fsck_ok end
summary
