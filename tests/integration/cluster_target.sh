# BERTH_TARGET=cluster: lib.sh's start_berth starts, instead of one berth,
# two `berth serve` nodes on S3 (Ceph RGW) and PostgreSQL behind HAProxy,
# with HAProxy on the port the suite asked for. A suite written for one berth
# then runs unchanged against the scale-out deployment, its consecutive
# requests alternating nodes (README "Scaling out"):
#
#   BERTH_TARGET=cluster tests/integration/run_all.sh api clients conformance
#
# The suite's ENV=VALUE arguments reach every node, except the addresses,
# ports and storage root, which are each node's own; BERTH_TOKEN_PORT becomes
# HAProxy's token front port. The keys and the user file the nodes share are
# the suite's ROOT/keys and ROOT/htpasswd, where one berth keeps them.
# BERTH_PID is node 1's; root_env ROOT gives the environment under which a
# berth command (user, revoke-tokens) acts on that ROOT's cluster. A start_berth again on the same ROOT (a
# restart) reuses that ROOT's database and bucket. summary adds one check per
# node that it answered requests. Sourced by lib.sh; do not run it.

source "$HERE/cluster.sh"

declare -A CLUSTER_OF_ROOT
CLUSTER_SERVICES=0
# Every node and HAProxy started, for cleanup: a suite may run a second
# berth (another ROOT) beside its first, and start_cluster keeps only the
# last cluster's.
ALL_NODE_PIDS=()
ALL_HAPROXY_DIRS=()
declare -A ANSWERED  # "HAPROXY_DIR nodeI" -> responses counted before that HAProxy stopped

start_berth() { # ROOT PORT [ENV=VALUE...]
  local root=$1 port=$2 a
  shift 2
  # As lib.sh's start_berth: auth off unless the suite turns it on.
  local env=(BERTH_AUTH_ENABLED=false) tport=""
  for a in "$@"; do
    case $a in
      BERTH_TOKEN_PORT=*) tport=${a#*=} ;;
      BERTH_STORAGE_ROOT=* | BERTH_REGISTRY_ADDR=* | BERTH_REGISTRY_PORT=* | BERTH_TOKEN_ADDR=* | BERTH_METRICS_*) ;;
      *) env+=("$a") ;;
    esac
  done
  if ((CLUSTER_SERVICES == 0)); then
    start_services || { echo "PostgreSQL and Ceph RGW did not start"; return 1; }
    CLUSTER_SERVICES=1
  fi
  mkdir -p "$root"
  CLUSTER_ID=${CLUSTER_OF_ROOT[$root]:-}
  CLUSTER_REG_PORT=$port CLUSTER_TOKEN_PORT=$tport CLUSTER_LOG=$root.log CLUSTER_SHARED=$root
  local token_url=${TOKEN_URL:-}  # the suite's own, if it has one
  start_cluster 2 "${env[@]}"
  local rc=$?
  ALL_NODE_PIDS+=("${NODE_PID[@]}")
  if [[ -n ${HAPROXY_DIR:-} && " ${ALL_HAPROXY_DIRS[*]} " != *" $HAPROXY_DIR "* ]]; then
    ALL_HAPROXY_DIRS+=("$HAPROXY_DIR")
  fi
  ((rc == 0)) || return 1
  [[ -n $token_url ]] && TOKEN_URL=$token_url
  CLUSTER_OF_ROOT[$root]=$CLUSTER_ID
  # What berth commands need to act on this cluster's stores (root_env).
  printf '%s\n' "${CLUSTER_ENV[@]}" BERTH_STORAGE_ROOT="$root" BERTH_METRICS_PORT=0 >"$root/cluster.env"
  # A suite that watches "its berth" by PID watches node 1.
  BERTH_PID=${NODE_PID[1]}
  echo "# BERTH_TARGET=cluster: nodes on ports ${NODE_REG[1]} and ${NODE_REG[2]} behind HAProxy on $port"
}

stop_berth() { # [SIGNAL]
  ((CLUSTER_N > 0)) || return 0
  local i
  for i in $(seq 1 "$CLUSTER_N"); do kill_node "$i" "${1:-TERM}"; done
  answered_so_far
  stop_cluster
  BERTH_PID=""
}

berth_alive() { # every node still runs
  local i
  ((CLUSTER_N > 0)) || return 1
  for i in $(seq 1 "$CLUSTER_N"); do
    [[ -n ${NODE_PID[$i]:-} ]] && kill -0 "${NODE_PID[$i]}" 2>/dev/null || return 1
  done
}

root_env() { cat "$1/cluster.env"; }

# Adds the current HAProxy's per-node counts to ANSWERED (before it stops).
answered_so_far() {
  local i n
  [[ -S ${HAPROXY_DIR:-}/stats.sock ]] || return 0
  for i in $(seq 1 "$CLUSTER_N"); do
    n=$(haproxy_answers "$HAPROXY_DIR" "node$i" 2>/dev/null)
    ANSWERED["$HAPROXY_DIR node$i"]=$((${ANSWERED["$HAPROXY_DIR node$i"]:-0} + ${n:-0}))
  done
}

cleanup() {
  stop_berth
  local p d
  # Nodes of a second cluster the suite stopped only in part.
  for p in ${ALL_NODE_PIDS[@]+"${ALL_NODE_PIDS[@]}"}; do
    kill -0 "$p" 2>/dev/null || continue
    kill -TERM "$p" 2>/dev/null
    for _ in $(seq 1 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
    { kill -KILL "$p" && wait "$p"; } 2>/dev/null
  done
  for d in ${ALL_HAPROXY_DIRS[@]+"${ALL_HAPROXY_DIRS[@]}"}; do bash "$SUPPORT/haproxy.sh" stop "$d"; done
  ((CLUSTER_SERVICES)) && stop_services
  if [[ "${KEEP_WORK:-0}" != 1 ]]; then rm -rf "$WORK"; fi
}

summary() {
  local d i n
  # HAProxy's counters: a node the suite has stopped still counts. (A suite
  # that starts its cluster itself, as docker_test does, has the last one.)
  local dirs=(${ALL_HAPROXY_DIRS[@]+"${ALL_HAPROXY_DIRS[@]}"})
  ((${#dirs[@]} == 0)) && [[ -n ${HAPROXY_DIR:-} ]] && dirs=("$HAPROXY_DIR")
  for d in ${dirs[@]+"${dirs[@]}"}; do
    for i in 1 2; do
      n=0
      [[ -S $d/stats.sock ]] && n=$(haproxy_answers "$d" "node$i" 2>/dev/null)
      n=$((${n:-0} + ${ANSWERED["$d node$i"]:-0}))
      if ((n > 0)); then
        pass "cluster node $i answered $n requests (${d##*/})"
      else
        fail "cluster node $i answered no request (${d##*/})"
      fi
    done
  done
  stop_berth
  check_sanitizer_reports
  echo "$PASSED passed, $FAILED failed"
  [[ $FAILED -eq 0 ]]
}
