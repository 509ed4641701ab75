#!/usr/bin/env bash
# The deployment files under deploy/, without systemd running or a cluster:
#   - the systemd units: required hardening keys; `systemd-analyze verify` and
#     `security --offline` (when systemd-analyze exists), the sysusers file
#     and the wait-for-lock drop-in;
#   - deploy/berth.yaml.example: the real binary serves with it;
#   - the OCF agent deploy/ocf/berth, standalone (its own fallback for
#     ocf-shellfuncs), action by action against the real binary: meta-data
#     (XML, DTD), validate-all, monitor/start/stop and their OCF exit codes,
#     idempotence, not-ready, a locked storage root, a stale pid file,
#     SIGKILL escalation, bad configurations, running as another user;
#   - the agent with Debian's ocf-shellfuncs, and `ocf-tester` from
#     resource-agents when installed;
#   - the keepalived example (keepalived --config-test when installed).
# All on 127.0.0.1, ports from free_port, a temporary storage root, HTTPS with
# the generated certificate checked through the agent's cacert parameter,
# auth off. Every agent call is bounded by `timeout`.
source "$(dirname "$0")/lib.sh"

DEPLOY=$TOP/deploy
AGENT=$DEPLOY/ocf/berth
UNITS=$DEPLOY/systemd
EXAMPLE=$DEPLOY/berth.yaml.example
KEEPALIVED=$DEPLOY/keepalived/keepalived.conf.example

# On exit: kill the processes this test started itself (EXTRA_PIDS) and every
# berth the agent started, i.e. every process whose command line names this
# test's private $WORK directory (its config file is there), even a frozen one
# whose pid file was overwritten.
EXTRA_PIDS=()
deploy_cleanup() {
  local pid
  for pid in "${EXTRA_PIDS[@]}" $(pgrep -f -- "$WORK/"); do
    [[ $pid == "$$" || $pid == "$BASHPID" ]] && continue
    kill -KILL "$pid" 2>/dev/null
  done
  cleanup
}
trap deploy_cleanup EXIT

note() { echo "# $*"; }

# http_code URL [CURL ARGS...]
http_code() {
  local url=$1
  shift
  curl -s -o /dev/null -w '%{http_code}' --noproxy '*' --max-time 5 "$@" "$url"
}

# ---------------------------------------------------------------- systemd units
note "systemd units"
for role in registry token; do
  unit=$UNITS/berth-$role.service
  if [[ ! -f $unit ]]; then
    fail "$unit exists"
    continue
  fi
  missing=()
  for line in '[Unit]' '[Service]' '[Install]' \
    "ExecStart=/usr/bin/berth $role --config /etc/berth/berth.yaml" \
    'User=berth' 'Group=berth' 'NoNewPrivileges=yes' 'ProtectSystem=strict' \
    'ReadWritePaths=/var/lib/berth' 'ProtectHome=yes' 'PrivateTmp=yes' 'PrivateDevices=yes' \
    'ProtectKernelTunables=yes' 'ProtectKernelModules=yes' 'ProtectControlGroups=yes' \
    'RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX' 'CapabilityBoundingSet=' \
    'LockPersonality=yes' 'MemoryDenyWriteExecute=yes' 'SystemCallFilter=@system-service' \
    'Restart=on-failure' 'KillSignal=SIGTERM' 'ExecReload=/bin/kill -HUP $MAINPID' \
    'WantedBy=multi-user.target'; do
    grep -qxF -- "$line" "$unit" || missing+=("$line")
  done
  expect_eq "berth-$role.service has every required line" "" "${missing[*]}"
  stop_s=$(sed -n 's/^TimeoutStopSec=\([0-9]*\)s\{0,1\}$/\1/p' "$unit")
  grace=$(sed -n 's/^ *shutdown_grace: *\([0-9]*\).*/\1/p' "$EXAMPLE")
  check "berth-$role.service: TimeoutStopSec ($stop_s) > http.shutdown_grace ($grace)" \
    test "${stop_s:-0}" -gt "${grace:-10}"
done
check "sysusers file declares user berth" grep -qE '^u[[:space:]]+berth[[:space:]]' "$UNITS/berth.sysusers.conf"
check "wait-for-lock drop-in resets ExecStart and adds --wait-for-lock" \
  bash -c "grep -qx 'ExecStart=' '$UNITS/berth-wait-for-lock.conf' &&
           grep -q '^ExecStart=/usr/bin/berth registry --wait-for-lock' '$UNITS/berth-wait-for-lock.conf'"

if command -v systemd-analyze >/dev/null; then
  # ExecStart must name an existing executable: point it at the built binary.
  udir=$WORK/units
  mkdir -p "$udir/berth-registry.service.d"
  for role in registry token; do
    sed "s|^ExecStart=/usr/bin/berth |ExecStart=$BERTH_BIN |" "$UNITS/berth-$role.service" \
      >"$udir/berth-$role.service"
  done
  sed "s|^ExecStart=/usr/bin/berth |ExecStart=$BERTH_BIN |" "$UNITS/berth-wait-for-lock.conf" \
    >"$udir/berth-registry.service.d/wait-for-lock.conf"
  for role in registry token; do
    out=$(cd "$udir" && timeout 120 systemd-analyze verify "./berth-$role.service" 2>&1)
    rc=$?
    # verify exits 0 on unknown keys too, only warning: any output is a failure.
    expect_eq "systemd-analyze verify berth-$role.service (with drop-ins for registry): rc 0, silent" \
      "0:" "$rc:$out"
    out=$(cd "$udir" && timeout 120 systemd-analyze security --offline=true --threshold=20 \
      "./berth-$role.service" 2>&1)
    rc=$?
    expect_eq "systemd-analyze security berth-$role.service: exposure <= 2.0 ($(echo "$out" |
      grep -o 'Overall exposure level.*' | sed 's/.*: //'))" 0 "$rc"
  done
  if command -v systemd-sysusers >/dev/null; then
    mkdir -p "$WORK/sysroot/etc"
    timeout 60 systemd-sysusers --root="$WORK/sysroot" "$UNITS/berth.sysusers.conf" >/dev/null 2>&1
    expect_contains "systemd-sysusers creates berth with home /var/lib/berth and nologin" \
      ":/var/lib/berth:/usr/sbin/nologin" "$(grep '^berth:' "$WORK/sysroot/etc/passwd" 2>/dev/null)"
  fi
else
  note "SKIP systemd-analyze verify/security: systemd-analyze is not installed (only the grep checks above ran)"
fi

# ------------------------------------------------------------ berth.yaml.example
note "berth.yaml.example with the real binary"
EX_ROOT=$WORK/example-root
EX_RP=$(free_port)
EX_TP=$(free_port)
env BERTH_STORAGE_ROOT="$EX_ROOT" BERTH_REGISTRY_ADDR=127.0.0.1 BERTH_REGISTRY_PORT="$EX_RP" \
  BERTH_TOKEN_ADDR=127.0.0.1 BERTH_TOKEN_PORT="$EX_TP" \
  "$BERTH_BIN" serve --config "$EXAMPLE" >"$WORK/example.log" 2>&1 &
ex_pid=$!
EXTRA_PIDS+=("$ex_pid")
ready=""
for _ in $(seq 1 100); do
  if [[ -f $EX_ROOT/keys/tls.crt ]] &&
    [[ $(http_code "https://127.0.0.1:$EX_RP/readyz" --cacert "$EX_ROOT/keys/tls.crt") == 200 ]] &&
    [[ $(http_code "https://127.0.0.1:$EX_TP/readyz" --cacert "$EX_ROOT/keys/tls.crt") == 200 ]]; then
    ready=yes
    break
  fi
  kill -0 "$ex_pid" 2>/dev/null || break
  sleep 0.1
done
expect_eq "berth serve --config berth.yaml.example: both /readyz 200" yes "$ready"
[[ -z $ready ]] && tail -5 "$WORK/example.log"
expect_contains "the generated certificate covers tls.hosts of the example" "192.0.2.10" \
  "$(openssl x509 -in "$EX_ROOT/keys/tls.crt" -noout -ext subjectAltName 2>/dev/null)"
kill -TERM "$ex_pid" 2>/dev/null
rc=$(timeout 20 bash -c "while kill -0 $ex_pid 2>/dev/null; do sleep 0.1; done; echo gone")
wait "$ex_pid" 2>/dev/null
expect_eq "SIGTERM: exit code 0" "gone:0" "$rc:$?"

# ------------------------------------------------------------ OCF agent, standalone
note "OCF agent, standalone (no ocf-shellfuncs)"
check "agent is executable" test -x "$AGENT"
if command -v dash >/dev/null; then check "agent parses as POSIX sh (dash -n)" dash -n "$AGENT"; fi

O=$WORK/ocf
mkdir -p "$O"
ROOT=$O/root
RP=$(free_port)
TP=$(free_port)
CONF=$O/berth.yaml
cat >"$CONF" <<EOF
log:
  level: info
storage:
  root: $ROOT
registry:
  addr: 127.0.0.1
  port: $RP
token:
  addr: 127.0.0.1
  port: $TP
auth:
  enabled: false
http:
  shutdown_grace: 5
EOF

# The environment Pacemaker would give the agent.
export OCF_ROOT=$WORK/no-ocf-root # no lib/heartbeat/ocf-shellfuncs: the agent's fallback
unset OCF_FUNCTIONS_DIR
export OCF_RESOURCE_INSTANCE=berth-test
export OCF_RESKEY_CRM_meta_timeout=20000
export OCF_RESKEY_binary=$BERTH_BIN
export OCF_RESKEY_config=$CONF
export OCF_RESKEY_role=registry
export OCF_RESKEY_pidfile=$O/run/registry.pid
export OCF_RESKEY_logfile=$O/log/registry.log
export OCF_RESKEY_monitor_url=https://127.0.0.1:$RP/readyz
export OCF_RESKEY_cacert=$ROOT/keys/tls.crt
export OCF_RESKEY_insecure=false

# ra ACTION: runs the agent (bounded); its stderr goes to $O/agent.err.
ra() { timeout 90 "$AGENT" "$@" 2>"$O/agent.err"; }
# expect_rc NAME EXPECTED ACTION: runs the agent, compares its exit code.
expect_rc() {
  local name=$1 want=$2
  shift 2
  ra "$@" >/dev/null
  local rc=$?
  if [[ $rc == "$want" ]]; then pass "$name"; else
    fail "$name (expected rc $want, got $rc: $(tr '\n' ' ' <"$O/agent.err" | cut -c1-400))"
  fi
}
pid_of() { tr -dc '0-9' <"$OCF_RESKEY_pidfile" 2>/dev/null; }
cmdline_of() { tr '\0' ' ' <"/proc/$1/cmdline" 2>/dev/null; }

meta=$(ra meta-data)
expect_eq "meta-data: rc 0" 0 $?
py_out=$(printf '%s' "$meta" | python3 -c '
import sys, xml.etree.ElementTree as ET
root = ET.fromstring(sys.stdin.read())
assert root.tag == "resource-agent" and root.get("name") == "berth", "root element"
assert root.find("version") is not None and root.find("shortdesc") is not None and root.find("longdesc") is not None
params = {p.get("name"): p for p in root.iter("parameter")}
for n in ["binary", "config", "role", "pidfile", "monitor_url", "cacert", "insecure", "user"]:
    assert n in params, "parameter " + n
    p = params[n]
    assert p.find("content") is not None and p.find("content").get("type"), n + " content"
    assert p.find("shortdesc") is not None and p.find("longdesc") is not None, n + " descriptions"
assert params["binary"].find("content").get("default") == "/usr/bin/berth"
assert params["monitor_url"].find("content").get("default") == "https://127.0.0.1:9001/readyz"
assert params["insecure"].find("content").get("type") == "boolean"
acts = {a.get("name"): a for a in root.iter("action")}
for n in ["start", "stop", "monitor", "validate-all", "meta-data"]:
    assert n in acts and acts[n].get("timeout"), "action " + n
assert acts["monitor"].get("interval"), "monitor interval"
print("ok")' 2>&1)
expect_eq "meta-data: XML with the parameters, actions and timeouts" ok "$py_out"
DTD=/usr/share/resource-agents/ra-api-1.dtd
if [[ -f $DTD ]] && command -v xmllint >/dev/null; then
  # As ocf-tester does: the DOCTYPE names ra-api-1.dtd, resolved from its directory.
  check "meta-data is valid against ra-api-1.dtd (xmllint --valid)" \
    bash -c "cd '$(dirname "$DTD")' && printf '%s' \"\$1\" | xmllint --noout --valid -" _ "$meta"
else
  note "SKIP DTD validation: $DTD or xmllint missing"
fi
expect_rc "usage: rc 0" 0 usage
expect_rc "no action: OCF_ERR_ARGS (2)" 2
expect_rc "promote: OCF_ERR_UNIMPLEMENTED (3)" 3 promote

expect_rc "validate-all: OCF_SUCCESS" 0 validate-all
expect_rc "monitor before start: OCF_NOT_RUNNING (7)" 7 monitor
expect_rc "stop before start: OCF_SUCCESS" 0 stop

t0=$(date +%s)
expect_rc "start: OCF_SUCCESS" 0 start
note "start took $(($(date +%s) - t0)) s"
expect_eq "after start: /readyz 200 (TLS verified with the generated certificate)" 200 \
  "$(http_code "https://127.0.0.1:$RP/readyz" --cacert "$ROOT/keys/tls.crt")"
pid1=$(pid_of)
expect_contains "pid file names the running 'berth registry'" "$BERTH_BIN registry --config $CONF" \
  "$(cmdline_of "$pid1")"
expect_rc "monitor: OCF_SUCCESS" 0 monitor
expect_rc "start again: OCF_SUCCESS (idempotent)" 0 start
expect_eq "start again keeps the same process" "$pid1" "$(pid_of)"
n=$(pgrep -f -- "$BERTH_BIN registry --config $CONF" | wc -l)
expect_eq "exactly one berth registry on the storage root" 1 "$n"

# TLS: without cacert the self-signed certificate fails; insecure=true skips it.
OCF_RESKEY_cacert="" expect_rc "monitor without cacert: OCF_ERR_GENERIC (certificate not trusted)" 1 monitor
OCF_RESKEY_cacert="" OCF_RESKEY_insecure=true expect_rc "monitor insecure=true: OCF_SUCCESS" 0 monitor

# Alive but not ready: the registry's uploads directory vanishes -> /readyz 503.
mv "$ROOT/uploads" "$ROOT/uploads.away"
expect_eq "uploads/ gone: /readyz 503" 503 \
  "$(http_code "https://127.0.0.1:$RP/readyz" --cacert "$ROOT/keys/tls.crt")"
expect_rc "monitor while not ready: OCF_ERR_GENERIC (1)" 1 monitor
expect_contains "monitor says why" "503" "$(cat "$O/agent.err")"
mv "$ROOT/uploads.away" "$ROOT/uploads"
expect_rc "monitor after recovery: OCF_SUCCESS" 0 monitor

# The token server next to the registry on the same root (LOCK.token).
(
  export OCF_RESKEY_role=token OCF_RESKEY_pidfile=$O/run/token.pid OCF_RESKEY_logfile=$O/log/token.log
  export OCF_RESKEY_monitor_url=https://127.0.0.1:$TP/readyz OCF_RESOURCE_INSTANCE=berth-token-test
  expect_rc "role=token: start: OCF_SUCCESS" 0 start
  expect_rc "role=token: monitor: OCF_SUCCESS" 0 monitor
  expect_rc "role=token: stop: OCF_SUCCESS" 0 stop
  expect_rc "role=token: monitor after stop: OCF_NOT_RUNNING" 7 monitor
  echo "$PASSED $FAILED" >"$O/sub.counts"
)
read -r PASSED FAILED <"$O/sub.counts"

# A second registry resource on the same storage root: berth refuses (LOCK).
RP2=$(free_port)
t0=$(date +%s)
BERTH_REGISTRY_PORT=$RP2 OCF_RESKEY_pidfile=$O/run/second.pid OCF_RESKEY_logfile=$O/log/second.log \
  OCF_RESKEY_monitor_url=https://127.0.0.1:$RP2/readyz OCF_RESOURCE_INSTANCE=berth-second \
  expect_rc "second registry on a locked root: start fails with OCF_ERR_GENERIC" 1 start
check "... at once (< 10 s), not at the start timeout" test $(($(date +%s) - t0)) -lt 10
expect_contains "... and the reason names the holder" "in use by host=" "$(cat "$O/agent.err")"
expect_eq "... leaving nothing listening on its port" 000 "$(http_code "https://127.0.0.1:$RP2/readyz" -k)"
expect_eq "... and the first registry still ready" 200 \
  "$(http_code "https://127.0.0.1:$RP/readyz" --cacert "$ROOT/keys/tls.crt")"

expect_rc "stop: OCF_SUCCESS" 0 stop
check "stop: the process is gone" bash -c "! kill -0 $pid1 2>/dev/null || [[ -z \$(tr -d '\\0' </proc/$pid1/cmdline 2>/dev/null) ]]"
check "stop: the pid file is removed" test ! -e "$OCF_RESKEY_pidfile"
expect_eq "stop: the port is closed" 000 "$(http_code "https://127.0.0.1:$RP/readyz" -k)"
expect_contains "stop: berth logged a graceful stop" "signal 15 received" "$(cat "$OCF_RESKEY_logfile")"
expect_rc "monitor after stop: OCF_NOT_RUNNING (7)" 7 monitor
expect_rc "stop again: OCF_SUCCESS" 0 stop

# A stale pid file naming an unrelated live process: not ours, never killed.
sleep 120 &
decoy=$!
EXTRA_PIDS+=("$decoy")
echo "$decoy" >"$OCF_RESKEY_pidfile"
expect_rc "stale pid file (unrelated process): monitor OCF_NOT_RUNNING" 7 monitor
expect_rc "stale pid file: stop OCF_SUCCESS" 0 stop
check "stale pid file: the unrelated process was not killed" kill -0 "$decoy"
kill "$decoy" 2>/dev/null
wait "$decoy" 2>/dev/null

# SIGKILL when SIGTERM does not work within 2/3 of the stop timeout.
expect_rc "start (for the SIGKILL case): OCF_SUCCESS" 0 start
pid2=$(pid_of)
kill -STOP "$pid2"
t0=$(date +%s)
OCF_RESKEY_CRM_meta_timeout=4500 expect_rc "stop of a frozen berth: OCF_SUCCESS" 0 stop
took=$(($(date +%s) - t0))
check "... after SIGKILL, within the stop timeout (took ${took}s)" test "$took" -le 5
expect_contains "... and the agent says SIGKILL" "SIGKILL" "$(cat "$O/agent.err")"
check "... the process is gone" bash -c "! kill -0 $pid2 2>/dev/null || [[ -z \$(tr -d '\\0' </proc/$pid2/cmdline 2>/dev/null) ]]"
expect_rc "monitor after SIGKILL: OCF_NOT_RUNNING" 7 monitor

# Bad configurations.
OCF_RESKEY_config=$O/missing.yaml expect_rc "validate-all, config missing: OCF_ERR_CONFIGURED (6)" 6 validate-all
OCF_RESKEY_config=$O/missing.yaml expect_rc "monitor (probe), config missing: OCF_NOT_RUNNING" 7 monitor
OCF_RESKEY_config=$O/missing.yaml expect_rc "start, config missing: OCF_ERR_CONFIGURED (6)" 6 start
OCF_RESKEY_role=mirror expect_rc "validate-all, role=mirror: OCF_ERR_CONFIGURED (6)" 6 validate-all
OCF_RESKEY_binary=$O/no-such-berth expect_rc "validate-all, binary missing: OCF_ERR_INSTALLED (5)" 5 validate-all
OCF_RESKEY_binary=$O/no-such-berth expect_rc "stop, binary missing, not running: OCF_SUCCESS" 0 stop
printf 'storage:\n  root: %s\nregistry:\n  addr: 127.0.0.1\n  port: %s\n  colour: blue\n' "$ROOT" "$RP" >"$O/bad.yaml"
OCF_RESKEY_config=$O/bad.yaml expect_rc "validate-all, config berth will reject (readable): OCF_SUCCESS" 0 validate-all
OCF_RESKEY_config=$O/bad.yaml expect_rc "start, berth rejects the config (exit 2): OCF_ERR_CONFIGURED (6)" 6 start
expect_contains "... and the reason names the key" "registry.colour" "$(cat "$O/agent.err")"
expect_rc "... nothing left running: monitor OCF_NOT_RUNNING" 7 monitor

# user=: berth runs as another user (setpriv), which owns the storage root.
if [[ $(id -u) == 0 ]] && command -v setpriv >/dev/null && id -u nobody >/dev/null 2>&1; then
  U=$WORK/as-nobody
  mkdir -p "$U/root"
  chmod 0711 "$WORK"
  chmod 0755 "$U"
  chown nobody "$U/root"
  URP=$(free_port)
  sed -e "s|root: $ROOT|root: $U/root|" -e "s|port: $RP|port: $URP|" -e "s|port: $TP|port: $(free_port)|" \
    "$CONF" >"$U/berth.yaml"
  chmod 0644 "$U/berth.yaml"
  (
    export OCF_RESKEY_user=nobody OCF_RESKEY_config=$U/berth.yaml OCF_RESKEY_pidfile=$O/run/nobody.pid
    export OCF_RESKEY_logfile=$O/log/nobody.log OCF_RESKEY_monitor_url=https://127.0.0.1:$URP/readyz
    export OCF_RESKEY_cacert=$U/root/keys/tls.crt OCF_RESOURCE_INSTANCE=berth-nobody
    expect_rc "user=nobody: validate-all OCF_SUCCESS" 0 validate-all
    expect_rc "user=nobody: start OCF_SUCCESS" 0 start
    upid=$(pid_of)
    expect_eq "user=nobody: berth runs as nobody" "$(id -u nobody)" \
      "$(awk '/^Uid:/{print $2}' "/proc/$upid/status" 2>/dev/null)"
    expect_rc "user=nobody: monitor OCF_SUCCESS" 0 monitor
    expect_rc "user=nobody: stop OCF_SUCCESS" 0 stop
    OCF_RESKEY_user=no-such-user-xyz expect_rc "user=no-such-user: validate-all OCF_ERR_CONFIGURED" 6 validate-all
    echo "$PASSED $FAILED" >"$O/sub.counts"
  )
  read -r PASSED FAILED <"$O/sub.counts"
  chmod 0700 "$WORK"
else
  note "SKIP user=: needs root, setpriv and a user nobody"
fi

# --------------------------------------------- OCF agent with Debian's ocf-shellfuncs
SHELLFUNCS=/usr/lib/ocf/lib/heartbeat/ocf-shellfuncs
if [[ -r $SHELLFUNCS ]]; then
  note "OCF agent with $SHELLFUNCS"
  (
    export OCF_ROOT=/usr/lib/ocf
    meta=$(ra meta-data)
    expect_eq "with ocf-shellfuncs: meta-data rc 0" 0 $?
    expect_contains "with ocf-shellfuncs: meta-data is the agent's" '<resource-agent name="berth"' "$meta"
    expect_rc "with ocf-shellfuncs: monitor OCF_NOT_RUNNING" 7 monitor
    OCF_RESKEY_config=$O/missing.yaml expect_rc "with ocf-shellfuncs: validate-all, config missing: 6" 6 validate-all
    echo "$PASSED $FAILED" >"$O/sub.counts"
  )
  read -r PASSED FAILED <"$O/sub.counts"
else
  note "SKIP agent with ocf-shellfuncs: $SHELLFUNCS not installed"
fi

if command -v ocf-tester >/dev/null; then
  note "ocf-tester (resource-agents)"
  TP_PORT=$(free_port)
  T=$WORK/tester
  mkdir -p "$T"
  sed -e "s|root: $ROOT|root: $T/root|" -e "s|port: $RP|port: $TP_PORT|" -e "s|port: $TP|port: $(free_port)|" \
    "$CONF" >"$T/berth.yaml"
  out=$(
    for v in $(compgen -e | grep '^OCF_'); do unset "$v"; done
    timeout 300 ocf-tester -n berth-ocf-tester \
      -o binary="$BERTH_BIN" -o config="$T/berth.yaml" -o role=registry \
      -o pidfile="$T/run/berth.pid" -o logfile="$T/berth.log" \
      -o monitor_url="https://127.0.0.1:$TP_PORT/readyz" -o cacert="$T/root/keys/tls.crt" \
      "$AGENT" 2>&1
  )
  rc=$?
  echo "$out" | sed 's/^/#   /'
  expect_eq "ocf-tester: rc 0" 0 "$rc"
  expect_contains "ocf-tester: passed all tests" "passed all tests" "$out"
  check "ocf-tester: nothing left running" test -z "$(pgrep -f -- "--config $T/berth.yaml")"
else
  note "SKIP ocf-tester: not installed (Debian package resource-agents)"
fi

# ------------------------------------------------------------------- keepalived
note "keepalived example"
ka=$(cat "$KEEPALIVED")
for needle in vrrp_script 'interval 1' weight fall rise vrrp_instance virtual_ipaddress track_script \
  /readyz --wait-for-lock notify; do
  expect_contains "keepalived example mentions '$needle'" "$needle" "$ka"
done
# The check command, as keepalived would run it, succeeds against a ready berth only.
check_cmd=$(sed -n 's/^ *script "\(.*9001\/readyz\)"$/\1/p' "$KEEPALIVED" | head -1)
if [[ -n $check_cmd ]]; then
  expect_rc "start (for the keepalived check): OCF_SUCCESS" 0 start
  # shellcheck disable=SC2086 # keepalived splits the command at spaces too
  cmd=$(echo "$check_cmd" | sed -e "s|/var/lib/berth|$ROOT|" -e "s|127.0.0.1:9001|127.0.0.1:$RP|")
  check "keepalived check command succeeds while berth is ready" timeout 10 $cmd
  expect_rc "stop (for the keepalived check): OCF_SUCCESS" 0 stop
  check "keepalived check command fails when berth is stopped" bash -c "! timeout 10 $cmd 2>/dev/null"
else
  fail "keepalived example has a vrrp_script curling https://127.0.0.1:9001/readyz"
fi
if command -v keepalived >/dev/null; then
  check "keepalived --config-test" timeout 30 keepalived --config-test -f "$KEEPALIVED"
else
  note "SKIP keepalived --config-test: keepalived is not installed"
fi

check "deploy/README.md explains pcs, keepalived, /healthz and /readyz" bash -c "
  grep -q 'pcs resource create' '$DEPLOY/README.md' && grep -q 'pcs constraint colocation' '$DEPLOY/README.md' &&
  grep -q 'pcs constraint order' '$DEPLOY/README.md' && grep -q 'ocf:heartbeat:Filesystem' '$DEPLOY/README.md' &&
  grep -q 'IPaddr2' '$DEPLOY/README.md' && grep -q keepalived '$DEPLOY/README.md' &&
  grep -q '/healthz' '$DEPLOY/README.md' && grep -q '/readyz' '$DEPLOY/README.md'"

summary
