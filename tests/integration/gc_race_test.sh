#!/usr/bin/env bash
# Online GC against concurrent pushes and deletes (docs/lifecycle.md, "Why it
# is safe"): gc_race.py runs pushers that build many manifests from a small
# shared set of blobs, deleters that remove acknowledged manifests by digest,
# a puller, and a thread that calls POST /v2/_berth/gc in a loop; gc.delay
# and gc.untagged_delay are 0, gc.batch is small and the background run
# (gc.interval 1) adds collections of its own. Every 5th push is an index of
# two images pushed by digest. A PUT that loses a blob or child to a
# collection gets MANIFEST_BLOB_UNKNOWN and is retried after a new upload.
# Bounded: RACE_PUSHES (2000) acknowledged pushes or RACE_SECONDS (90).
#
# Afterwards: every acknowledged, not deleted manifest pulls fully (every blob
# sha256-checked); the deleted ones are 404; after one more collection the
# files under blobs/ are exactly the blobs of the survivors; `berth fsck`
# exits 0, online and offline.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/oci.sh"

PUSHES=${RACE_PUSHES:-2000}
SECS=${RACE_SECONDS:-90}
ROOT=$WORK/root
PORT=$(free_port)
CONF=$WORK/berth.yaml
printf 'storage:\n  root: %s\n' "$ROOT" >"$CONF"
# shellcheck disable=SC2034 # read by lib.sh start_berth
START_ARGS=(-c "$CONF")

for _ in $(seq 1 18); do [[ -x $BERTH_BIN ]] && break; echo "waiting for $BERTH_BIN"; sleep 10; done
need jq || { summary; exit 1; }
start_berth "$ROOT" "$PORT" BERTH_TLS_ENABLED=false BERTH_GC_INTERVAL=1 BERTH_GC_DELAY=0 \
  BERTH_GC_UNTAGGED_DELAY=0 BERTH_GC_BATCH=4 || { fail "berth starts"; summary; exit 1; }
tool() { timeout 300 python3 "$HERE/gc_tool.py" --base "$BASE" "$@"; }

t0=$SECONDS
timeout $((SECS + 240)) python3 "$HERE/gc_race.py" --base "$BASE" --max-pushes "$PUSHES" --seconds "$SECS" \
  --pushers 4 --deleters 2 --pullers 1 --repos 3 --shared 20 --out "$WORK/acked.json" >"$WORK/race.json"
rc=$?
echo "   driver: $((SECONDS - t0)) s, exit $rc"
R=$(tail -1 "$WORK/race.json")
r() { jq -r "$1" <<<"$R" 2>/dev/null; }
echo "   pushes $(r .pushes) ($(r .index_pushes) indexes; attempts $(r .push_attempts), MANIFEST_BLOB_UNKNOWN retries $(r .blob_unknown_retries), blob uploads $(r .blob_uploads)), deletes $(r .deletes), pulls $(r .pulls) ($(r .pull_skipped) raced a delete)"
echo "   most attempts for one push: image $(r .max_attempts), index $(r .max_attempts_index); index pushes given up after 100: $(r .gave_up_index)"
echo "   GC runs $(r .gc_runs): $(r .gc_manifests) manifests, $(r .gc_links) links, $(r .gc_blobs) blobs deleted; $(r .seconds) s"
r '.first_problems[]?' | head -10 | sed 's/^/   problem: /' | cut -c1-400
expect_eq "driver exit status (0: no problem seen)" 0 "$rc"
expect_eq "no problem during the run (pulls, PUT/DELETE answers, transport)" 0 "$(r .problems)"
if [[ $(r .pushes) -ge 300 ]]; then pass "enough manifest pushes got through ($(r .pushes))"; else
  fail "enough manifest pushes got through (got $(r .pushes), want >= 300)"; fi
if [[ $(r .gc_runs) -ge 10 ]]; then pass "GC ran again and again during the pushes ($(r .gc_runs) runs)"; else
  fail "GC ran again and again during the pushes (got $(r .gc_runs) runs)"; fi
if [[ $(r .gc_blobs) -ge 1 && $(r .deletes) -ge 100 ]]; then pass "deletes ($(r .deletes)) and collections ($(r .gc_blobs) blobs) really happened"; else
  fail "deletes and collections really happened (deletes $(r .deletes), blobs collected $(r .gc_blobs))"; fi
# (An index whose children were pushed by digest may give up: with
# untagged_delay 0 each child is garbage until the index refers to it, and
# a collection that runs all the time removes it first again and again.
# An image can lose the same race: with gc.delay 0 its fresh config blob is
# collectable at once, so no number of retries is sure to win, and how often
# one push loses 100 times running depends on how fast the collector loops
# on the machine (one of ~1,600 image pushes did, in a quiet run). What
# gc.delay is for. So at most 1 % of the image pushes may give up: a push
# path that GC starves for real (a HEAD that says present while the PUT says
# unknown, say) gives up on most of them.)
images=$(($(r .pushes) - $(r .index_pushes) + $(r .gave_up)))
if (($(r .gave_up) * 100 <= images)); then
  pass "image pushes that gave up after 100 MANIFEST_BLOB_UNKNOWN retries: $(r .gave_up) of $images (at most 1 %; the most one needed: $(r .max_attempts))"
else
  fail "image pushes that gave up after 100 MANIFEST_BLOB_UNKNOWN retries: $(r .gave_up) of $images (want at most 1 %)"
fi
expect_eq "every acknowledged, not deleted manifest pulls fully ($(r .survivors))" "$(r .survivors) 0" "$(r .final_ok) $(r .final_bad)"
expect_eq "every deleted manifest is 404" 0 "$(r .deleted_still_served)"

# One more collection, with nothing else going on: what is left on disk is
# exactly what the survivors use.
gcj=$(tool gc)
expect_eq "a final GC answers 200" 200 "$(jq -r .http_status <<<"$gcj")"
jq -c 'select(.deleted | not) | .ref = .tag' "$WORK/acked.json" >"$WORK/survivors.json"
out=$(tool verify-file "$WORK/survivors.json")
expect_eq "after the final GC every survivor still pulls" "$(wc -l <"$WORK/survivors.json") 0" "$(jq -r '"\(.ok) \(.bad)"' <<<"$out")"
jq -r '.blobs | keys[]' "$WORK/survivors.json" | sort -u | sed 's/^sha256://' >"$WORK/want.blobs"
find "$ROOT/blobs/sha256" -type f -printf '%f\n' | sort >"$WORK/have.blobs"
extra=$(comm -13 "$WORK/want.blobs" "$WORK/have.blobs" | wc -l)
missing=$(comm -23 "$WORK/want.blobs" "$WORK/have.blobs" | wc -l)
echo "   blob files: $(wc -l <"$WORK/have.blobs") on disk, $(wc -l <"$WORK/want.blobs") used by the survivors"
expect_eq "no blob file of a survivor is missing" 0 "$missing"
expect_eq "no garbage blob file is left after the final GC" 0 "$extra"

fsck_out=$(timeout 120 "$BERTH_BIN" fsck -c "$CONF" 2>&1)
rc=$?
echo "   fsck (online): $(tail -1 <<<"$fsck_out")"
[[ $rc == 0 ]] || head -5 <<<"$fsck_out" | cut -c1-300
expect_eq "berth fsck -c (online) exits 0" 0 "$rc"
stop_berth
fsck_out=$(timeout 120 "$BERTH_BIN" fsck -c "$CONF" 2>&1)
rc=$?
echo "   fsck (offline): $(tail -1 <<<"$fsck_out")"
[[ $rc == 0 ]] || head -5 <<<"$fsck_out" | cut -c1-300
expect_eq "berth fsck -c (offline) exits 0" 0 "$rc"
summary
