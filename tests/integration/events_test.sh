#!/usr/bin/env bash
# Webhook events (README "Events (webhooks)"): berth registry over HTTPS on
# 127.0.0.1 with three endpoints on one python receiver (events_receiver.py,
# also on 127.0.0.1): /all (everything, an Authorization header), /deletes
# (actions: [delete]) and /other (repositories: ["other/*"]).
#
#   1. a skopeo push: /all gets the push event of the manifest (envelope,
#      media type header, repository, tag, digest, size, url), no blob events
#      (notifications.blobs is off); /deletes and /other get nothing.
#   2. deletes (tag, then manifest by digest) reach /all and /deletes.
#   3. receiver down: pushes answer as usual, the events queue up, and all of
#      them arrive, each id once, after it comes back.
#   4. kill -9 of berth while events are queued: after a restart they arrive.
#   5. bound: queue_max 5 and the receiver down: the oldest are dropped, the
#      log says so, the newest 5 arrive.
#   6. a receiver that hangs (accepts, never answers) does not slow a push:
#      skopeo push time with it hung vs. with the receiver up.
#   7. notifications.blobs and .pulls: blob push events, manifest and blob
#      pull events.
#
# Environment: KEEP_WORK=1 keeps the work dir.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/oci.sh"
# shellcheck disable=SC2034 # START_ARGS is read by lib.sh start_berth

LOGS=$WORK/logs
mkdir -p "$LOGS" "$WORK/tmp"
ROOT=$WORK/root
PORT=$(free_port)
RPORT=$(free_port)
R=127.0.0.1:$PORT
OUT=$WORK/received.jsonl
RECV_PID=""
touch "$OUT"

receiver_start() {
  python3 "$HERE/events_receiver.py" --port "$RPORT" --out "$OUT" "$@" >>"$LOGS/receiver.log" 2>&1 &
  RECV_PID=$!
  local i
  for i in $(seq 1 50); do
    python3 -c "import socket,sys; s=socket.socket(); sys.exit(s.connect_ex(('127.0.0.1',$RPORT)))" && return 0
    sleep 0.1
  done
  echo "receiver did not start"; return 1
}
receiver_stop() {
  [[ -n $RECV_PID ]] || return 0
  kill "$RECV_PID" 2>/dev/null
  wait "$RECV_PID" 2>/dev/null
  RECV_PID=""
}
trap 'receiver_stop; cleanup' EXIT

write_config() {  # write_config QUEUE_MAX
  cat >"$WORK/berth.yaml" <<YAML
notifications:
  queue_max: $1
  endpoints:
    - name: all
      url: http://127.0.0.1:$RPORT/all
      headers: {Authorization: "Bearer hooktoken"}
      timeout: 1
      backoff: 1
      backoff_max: 2
    - name: deletes
      url: http://127.0.0.1:$RPORT/deletes
      actions: [delete]
      timeout: 1
      backoff: 1
      backoff_max: 2
    - name: other
      url: http://127.0.0.1:$RPORT/other
      repositories: ["other/*"]
      timeout: 1
      backoff: 1
      backoff_max: 2
YAML
}
START_ARGS=(-c "$WORK/berth.yaml")
begin() {  # begin QUEUE_MAX [ENV=VALUE...]: (re)starts berth on $ROOT
  stop_berth
  write_config "$1"
  shift
  start_berth "$ROOT" "$PORT" "$@" || { fail "berth starts"; summary; exit 1; }
}

# events PATH: every event received on PATH, one compact JSON a line.
events() { jq -c --arg p "$1" 'select(.path == $p) | .body.events[]' "$OUT"; }
# tag_events PATH ACTION: "repository:tag" of those events, sorted.
tags_of() { events "$1" | jq -r --arg a "$2" 'select(.action == $a) | .target.repository + ":" + (.target.tag // "")' | sort; }
# wait_until SECONDS CMD...: polls CMD every 0.2 s.
wait_until() {
  local end=$((SECONDS + $1)) ; shift
  while ((SECONDS < end)); do "$@" && return 0; sleep 0.2; done
  "$@"
}
has_tag() { tags_of "$1" "$2" | grep -qx "$3"; }
count_tags() { tags_of "$1" push | grep -cE "$2"; }
# at_least PATH REGEX N: at least N push events on PATH whose repo:tag matches.
at_least() { test "$(count_tags "$1" "$2")" -ge "$3"; }
jqe() { jq -e "$@" >/dev/null; }
c() { curl -s --max-time 30 --cacert "$CACERT" "$@"; }
# put_tag REPO TAG: PUTs the image manifest of section 1 under another tag.
put_tag() {
  c -o /dev/null -w '%{http_code}' -X PUT -H "Content-Type: application/vnd.oci.image.manifest.v1+json" \
    --data-binary @"$WORK/manifest.json" "https://$R/v2/$1/manifests/$2"
}
skopeo_push() {  # skopeo_push LAYOUT TAG REPO
  timeout 120 skopeo copy -q --dest-cert-dir "$CERTDIR" "oci:$1:$2" "docker://$R/$3:$2" \
    >"$LOGS/skopeo.out" 2>"$LOGS/skopeo.err" </dev/null
}

need skopeo || { summary; exit 1; }
need jq || { summary; exit 1; }
use_private_container_config
receiver_start || { fail "receiver starts"; summary; exit 1; }
begin 10000

echo "# 1. push"
MDIG=$(make_oci "$WORK/img1" v1 "hello events")
cp "$WORK/img1/blobs/sha256/${MDIG#sha256:}" "$WORK/manifest.json"
check "skopeo pushes ev/app:v1" skopeo_push "$WORK/img1" v1 ev/app
check "the push event arrives on /all" wait_until 10 has_tag /all push ev/app:v1
PUSH=$(events /all | jq -c 'select(.action == "push" and .target.tag == "v1")' | head -1)
expect_eq "target.repository" "ev/app" "$(jq -r .target.repository <<<"$PUSH")"
expect_eq "target.digest" "$MDIG" "$(jq -r .target.digest <<<"$PUSH")"
expect_eq "target.mediaType" "application/vnd.oci.image.manifest.v1+json" "$(jq -r .target.mediaType <<<"$PUSH")"
expect_eq "target.size is the manifest's" "$(stat -c %s "$WORK/manifest.json")" "$(jq -r .target.size <<<"$PUSH")"
expect_eq "target.length = size" "$(jq -r .target.size <<<"$PUSH")" "$(jq -r .target.length <<<"$PUSH")"
expect_eq "target.url" "https://$R/v2/ev/app/manifests/$MDIG" "$(jq -r .target.url <<<"$PUSH")"
expect_eq "request.method" "PUT" "$(jq -r .request.method <<<"$PUSH")"
expect_contains "request.useragent names skopeo" "skopeo/" "$(jq -r .request.useragent <<<"$PUSH")"
check "id, timestamp, request.id and source.instanceID are set" \
  jqe '(.id|length) == 36 and (.timestamp|test("^[0-9]{4}-[0-9]{2}-[0-9]{2}T.*Z$")) and (.request.id|length) > 0 and (.source.instanceID|length) > 0' <<<"$PUSH"
FIRST=$(jq -c 'select(.path == "/all")' "$OUT" | head -1)
expect_eq "Content-Type of the delivery" "application/vnd.docker.distribution.events.v1+json" "$(jq -r .content_type <<<"$FIRST")"
expect_eq "the endpoint's header is sent" "Bearer hooktoken" "$(jq -r .authorization <<<"$FIRST")"
check "the body is an envelope {\"events\": [...]}" jqe '.body | keys == ["events"] and (.events|type) == "array"' <<<"$FIRST"
expect_eq "no blob events (notifications.blobs off)" 0 "$(events /all | jq -r .target.mediaType | grep -c octet-stream)"
expect_eq "/deletes got no push" "" "$(tags_of /deletes push)"
expect_eq "/other got nothing for ev/app" "" "$(events /other)"
expect_eq "a push to other/x reaches /other" 201 "$(skopeo_push "$WORK/img1" v1 other/x && echo 201)"
check "... and arrives there" wait_until 10 has_tag /other push other/x:v1

echo "# 2. delete"
expect_eq "PUT ev/app:gone" 201 "$(put_tag ev/app gone)"
expect_eq "DELETE tag ev/app:gone" 202 "$(c -o /dev/null -w '%{http_code}' -X DELETE "https://$R/v2/ev/app/manifests/gone")"
check "tag delete event on /deletes" wait_until 10 has_tag /deletes delete ev/app:gone
check "tag delete event on /all" wait_until 10 has_tag /all delete ev/app:gone
expect_eq "DELETE manifest other/x by digest" 202 "$(c -o /dev/null -w '%{http_code}' -X DELETE "https://$R/v2/other/x/manifests/$MDIG")"
check "digest delete event on /deletes names the digest" wait_until 10 \
  bash -c "jq -c --arg p /deletes 'select(.path == \$p) | .body.events[]' '$OUT' | jq -e 'select(.target.repository == \"other/x\" and .target.digest == \"$MDIG\" and .action == \"delete\")' >/dev/null"
expect_eq "/deletes got only deletes" "delete" "$(events /deletes | jq -r .action | sort -u)"

echo "# 3. receiver down"
receiver_stop
T=$SECONDS
for i in 1 2 3 4 5 6; do
  [[ $(put_tag ev/app "down$i") == 201 ]] || fail "PUT ev/app:down$i with the receiver down"
done
expect_eq "6 pushes with the receiver down all answered" 0 "$(( SECONDS - T > 5 ))"
sleep 4  # several failed attempts (backoff 1 s, then 2 s)
check "the failures are logged" grep -q "delivery failed" "$ROOT.log"
expect_eq "nothing arrived while down" 0 "$(count_tags /all '^ev/app:down')"
receiver_start || fail "receiver restarts"
check "all 6 arrive after it is back" wait_until 15 at_least /all '^ev/app:down' 6
expect_eq "each of them once" 6 "$(events /all | jq -r 'select((.target.tag // "")|test("^down")) | .id' | sort -u | wc -l)"
expect_eq "in push order" "down1 down2 down3 down4 down5 down6" \
  "$(events /all | jq -r 'select((.target.tag // "")|test("^down")) | .target.tag' | awk '!s[$0]++' | xargs)"

echo "# 4. kill -9 with events queued"
receiver_stop
for i in 1 2 3; do
  [[ $(put_tag ev/app "crash$i") == 201 ]] || fail "PUT ev/app:crash$i"
done
kill -KILL "$BERTH_PID"; wait "$BERTH_PID" 2>/dev/null; BERTH_PID=""
if command -v sqlite3 >/dev/null; then
  expect_eq "3 events wait in metadata.db for /all" 3 \
    "$(sqlite3 "$ROOT/metadata.db" "SELECT count(*) FROM event_queue WHERE endpoint = 'all' AND payload LIKE '%crash%'")"
fi
begin 10000
receiver_start || fail "receiver restarts"
check "the 3 queued events arrive after the restart" wait_until 15 at_least /all '^ev/app:crash' 3
expect_eq "... each once" 3 "$(events /all | jq -r 'select((.target.tag // "")|test("^crash")) | .id' | sort -u | wc -l)"

echo "# 5. bound"
receiver_stop
begin 5
for i in $(seq 1 12); do
  [[ $(put_tag ev/app "q$i") == 201 ]] || fail "PUT ev/app:q$i"
done
dropped_is() { [[ $(grep -o "([0-9]* dropped since start)" "$ROOT.log" | tail -1 | tr -dc 0-9) == "$1" ]]; }
check "the log says 7 of the oldest were dropped" wait_until 15 dropped_is 7
grep "dropped" "$ROOT.log" | sed 's/^/   log: /'
receiver_start || fail "receiver restarts"
check "the newest 5 arrive" wait_until 15 at_least /all '^ev/app:q' 5
sleep 1
expect_eq "exactly q8..q12" "q10 q11 q12 q8 q9" "$(events /all | jq -r 'select((.target.tag // "")|test("^q")) | .target.tag' | sort -u | xargs)"

echo "# 6. a hung receiver does not slow a push"
MDIG2=$(make_oci "$WORK/img2" v1 "timing up")
MDIG3=$(make_oci "$WORK/img3" v1 "timing hung")
t0=$(date +%s%N); skopeo_push "$WORK/img2" v1 time/up || fail "skopeo push (receiver up)"; t1=$(date +%s%N)
UP_MS=$(( (t1 - t0) / 1000000 ))
check "its event arrives" wait_until 10 has_tag /all push time/up:v1
receiver_stop
receiver_start --hang || fail "hung receiver starts"
sleep 1
t0=$(date +%s%N); skopeo_push "$WORK/img3" v1 time/hung || fail "skopeo push (receiver hung)"; t1=$(date +%s%N)
HUNG_MS=$(( (t1 - t0) / 1000000 ))
echo "   push with receiver up: ${UP_MS} ms, hung: ${HUNG_MS} ms"
check "push with a hung receiver within 2x + 1 s of the push with it up" test "$HUNG_MS" -le $(( 2 * UP_MS + 1000 ))
receiver_stop
receiver_start || fail "receiver restarts"
check "the event of the push made while it hung arrives after" wait_until 15 has_tag /all push time/hung:v1

echo "# 7. blobs and pulls"
begin 10000 BERTH_NOTIFICATIONS_BLOBS=true BERTH_NOTIFICATIONS_PULLS=true
MDIG4=$(make_oci "$WORK/img4" v1 "blobs and pulls")
check "skopeo pushes bp/app:v1" skopeo_push "$WORK/img4" v1 bp/app
check "skopeo pulls bp/app:v1" timeout 120 skopeo copy -q --src-cert-dir "$CERTDIR" "docker://$R/bp/app:v1" "oci:$WORK/pulled:v1"
bp_events() { events /all | jq -r 'select(.target.repository == "bp/app") | .action + " " + .target.mediaType' | sort | uniq -c | awk '{print $2" "$3":"$1}' | xargs; }
bp_complete() { [[ $(bp_events) == *"pull application/octet-stream:2"* && $(bp_events) == *"pull application/vnd.oci.image.manifest.v1+json:1"* ]]; }
check "blob push, manifest pull and blob pull events arrive" wait_until 10 bp_complete
expect_eq "events of bp/app" "pull application/octet-stream:2 pull application/vnd.oci.image.manifest.v1+json:1 push application/octet-stream:2 push application/vnd.oci.image.manifest.v1+json:1" "$(bp_events)"

echo "# example event (README)"
events /all | jq 'select(.target.repository == "ev/app" and .target.tag == "v1" and .action == "push")' | head -40

receiver_stop
summary
