#!/usr/bin/env bash
# Scale-out: two active `berth serve` nodes on one S3 bucket (a real Ceph
# RGW) and one PostgreSQL database, behind HAProxy (README "Scaling out").
# Everything is started here, on 127.0.0.1, and stopped at the end.
#
#   1. the cluster serves through HAProxy; a token from either node works on both
#   2. skopeo and podman push and pull through HAProxy; requests alternate nodes
#   3. authorization is the same on every node
#   4. a chunked upload whose requests alternate nodes completes with the right digest
#   5. a node killed mid-push: the client's retry completes on the other
#   6. kill -9 of nodes in a loop under pushing clients: nothing acknowledged is lost
#   7. GC runs on one node at a time (the cluster lock) and, run in a loop on
#      one node while the other takes pushes, loses nothing acknowledged
#   8. migrate-store copies a filesystem + SQLite store, while it serves,
#      into the cluster's stores, where the nodes serve it
#   9. behind HAProxy (http.trusted_proxies): the per-address connection cap
#      does not cap HAProxy, and login throttling sees each client's own
#      address, not HAProxy's, whatever X-Forwarded-For a client sends,
#      and counts failures once whichever node they land on;
#      `berth user passwd` on the cluster's configuration revokes refresh
#      tokens in PostgreSQL for every node
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/oci.sh"
source "$(dirname "$0")/cluster.sh"

for t in skopeo jq haproxy radosgw ceph-mon /usr/lib/postgresql/15/bin/initdb; do
  if ! command -v "$t" >/dev/null; then
    fail "$t is installed (scripts/install-deps.sh --test)"
    summary
    exit 1
  fi
done
trap 'stop_cluster; stop_services; cleanup' EXIT
LOGS=$WORK/logs
mkdir -p "$LOGS" "$WORK/tmp"
use_private_container_config
TIMINGS=()
run() {
  local label=$1
  shift
  timeout 120 "$@" >"$LOGS/$label.out" 2>"$LOGS/$label.err" </dev/null
}

t0=$(date +%s)
if ! start_services; then
  fail "PostgreSQL and Ceph RGW start"
  summary
  exit 1
fi
pass "PostgreSQL and Ceph RGW started in $(($(date +%s) - t0)) s"
# GC deletes unreferenced links and untagged manifests at once: the
# harshest setting for its races with pushes on the other node.
if ! start_cluster 2 BERTH_GC_DELAY=0 BERTH_GC_UNTAGGED_DELAY=0; then
  fail "two berths behind HAProxy start"
  summary
  exit 1
fi
pass "two berths on S3 + PostgreSQL behind HAProxy serve"
REG=127.0.0.1:$HR

token() { # USER:PASS SCOPE [TOKEN_URL]
  curl -s --max-time 10 --cacert "$CACERT" -u "$1" "${3:-$TOKEN_URL}?service=berth&scope=$2" | jq -r .token
}

# ------------------------------------------------------------ 1. the cluster
echo "# 1. the cluster"
code=$(curl -s -o /dev/null -D "$WORK/h1" -w '%{http_code}' --cacert "$CACERT" "$BASE/v2/")
expect_eq "GET /v2/ through HAProxy without a token: 401" 401 "$code"
expect_contains "the challenge names the realm behind HAProxy" "realm=\"$TOKEN_URL\"" "$(cat "$WORK/h1")"
for i in 1 2; do
  t=$(token alice:alicepass "repository:alice/app:pull,push" "https://127.0.0.1:${NODE_TOK[$i]}/token")
  for j in 1 2; do
    code=$(curl -s -o /dev/null -w '%{http_code}' --cacert "$CACERT" -H "Authorization: Bearer $t" \
      "https://127.0.0.1:${NODE_REG[$j]}/v2/")
    expect_eq "a token from node $i is accepted by node $j" 200 "$code"
  done
done

# ------------------------------------------------------------ 2. clients
echo "# 2. clients through HAProxy"
before1=$(node_requests 1); before2=$(node_requests 2)
D1=$(make_oci "$WORK/img1" v1 "scale-out one")
if run push1 skopeo copy --dest-cert-dir "$CERTDIR" --dest-creds alice:alicepass "oci:$WORK/img1:v1" \
  "docker://$REG/alice/app:v1"; then
  pass "skopeo push alice/app:v1"
else
  fail "skopeo push alice/app:v1: $(tail -2 "$LOGS/push1.err")"
fi
if run pull1 skopeo copy --src-cert-dir "$CERTDIR" --src-creds alice:alicepass \
  "docker://$REG/alice/app:v1" "oci:$WORK/back1:v1"; then
  got=$(jq -r '.manifests[0].digest' "$WORK/back1/index.json")
  expect_eq "skopeo pull gives back the pushed manifest" "$D1" "$got"
else
  fail "skopeo pull alice/app:v1: $(tail -2 "$LOGS/pull1.err")"
fi
after1=$(node_requests 1); after2=$(node_requests 2)
check "node 1 answered some of those requests ($before1 -> $after1)" test "$after1" -gt "$before1"
check "node 2 answered some of those requests ($before2 -> $after2)" test "$after2" -gt "$before2"
if command -v podman >/dev/null; then
  if run podman_login podman login --cert-dir "$CERTDIR" -u alice -p alicepass "$REG" &&
    run podman_pull podman pull --cert-dir "$CERTDIR" "$REG/alice/app:v1" &&
    run podman_tag podman tag "$REG/alice/app:v1" "$REG/alice/app:podman" &&
    run podman_push podman push --cert-dir "$CERTDIR" "$REG/alice/app:podman"; then
    pass "podman login, pull, tag and push through HAProxy"
  else
    fail "podman through HAProxy: $(tail -2 "$LOGS"/podman_*.err | tail -3)"
  fi
fi

# ------------------------------------------------------------ 3. authorization
echo "# 3. authorization on every node"
if run bob_push skopeo copy --dest-cert-dir "$CERTDIR" --dest-creds bob:bobpass "oci:$WORK/img1:v1" \
  "docker://$REG/alice/app:bob"; then
  fail "bob may not push to alice/app"
else
  check "bob's push to alice/app is refused" grep -qiE 'denied|unauthorized' "$LOGS/bob_push.err"
fi
t=$(token bob:bobpass "repository:alice/app:pull,push,delete")
for j in 1 2; do
  code=$(curl -s -o /dev/null -w '%{http_code}' --cacert "$CACERT" -H "Authorization: Bearer $t" \
    "https://127.0.0.1:${NODE_REG[$j]}/v2/alice/app/manifests/v1")
  expect_eq "node $j refuses bob's read of alice/app" 401 "$code"
done

# ------------------------------------------------------------ 4. chunks across nodes
echo "# 4. a chunked upload alternating nodes"
t=$(token alice:alicepass "repository:alice/chunks:pull,push")
head -c $((3 * 1024 * 1024)) /dev/urandom >"$WORK/c1"
head -c $((7 * 1024 * 1024 + 5)) /dev/urandom >"$WORK/c2"
head -c $((1024 * 1024)) /dev/urandom >"$WORK/c3"
head -c 100 /dev/urandom >"$WORK/c4"
cat "$WORK/c1" "$WORK/c2" "$WORK/c3" "$WORK/c4" >"$WORK/whole"
DIG=sha256:$(sha256sum "$WORK/whole" | cut -d' ' -f1)
node_url() { echo "https://127.0.0.1:${NODE_REG[$1]}"; }
loc=$(curl -s -o /dev/null -D - --cacert "$CACERT" -H "Authorization: Bearer $t" -X POST \
  "$(node_url 1)/v2/alice/chunks/blobs/uploads/" | tr -d '\r' | awk -F': ' 'tolower($1)=="location"{print $2}')
check "POST on node 1 starts an upload" test -n "$loc"
start=0
n=2
for part in c1 c2 c3 c4; do
  size=$(stat -c %s "$WORK/$part")
  out=$(curl -s -o /dev/null -D - -w '%{http_code}' --cacert "$CACERT" -H "Authorization: Bearer $t" \
    -X PATCH -H "Content-Type: application/octet-stream" \
    -H "Content-Range: $start-$((start + size - 1))" --data-binary "@$WORK/$part" "$(node_url $n)$loc")
  code=${out: -3}
  expect_eq "PATCH $part ($size bytes) on node $n: 202" 202 "$code"
  loc=$(echo "$out" | tr -d '\r' | awk -F': ' 'tolower($1)=="location"{print $2}')
  start=$((start + size))
  n=$((3 - n))
done
sep='?'; [[ $loc == *\?* ]] && sep='&'
code=$(curl -s -o /dev/null -w '%{http_code}' --cacert "$CACERT" -H "Authorization: Bearer $t" \
  -X PUT "$(node_url $n)$loc${sep}digest=$DIG")
expect_eq "PUT ?digest on node $n completes it: 201" 201 "$code"
for j in 1 2; do
  got=$(curl -s --cacert "$CACERT" -H "Authorization: Bearer $t" \
    "$(node_url $j)/v2/alice/chunks/blobs/$DIG" | sha256sum | cut -d' ' -f1)
  expect_eq "node $j serves the blob with the right digest" "${DIG#sha256:}" "$got"
done
got=$(curl -s --cacert "$CACERT" -H "Authorization: Bearer $t" -H "Range: bytes=3145728-3145737" \
  "$(node_url 2)/v2/alice/chunks/blobs/$DIG" | od -An -tx1 | tr -d ' \n')
want=$(dd if="$WORK/whole" bs=1 skip=3145728 count=10 2>/dev/null | od -An -tx1 | tr -d ' \n')
expect_eq "a Range read across the first chunk boundary" "$want" "$got"

# ------------------------------------------------------------ 5. a node dies mid-push
echo "# 5. a node killed in the middle of a push"
head -c $((48 * 1024 * 1024)) /dev/urandom >"$WORK/big"
BIG=sha256:$(sha256sum "$WORK/big" | cut -d' ' -f1)
t=$(token alice:alicepass "repository:alice/big:pull,push")
loc=$(curl -s -o /dev/null -D - --cacert "$CACERT" -H "Authorization: Bearer $t" -X POST \
  "$(node_url 1)/v2/alice/big/blobs/uploads/" | tr -d '\r' | awk -F': ' 'tolower($1)=="location"{print $2}')
curl -s -o /dev/null --cacert "$CACERT" -H "Authorization: Bearer $t" --limit-rate 8M -X PUT \
  -H "Content-Type: application/octet-stream" --data-binary "@$WORK/big" \
  "$(node_url 1)$loc?digest=$BIG" &
cpid=$!
sleep 2
kill_node 1 KILL
wait $cpid 2>/dev/null
code=$(curl -s -o /dev/null -w '%{http_code}' --cacert "$CACERT" -H "Authorization: Bearer $t" \
  -I "$BASE/v2/alice/big/blobs/$BIG")
expect_eq "the interrupted blob is not there" 404 "$code"
# HAProxy takes node 1 out within two failed checks; the client retries.
ok=0
for i in 1 2 3 4 5; do
  code=$(curl -s -o /dev/null -w '%{http_code}' --cacert "$CACERT" -H "Authorization: Bearer $t" \
    -X POST -H "Content-Type: application/octet-stream" --data-binary "@$WORK/big" \
    "$BASE/v2/alice/big/blobs/uploads/?digest=$BIG")
  [[ $code == 201 ]] && { ok=1; break; }
  sleep 1
done
check "the retry through HAProxy completes on the other node" test $ok = 1
got=$(curl -s --cacert "$CACERT" -H "Authorization: Bearer $t" "$BASE/v2/alice/big/blobs/$BIG" | sha256sum | cut -d' ' -f1)
expect_eq "and the blob reads back whole" "${BIG#sha256:}" "$got"
check "node 1 starts again on the shared stores" start_node 1

# ------------------------------------------------------------ 6. kill -9 in a loop
echo "# 6. kill -9 of nodes in a loop under pushing clients"
ACKED=$WORK/acked
: >"$ACKED"
pusher() { # ID
  local id=$1 k d
  for k in $(seq 1 40); do
    [[ -f $WORK/stop-pushers ]] && break
    d=$(make_oci "$WORK/p$id-$k" t "pusher $id image $k $RANDOM")
    if timeout 60 skopeo copy --retry-times 0 --dest-cert-dir "$CERTDIR" --dest-creds alice:alicepass \
      "oci:$WORK/p$id-$k:t" "docker://$REG/alice/loop$id:t$k" >/dev/null 2>"$WORK/p$id-$k.err"; then
      echo "alice/loop$id t$k $d" >>"$ACKED"
    fi
    rm -rf "$WORK/p$id-$k"
  done
}
pusher 1 & p1=$!
pusher 2 & p2=$!
deadline=$(($(date +%s) + 40))
kills=0
n=1
while (($(date +%s) < deadline)); do
  sleep 2
  kill_node $n KILL
  kills=$((kills + 1))
  sleep 0.5
  start_node $n >/dev/null || break
  n=$((3 - n))
done
touch "$WORK/stop-pushers"
wait $p1 $p2
acked=$(wc -l <"$ACKED")
check "$kills kills while pushing, $acked pushes acknowledged" test "$acked" -gt 0
# verify_acked: every acknowledged image has its manifest under its tag and
# every blob it names, byte for byte; prints how many are not.
verify_acked() {
  local t lost=0 repo tag d m b
  t=$(curl -s --max-time 10 --cacert "$CACERT" -u admin:adminpass \
    "$TOKEN_URL?service=berth&scope=repository:alice/loop1:pull&scope=repository:alice/loop2:pull&scope=repository:alice/loop3:pull" |
    jq -r .token)
  while read -r repo tag d; do
    m=$(curl -s --max-time 10 --cacert "$CACERT" -H "Authorization: Bearer $t" \
      -H "Accept: application/vnd.oci.image.manifest.v1+json" "$BASE/v2/$repo/manifests/$tag")
    if [[ sha256:$(printf '%s' "$m" | sha256sum | cut -d' ' -f1) != "$d" ]]; then
      lost=$((lost + 1)); echo "  lost: $repo:$tag manifest" >&2; continue
    fi
    for b in $(printf '%s' "$m" | jq -r '.config.digest, .layers[].digest'); do
      if [[ sha256:$(curl -s --max-time 10 --cacert "$CACERT" -H "Authorization: Bearer $t" \
        "$BASE/v2/$repo/blobs/$b" | sha256sum | cut -d' ' -f1) != "$b" ]]; then
        lost=$((lost + 1)); echo "  lost: $repo:$tag blob $b" >&2
      fi
    done
  done <"$ACKED"
  echo "$lost"
}
expect_eq "every acknowledged push is there, manifest and blobs ($acked checked)" 0 "$(verify_acked)"

# ------------------------------------------------------------ 7. GC across nodes
echo "# 7. garbage collection on shared stores"
gc_on() { # NODE -> HTTP status of POST /v2/_berth/gc as admin
  local t
  t=$(curl -s --max-time 10 --cacert "$CACERT" -u admin:adminpass \
    "https://127.0.0.1:${NODE_TOK[$1]}/token?service=berth&scope=registry:admin:*" | jq -r .token)
  curl -s -o "$WORK/gc$1.json" -w '%{http_code}' --max-time 120 --cacert "$CACERT" \
    -H "Authorization: Bearer $t" -X POST "https://127.0.0.1:${NODE_REG[$1]}/v2/_berth/gc"
}
# Hold the cluster lock "gc" from outside, as a third node collecting would.
key=$(python3 -c '
h = 1469598103934665603
for c in b"berth.cluster::gc":
    h = ((h ^ c) * 1099511628211) % (1 << 64)
print(h - (1 << 64) if h >= 1 << 63 else h)')
DB_DSN=$(printf '%s\n' "${CLUSTER_ENV[@]}" | sed -n 's/^BERTH_POSTGRES_DSN=//p')
psql "$DB_DSN" -qAt -c "SELECT pg_advisory_lock($key)" -c "SELECT pg_sleep(6)" >/dev/null 2>&1 &
holder=$!
sleep 1
for j in 1 2; do
  code=$(gc_on $j)
  expect_eq "node $j does not collect while another holds the gc lock (409)" 409 "$code"
done
expect_contains "and says why" "another registry node is collecting" "$(cat "$WORK/gc1.json")"
wait $holder
code=$(gc_on 2)
expect_eq "once the lock is free, node 2 collects: 200 ($(head -c 300 "$WORK/gc2.json"))" 200 "$code"
# The chunked-upload blob of section 4 was never in a manifest: with
# gc.delay 0 that collection removed it.
t=$(token alice:alicepass "repository:alice/chunks:pull")
code=$(curl -s -o /dev/null -w '%{http_code}' --cacert "$CACERT" -H "Authorization: Bearer $t" -I \
  "$BASE/v2/alice/chunks/blobs/$DIG")
expect_eq "an unreferenced blob is collected from the shared stores" 404 "$code"
expect_eq "and every acknowledged image survived it" 0 "$(verify_acked)"
# GC in a loop on node 2 while clients push through node 1.
rm -f "$WORK/stop-pushers"
gcs=0
pusher3() {
  local k d
  for k in $(seq 1 25); do
    [[ -f $WORK/stop-pushers ]] && break
    d=$(make_oci "$WORK/p3-$k" t "gc race image $k $RANDOM")
    # With gc.delay 0 a collection between a push's blobs and its manifest
    # removes the blobs' links and the manifest is refused: the client
    # pushes again, as a real one would.
    for try in 1 2 3; do
      if timeout 60 skopeo copy --retry-times 0 --dest-cert-dir "$CERTDIR" --dest-creds alice:alicepass \
        "oci:$WORK/p3-$k:t" "docker://127.0.0.1:${NODE_REG[1]}/alice/loop3:t$k" >/dev/null 2>&1; then
        echo "alice/loop3 t$k $d" >>"$ACKED"
        break
      fi
    done
    rm -rf "$WORK/p3-$k"
  done
}
pusher3 & p3=$!
deadline=$(($(date +%s) + 25))
while kill -0 $p3 2>/dev/null && (($(date +%s) < deadline)); do
  [[ $(gc_on 2) == 200 ]] && gcs=$((gcs + 1))
  sleep 0.5
done
touch "$WORK/stop-pushers"
wait $p3
acked3=$(grep -c '^alice/loop3 ' "$ACKED")
check "$gcs collections on node 2 while node 1 took $acked3 pushes" test "$gcs" -gt 0 -a "$acked3" -gt 0
expect_eq "every acknowledged push is still whole after them" 0 "$(verify_acked)"

# ------------------------------------------------------------ 8. migrate-store
echo "# 8. migrate-store into the cluster's stores"
SRC=$WORK/src-root
mkdir -p "$SRC"
# start_berth sets BASE, CACERT and CERTDIR for the berth it starts.
CL_BASE=$BASE CL_CACERT=$CACERT CL_CERTDIR=$CERTDIR
if start_berth "$SRC" "$(free_port)" BERTH_TLS_ENABLED=false; then
  DM=$(make_oci "$WORK/mig" v1 "migrated from a filesystem store")
  run mig_push skopeo copy --dest-tls-verify=false "oci:$WORK/mig:v1" \
    "docker://${BASE#http://}/alice/migrated:v1"
  check "an image is pushed to the filesystem berth" test $? = 0
  mig() { # LABEL: migrate-store from the serving filesystem berth into the cluster's stores
    env "${CLUSTER_ENV[@]}" BERTH_STORAGE_ROOT="$WORK/migrate-root" BERTH_METRICS_PORT=0 \
      "$BERTH_BIN" migrate-store --from "$SRC" >"$LOGS/$1.out" 2>"$LOGS/$1.err"
  }
  mkdir -p "$WORK/migrate-root"
  mig mig1
  rc=$?
  expect_eq "migrate-store exits 0 while the source serves ($(tail -1 "$LOGS/mig1.err"))" 0 "$rc"
  expect_eq "it copied the image's 2 blobs" 2 "$(jq -r .blobs_copied "$LOGS/mig1.out")"
  mig mig2
  expect_eq "a second run copies nothing" "0 0" \
    "$(jq -r '"\(.blobs_copied) \(.manifests_new)"' "$LOGS/mig2.out")"
  stop_berth
  BASE=$CL_BASE CACERT=$CL_CACERT CERTDIR=$CL_CERTDIR
  if run mig_pull skopeo copy --src-cert-dir "$CERTDIR" --src-creds alice:alicepass \
    "docker://$REG/alice/migrated:v1" "oci:$WORK/mig-back:v1"; then
    expect_eq "the cluster serves the migrated image with its digest" "$DM" \
      "$(jq -r '.manifests[0].digest' "$WORK/mig-back/index.json")"
  else
    fail "pull of the migrated image through HAProxy: $(tail -2 "$LOGS/mig_pull.err")"
  fi
else
  fail "a filesystem berth starts as the migration source"
  BASE=$CL_BASE CACERT=$CL_CACERT CERTDIR=$CL_CERTDIR
fi

# ------------------------------------------------------------ 9. behind HAProxy
echo "# 9. client addresses and connection caps behind HAProxy"
stop_cluster
if start_cluster 2 BERTH_HTTP_MAX_CONNECTIONS_PER_ADDRESS=4; then
  # 12 PUTs through HAProxy at once, each holding its connection with a body
  # that stalls 2 s: 6 connections from HAProxy on each node, past the cap
  # of 4 that a client address gets. Each must get berth's own answer.
  t=$(token alice:alicepass "repository:alice/conn:pull,push")
  got=$(timeout 60 python3 - "$HR" "$CACERT" "$t" <<'EOF'
import socket, ssl, sys, time
port, cafile, token = int(sys.argv[1]), sys.argv[2], sys.argv[3]
ctx = ssl.create_default_context(cafile=cafile)
conns = []
for i in range(12):
    s = ctx.wrap_socket(socket.create_connection(("127.0.0.1", port), timeout=30),
                        server_hostname="127.0.0.1")
    s.sendall(("PUT /v2/alice/conn/manifests/t%d HTTP/1.1\r\nHost: 127.0.0.1\r\n"
               "Authorization: Bearer %s\r\n"
               "Content-Type: application/vnd.oci.image.manifest.v1+json\r\n"
               "Content-Length: 200\r\nConnection: close\r\n\r\n" % (i, token)).encode() + b"{" * 100)
    conns.append(s)
time.sleep(2)
codes = []
for s in conns:
    s.sendall(b"}" * 100)
    resp = b""
    try:
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            resp += chunk
    except OSError:
        pass
    line = resp.split(b"\r\n", 1)[0].decode(errors="replace").split(" ")
    codes.append(line[1] if len(line) > 1 else "000")
print(" ".join(sorted(set(codes))), codes.count("400"))
EOF
)
  expect_eq "12 stalled PUTs through HAProxy, cap 4 per address: each answered by berth (400 MANIFEST_INVALID)" \
    "400 12" "$got"
  # Wrong passwords from 127.0.0.2 until the token servers throttle it.
  # (Not from 127.0.0.1: that is HAProxy's address, a trusted proxy, and an
  # X-Forwarded-For sent from a trusted address is believed.)
  tries=0 code=""
  while ((tries < 40)); do
    tries=$((tries + 1))
    code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 10 --cacert "$CACERT" -u alice:wrong \
      --interface 127.0.0.2 "$TOKEN_URL?service=berth")
    [[ $code == 429 ]] && break
  done
  expect_eq "wrong passwords from 127.0.0.2 through HAProxy end in 429 (after $tries)" 429 "$code"
  # The nodes share the counts (PostgreSQL): the 6th failure, wherever it
  # landed, starts a wait, so the 7th try is refused (the 8th when a second
  # boundary passed in between). Counted per node, HAProxy's round robin
  # would need 6 failures on one node: 12 tries.
  if ((tries <= 8)); then
    pass "  ... after $tries tries, not 12: the nodes count failures together"
  else
    fail "  ... after $tries tries: the nodes count failures apart (7 or 8 expected)"
  fi
  code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 10 --cacert "$CACERT" -u alice:alicepass \
    --interface 127.0.0.2 -H "X-Forwarded-For: 127.0.0.3" "$TOKEN_URL?service=berth")
  expect_eq "  ... a forged X-Forwarded-For does not lift it (the right end is HAProxy's)" 429 "$code"
  code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 10 --cacert "$CACERT" -u alice:alicepass \
    --interface 127.0.0.4 "$TOKEN_URL?service=berth")
  expect_eq "  ... alice from 127.0.0.4 through the same HAProxy logs in: 200" 200 "$code"
  check "  ... the nodes' access logs name the clients, HAProxy as via=" \
    grep -qE "client=127\.0\.0\.4 via=127\.0\.0\.1:" "$WORK"/node1.log "$WORK"/node2.log
  # berth user passwd on a node's configuration revokes refresh tokens in
  # PostgreSQL, where every node looks, not in a local tokens.db.
  rt=$(curl -s --max-time 10 --cacert "$CACERT" --interface 127.0.0.5 -u bob:bobpass \
    "$TOKEN_URL?service=berth&offline_token=true" | jq -r '.refresh_token // empty')
  refresh_on() { # I: the refresh grant of $rt at node I's token server
    curl -s -o /dev/null -w '%{http_code}' --max-time 10 --cacert "$CACERT" -X POST \
      "https://127.0.0.1:${NODE_TOK[$1]}/token" --data-urlencode grant_type=refresh_token \
      --data-urlencode "refresh_token=$rt" --data-urlencode service=berth --data-urlencode client_id=t
  }
  expect_eq "bob's refresh token works on both nodes" "200 200" "$(refresh_on 1) $(refresh_on 2)"
  said=$(echo bobpass2 | env -C "$WORK" "${CLUSTER_ENV[@]}" BERTH_METRICS_PORT=0 "$BERTH_BIN" user \
    passwd bob --password-stdin 2>&1)
  expect_contains "berth user passwd bob (cluster configuration) revokes in PostgreSQL" \
    "revoked 1 refresh token(s) of 'bob'" "$said"
  expect_eq "  ... and both nodes refuse the token at once" "401 401" "$(refresh_on 1) $(refresh_on 2)"
else
  fail "two berths behind HAProxy start again (per-address cap 4)"
fi

summary
