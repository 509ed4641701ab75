#!/bin/bash
# Integration test with the docker client (Debian's docker.io: /usr/bin/docker
# and /usr/sbin/dockerd, not any other docker on PATH) against `berth serve`
# with token auth, set up as a client on another host would see it:
#
#   - berth listens on a non-loopback address (IP = 192.0.2.10, a
#     documentation address), with tls.hosts = IP and auth.realm =
#     https://IP:TOKEN_PORT/token. dockerd treats 127.0.0.0/8 as an insecure
#     registry and skips certificate checks there, so only a non-loopback
#     address tests the trust hints for real. Nothing is exposed: the suite
#     re-runs itself in a private network namespace (unshare --net) whose
#     only interface is lo, carrying 127.0.0.1 and IP; berth, dockerd and the
#     clients all run there.
#   - The trust commands that berth prints at start-up for docker, podman/
#     skopeo and containerd are run as printed; each client then works with no
#     certificate flag, and fails before its command is run.
#   - docker: login (right password ok, wrong refused), push to alice/,
#     pull back after removing the local image (same digest), push to bob/ as
#     alice denied, pull of bob's private image denied, logout then push refused.
#   - ctr (containerd's client, against the containerd that dockerd runs):
#     fetch with --hosts-dir /etc/containerd/certs.d as printed.
#   - The printed system trust store command (update-ca-certificates), in a
#     private mount namespace: curl and skopeo then trust berth unaided.
#   - No "remote clients cannot log in" warning for this set-up.
#   - BERTH_TARGET=cluster: the same against two nodes on S3 + PostgreSQL
#     (127.0.0.2 and 127.0.0.3, on the front's ports) behind HAProxy on IP.
#
# The test starts its own dockerd: own data root, exec root, private socket,
# pid file and daemon.json under $WORK, --bridge=none --iptables=false
# --ip6tables=false (nothing on the host's network changes); overlay2, or vfs
# when overlay2 does not start. Files it puts under /etc (the printed
# certs.d entries for IP:PORT) are removed at exit, and dockerd is stopped.
#
# Environment: KEEP_WORK=1 keeps the temp dir (client logs in $WORK/logs).

# Into a private network namespace first (see above). Not a BERTH_*
# variable: berth refuses unknown ones.
if [[ "${DOCKER_TEST_NETNS:-}" != 1 ]]; then
  if [[ $(id -u) -eq 0 ]]; then
    exec unshare --net -- env DOCKER_TEST_NETNS=1 bash -c \
      'ip link set lo up && ip addr add 192.0.2.10/32 dev lo && exec bash "$0"' "$0"
  fi
fi

source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/oci.sh"

LOGS=$WORK/logs
mkdir -p "$LOGS" "$WORK/tmp"
DOCKER=/usr/bin/docker
DOCKERD=/usr/sbin/dockerd
DK=$WORK/docker
DOCKERD_PID=""
ETC_MADE=()  # folders under /etc this suite created (removed at exit)

# run LABEL CMD...: runs CMD bounded by `timeout 120`, stdout to
# $LOGS/LABEL.out, stderr to $LOGS/LABEL.err. Returns CMD's exit code.
run() {
  local label=$1
  shift
  timeout 120 bash -c '"$@"' _ "$@" >"$LOGS/$label.out" 2>"$LOGS/$label.err" </dev/null
}
# run_in LABEL INPUT CMD...: run with INPUT on stdin.
run_in() {
  local label=$1 input=$2
  shift 2
  printf '%s\n' "$input" | timeout 120 bash -c '"$@"' _ "$@" >"$LOGS/$label.out" 2>"$LOGS/$label.err"
}
need() {
  if ! command -v "$1" >/dev/null; then fail "$1 is installed (apt-get install ${2:-$1})"; return 1; fi
}
# the docker client on the private socket, with a private config (auth) folder
dk() { env DOCKER_HOST="unix://$DK/docker.sock" DOCKER_CONFIG="$DK/client" "$DOCKER" "$@"; }
export -f dk
export DK DOCKER

stop_dockerd() {
  [[ -n $DOCKERD_PID ]] || return 0
  kill -TERM "$DOCKERD_PID" 2>/dev/null
  local i
  for i in $(seq 1 150); do kill -0 "$DOCKERD_PID" 2>/dev/null || break; sleep 0.1; done
  kill -KILL "$DOCKERD_PID" 2>/dev/null
  wait "$DOCKERD_PID" 2>/dev/null
  DOCKERD_PID=""
  # dockerd stops the containerd it started; a killed one may leave it and mounts
  local c
  c=$(cat "$DK/exec/containerd/containerd.pid" 2>/dev/null || true)
  [[ -n $c ]] && kill -KILL "$c" 2>/dev/null
  grep -o " $DK/[^ ]*" /proc/mounts 2>/dev/null | sort -r | while read -r m; do umount -l "$m" 2>/dev/null; done
}

docker_cleanup() {
  stop_dockerd
  local d
  for d in ${ETC_MADE[@]+"${ETC_MADE[@]}"}; do rm -rf "$d"; rmdir "$(dirname "$d")" 2>/dev/null; done
  cleanup
}
trap docker_cleanup EXIT

# start_dockerd [EXTRA FLAGS...]: starts dockerd, waits (<= 30 s) until it
# answers. Returns non-zero when it does not.
start_dockerd() {
  mkdir -p "$DK/client"
  echo '{}' >"$DK/client/config.json"
  # deprecated-key-path: else dockerd 20.10 writes /etc/docker/key.json
  printf '{"deprecated-key-path": "%s"}\n' "$DK/key.json" >"$DK/daemon.json"
  setsid "$DOCKERD" --config-file "$DK/daemon.json" --data-root "$DK/data" --exec-root "$DK/exec" \
    -H "unix://$DK/docker.sock" --pidfile "$DK/docker.pid" \
    --bridge=none --iptables=false --ip6tables=false "$@" >>"$DK/dockerd.log" 2>&1 </dev/null &
  DOCKERD_PID=$!
  local i
  for i in $(seq 1 60); do
    timeout 5 env DOCKER_HOST="unix://$DK/docker.sock" "$DOCKER" version >/dev/null 2>&1 && return 0
    kill -0 "$DOCKERD_PID" 2>/dev/null || break
    sleep 0.5
  done
  echo "  dockerd $* did not start:"; tail -n 5 "$DK/dockerd.log" | sed 's/^/  | /'
  stop_dockerd
  return 1
}

# printed WHAT: the command berth printed after "  WHAT: " at start-up.
printed() { sed -n "s/^.* $1: //p" "$ROOT.log" | head -1; }

# run_printed LABEL WHAT: runs the printed command for WHAT, as printed, and
# records the certs.d folder it makes for removal at exit.
run_printed() {
  local cmd
  cmd=$(printed "$2")
  [[ -n $cmd ]] || { echo "  berth printed no '$2:' line"; return 1; }
  local d
  for d in $(grep -oE '/etc/[a-z]+/certs\.d/[^ /]+' <<<"$cmd" | sort -u); do
    [[ -e $d ]] || ETC_MADE+=("$d")
  done
  echo "  \$ $cmd"
  run "$1" bash -c "$cmd"
}

# ---------------------------------------------------------------- set-up

for _ in $(seq 1 18); do [[ -x $BERTH_BIN ]] && break; echo "waiting for $BERTH_BIN"; sleep 10; done
# Others rebuild the binary while tests run: use one private copy throughout.
for _ in $(seq 1 20); do
  cp "$BERTH_BIN" "$WORK/berth.bin" 2>/dev/null && "$WORK/berth.bin" --help >/dev/null 2>&1 && break
  sleep 3
done
BERTH_BIN=$WORK/berth.bin
if [[ $(id -u) -ne 0 ]]; then
  fail "docker_test runs as root (it starts dockerd and writes certs.d entries under /etc)"
  summary
  exit 1
fi
if [[ ! -x $DOCKER || ! -x $DOCKERD ]]; then
  fail "Debian's docker.io is installed ($DOCKER, $DOCKERD)"
  summary
  exit 1
fi
need skopeo; need jq; need curl
HAVE_CTR=1; need ctr containerd || HAVE_CTR=0

IP=192.0.2.10  # on lo, in this suite's own network namespace
ROOT=$WORK/root
PORT=$(free_port)
TP=$(free_port)
while [[ $TP == "$PORT" ]]; do TP=$(free_port); done
R=$IP:$PORT
mkdir -p "$ROOT"
for u in alice bob; do
  echo "${u}pass" | timeout 30 "$BERTH_BIN" user add "$u" --password-stdin -f "$ROOT/htpasswd" >>"$LOGS/user-add.log" 2>&1 ||
    fail "berth user add $u"
done
if [[ ${BERTH_TARGET:-one} == cluster ]]; then
  # Two nodes on S3 + PostgreSQL, on 127.0.0.2 and 127.0.0.3 with the
  # front's ports (as on hosts of their own), HAProxy on IP:PORT and IP:TP.
  start_services && CLUSTER_SERVICES=1
  CLUSTER_SHARED=$ROOT CLUSTER_FRONT_ADDR=$IP CLUSTER_NODE_ADDRS="127.0.0.2 127.0.0.3"
  CLUSTER_REG_PORT=$PORT CLUSTER_TOKEN_PORT=$TP CLUSTER_LOG=$ROOT.log
  start_cluster 2 BERTH_AUTH_REALM="https://$IP:$TP/token" BERTH_TLS_HOSTS="$IP" ||
    echo "the cluster did not start"
  BERTH_PID=${NODE_PID[1]:-}
else
  # lib.sh's start_berth waits on 127.0.0.1; this berth listens on IP only.
  env BERTH_STORAGE_ROOT="$ROOT" BERTH_REGISTRY_ADDR="$IP" BERTH_REGISTRY_PORT="$PORT" BERTH_LOG_LEVEL=info \
    BERTH_AUTH_ENABLED=true BERTH_TOKEN_ADDR="$IP" BERTH_TOKEN_PORT="$TP" \
    BERTH_AUTH_REALM="https://$IP:$TP/token" BERTH_TLS_HOSTS="$IP" \
    "$BERTH_BIN" serve >>"$ROOT.log" 2>&1 &
  BERTH_PID=$!
fi
BASE=https://$R
CACERT=$ROOT/keys/tls.crt
up=0
for _ in $(seq 1 100); do
  if [[ -f $CACERT ]] && curl -s -o /dev/null --cacert "$CACERT" "$BASE/v2/" &&
    curl -s -o /dev/null --cacert "$CACERT" "https://$IP:$TP/token"; then up=1; break; fi
  kill -0 "$BERTH_PID" 2>/dev/null || break
  sleep 0.1
done
if [[ $up != 1 ]]; then
  fail "berth serve starts on $IP"
  tail -n 20 "$ROOT.log"
  summary
  exit 1
fi
echo "# berth on $BASE, token server https://$IP:$TP/token, work dir $WORK"
check "certificate names $IP (tls.hosts)" bash -c \
  "openssl x509 -in '$CACERT' -noout -ext subjectAltName | grep -q 'IP Address:$IP'"
check "no 'cannot log in' warning: the realm names $IP, not a loopback name" \
  bash -c "! grep -q 'cannot log in' '$ROOT.log'"

DRIVER=overlay2
if ! start_dockerd; then
  DRIVER=vfs
  if ! start_dockerd --storage-driver=vfs --exec-opt native.cgroupdriver=cgroupfs; then
    fail "dockerd starts (overlay2, then vfs)"
    summary
    exit 1
  fi
fi
pass "dockerd starts ($DRIVER, private socket, --bridge=none --iptables=false)"

# ================================================================ 1. trust
echo "# 1. trust: before the printed commands, clients refuse the certificate"
use_private_container_config
run sk-untrusted skopeo inspect --creds alice:alicepass "docker://$R/alice/none:v1"
expect_contains "skopeo without the certificate: x509 error" "certificate" "$(cat "$LOGS/sk-untrusted.err")"
if [[ $IP != 127.* ]]; then
  run_in dk-untrusted alicepass dk login -u alice --password-stdin "$R"
  expect_contains "docker login without the certificate: x509 error" "certificate" "$(cat "$LOGS/dk-untrusted.err")"
fi
check "run the printed docker command" run_printed trust-docker docker
check "run the printed podman/skopeo command" run_printed trust-containers "podman, buildah, skopeo"
check "docker ca.crt in /etc/docker/certs.d/$R/" cmp -s "$CACERT" "/etc/docker/certs.d/$R/ca.crt"
check "ca.crt in /etc/containers/certs.d/$R/" cmp -s "$CACERT" "/etc/containers/certs.d/$R/ca.crt"

# ================================================================ 2. docker
echo "# 2. docker login, push, pull, denials, logout (dockerd not restarted after the trust step)"
run_in dk-login-bad wrongpass dk login -u alice --password-stdin "$R"
rc=$?
check "docker login with a wrong password refused" test $rc -ne 0
expect_contains "  ... and says why" "unauthorized" "$(tr '[:upper:]' '[:lower:]' <"$LOGS/dk-login-bad.err")"
run_in dk-login alicepass dk login -u alice --password-stdin "$R"
check "docker login alice" test $? -eq 0
expect_contains "  ... Login Succeeded" "Login Succeeded" "$(cat "$LOGS/dk-login.out")"

mkdir -p "$WORK/img"
echo "pushed by docker $PORT" >"$WORK/img/hello.txt"
tar --owner=0 --group=0 --numeric-owner -C "$WORK/img" -cf "$WORK/img.tar" hello.txt
check "docker import a one-file image" run dk-import dk import "$WORK/img.tar" "$R/alice/dk:v1"
check "docker push alice/dk:v1" run dk-push dk push "$R/alice/dk:v1"
PUSHED=$(grep -oE 'digest: sha256:[0-9a-f]{64}' "$LOGS/dk-push.out" | cut -d' ' -f2)
check "  ... push printed a digest" test -n "$PUSHED"
run sk-inspect skopeo inspect --creds alice:alicepass "docker://$R/alice/dk:v1"
expect_eq "skopeo (certs.d, no flag) sees docker's digest in berth" "x$PUSHED" "x$(jq -r .Digest "$LOGS/sk-inspect.out" 2>/dev/null)"
run dk-rmi dk rmi "$R/alice/dk:v1"
check "local image removed" bash -c "! dk image inspect '$R/alice/dk:v1' >/dev/null 2>&1"
check "docker pull alice/dk:v1" run dk-pull dk pull "$R/alice/dk:v1"
run dk-inspect dk image inspect --format '{{join .RepoDigests " "}}' "$R/alice/dk:v1"
expect_eq "pulled image's digest = pushed digest" "$R/alice/dk@$PUSHED" "$(cat "$LOGS/dk-inspect.out")"
run dk-cat dk save "$R/alice/dk:v1" -o "$WORK/saved.tar"
check "pulled image holds the file" bash -c \
  "tar -xOf '$WORK/saved.tar' --wildcards '*/layer.tar' | tar -xOf - hello.txt | grep -qx 'pushed by docker $PORT'"

run dk-tag-bob dk tag "$R/alice/dk:v1" "$R/bob/dk:v1"
run dk-push-bob dk push "$R/bob/dk:v1"
rc=$?
check "docker push bob/dk:v1 as alice refused" test $rc -ne 0
expect_contains "  ... with 'requested access to the resource is denied'" \
  "requested access to the resource is denied" "$(cat "$LOGS/dk-push-bob.err")"
run sk-bob-absent skopeo inspect --creds bob:bobpass "docker://$R/bob/dk:v1"
check "  ... and bob/dk:v1 is not in berth" test $? -ne 0

make_oci "$WORK/bob-oci" v1 "bob's private image" >/dev/null
check "bob pushes bob/secret:v1 (skopeo copy, certs.d, no flag)" \
  run sk-push-bob skopeo copy --dest-creds bob:bobpass "oci:$WORK/bob-oci:v1" "docker://$R/bob/secret:v1"
run dk-pull-bob dk pull "$R/bob/secret:v1"
rc=$?
check "docker pull bob/secret:v1 as alice refused" test $rc -ne 0
expect_contains "  ... says access denied" "denied" "$(cat "$LOGS/dk-pull-bob.err")"

check "docker logout" run dk-logout dk logout "$R"
check "  ... credentials gone from the client config" bash -c "! grep -q '$R' '$DK/client/config.json'"
run dk-tag2 dk tag "$R/alice/dk:v1" "$R/alice/dk:v2"
run dk-push-anon dk push "$R/alice/dk:v2"
rc=$?
check "docker push after logout refused" test $rc -ne 0
check "  ... says why (unauthorized / authentication required / denied)" \
  grep -qiE 'unauthorized|authentication required|denied' "$LOGS/dk-push-anon.err"
run sk-v2-absent skopeo inspect --creds alice:alicepass "docker://$R/alice/dk:v2"
check "  ... and alice/dk:v2 is not in berth" test $? -ne 0

# ================================================================ 3. containerd
if [[ $HAVE_CTR == 1 ]]; then
  echo "# 3. containerd: ctr --hosts-dir /etc/containerd/certs.d, as printed"
  CTR=(ctr -a "$DK/exec/containerd/containerd.sock" -n berth-test)
  if [[ $IP != 127.* ]]; then  # (ctr speaks plain HTTP to 127.0.0.1 without a hosts.toml)
    run ctr-untrusted "${CTR[@]}" content fetch --user alice:alicepass "$R/alice/dk:v1"
    check "ctr without the hosts dir refused (certificate)" grep -qi certificate "$LOGS/ctr-untrusted.err"
  fi
  check "run the printed containerd command" run_printed trust-containerd containerd
  check "  ... hosts.toml written" test -s "/etc/containerd/certs.d/$R/hosts.toml"
  check "ctr content fetch --hosts-dir /etc/containerd/certs.d alice/dk:v1" \
    run ctr-fetch "${CTR[@]}" content fetch --hosts-dir /etc/containerd/certs.d --user alice:alicepass "$R/alice/dk:v1"
  run ctr-fetch-bob "${CTR[@]}" content fetch --hosts-dir /etc/containerd/certs.d --user alice:alicepass "$R/bob/secret:v1"
  check "ctr fetch bob/secret:v1 as alice refused" test $? -ne 0
  check "  ... says why" grep -qiE 'denied|insufficient_scope|unauthorized|401' "$LOGS/ctr-fetch-bob.err"
  check "  ... and no second try without the CA (one host in hosts.toml)" \
    bash -c "! grep -qi x509 '$LOGS/ctr-fetch-bob.err'"
fi

# ================================================================ 4. system trust store
# The printed update-ca-certificates command, run in a private mount
# namespace (copies of /etc/ssl/certs and /usr/local/share/ca-certificates
# mounted over the real ones, the certs.d folders hidden), so the host's
# trust store is never changed; then curl and skopeo with no CA option.
if command -v update-ca-certificates >/dev/null && timeout 10 unshare -m true 2>/dev/null; then
  echo "# 4. system trust store (private mount namespace)"
  SYS=$WORK/sys
  mkdir -p "$SYS/empty"
  cp -a /etc/ssl/certs "$SYS/ssl-certs"
  cp -a /usr/local/share/ca-certificates "$SYS/local-cas"
  cat >"$SYS/run.sh" <<EOF
set -e
mount --bind "$SYS/ssl-certs" /etc/ssl/certs
mount --bind "$SYS/local-cas" /usr/local/share/ca-certificates
for d in /etc/containers/certs.d /etc/docker/certs.d /etc/containerd/certs.d; do
  [ -d \$d ] && mount --bind "$SYS/empty" \$d
done
set +e
curl -s -o /dev/null "$BASE/v2/" && echo "curl trusted before"
skopeo inspect --creds alice:alicepass "docker://$R/alice/dk:v1" >/dev/null 2>&1 && echo "skopeo trusted before"
set -e
$(printed "or the system trust store ([^)]*)")
curl -s -o /dev/null "$BASE/v2/" && echo "curl ok"
skopeo inspect --creds alice:alicepass "docker://$R/alice/dk:v1" | jq -r .Digest
EOF
  run sys-store timeout 120 unshare -m bash "$SYS/run.sh"
  check "system trust store: the printed command runs" test -n "$(printed "or the system trust store ([^)]*)")"
  check "  ... before it, neither curl nor skopeo trusts berth" bash -c "! grep -q 'trusted before' '$LOGS/sys-store.out'"
  check "  ... after it, curl trusts berth (no --cacert)" grep -qx "curl ok" "$LOGS/sys-store.out"
  expect_eq "  ... and skopeo (no certs.d, no flag) reads the pushed digest" "x$PUSHED" "x$(tail -1 "$LOGS/sys-store.out")"
fi

# ---------------------------------------------------------------- report
if [[ $FAILED -gt 0 ]]; then
  echo "# client logs: $LOGS, berth log: $ROOT.log, dockerd log: $DK/dockerd.log$([[ ${KEEP_WORK:-0} == 1 ]] || echo ' (set KEEP_WORK=1 to keep them)')"
  tail -n 5 "$DK/dockerd.log" | sed 's/^/  | /'
fi
stop_dockerd
summary
