#!/usr/bin/env bash
# A throwaway HAProxy in front of several berths, for the scale-out tests.
#
#   haproxy.sh start DIR NAME:FRONT:PEM:BACK[,BACK...] [NAME:...]
#   haproxy.sh stop DIR
#
# FRONT and each BACK are PORT (on 127.0.0.1) or IPV4@PORT. Each NAME gets a
# frontend on FRONT terminating TLS with PEM (certificate and key in one
# file) and a round-robin backend of berths on the BACKs, reached over TLS again and health-checked on /readyz
# every 500 ms. In HTTP mode every request is balanced on its own, so the
# requests of one client connection alternate between the berths. DIR/stats.sock
# is HAProxy's stats socket ("show stat": responses per server).
set -euo pipefail

cmd=${1:?start|stop}
dir=${2:?directory}
shift 2

stop() {
  if [[ -f "$dir/haproxy.pid" ]]; then
    local pid
    pid=$(cat "$dir/haproxy.pid")
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
    rm -f "$dir/haproxy.pid"
  fi
}

if [[ $cmd == stop ]]; then stop; exit 0; fi
[[ $cmd == start ]] || { echo "usage: haproxy.sh start|stop DIR ..." >&2; exit 2; }

mkdir -p "$dir"
cfg=$dir/haproxy.cfg
{
  echo "global"
  echo "  maxconn 2000"
  # Per-server counters for the tests (which node answered how much).
  echo "  stats socket $dir/stats.sock mode 600 level user"
  echo "defaults"
  echo "  mode http"
  echo "  timeout connect 2s"
  echo "  timeout client 120s"
  echo "  timeout server 120s"
  echo "  timeout http-request 30s"
  # A retried request goes to another server only when nothing was sent yet.
  echo "  retries 2"
  echo "  option redispatch"
  # The client's address for the berths (http.trusted_proxies).
  echo "  option forwardfor"
} >"$cfg"
fronts=()
for spec in "$@"; do
  IFS=: read -r name front pem ports <<<"$spec"
  [[ $front == *@* ]] || front=127.0.0.1@$front
  fronts+=("$front")
  {
    echo "frontend ${name}_in"
    echo "  bind ${front/@/:} ssl crt $pem"
    echo "  default_backend ${name}_nodes"
    echo "backend ${name}_nodes"
    echo "  balance roundrobin"
    echo "  option httpchk GET /readyz"
    echo "  http-check expect status 200"
    echo "  default-server ssl verify none check inter 500ms fall 2 rise 1"
    i=0
    for p in ${ports//,/ }; do
      i=$((i + 1))
      [[ $p == *@* ]] || p=127.0.0.1@$p
      echo "  server node$i ${p/@/:}"
    done
  } >>"$cfg"
done
haproxy -c -q -f "$cfg"
haproxy -db -f "$cfg" >"$dir/haproxy.log" 2>&1 &
echo $! >"$dir/haproxy.pid"
for front in "${fronts[@]}"; do
  for i in $(seq 1 100); do
    if (echo >"/dev/tcp/${front%@*}/${front#*@}") 2>/dev/null; then break; fi
    if ((i == 100)); then echo "haproxy did not listen on $front" >&2; tail "$dir/haproxy.log" >&2; stop; exit 1; fi
    sleep 0.05
  done
done
