#!/bin/bash
# Integration test of the token server and of token enforcement in the
# registry, against the real berth binary (`berth serve`: registry + token
# server in one process) on loopback. This script starts the processes and
# the checks live in pytest, tests/integration/py/auth/ (one file per part;
# each file's docstring says what it covers):
#
#   1. GET /token: fields, JWT header and claims, refusals, offline_token.
#   2. POST /token (OAuth2): password and refresh grants, a refresh token at
#      a token server of another service, `berth revoke-tokens`.
#   3. Policy: the per-namespace rules and the user x namespace x action matrix.
#   4. Registry enforcement: challenges, insufficient_scope, invalid_token
#      for forged and altered tokens, expiry, key ids, cross-repository mount.
#   5. Rate limiting on a separate berth (own root and ports).
#   6. Real clients with credentials: skopeo, podman, buildah.
#   7. The reference registry (docker-registry 2.8.2) trusting berth's tokens.
#   8. Credential lifecycle of refresh tokens, token names, log injection,
#      refresh_ttl at start-up, the tokens.db schema upgrade.
#
# Here: the users, the main berth, `berth token` of service "other" on the
# same root (part 2), the rate-limit berth (part 5), the reference registry
# (part 7), the OCI layouts and private container configuration (part 6);
# after pytest, the checks that each process stops on SIGTERM. With
# BERTH_TARGET=cluster lib.sh starts each berth as two nodes behind HAProxy.
# pytest learns what runs where from AUTH_* variables (auth_http.Target).
# Its results count into the closing "N passed, M failed" line; a pytest
# crash or collection error counts as a failure.
#
# Environment: KEEP_WORK=1 keeps the temp dir (command logs in $WORK/logs,
# berth's log in $WORK/root.log); PYTEST_ARGS adds pytest arguments (e.g.
# "-k policy" or "-x").

source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/oci.sh"
# lib.sh's knobs must not reach berth's environment (unknown BERTH_* = error)
export -n BERTH_BIN BERTH_ROLE BERTH_TEST_LOG_LEVEL BERTH_TARGET 2>/dev/null

LOGS=$WORK/logs
mkdir -p "$LOGS" "$WORK/tmp"
EXTRA_PIDS=() # our children not yet reaped (only those are ever signalled)

# alive PID: running (a zombie does not count)
alive() { [[ -r /proc/$1/stat ]] && [[ $(awk '{print $3}' "/proc/$1/stat" 2>/dev/null) != Z ]]; }
# stop_pid PID: SIGTERM, up to 15 s (berth's shutdown_grace is 10 s), then
# SIGKILL; reaps it. Returns 1 when SIGTERM was not enough.
stop_pid() {
  local p=$1 i
  [[ -z $p ]] && return 0
  local q keep=()
  for q in "${EXTRA_PIDS[@]}"; do [[ $q != "$p" ]] && keep+=("$q"); done
  EXTRA_PIDS=("${keep[@]}")
  if ! kill -TERM "$p" 2>/dev/null; then
    wait "$p" 2>/dev/null
    return 0
  fi
  for i in $(seq 1 150); do
    alive "$p" || break
    sleep 0.1
  done
  if alive "$p"; then
    kill -KILL "$p" 2>/dev/null
    wait "$p" 2>/dev/null
    return 1
  fi
  wait "$p" 2>/dev/null
  return 0
}
stop_all() {
  local p
  for p in "${EXTRA_PIDS[@]}"; do [[ -n $p ]] && stop_pid "$p"; done
  EXTRA_PIDS=()
  # lib.sh's stop_berth waits without a bound; stop the main berth here
  if [[ -n ${BERTH_PID:-} ]]; then stop_pid "$BERTH_PID"; BERTH_PID=""; fi
}
trap 'stop_all; cleanup' EXIT

# wait_https URL: until something answers (any HTTP status), 10 s at most.
wait_https() {
  local i
  for i in $(seq 1 100); do
    [[ $(curl -s --max-time 2 --cacert "$CACERT" -o /dev/null -w '%{http_code}' "$1") != 000 ]] && return 0
    sleep 0.1
  done
  return 1
}

add_users() { # add_users HTPASSWD USER...: password = USER + "pass"
  local f=$1 u
  shift
  mkdir -p "$(dirname "$f")"
  for u in "$@"; do
    echo "${u}pass" | timeout 30 "$BERTH_BIN" user add "$u" --password-stdin -f "$f" >>"$LOGS/user-add.log" 2>&1 || return 1
  done
}
# creds USER...: "USER:PASSWORD ..." as add_users made them
creds() { local u; for u in "$@"; do printf '%s:%spass ' "$u" "$u"; done; }

# ---------------------------------------------------------------- set-up

for _ in $(seq 1 18); do [[ -x $BERTH_BIN ]] && break; echo "waiting for $BERTH_BIN"; sleep 10; done
# Others rebuild the binary while tests run: use one private copy throughout.
for _ in $(seq 1 20); do
  cp "$BERTH_BIN" "$WORK/berth.bin" 2>/dev/null && "$WORK/berth.bin" --help >/dev/null 2>&1 && break
  sleep 3
done
echo "# berth binary: $BERTH_BIN ($(date -r "$BERTH_BIN" '+%F %T' 2>/dev/null)), run from a copy in \$WORK"
BERTH_BIN=$WORK/berth.bin
need curl
pytest_python pytest requests cryptography || { summary; exit 1; }
have() { command -v "$1" >/dev/null && echo 1 || echo 0; }

ROOT=$WORK/root
PORT=$(free_port)
TP=$(free_port)
while [[ $TP == "$PORT" ]]; do TP=$(free_port); done
TOKEN_URL=https://127.0.0.1:$TP/token
R=127.0.0.1:$PORT

check "berth user add alice, bob, admin, mtce" add_users "$ROOT/htpasswd" alice bob admin mtce
BERTH_ROLE=serve
MAIN_ENV=(BERTH_AUTH_ENABLED=true BERTH_TOKEN_ADDR=127.0.0.1 BERTH_TOKEN_PORT="$TP"
  BERTH_AUTH_REALM="$TOKEN_URL" BERTH_TOKEN_RESERVED_NAMESPACES=mtce)
if ! start_berth "$ROOT" "$PORT" "${MAIN_ENV[@]}"; then
  fail "berth serve starts"
  summary
  exit 1
fi
MAIN_PID=$BERTH_PID
MAIN_BASE=$BASE MAIN_CACERT=$CACERT MAIN_CERTDIR=$CERTDIR
check "token server answers on $TOKEN_URL" wait_https "$TOKEN_URL"
echo "# berth serve: registry $BASE, token server $TOKEN_URL, work dir $WORK"
root_env "$ROOT" >"$WORK/root.env"

# Part 2: a second token server of ANOTHER service on the same storage root
# (same tokens.db and users).
TP2=$(free_port)
env BERTH_STORAGE_ROOT="$ROOT" BERTH_TOKEN_ADDR=127.0.0.1 BERTH_TOKEN_PORT="$TP2" BERTH_AUTH_SERVICE=other \
  BERTH_LOG_LEVEL=info "$BERTH_BIN" token >>"$WORK/token-other.log" 2>&1 &
TOK2_PID=$!
EXTRA_PIDS+=("$TOK2_PID")
OTHER_URL=https://127.0.0.1:$TP2/token
if wait_https "$OTHER_URL"; then
  pass "berth token (service other) starts on the same root"
else
  fail "berth token (service other) starts on the same root"
  OTHER_URL=""
fi

# Part 7: the reference registry with `auth: token` pointing at berth.
REF=""
if [[ $(have docker-registry) == 1 ]]; then
  RP=$(free_port)
  mkdir -p "$WORK/ref/data"
  cat >"$WORK/ref/config.yml" <<EOF
version: 0.1
log:
  level: info
storage:
  filesystem:
    rootdirectory: $WORK/ref/data
  delete:
    enabled: true
http:
  addr: 127.0.0.1:$RP
  secret: auth-test-$RP
  tls:
    certificate: $ROOT/keys/tls.crt
    key: $ROOT/keys/tls.key
auth:
  token:
    realm: $TOKEN_URL
    service: berth
    issuer: berth-token
    rootcertbundle: $ROOT/keys/token.crt
EOF
  # (REGISTRY_* variables override its configuration: REGISTRY_AUTH_FILE,
  # set for podman below, would be read as auth.file)
  env -u REGISTRY_AUTH_FILE docker-registry serve "$WORK/ref/config.yml" >"$WORK/ref.log" 2>&1 </dev/null &
  REF_PID=$!
  EXTRA_PIDS+=("$REF_PID")
  if wait_https "https://127.0.0.1:$RP/v2/"; then
    pass "docker-registry starts on 127.0.0.1:$RP"
    REF=127.0.0.1:$RP
  else
    fail "docker-registry starts on 127.0.0.1:$RP"
    tail -5 "$WORK/ref.log"
  fi
fi

# Part 5: the rate-limit berth, with its own root and ports.
RL=$WORK/rl
RLP=$(free_port)
RLTP=$(free_port)
while [[ $RLTP == "$RLP" ]]; do RLTP=$(free_port); done
RL_URL=https://127.0.0.1:$RLTP/token
check "users for the rate-limit berth" add_users "$RL/htpasswd" alice bob carol
start_berth "$RL" "$RLP" BERTH_AUTH_ENABLED=true BERTH_TOKEN_ADDR=127.0.0.1 BERTH_TOKEN_PORT="$RLTP" \
  BERTH_AUTH_REALM="$RL_URL"
rc=$?
RL_PID=$BERTH_PID
RL_CACERT=$CACERT
EXTRA_PIDS+=("$RL_PID")
BERTH_PID=$MAIN_PID
if ! { [[ $rc -eq 0 ]] && wait_https "$RL_URL"; }; then
  fail "rate-limit berth starts"
  RL_URL=""
fi
BASE=$MAIN_BASE CACERT=$MAIN_CACERT CERTDIR=$MAIN_CERTDIR

# Part 6: images to push, and podman, buildah and skopeo kept under $WORK.
use_private_container_config
L1=$WORK/oci1
M1=$(make_oci "$L1" v1 "hello from auth_test $PORT")
L2=$WORK/oci2
make_oci "$L2" v1 "public base $PORT" >/dev/null

# ---------------------------------------------------------------- pytest
t0=$SECONDS
(
  cd "$HERE/py/auth" &&
    export AUTH_BASE="$BASE" AUTH_TOKEN_URL="$TOKEN_URL" AUTH_CACERT="$CACERT" AUTH_CERTDIR="$CERTDIR" \
      AUTH_ROOT="$ROOT" AUTH_ROOT_LOG="$ROOT.log" AUTH_ROOT_ENV="$WORK/root.env" AUTH_MAIN_PID="$MAIN_PID" \
      AUTH_WORK="$WORK" AUTH_BERTH_BIN="$BERTH_BIN" AUTH_CREDENTIALS="$(creds alice bob admin mtce)" \
      AUTH_OTHER_TOKEN_URL="$OTHER_URL" AUTH_REF="$REF" \
      AUTH_RL_TOKEN_URL="$RL_URL" AUTH_RL_CACERT="$RL_CACERT" AUTH_RL_LOG="$RL.log" \
      AUTH_RL_CREDENTIALS="$(creds alice bob carol)" \
      AUTH_OCI1="$L1" AUTH_OCI1_DIGEST="$M1" AUTH_OCI2="$L2" \
      AUTH_HAVE_SKOPEO="$(have skopeo)" AUTH_HAVE_PODMAN="$(have podman)" AUTH_HAVE_BUILDAH="$(have buildah)" \
      AUTH_HAVE_DOCKER_REGISTRY="$(have docker-registry)"
  # shellcheck disable=SC2086
  pytest_run "$WORK/pytest.xml" -v ${PYTEST_ARGS:-} .
  echo "$PASSED $FAILED" >"$WORK/pytest.counts"
)
read -r PASSED FAILED <"$WORK/pytest.counts"
echo "# pytest took $((SECONDS - t0)) s"

# ---------------------------------------------------------------- stops
stop_pid "$TOK2_PID"
check "berth token stops on SIGTERM (within 15 s)" test $? -eq 0
[[ -n ${REF_PID:-} ]] && stop_pid "$REF_PID"
stop_pid "$RL_PID"
check "rate-limit berth stops on SIGTERM (within 15 s)" test $? -eq 0
check "main berth still running at the end" alive "$MAIN_PID"
stop_pid "$MAIN_PID"
check "berth serve stops on SIGTERM (shutdown_grace 10 s; waited 15 s)" test $? -eq 0
BERTH_PID=""
if grep -qiE '\b(error|critical)\b' "$ROOT.log"; then
  echo "# berth log errors:"
  grep -iE '\b(error|critical)\b' "$ROOT.log" | tail -n 10 | sed 's/^/  /'
fi
if [[ $FAILED -gt 0 ]]; then
  echo "# logs: $LOGS, pytest: $WORK/pytest.xml, berth: $ROOT.log$([[ ${KEEP_WORK:-0} == 1 ]] || echo ' (set KEEP_WORK=1 to keep them)')"
fi
summary
