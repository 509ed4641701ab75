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
# the suite's ROOT/keys and ROOT/htpasswd, where one berth keeps them. A start_berth again on the same ROOT (a
# restart) reuses that ROOT's database and bucket. summary adds one check per
# node that it answered requests. Sourced by lib.sh; do not run it.

source "$HERE/cluster.sh"

declare -A CLUSTER_OF_ROOT
CLUSTER_SERVICES=0

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
  start_cluster 2 "${env[@]}" || return 1
  CLUSTER_OF_ROOT[$root]=$CLUSTER_ID
  BERTH_PID=cluster
  echo "# BERTH_TARGET=cluster: nodes on ports ${NODE_REG[1]} and ${NODE_REG[2]} behind HAProxy on $port"
}

stop_berth() { # [SIGNAL]
  ((CLUSTER_N > 0)) || return 0
  local i
  for i in $(seq 1 "$CLUSTER_N"); do kill_node "$i" "${1:-TERM}"; done
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

cleanup() {
  stop_berth
  ((CLUSTER_SERVICES)) && stop_services
  if [[ "${KEEP_WORK:-0}" != 1 ]]; then rm -rf "$WORK"; fi
}

summary() {
  local i n
  if ((CLUSTER_N > 0)); then
    for i in $(seq 1 "$CLUSTER_N"); do
      n=$(node_requests "$i")
      if ((n > 0)); then pass "cluster node $i answered $n requests"; else fail "cluster node $i answered no request"; fi
    done
  fi
  stop_berth
  check_sanitizer_reports
  echo "$PASSED passed, $FAILED failed"
  [[ $FAILED -eq 0 ]]
}
