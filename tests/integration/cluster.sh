# Helpers for the scale-out tests: a throwaway PostgreSQL and Ceph RGW
# (tests/support/), several `berth serve` nodes sharing them, and HAProxy in
# front. Source after lib.sh (and oci.sh when clients are used).
#
#   start_services            PostgreSQL + RGW under $WORK; exports S3_* and BERTH_PG_DSN
#   start_cluster N [ENV=V..] N nodes + HAProxy on a fresh bucket and database;
#                             sets BASE, TOKEN_URL, CACERT, CERTDIR, NODE_REG[i],
#                             NODE_TOK[i], NODE_METRICS[i] (i = 1..N) and
#                             CLUSTER_ID; optional inputs: CLUSTER_ID (reuse the
#                             stores of an earlier cluster), CLUSTER_REG_PORT and
#                             CLUSTER_TOKEN_PORT (HAProxy's front ports),
#                             CLUSTER_LOG (one log for every node), CLUSTER_SHARED
#                             (the folder of the shared keys and user file)
#   kill_node I [SIGNAL]      stops node I (default KILL) and waits for it
#   start_node I              starts node I again (same ports, same stores)
#   stop_cluster              nodes, then HAProxy (the services stay up)
#
# Every node uses the same TLS certificate, token signing key and user file
# (made once by `berth init` under $WORK/shared-ID),
# as an operator would copy them to every node.

SUPPORT=$TOP/tests/support
CLUSTER_N=0
declare -a NODE_PID NODE_ADDR NODE_REG NODE_TOK NODE_METRICS
CLUSTER_ENV=()

start_services() {
  if ! bash "$SUPPORT/postgres.sh" start "$WORK/pg" >"$WORK/pg.out" 2>&1; then
    cat "$WORK/pg.out"; return 1
  fi
  set -a; source "$WORK/pg/pg.env"; set +a
  export -n BERTH_PG_DSN BERTH_PG_PORT BERTH_PG_SOCKET_DIR
  if ! bash "$SUPPORT/ceph.sh" start "$WORK/ceph" >"$WORK/ceph.out" 2>&1; then
    cat "$WORK/ceph.out"; return 1
  fi
  set -a; source "$WORK/ceph/s3.env"; set +a
}

stop_services() {
  bash "$SUPPORT/ceph.sh" stop "$WORK/ceph" >/dev/null 2>&1
  bash "$SUPPORT/postgres.sh" stop "$WORK/pg" >/dev/null 2>&1
}

# A fresh database for one cluster, so each cluster starts empty.
new_database() {
  local name=$1
  psql "$BERTH_PG_DSN" -qAt -c "CREATE DATABASE $name" >/dev/null || return 1
  # The same connection string with dbname replaced.
  echo "$BERTH_PG_DSN" | sed -E "s/dbname=[^ ]*/dbname=$name/"
}

node_env() { # I
  local i=$1
  echo BERTH_STORAGE_ROOT="$WORK/node$i" BERTH_REGISTRY_ADDR="${NODE_ADDR[$i]}" \
    BERTH_REGISTRY_PORT="${NODE_REG[$i]}" BERTH_TOKEN_ADDR="${NODE_ADDR[$i]}" BERTH_TOKEN_PORT="${NODE_TOK[$i]}" \
    BERTH_METRICS_ADDR=127.0.0.1 BERTH_METRICS_PORT="${NODE_METRICS[$i]}"
}

start_node() { # I
  local i=$1 k
  env $(node_env "$i") "${CLUSTER_ENV[@]}" BERTH_LOG_LEVEL="${BERTH_TEST_LOG_LEVEL:-info}" \
    "$BERTH_BIN" serve >>"${CLUSTER_LOG:-$WORK/node$i.log}" 2>&1 &
  NODE_PID[$i]=$!
  for k in $(seq 1 150); do
    # Named as HAProxy's front (the certificate's name), reached at the node.
    if [[ $(curl -s -o /dev/null -w '%{http_code}' --cacert "$CACERT" \
      --connect-to "$CLUSTER_FRONT:${NODE_REG[$i]}:${NODE_ADDR[$i]}:${NODE_REG[$i]}" \
      "https://$CLUSTER_FRONT:${NODE_REG[$i]}/readyz") == 200 ]]; then
      return 0
    fi
    if ! kill -0 "${NODE_PID[$i]}" 2>/dev/null; then
      echo "node $i exited during start-up:"; tail -20 "${CLUSTER_LOG:-$WORK/node$i.log}"; return 1
    fi
    sleep 0.1
  done
  echo "node $i did not become ready"; tail -20 "${CLUSTER_LOG:-$WORK/node$i.log}"; return 1
}

kill_node() { # I [SIGNAL]
  local i=$1 k
  [[ -n ${NODE_PID[$i]:-} ]] || return 0
  kill "-${2:-KILL}" "${NODE_PID[$i]}" 2>/dev/null
  for k in $(seq 1 200); do kill -0 "${NODE_PID[$i]}" 2>/dev/null || break; sleep 0.1; done
  kill -KILL "${NODE_PID[$i]}" 2>/dev/null
  wait "${NODE_PID[$i]}" 2>/dev/null
  NODE_PID[$i]=""
}

start_cluster() { # N [ENV=VALUE...]
  local n=$1 i
  shift
  CLUSTER_N=$n
  # CLUSTER_ID names the cluster's database and bucket: set it to start a
  # cluster again on the stores of an earlier one.
  local id=${CLUSTER_ID:-c$RANDOM$RANDOM}
  local dsn shared=${CLUSTER_SHARED:-$WORK/shared-$id}
  if [[ -f $shared/cluster.dsn ]]; then
    dsn=$(cat "$shared/cluster.dsn")
  else
    dsn=$(new_database "berth_$id") || { echo "cannot create database berth_$id"; return 1; }
    mkdir -p "$shared"
    echo "$dsn" >"$shared/cluster.dsn"
    if [[ -z ${CLUSTER_SHARED:-} ]]; then
      for u in admin alice bob; do
        echo "${u}pass" | timeout 30 "$BERTH_BIN" user add "$u" --password-stdin -f "$shared/htpasswd" >/dev/null 2>&1
      done
    fi
  fi
  CLUSTER_ID=$id
  # CLUSTER_REG_PORT and CLUSTER_TOKEN_PORT choose HAProxy's front ports.
  HR=${CLUSTER_REG_PORT:-$(free_port)}; HT=${CLUSTER_TOKEN_PORT:-$(free_port)}
  # CLUSTER_FRONT_ADDR: HAProxy's address. CLUSTER_NODE_ADDRS: one address
  # per node, each node then listening on HAProxy's ports, as nodes on hosts
  # of their own would (their start-up trust hints name the front's port).
  CLUSTER_FRONT=${CLUSTER_FRONT_ADDR:-127.0.0.1}
  TOKEN_URL=https://$CLUSTER_FRONT:$HT/token
  BASE=https://$CLUSTER_FRONT:$HR
  CLUSTER_ENV=(BERTH_AUTH_ENABLED=true BERTH_AUTH_REALM="$TOKEN_URL"
    BERTH_TLS_CERT="$shared/keys/tls.crt" BERTH_TLS_KEY="$shared/keys/tls.key"
    BERTH_TOKEN_KEY="$shared/keys/token.key" BERTH_TOKEN_CERT="$shared/keys/token.crt"
    BERTH_TOKEN_HTPASSWD="$shared/htpasswd" BERTH_GC_INTERVAL=0 BERTH_HTTP_TRUSTED_PROXIES=127.0.0.1
    BERTH_STORAGE_DRIVER=s3 BERTH_S3_ENDPOINT="$S3_ENDPOINT" BERTH_S3_REGION="$S3_REGION"
    BERTH_S3_BUCKET="b-$id" BERTH_S3_CREATE_BUCKET=true BERTH_S3_ACCESS_KEY="$S3_ACCESS_KEY"
    BERTH_S3_SECRET_KEY="$S3_SECRET_KEY"
    BERTH_METADATA_DRIVER=postgres BERTH_POSTGRES_DSN="$dsn" "$@")
  # The keys every node shares: made once, as `berth init` would on the first
  # (with the suite's tls.hosts, if it names any).
  local a init_env=()
  for a in "$@"; do [[ $a == BERTH_TLS_HOSTS=* ]] && init_env+=("$a"); done
  if [[ ! -f $shared/keys/tls.crt ]]; then
    env BERTH_STORAGE_ROOT="$shared" BERTH_TOKEN_HTPASSWD="$shared/htpasswd" ${init_env[@]+"${init_env[@]}"} \
      "$BERTH_BIN" init -c "$shared/berth.yaml" >"$WORK/init.out" 2>&1 || { cat "$WORK/init.out"; return 1; }
  fi
  CACERT=$shared/keys/tls.crt
  CERTDIR=$shared/certs.d
  mkdir -p "$CERTDIR" && cp "$CACERT" "$CERTDIR/ca.crt"
  cat "$shared/keys/tls.crt" "$shared/keys/tls.key" >"$shared/haproxy.pem"
  local regs="" toks=""
  local addrs=(${CLUSTER_NODE_ADDRS:-})
  for i in $(seq 1 "$n"); do
    if ((${#addrs[@]} > 0)); then
      NODE_ADDR[$i]=${addrs[$((i - 1))]}; NODE_REG[$i]=$HR; NODE_TOK[$i]=$HT
    else
      NODE_ADDR[$i]=127.0.0.1; NODE_REG[$i]=$(free_port); NODE_TOK[$i]=$(free_port)
    fi
    NODE_METRICS[$i]=$(free_port)
    mkdir -p "$WORK/node$i"
    regs+="${regs:+,}${NODE_ADDR[$i]}@${NODE_REG[$i]}"; toks+="${toks:+,}${NODE_ADDR[$i]}@${NODE_TOK[$i]}"
  done
  for i in $(seq 1 "$n"); do start_node "$i" || return 1; done
  bash "$SUPPORT/haproxy.sh" start "$WORK/haproxy-$id" "registry:$CLUSTER_FRONT@$HR:$shared/haproxy.pem:$regs" \
    "token:$CLUSTER_FRONT@$HT:$shared/haproxy.pem:$toks" || return 1
  HAPROXY_DIR=$WORK/haproxy-$id
  # HAProxy marks a node up after its first good health check.
  for i in $(seq 1 50); do
    [[ $(curl -s -o /dev/null -w '%{http_code}' --cacert "$CACERT" "$BASE/readyz") == 200 ]] && return 0
    sleep 0.1
  done
  echo "haproxy did not pass requests"; tail "$HAPROXY_DIR/haproxy.log"; return 1
}

stop_cluster() {
  local i
  for i in $(seq 1 "$CLUSTER_N"); do kill_node "$i" TERM; done
  [[ -n ${HAPROXY_DIR:-} ]] && bash "$SUPPORT/haproxy.sh" stop "$HAPROXY_DIR"
  HAPROXY_DIR=""
  CLUSTER_N=0
}

# Requests node I has answered (its own metrics).
node_requests() { # I
  curl -s --max-time 5 "http://127.0.0.1:${NODE_METRICS[$1]}/metrics" |
    awk '/^berth_http_requests_total\{[^}]*listener="registry"/ { s += $2 } END { print s + 0 }'
}

# Responses server SERVER (node1, node2, ...) gave through the HAProxy of DIR,
# both backends together. Unlike node_requests it still counts a node that
# has stopped.
haproxy_answers() { # DIR SERVER
  python3 - "$1/stats.sock" "$2" <<'EOF'
import csv, io, socket, sys
s = socket.socket(socket.AF_UNIX)
s.settimeout(5)
s.connect(sys.argv[1])
s.sendall(b"show stat\n")
data = b""
while True:
    chunk = s.recv(65536)
    if not chunk:
        break
    data += chunk
rows = list(csv.reader(io.StringIO(data.decode().lstrip("# "))))
n = 0
for row in rows[1:]:
    d = dict(zip(rows[0], row))
    if d.get("svname") == sys.argv[2]:
        n += sum(int(d.get(k) or 0) for k in
                 ("hrsp_1xx", "hrsp_2xx", "hrsp_3xx", "hrsp_4xx", "hrsp_5xx", "hrsp_other"))
print(n)
EOF
}
