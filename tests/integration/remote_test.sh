#!/bin/bash
# Integration test for clients on other hosts (README "Remote clients"):
#
#   1. The start-up warning: `berth serve` warns that remote clients cannot
#      log in when the realm's host resolves only to loopback (localhost,
#      127.0.0.1, [::1], a host name mapped to 127.x by /etc/hosts) while the
#      registry listens on 0.0.0.0; not when it listens on 127.0.0.1, nor when
#      the realm names a non-loopback address; a realm host that does not
#      resolve, or whose look-up hangs (a resolver that never answers, in a
#      private mount namespace), neither warns nor holds start-up for long.
#   2. tls.hosts: the generated certificate names them, and the printed trust
#      commands use the first one (the name clients use), for podman/skopeo,
#      docker, containerd and the system trust store; skopeo is told
#      --src-cert-dir/--dest-cert-dir for copy.
#
# The real clients run the printed commands in docker_test.sh.
#
# berth must listen on 0.0.0.0 here, so as root the suite re-runs itself in
# a private network namespace (unshare --net) whose only interface is lo:
# the wildcard address then reaches nothing outside this test.

if [[ "${REMOTE_TEST_NETNS:-}" != 1 && $(id -u) -eq 0 ]]; then
  exec unshare --net -- env REMOTE_TEST_NETNS=1 bash -c 'ip link set lo up && exec bash "$0"' "$0"
fi

source "$(dirname "$0")/lib.sh"

for _ in $(seq 1 18); do [[ -x $BERTH_BIN ]] && break; echo "waiting for $BERTH_BIN"; sleep 10; done
for _ in $(seq 1 20); do
  cp "$BERTH_BIN" "$WORK/berth.bin" 2>/dev/null && "$WORK/berth.bin" --help >/dev/null 2>&1 && break
  sleep 3
done
BERTH_BIN=$WORK/berth.bin
BERTH_ROLE=serve
WARNING='remote clients|cannot log in'
N=0

# serve NAME REALM ADDR [ENV=VALUE...]: starts `berth serve` on a fresh root
# with auth on, registry.addr ADDR and auth.realm REALM (TP in REALM is
# replaced by the token port); leaves the log in $LOG. Stops it again.
serve() {
  local name=$1 realm=$2 addr=$3 port tp t0
  shift 3
  N=$((N + 1))
  port=$(free_port)
  tp=$(free_port)
  while [[ $tp == "$port" ]]; do tp=$(free_port); done
  ROOTN=$WORK/r$N
  LOG=$ROOTN.log
  t0=$(date +%s.%N)
  if ! start_berth "$ROOTN" "$port" BERTH_REGISTRY_ADDR="$addr" BERTH_AUTH_ENABLED=true \
    BERTH_TOKEN_ADDR=127.0.0.1 BERTH_TOKEN_PORT="$tp" BERTH_AUTH_REALM="${realm//TP/$tp}" "$@"; then
    fail "$name: berth serve starts"
    return 1
  fi
  STARTED_IN=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN{printf "%.1f", b-a}')
  PORTN=$port
  stop_berth
}
warns() { grep -qiE "$WARNING" "$LOG"; }
quiet() { ! grep -qiE "$WARNING" "$LOG"; }

# ================================================================ 1. warning
echo "# 1. the 'remote clients cannot log in' warning"
if serve "localhost realm, 0.0.0.0" https://localhost:TP/token 0.0.0.0; then
  check "realm https://localhost:…, registry on 0.0.0.0: warns" warns
  check "  ... and says to set auth.realm and tls.hosts" bash -c \
    "grep -i warn '$LOG' | grep -q auth.realm && grep -i warn '$LOG' | grep -q tls.hosts"
  check "  ... naming the loopback address it resolved to" bash -c \
    "grep -i warn '$LOG' | grep -qE 'loopback \\((127\\.0\\.0\\.1|::1)'"
fi
if serve "localhost realm, 127.0.0.1" https://localhost:TP/token 127.0.0.1; then
  check "realm https://localhost:…, registry on 127.0.0.1: no warning" quiet
fi
if serve "127.0.0.1 realm, 0.0.0.0" https://127.0.0.1:TP/token 0.0.0.0; then
  check "realm https://127.0.0.1:…, registry on 0.0.0.0: warns" warns
fi
if serve "[::1] realm, 0.0.0.0" 'https://[::1]:TP/token' 0.0.0.0; then
  check "realm https://[::1]:…, registry on 0.0.0.0: warns" warns
fi
if serve "non-loopback realm, 0.0.0.0" https://203.0.113.7:TP/token 0.0.0.0; then
  check "realm naming a non-loopback address (203.0.113.7), registry on 0.0.0.0: no warning" quiet
fi
if serve "unresolvable realm" https://no-such-host.invalid:TP/token 0.0.0.0; then
  check "realm host that does not resolve: no warning" quiet
  check "  ... and start-up is not held by the look-up (${STARTED_IN} s < 6 s)" \
    awk -v t="$STARTED_IN" 'BEGIN{exit !(t < 6)}'
fi
# A resolver that never answers (a private mount namespace whose
# /etc/resolv.conf names an unused TEST-NET address): getaddrinfo takes ~10 s,
# berth must not wait for it.
if timeout 10 unshare -m true 2>/dev/null; then
  printf 'nameserver 192.0.2.123\noptions timeout:5 attempts:2\n' >"$WORK/resolv.conf"
  REAL_BIN=$BERTH_BIN
  cat >"$WORK/berth-slowdns" <<EOF
#!/bin/sh
exec unshare -m sh -c 'mount --bind "$WORK/resolv.conf" /etc/resolv.conf && exec "\$0" "\$@"' "$REAL_BIN" "\$@"
EOF
  chmod +x "$WORK/berth-slowdns"
  BERTH_BIN=$WORK/berth-slowdns
  if serve "slow DNS" https://slow-name.example.org:TP/token 0.0.0.0 BERTH_LOG_LEVEL=debug; then
    check "realm host whose look-up hangs: start-up not held (${STARTED_IN} s < 6 s)" \
      awk -v t="$STARTED_IN" 'BEGIN{exit !(t < 6)}'
    check "  ... no warning, a debug line says it was not checked" bash -c \
      "! grep -qiE '$WARNING' '$LOG' && grep -q 'did not resolve within 2000 ms' '$LOG'"
  fi
  BERTH_BIN=$REAL_BIN
else
  echo "  (unshare -m not permitted here: slow-DNS case skipped)"
fi
# A host name that /etc/hosts maps to loopback only (Debian's 127.0.1.1
# entry): the default realm (auth.realm empty) names it.
HN=$(hostname)
if getent ahosts "$HN" >/dev/null && ! getent ahosts "$HN" | awk '{print $1}' | grep -qvE '^(127\.|::1$)'; then
  if serve "default realm ($HN → loopback)" "" 0.0.0.0; then
    check "auth.realm empty, host name $HN resolves to loopback only: warns, saying it is the default" \
      bash -c "grep -i warn '$LOG' | grep -q 'the default'"
  fi
else
  echo "  (host name $HN resolves to a non-loopback address here: default-realm case not applicable)"
  if serve "default realm ($HN)" "" 0.0.0.0; then
    check "auth.realm empty, host name $HN resolves to a non-loopback address: no warning" quiet
  fi
fi

# ================================================================ 2. tls.hosts and the hints
echo "# 2. tls.hosts and the printed trust commands"
if serve "tls.hosts" https://registry.example.test:TP/token 127.0.0.1 \
  BERTH_TLS_HOSTS=registry.example.test,203.0.113.7; then
  SAN=$(openssl x509 -in "$ROOTN/keys/tls.crt" -noout -ext subjectAltName 2>/dev/null)
  expect_contains "certificate names registry.example.test" "DNS:registry.example.test" "$SAN"
  expect_contains "certificate names 203.0.113.7" "IP Address:203.0.113.7" "$SAN"
  expect_contains "certificate still names localhost" "DNS:localhost" "$SAN"
  H=registry.example.test:$PORTN
  CERT=$(cd "$ROOTN/keys" && pwd -P)/tls.crt
  hint() { sed -n "s/^.* $1: //p" "$LOG" | head -1; }
  expect_eq "podman/buildah/skopeo hint" \
    "mkdir -p /etc/containers/certs.d/$H && cp $CERT /etc/containers/certs.d/$H/ca.crt" \
    "$(hint 'podman, buildah, skopeo')"
  expect_eq "docker hint" \
    "mkdir -p /etc/docker/certs.d/$H && cp $CERT /etc/docker/certs.d/$H/ca.crt   # no restart needed" \
    "$(hint docker)"
  expect_contains "containerd hint writes hosts.toml with server and ca" \
    "printf 'server = \"https://$H\"\\nca = \"/etc/containerd/certs.d/$H/ca.crt\"\\n' >/etc/containerd/certs.d/$H/hosts.toml" \
    "$(hint containerd)"
  check "containerd: ctr --hosts-dir and CRI config_path named" bash -c \
    "grep -q -- '--hosts-dir /etc/containerd/certs.d' '$LOG' && grep -q 'config_path = \"/etc/containerd/certs.d\"' '$LOG'"
  check "skopeo: copy --src-cert-dir / --dest-cert-dir, --cert-dir for the rest" bash -c \
    "grep -q 'copy --src-cert-dir DIR / --dest-cert-dir DIR; inspect, list-tags, delete, login --cert-dir DIR' '$LOG'"
  check "system trust store hint" grep -q \
    "cp $CERT /usr/local/share/ca-certificates/berth-registry.example.test.crt && update-ca-certificates" "$LOG"
  check "no 'skopeo alone: --cert-dir' hint any more" bash -c "! grep -q 'skopeo alone' '$LOG'"
  check "realm registry.example.test (does not resolve), registry on 127.0.0.1: no warning" quiet
fi

summary
