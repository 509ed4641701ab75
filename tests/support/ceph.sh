#!/usr/bin/env bash
# A throwaway single-node Ceph cluster with an RGW (S3) for tests, entirely
# under one directory: its own ceph.conf names every path, so nothing in
# /etc/ceph or /var/lib/ceph is read or written, and no systemd is needed.
#
#   ceph.sh start DIR   mon + memstore OSD + RGW on free 127.0.0.1 ports, an
#                       S3 user; writes DIR/s3.env (S3_ENDPOINT, S3_ACCESS_KEY,
#                       S3_SECRET_KEY, S3_REGION, S3_BUCKET; the bucket
#                       exists) and prints it. Start-up takes ~3 s; the
#                       three daemons use ~145 MiB RSS when idle.
#                       Exits non-zero with the logs' tails when a step does
#                       not finish within CEPH_WAIT seconds (default 60).
#   ceph.sh stop DIR    stops what `start DIR` started (PIDs from DIR/*.pid),
#                       RGW first, then the OSD, then the mon.
#
# CEPH_MEMSTORE_BYTES (default 4 GiB) caps the OSD's in-memory store; it uses
# about twice the stored bytes in RAM, so size it above a test's peak: a full
# RGW hangs instead of failing.
set -euo pipefail

usage() { echo "usage: $0 start|stop DIR" >&2; exit 2; }
(($# == 2)) || usage
cmd=$1
DIR=$(mkdir -p "$2" && cd "$2" && pwd)
CONF=$DIR/ceph.conf
WAIT=${CEPH_WAIT:-60}

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

logs_tail() {
  local f
  for f in "$DIR"/log/*.log "$DIR"/*.out; do
    [[ -s $f ]] || continue
    echo "--- tail of $f" >&2
    tail -n 15 "$f" >&2
  done
}

die() {
  echo "ceph.sh: $*" >&2
  logs_tail
  exit 1
}

# wait_for WHAT COMMAND...: retries COMMAND every 0.1 s for up to $WAIT s.
wait_for() {
  local what=$1 deadline=$((SECONDS + WAIT))
  shift
  until "$@" >/dev/null 2>&1; do
    ((SECONDS < deadline)) || die "timed out after ${WAIT}s waiting for $what"
    sleep 0.1
  done
}

alive() { [[ -s $1 ]] && kill -0 "$(cat "$1")" 2>/dev/null; }

# stop_pid FILE SIGNAL GRACE: sends SIGNAL to the PID in FILE, waits up to
# GRACE seconds, then SIGKILLs it.
stop_pid() {
  local file=$1 sig=$2 grace=$3 pid i
  [[ -s $file ]] || return 0
  pid=$(cat "$file")
  if kill -0 "$pid" 2>/dev/null; then
    kill "-$sig" "$pid" 2>/dev/null || true
    for ((i = 0; i < grace * 10; i++)); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.1
    done
    kill -KILL "$pid" 2>/dev/null || true
    for ((i = 0; i < 50; i++)); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.1
    done
  fi
  rm -f "$file"
}

ceph_() { timeout 20 ceph -c "$CONF" "$@"; }

osd_up_in() {
  ceph_ osd dump -f json | python3 -c '
import json, sys
d = json.load(sys.stdin)
sys.exit(0 if any(o["up"] == 1 and o["in"] == 1 for o in d["osds"]) else 1)'
}

rgw_serving() { [[ $(curl -s -m 2 -o /dev/null -w '%{http_code}' "$ENDPOINT/") == 200 ]]; }

start() {
  local start_ns
  start_ns=$(date +%s%N)
  mkdir -p "$DIR"/{mon,osd,rgw,run,log,crash}
  local mon_port rgw_port fsid
  mon_port=$(free_port)
  rgw_port=$(free_port)
  fsid=$(uuidgen)
  ENDPOINT=http://127.0.0.1:$rgw_port
  cat >"$CONF" <<CONF
[global]
fsid = $fsid
mon host = [v2:127.0.0.1:$mon_port]
public addr = 127.0.0.1
ms bind msgr1 = false
ms bind ipv6 = false
keyring = $DIR/keyring
run dir = $DIR/run
admin socket = $DIR/run/\$name.asok
pid file = $DIR/run/\$name.pid
log file = $DIR/log/\$name.log
crash dir = $DIR/crash
log to stderr = false
err to stderr = true
osd pool default size = 1
osd pool default min size = 1
osd pool default pg num = 8
osd pool default pgp num = 8
osd pool default pg autoscale mode = off
mon allow pool size one = true
mon warn on pool no redundancy = false
osd crush chooseleaf type = 0
paxos propose interval = 0.05
mon data = $DIR/mon
osd data = $DIR/osd
osd objectstore = memstore
memstore device bytes = ${CEPH_MEMSTORE_BYTES:-4294967296}
rgw data = $DIR/rgw
rgw frontends = beast endpoint=127.0.0.1:$rgw_port
rgw gc obj min wait = 60
CONF

  local kr=$DIR/keyring
  ceph-authtool --create-keyring "$kr" --gen-key -n mon. --cap mon 'allow *' >/dev/null
  ceph-authtool "$kr" --gen-key -n client.admin --cap mon 'allow *' --cap osd 'allow *' \
    --cap mgr 'allow *' >/dev/null
  ceph-authtool "$kr" --gen-key -n osd.0 --cap mon 'allow profile osd' --cap osd 'allow *' \
    --cap mgr 'allow profile osd' >/dev/null
  ceph-authtool "$kr" --gen-key -n client.rgw.a --cap mon 'allow rw' --cap osd 'allow rwx' >/dev/null
  monmaptool --create --fsid "$fsid" --addv a "[v2:127.0.0.1:$mon_port]" "$DIR/monmap" >/dev/null

  ceph-mon -c "$CONF" -i a --mkfs --monmap "$DIR/monmap" --keyring "$kr" >"$DIR/mon.out" 2>&1 ||
    die "ceph-mon --mkfs failed"
  ceph-mon -c "$CONF" -i a -f >>"$DIR/mon.out" 2>&1 &
  echo $! >"$DIR/mon.pid"
  wait_for "the mon" ceph_ mon stat

  local osd_uuid
  osd_uuid=$(uuidgen)
  ceph_ osd new "$osd_uuid" >/dev/null || die "ceph osd new failed"
  ceph-osd -c "$CONF" -i 0 --mkfs --osd-uuid "$osd_uuid" >"$DIR/osd.out" 2>&1 ||
    die "ceph-osd --mkfs failed"
  ceph-osd -c "$CONF" -i 0 -f >>"$DIR/osd.out" 2>&1 &
  echo $! >"$DIR/osd.pid"
  wait_for "the OSD to be up and in" osd_up_in

  radosgw -c "$CONF" -n client.rgw.a -f >"$DIR/rgw.out" 2>&1 &
  echo $! >"$DIR/rgw.pid"
  wait_for "RGW to serve GET /" rgw_serving

  local access secret
  access=$(openssl rand -hex 10 | tr a-f A-F)
  secret=$(openssl rand -hex 20)
  timeout 30 radosgw-admin -c "$CONF" -n client.admin user create --uid=berth-test \
    --display-name=berth-test --access-key="$access" --secret-key="$secret" >"$DIR/user.json" \
    2>"$DIR/user.out" || die "radosgw-admin user create failed"

  # The bucket exists from the start: code under test may still create it
  # (it is then already ours, which S3 treats as success).
  curl -sf -m 20 --aws-sigv4 "aws:amz:us-east-1:s3" --user "$access:$secret" \
    -H 'x-amz-content-sha256: UNSIGNED-PAYLOAD' -X PUT "$ENDPOINT/berth-test" >/dev/null ||
    die "creating the bucket berth-test failed"

  cat >"$DIR/s3.env" <<ENV
S3_ENDPOINT=$ENDPOINT
S3_ACCESS_KEY=$access
S3_SECRET_KEY=$secret
S3_REGION=us-east-1
S3_BUCKET=berth-test
ENV
  local ms rss=0 f
  ms=$((($(date +%s%N) - start_ns) / 1000000))
  for f in mon osd rgw; do
    rss=$((rss + $(ps -o rss= -p "$(cat "$DIR/$f.pid")" || echo 0)))
  done
  echo "# ceph started in ${ms} ms; RSS mon+osd+rgw $((rss / 1024)) MiB" >&2
  cat "$DIR/s3.env"
}

stop() {
  # RGW first: it hangs on SIGTERM once the mon and OSD are gone. A memstore
  # OSD writes its whole store out on SIGTERM, so it gets SIGKILL.
  stop_pid "$DIR/rgw.pid" TERM 10
  stop_pid "$DIR/osd.pid" KILL 0
  stop_pid "$DIR/mon.pid" TERM 10
}

case $cmd in
  start)
    if [[ -e $CONF ]]; then
      echo "ceph.sh: $DIR already holds a cluster (stop it, then remove the directory)" >&2
      exit 1
    fi
    # A half-started cluster is stopped before the error is reported.
    trap 'rc=$?; if ((rc != 0)); then stop; fi' EXIT
    start
    ;;
  stop) stop ;;
  *) usage ;;
esac
