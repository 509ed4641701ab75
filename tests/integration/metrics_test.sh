#!/bin/bash
# Integration test of the Prometheus metrics listener (README, Operations →
# Metrics): `berth serve` with auth on and metrics on a loopback port.
#   1. GET /metrics: 200, text format 0.0.4; `promtool check metrics` (the
#      linter of Debian's prometheus) finds nothing to say.
#   2. Requests are counted exactly by endpoint, method and status class
#      (deltas between two scrapes), with latency histograms and body bytes;
#      token requests by result (issued, denied), the user file's bcrypt
#      checks (cache hits excluded) and login cache hits; a skopeo push shows
#      in the store gauges, the upload counters and the bytes received.
#   3. GC, quota, connection and process series.
#   4. A real Prometheus (Debian's) started here scrapes berth every second;
#      its query API answers up == 1 and a rate of berth's request counter.
#   5. metrics.enabled: false leaves the port closed; a taken metrics port
#      stops start-up with exit code 2 and a message naming metrics.port.
source "$(dirname "$0")/lib.sh"
source "$HERE/oci.sh"

for _ in $(seq 1 20); do
  cp "$BERTH_BIN" "$WORK/berth.bin" 2>/dev/null && "$WORK/berth.bin" --help >/dev/null 2>&1 && break
  sleep 3
done
BERTH_BIN=$WORK/berth.bin
need curl || exit 1
need promtool || exit 1
need prometheus || exit 1
need skopeo || exit 1
use_private_container_config

ROOT=$WORK/root
PORT=$(free_port)
TP=$(free_port)
MP=$(free_port)
TOKEN_URL=https://127.0.0.1:$TP/token
METRICS=http://127.0.0.1:$MP/metrics

# Webhooks to a port nobody listens on: events queue up and deliveries fail.
DEAD=$(free_port)
cat >"$WORK/berth.yaml" <<EOF
notifications:
  endpoints:
    - name: dead
      url: http://127.0.0.1:$DEAD/events
      timeout: 1
      backoff: 1
EOF
START_ARGS=(-c "$WORK/berth.yaml")
mkdir -p "$ROOT"
for u in admin alice; do
  echo "${u}pass" | timeout 30 "$BERTH_BIN" user add "$u" --password-stdin -f "$ROOT/htpasswd" >/dev/null 2>&1
done
BERTH_ROLE=serve
if ! start_berth "$ROOT" "$PORT" BERTH_AUTH_ENABLED=true BERTH_TOKEN_ADDR=127.0.0.1 \
  BERTH_TOKEN_PORT="$TP" BERTH_AUTH_REALM="$TOKEN_URL" BERTH_METRICS_PORT="$MP" \
  BERTH_GC_INTERVAL=0 BERTH_QUOTA_DEFAULT=1073741824; then
  fail "berth serve starts"
  summary
  exit 1
fi

scrape() { curl -s --max-time 10 "$METRICS"; }
# value NAME_WITH_LABELS: the sample's value in a fresh scrape (0 when absent).
value() {
  scrape | awk -v k="$1" '$1 == k { print $2; found = 1 } END { if (!found) print 0 }'
}
token() { # token USER:PASS SCOPE
  curl -s --max-time 10 --cacert "$CACERT" -u "$1" "$TOKEN_URL?service=berth&scope=$2" | jq -r .token
}

# ---------------------------------------------------------------- 1. format
echo "# 1. the endpoint and its format"
code=$(curl -s -o "$WORK/m1.txt" -D "$WORK/m1.head" -w '%{http_code}' --max-time 10 "$METRICS")
expect_eq "GET /metrics: 200" 200 "$code"
expect_contains "Content-Type text/plain; version=0.0.4" "text/plain; version=0.0.4" "$(cat "$WORK/m1.head")"
lint=$(promtool check metrics <"$WORK/m1.txt" 2>&1)
rc=$?
expect_eq "promtool check metrics: exit 0" 0 "$rc"
expect_eq "promtool check metrics: no findings" "" "$lint"
expect_eq "GET /other on the metrics port: 404" 404 \
  "$(curl -s -o /dev/null -w '%{http_code}' --max-time 10 "http://127.0.0.1:$MP/other")"
expect_eq "the registry port does not serve /metrics (404)" 404 \
  "$(curl -s -o /dev/null -w '%{http_code}' --max-time 10 --cacert "$CACERT" "$BASE/metrics")"

# ---------------------------------------------------------------- 2. requests
echo "# 2. requests, tokens, pushes"
K_BASE='berth_http_requests_total{listener="registry",endpoint="base",method="GET",status_class="4xx"}'
K_MAN='berth_http_requests_total{listener="registry",endpoint="manifest",method="HEAD",status_class="4xx"}'
K_LAT='berth_http_request_duration_seconds_count{listener="registry",endpoint="base"}'
before_base=$(value "$K_BASE")
before_man=$(value "$K_MAN")
before_lat=$(value "$K_LAT")
for _ in $(seq 1 7); do curl -s -o /dev/null --cacert "$CACERT" "$BASE/v2/"; done
T=$(token alice:alicepass "repository:alice/app:pull,push")
for _ in $(seq 1 3); do
  curl -s -o /dev/null -I --cacert "$CACERT" -H "Authorization: Bearer $T" "$BASE/v2/alice/app/manifests/nope"
done
expect_eq "7 unauthenticated GET /v2/ counted as base/GET/4xx" 7 $(($(value "$K_BASE") - before_base))
expect_eq "3 HEADs of a missing manifest counted as manifest/HEAD/4xx" 3 $(($(value "$K_MAN") - before_man))
expect_eq "latency histogram of base counted 7" 7 $(($(value "$K_LAT") - before_lat))

K_ISSUED='berth_token_requests_total{result="issued"}'
K_DENIED='berth_token_requests_total{result="denied"}'
K_BCRYPT_OK='berth_authenticator_requests_total{backend="htpasswd",result="ok"}'
K_BCRYPT_BAD='berth_authenticator_requests_total{backend="htpasswd",result="rejected"}'
K_HIT='berth_login_cache_requests_total{backend="htpasswd",result="hit"}'
i0=$(value "$K_ISSUED"); d0=$(value "$K_DENIED"); ok0=$(value "$K_BCRYPT_OK"); bad0=$(value "$K_BCRYPT_BAD")
h0=$(value "$K_HIT")
for _ in 1 2 3; do token alice:alicepass "repository:alice/app:pull" >/dev/null; done
token alice:wrong "repository:alice/app:pull" >/dev/null
expect_eq "3 tokens issued counted" 3 $(($(value "$K_ISSUED") - i0))
expect_eq "1 wrong password counted as denied" 1 $(($(value "$K_DENIED") - d0))
expect_eq "bcrypt checks: the cached login made none" 0 $(($(value "$K_BCRYPT_OK") - ok0))
expect_eq "bcrypt checks: the wrong password made one (rejected)" 1 $(($(value "$K_BCRYPT_BAD") - bad0))
expect_eq "login cache: 3 hits" 3 $(($(value "$K_HIT") - h0))
c=$(scrape | grep -c '^berth_authenticator_duration_seconds_bucket{backend="htpasswd"')
check "authenticator latency histogram has buckets ($c)" test "$c" -ge 10

make_oci "$WORK/img" v1 "metrics test image" >/dev/null
in0=$(value 'berth_http_request_body_bytes_total{listener="registry",endpoint="upload"}')
check "skopeo copy to alice/app:v1" timeout 60 skopeo copy -q --dest-creds alice:alicepass \
  --dest-cert-dir "$CERTDIR" "oci:$WORK/img:v1" "docker://127.0.0.1:$PORT/alice/app:v1"
expect_eq "berth_manifests after the push" 1 "$(value berth_manifests)"
expect_eq "berth_tags after the push" 1 "$(value berth_tags)"
expect_eq "berth_blobs after the push (layer + config)" 2 "$(value berth_blobs)"
bytes=$(value berth_blob_bytes)
check "berth_blob_bytes > 0 ($bytes)" test "${bytes%.*}" -gt 0
in1=$(value 'berth_http_request_body_bytes_total{listener="registry",endpoint="upload"}')
check "upload body bytes received grew by the blobs' bytes ($in0 -> $in1, blobs $bytes)" \
  test $((in1 - in0)) -ge "${bytes%.*}"
expect_eq "manifest PUT counted (201 = 2xx)" 1 \
  "$(value 'berth_http_requests_total{listener="registry",endpoint="manifest",method="PUT",status_class="2xx"}')"
expect_eq "berth_uploads_in_progress back to 0" 0 "$(value berth_uploads_in_progress)"
pending=0
for _ in $(seq 1 40); do
  pending=$(value berth_events_pending)
  [[ ${pending%.*} -ge 1 ]] && break
  sleep 0.1
done
check "berth_events_pending >= 1 (the push event, receiver down: $pending)" test "${pending%.*}" -ge 1
failed=0
for _ in $(seq 1 50); do
  failed=$(value berth_events_delivery_failures_total)
  [[ ${failed%.*} -ge 1 ]] && break
  sleep 0.1
done
check "berth_events_delivery_failures_total >= 1 ($failed)" test "${failed%.*}" -ge 1
expect_eq "berth_events_delivered_total 0" 0 "$(value berth_events_delivered_total)"

# ---------------------------------------------------------------- 3. the rest
echo "# 3. gc, quotas, connections, process"
AT=$(token admin:adminpass "registry:admin:*")
curl -s -o /dev/null --max-time 60 -X POST --cacert "$CACERT" -H "Authorization: Bearer $AT" "$BASE/v2/_berth/gc"
expect_eq "berth_gc_runs_total after one GC" 1 "$(value berth_gc_runs_total)"
ts=$(value berth_gc_last_success_timestamp_seconds)
check "berth_gc_last_success_timestamp_seconds is now ($ts)" test $(($(date +%s) - ${ts%.*})) -lt 120
expect_eq "berth_namespace_quota_bytes{namespace=alice}" 1073741824 \
  "$(value 'berth_namespace_quota_bytes{namespace="alice"}')"
expect_eq "berth_namespace_used_bytes{namespace=alice} = the blobs" "$bytes" \
  "$(value 'berth_namespace_used_bytes{namespace="alice"}')"
conns=$(value 'berth_http_connections_total{listener="registry",admitted="normal"}')
check "registry connections accepted counted ($conns)" test "${conns%.*}" -ge 10
expect_eq "build info" 1 "$(scrape | grep -c '^berth_build_info{version="')"
rss=$(value process_resident_memory_bytes)
check "process_resident_memory_bytes between 1 and 200 MiB ($rss)" \
  test "${rss%.*}" -gt 1000000 -a "${rss%.*}" -lt 200000000
fds=$(value process_open_fds)
check "process_open_fds equals /proc's count ($fds)" \
  test "$((${fds%.*} - $(ls /proc/$BERTH_PID/fd | wc -l)))" -le 2
cpu=$(value process_cpu_seconds_total)
check "process_cpu_seconds_total > 0 ($cpu)" awk -v v="$cpu" 'BEGIN { exit !(v > 0) }'
lint=$(scrape | promtool check metrics 2>&1)
expect_eq "promtool check metrics after traffic: no findings" "" "$lint"

# ---------------------------------------------------------------- 4. Prometheus
echo "# 4. a real Prometheus scrapes berth"
PP=$(free_port)
cat >"$WORK/prometheus.yml" <<EOF
global:
  scrape_interval: 1s
  evaluation_interval: 1s
scrape_configs:
  - job_name: berth
    static_configs:
      - targets: ['127.0.0.1:$MP']
EOF
prometheus --config.file="$WORK/prometheus.yml" --storage.tsdb.path="$WORK/tsdb" \
  --web.listen-address="127.0.0.1:$PP" >"$WORK/prometheus.log" 2>&1 &
PROM_PID=$!
trap 'kill $PROM_PID 2>/dev/null; cleanup' EXIT
query() { curl -s --max-time 5 "http://127.0.0.1:$PP/api/v1/query" --data-urlencode "query=$1"; }
up=""
for _ in $(seq 1 60); do
  up=$(query 'up{job="berth"}' | jq -r '.data.result[0].value[1] // empty' 2>/dev/null)
  [[ "$up" == 1 ]] && break
  sleep 0.5
done
expect_eq "Prometheus: up{job=berth} == 1" 1 "$up"
for _ in $(seq 1 20); do curl -s -o /dev/null --cacert "$CACERT" "$BASE/v2/"; done
n=""
for _ in $(seq 1 30); do
  n=$(query 'sum(increase(berth_http_requests_total{endpoint="base"}[1m]))' |
    jq -r '.data.result[0].value[1] // empty' 2>/dev/null)
  [[ -n "$n" ]] && awk -v v="$n" 'BEGIN { exit !(v >= 15) }' && break
  sleep 0.5
done
check "Prometheus: increase of base requests over 1m >= 15 (got $n)" \
  awk -v v="${n:-0}" 'BEGIN { exit !(v >= 15) }'
q=$(query 'histogram_quantile(0.99, sum by (le) (rate(berth_http_request_duration_seconds_bucket[1m])))' |
  jq -r '.data.result[0].value[1] // empty' 2>/dev/null)
check "Prometheus: a p99 latency from the histogram ($q s)" test -n "$q"
kill "$PROM_PID" 2>/dev/null
wait "$PROM_PID" 2>/dev/null
stop_berth

# ---------------------------------------------------------------- 5. config
echo "# 5. metrics off, and a taken port"
START_ARGS=()
MP2=$(free_port)
if start_berth "$WORK/root2" "$(free_port)" BERTH_METRICS_ENABLED=false BERTH_METRICS_PORT="$MP2"; then
  expect_eq "metrics.enabled false: nothing listens on the metrics port" 000 \
    "$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 "http://127.0.0.1:$MP2/metrics")"
  stop_berth
else
  fail "berth with metrics off starts"
fi
python3 -c 'import socket,time; s=socket.socket(); s.bind(("127.0.0.1",'"$MP2"')); s.listen(); time.sleep(30)' &
HOLDER=$!
sleep 0.5
env BERTH_STORAGE_ROOT="$WORK/root3" BERTH_REGISTRY_ADDR=127.0.0.1 BERTH_REGISTRY_PORT="$(free_port)" \
  BERTH_AUTH_ENABLED=false BERTH_METRICS_PORT="$MP2" timeout 20 "$BERTH_BIN" registry >"$WORK/taken.log" 2>&1
rc=$?
kill $HOLDER 2>/dev/null
expect_eq "a taken metrics port stops start-up (exit 2)" 2 "$rc"
expect_contains "the message names metrics.port" "metrics.port" "$(cat "$WORK/taken.log")"

summary
