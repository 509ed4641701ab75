#!/bin/bash
# Integration test of berth's token server with a REAL OpenStack Keystone as
# the identity backend (token.backend = keystone), on loopback only.
#
#   1. Keystone (tests/integration/keystone.sh: SQLite, fernet, wsgiref) on a
#      free port; users alice, bob, dave, erin, frank (role member on project
#      "berth") and carol (role admin on "berth").
#   2. `berth serve` with BERTH_TOKEN_BACKEND=keystone, keystone.project=berth,
#      token.admins empty (admin comes only from the Keystone role), auth on.
#   3. GET /token with curl: alice's own scopes granted, bob/... left out, the
#      JWT's sub/aud/access; wrong password and unknown user -> 401 + Basic
#      challenge and no token; carol (Keystone admin) gets registry:catalog:*
#      and bob/... push; alice asking for the catalog gets an empty access; the
#      registry honours carol's catalog token and refuses alice's. Login cache:
#      20 sequential token requests for alice, timed and compared with direct
#      Keystone logins, and counted in Keystone's request log.
#   4. Real clients: skopeo copy as alice into alice/ks:v1 (ok) and bob/ks:v1
#      (denied), skopeo with a wrong password; podman login as bob (ok) and
#      with a wrong password (fails).
#   5. Cache expiry and password change (a second berth with
#      keystone.cache_ttl=2): the old password keeps working until the entry
#      expires, the new one works at once, the old one is refused after expiry.
#   6. Outage: Keystone stopped. A cached login still answers 200; a login
#      never seen (frank), a wrong password, and a login whose cache entry
#      expired (second berth) -> 503, never 401, never a token. A Keystone that
#      accepts connections but never answers (a third berth, timeout_ms=1000)
#      -> 503 within the timeout.
#   7. Every berth started here stops on SIGTERM within 15 s (all stops are
#      bounded: TERM, then KILL).
#   UI (issue 14, across 3-6): the web interface's login as Keystone users
#      ursula and victor (POST /ui/api/login, what ui/app.js sends) succeeds
#      and reaches Keystone; the repository list works; after the UI's cached
#      access token has expired (token.ttl=60: 30 s), the list works again
#      through a refresh that Keystone re-validated (GET /v3/auth/tokens);
#      after Keystone revoked ursula's tokens (her password changed) her
#      session's next refresh fails (401); during the outage victor's refresh
#      is 503, not 401; victor's logout revokes his session; berth's log never
#      holds a Keystone token.
#
# Needs python3-keystone (keystone-manage; scripts/install-deps.sh --test),
# curl, jq, bc, python3; skopeo and podman for step 4 (skipped when missing).
# About 35-55 s on 2 busy cores; most of it is Keystone's set-up.
#
# Environment: KEEP_WORK=1 keeps the temp dir (logs in $WORK/logs, berth's
# logs in $WORK/root*.log, Keystone's in $WORK/keystone); KEYSTONE_PORT=N
# uses that port for Keystone.

source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/oci.sh"
source "$(dirname "$0")/keystone.sh"
# lib.sh's knobs must not reach berth's environment (unknown BERTH_* = error)
export -n BERTH_BIN BERTH_ROLE BERTH_TEST_LOG_LEVEL BERTH_TARGET 2>/dev/null
BERTH_ROLE=serve

LOGS=$WORK/logs
mkdir -p "$LOGS" "$WORK/tmp"
TIMINGS=()
EXTRA_PIDS=()

# stop_pid PID [SECONDS]: SIGTERM, then up to SECONDS (default 15: berth's
# shutdown_grace is 10 s) for it to exit, then SIGKILL. Never hangs. Returns 1
# when the process had to be killed.
stop_pid() {
  local p=$1 limit=${2:-15} i
  kill -TERM "$p" 2>/dev/null || { wait "$p" 2>/dev/null; return 0; }
  for ((i = 0; i < limit * 10; i++)); do
    kill -0 "$p" 2>/dev/null || { wait "$p" 2>/dev/null; return 0; }
    sleep 0.1
  done
  kill -KILL "$p" 2>/dev/null
  wait "$p" 2>/dev/null
  return 1
}
stop_extra() {
  local p
  for p in "${EXTRA_PIDS[@]}"; do stop_pid "$p"; done
  EXTRA_PIDS=()
}
on_exit() {
  stop_keystone
  stop_extra
  # lib.sh's stop_berth waits without a bound: stop the main berth here.
  if [[ -n $BERTH_PID ]]; then stop_pid "$BERTH_PID"; BERTH_PID=""; fi
  cleanup
}
trap on_exit EXIT
trap 'exit 130' INT TERM

# ---------------------------------------------------------------- helpers


now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN{printf "%.2f", b-a}'; }
timing() { TIMINGS+=("$(printf '%-44s %s' "$1" "$2")"); }
lt() { awk -v a="$1" -v b="$2" 'BEGIN{exit !(a < b)}'; }

# run LABEL CMD...: CMD bounded by `timeout 120`, output in $LOGS/LABEL.{out,err},
# elapsed time recorded. Returns CMD's exit code.
run() {
  local label=$1 t0 rc
  shift
  t0=$(now)
  timeout 120 "$@" >"$LOGS/$label.out" 2>"$LOGS/$label.err" </dev/null
  rc=$?
  timing "$label" "$(printf '%7.2f s  rc=%d' "$(since "$t0")" "$rc")"
  return $rc
}

# jwt_claims TOKEN: the decoded claims JSON.
jwt_claims() {
  python3 -c 'import sys, base64; s = sys.argv[1].split(".")[1]; print(base64.urlsafe_b64decode(s + "=" * (-len(s) % 4)).decode())' "$1" 2>/dev/null
}
# grants TOKEN: the token's access as sorted "type:name:actions" words
grants() { jwt_claims "$1" | jq -r '[.access[]? | "\(.type):\(.name):\(.actions|join(","))"] | sort | join(" ")' 2>/dev/null; }

# tokget OUT USER:PASS [SCOPE...]: GET $TOKEN_URL (service berth) with Basic
# credentials; body in OUT, headers in OUT.hdr; prints the status.
tokget() {
  local o=$1 up=$2 s args=(--data-urlencode service=berth)
  shift 2
  for s in "$@"; do args+=(--data-urlencode "scope=$s"); done
  c -o "$o" -D "$o.hdr" -w '%{http_code}' --cacert "${CACERT_CUR:-$CACERT}" -u "$up" -G "${TOKEN_URL_CUR:-$TOKEN_URL}" "${args[@]}"
}
# tok USER PASS SCOPE...: a token or nothing.
tok() {
  local up="$1:$2"
  shift 2
  tokget "$WORK/tok.json" "$up" "$@" >/dev/null
  jq -r '.token // empty' "$WORK/tok.json" 2>/dev/null
}
token_of() { jq -r '.token // empty' "$1" 2>/dev/null; }
# reg TOKEN METHOD PATH: a registry request with that bearer token; prints
# the status; headers in $WORK/reg.hdr, body in $WORK/reg.body.
reg() {
  c -X "$2" -o "$WORK/reg.body" -D "$WORK/reg.hdr" -w '%{http_code}' -H "Authorization: Bearer $1" "$BASE$3"
}

# ks_auth_posts: how many POST /v3/auth/tokens Keystone has served so far
# (wsgiref writes one access line per request to server.log).
ks_auth_posts() { grep -c '"POST /v3/auth/tokens' "$KEYSTONE_DIR/server.log" 2>/dev/null || true; }
# ks_validations: how many GET /v3/auth/tokens (token validations) so far.
ks_validations() { grep -c '"GET /v3/auth/tokens' "$KEYSTONE_DIR/server.log" 2>/dev/null || true; }

# ui_login USER PASS JAR: POST /ui/api/login on the main berth (what ui/app.js
# sends); prints the status, the answer in JAR.json, the cookie in JAR.
ui_login() {
  c -c "$3" -o "$3.json" -w '%{http_code}' --cacert "$MAIN_CACERT" -H 'Content-Type: application/json' \
    -d "$(jq -cn --arg u "$1" --arg p "$2" '{user:$u,password:$p}')" "$MAIN_BASE/ui/api/login"
}
# ui_get JAR PATH: a GET of the UI API with that session; prints the status,
# the body in $WORK/ui.body.
ui_get() {
  c -b "$1" -o "$WORK/ui.body" -w '%{http_code}' --cacert "$MAIN_CACERT" "$MAIN_BASE$2"
}


# wait_https URL: until something answers (any HTTP status), 10 s at most.
wait_https() {
  local i
  for i in $(seq 1 100); do
    [[ $(curl -s --max-time 2 --cacert "$CACERT" -o /dev/null -w '%{http_code}' "$1") != 000 ]] && return 0
    sleep 0.1
  done
  return 1
}

# two_ports: sets P1 and P2 to two distinct free ports.
two_ports() {
  P1=$(free_port)
  P2=$(free_port)
  while [[ $P2 == "$P1" ]]; do P2=$(free_port); done
}

# start_serve ROOT ENV=VALUE...: `berth serve` with the Keystone backend and
# auth on, registry and token server on free loopback ports. Sets BASE,
# CACERT, CERTDIR, BERTH_PID (lib.sh) and SERVE_TOKEN_URL, SERVE_PORT.
# (For the extra instances: use_instance sets the variables tokget reads,
# use_main puts the main instance back in lib.sh's variables.)
start_serve() {
  local root=$1
  shift
  two_ports
  SERVE_PORT=$P1
  SERVE_TOKEN_URL=https://127.0.0.1:$P2/token
  local attempt
  # The binary may be rebuilt under us ("Permission denied" / "Text file
  # busy" while it is written): wait for it, up to 2 minutes.
  for attempt in $(seq 1 12); do
    if start_berth "$root" "$P1" BERTH_AUTH_ENABLED=true BERTH_TOKEN_ADDR=127.0.0.1 \
      BERTH_TOKEN_PORT="$P2" BERTH_AUTH_REALM="$SERVE_TOKEN_URL" BERTH_TOKEN_BACKEND=keystone \
      BERTH_KEYSTONE_PROJECT=berth BERTH_TOKEN_ADMINS= "$@"; then
      wait_https "$SERVE_TOKEN_URL"
      return
    fi
    if kill -0 "$BERTH_PID" 2>/dev/null ||
      ! tail -n 3 "$root.log" | grep -qE 'Permission denied|Text file busy|No such file'; then
      return 1
    fi
    echo "  ($BERTH_BIN is being rebuilt; retrying in 10 s)"
    sleep 10
  done
  return 1
}

# use_instance TOKEN_URL CACERT: tokget talks to that token server.
use_instance() { TOKEN_URL_CUR=$1 CACERT_CUR=$2; }
# adopt_extra: after a failed start_serve, an extra instance that may still run
# goes to EXTRA_PIDS.
adopt_extra() {
  if [[ -n $BERTH_PID && $BERTH_PID != "$MAIN_PID" ]]; then EXTRA_PIDS+=("$BERTH_PID"); fi
}
# use_main: tokget talks to the main berth; lib.sh's BERTH_PID, BASE, CACERT
# and CERTDIR are the main instance's again (on_exit stops it; the extra
# instances are in EXTRA_PIDS).
use_main() {
  TOKEN_URL_CUR="" CACERT_CUR=""
  BERTH_PID=$MAIN_PID BASE=$MAIN_BASE CACERT=$MAIN_CACERT CERTDIR=$MAIN_CERTDIR
}

# ---------------------------------------------------------------- set-up

for _ in $(seq 1 18); do [[ -x $BERTH_BIN ]] && break; echo "waiting for $BERTH_BIN"; sleep 10; done
if ! command -v keystone-manage >/dev/null || ! command -v keystone-wsgi-public >/dev/null; then
  fail "python3-keystone is installed (keystone-manage not found; run scripts/install-deps.sh --test)"
  summary
  exit 1
fi
need curl; need jq; need bc; need python3
HAVE_SKOPEO=1; need skopeo || HAVE_SKOPEO=0
HAVE_PODMAN=1; need podman || HAVE_PODMAN=0

# ================================================================ 1. Keystone
echo "# 1. Keystone"
KS_PORT=${KEYSTONE_PORT:-$(free_port)}
t0=$(now)
if ! start_keystone "$WORK/keystone" "$KS_PORT"; then
  fail "keystone starts on 127.0.0.1:$KS_PORT"
  summary
  exit 1
fi
pass "keystone starts on $KEYSTONE_URL"
timing "keystone set-up (db_sync, fernet, bootstrap)" "${KEYSTONE_SETUP_S} s"
timing "keystone server start -> first 201" "${KEYSTONE_SERVE_S} s"
timing "keystone total start" "$(since "$t0") s"

t0=$(now)
check "keystone: add alice (member on berth)" keystone_add_user alice alicepass member
check "keystone: add bob (member on berth)" keystone_add_user bob bobpass member
check "keystone: add carol (admin on berth)" keystone_add_user carol carolpass admin
check "keystone: add dave, erin, frank (member on berth)" \
  eval 'keystone_add_user dave davepass member && keystone_add_user erin erinpass member && keystone_add_user frank frankpass member'
check "keystone: add ursula, victor (member on berth; web interface users)" \
  eval 'keystone_add_user ursula ursulapass member && keystone_add_user victor victorpass member'
timing "keystone: 6 users created" "$(since "$t0") s"

# Direct Keystone logins (project-scoped, like berth's): the cost berth saves
# by caching.
t0=$(now)
for i in 1 2 3 4 5; do keystone_login alice alicepass berth >/dev/null; done
KS5=$(since "$t0")
KS_PER_LOGIN=$(awk -v t="$KS5" 'BEGIN{printf "%.3f", t/5}')
timing "keystone: 5 direct scoped logins" "$KS5 s ($KS_PER_LOGIN s each)"
expect_eq "keystone itself: alice scoped to berth" 201 "$(keystone_login alice alicepass berth)"

# ================================================================ 2. berth
echo "# 2. berth serve with token.backend=keystone"
ROOT=$WORK/root
t0=$(now)
# token.ttl=60: the web interface keeps an access token 30 s (ttl - 30).
if ! start_serve "$ROOT" BERTH_KEYSTONE_URL="$KEYSTONE_URL" BERTH_TOKEN_TTL=60; then
  fail "berth serve (keystone backend) starts"
  summary
  exit 1
fi
MAIN_PID=$BERTH_PID
TOKEN_URL=$SERVE_TOKEN_URL
PORT=$SERVE_PORT
R=127.0.0.1:$PORT
MAIN_BASE=$BASE MAIN_CACERT=$CACERT MAIN_CERTDIR=$CERTDIR
pass "berth serve starts: registry $BASE, token server $TOKEN_URL"
timing "berth serve start" "$(since "$t0") s"

# ================================================================ 3. token endpoint
echo "# 3. token endpoint with Keystone credentials"
n0=$(ks_auth_posts)
t0=$(now)
code=$(tokget "$WORK/t-alice.json" alice:alicepass "repository:alice/ks:pull,push" "repository:bob/ks:pull,push")
FIRST_LOGIN=$(since "$t0")
timing "first token request for alice (keystone login)" "$FIRST_LOGIN s"
expect_eq "alice, right password: 200" 200 "$code"
TA=$(token_of "$WORK/t-alice.json")
expect_eq "alice: alice/ks pull,push granted, bob/ks left out" "repository:alice/ks:pull,push" "$(grants "$TA")"
expect_eq "alice's token: sub" alice "$(jwt_claims "$TA" | jq -r .sub 2>/dev/null)"
expect_eq "alice's token: aud" berth "$(jwt_claims "$TA" | jq -r .aud 2>/dev/null)"
n1=$(ks_auth_posts)
expect_eq "the first login reached keystone (1 POST /v3/auth/tokens)" 1 "$((n1 - n0))"
check "audit line: alice admin=false" grep -q 'audit token .*user=alice account=[^ ]* admin=false' "$ROOT.log"

code=$(tokget "$WORK/t-alice-bad.json" alice:wrongpass "repository:alice/ks:pull")
expect_eq "alice, wrong password: 401" 401 "$code"
expect_eq "... with a Basic challenge" 'Basic realm="berth"' "$(hdr "$WORK/t-alice-bad.json.hdr" WWW-Authenticate)"
expect_eq "... and no token" "" "$(token_of "$WORK/t-alice-bad.json")"
expect_eq "... error code UNAUTHORIZED" UNAUTHORIZED "$(jq -r '.errors[0].code' "$WORK/t-alice-bad.json" 2>/dev/null)"

code=$(tokget "$WORK/t-nobody.json" nobody:whatever "repository:nobody/ks:pull")
expect_eq "unknown user: 401" 401 "$code"
expect_eq "... with a Basic challenge" 'Basic realm="berth"' "$(hdr "$WORK/t-nobody.json.hdr" WWW-Authenticate)"
expect_eq "... and no token" "" "$(token_of "$WORK/t-nobody.json")"

code=$(tokget "$WORK/t-carol.json" carol:carolpass "registry:catalog:*" "repository:bob/ks:pull,push")
expect_eq "carol (keystone admin role): 200" 200 "$code"
TC=$(token_of "$WORK/t-carol.json")
expect_eq "carol: registry:catalog:* and bob/ks pull,push granted" \
  "registry:catalog:* repository:bob/ks:pull,push" "$(grants "$TC")"
check "audit line: carol admin=true" grep -q 'audit token .*user=carol account=[^ ]* admin=true' "$ROOT.log"

code=$(tokget "$WORK/t-alice-cat.json" alice:alicepass "registry:catalog:*")
expect_eq "alice asks for the catalog: 200" 200 "$code"
TAC=$(token_of "$WORK/t-alice-cat.json")
expect_eq "... with an empty access" "" "$(grants "$TAC")"

code=$(tokget "$WORK/t-bob.json" bob:bobpass "repository:bob/ks:pull,push" "registry:catalog:*")
expect_eq "bob (member): 200" 200 "$code"
expect_eq "bob: bob/ks granted, catalog left out" "repository:bob/ks:pull,push" "$(grants "$(token_of "$WORK/t-bob.json")")"

code=$(tokget "$WORK/t-alice-noscope.json" alice:alicepass)
expect_eq "alice login without scope (what podman login sends): 200" 200 "$code"

expect_eq "registry: carol's catalog token -> GET /v2/_catalog 200" 200 "$(reg "$TC" GET /v2/_catalog)"
expect_eq "registry: alice's (empty) catalog token -> GET /v2/_catalog 401" 401 "$(reg "$TAC" GET /v2/_catalog)"
expect_contains "... insufficient_scope" 'error="insufficient_scope"' "$(hdr "$WORK/reg.hdr" WWW-Authenticate)"

# Login cache: 20 sequential token requests for alice (already cached).
n0=$(ks_auth_posts)
ok=0
t0=$(now)
for i in $(seq 1 20); do
  [[ $(tokget "$WORK/t-loop.json" alice:alicepass "repository:alice/ks:pull") == 200 ]] && ok=$((ok + 1))
done
CACHED20=$(since "$t0")
n1=$(ks_auth_posts)
EST20=$(awk -v p="$KS_PER_LOGIN" 'BEGIN{printf "%.2f", 20*p}')
timing "20 cached token requests for alice" "$CACHED20 s (20 keystone logins ~ $EST20 s)"
echo "  20 sequential token requests for alice: $CACHED20 s; 20 direct keystone logins would take ~$EST20 s; keystone saw $((n1 - n0)) logins"
expect_eq "20 cached token requests: all 200" 20 "$ok"
check "20 cached token requests take < 2 s ($CACHED20 s)" lt "$CACHED20" 2
expect_eq "20 cached token requests: none reached keystone" 0 "$((n1 - n0))"

# A wrong password is never cached: every attempt asks Keystone.
n0=$(ks_auth_posts)
tokget "$WORK/t-bob-bad1.json" bob:wrong1 >/dev/null
tokget "$WORK/t-bob-bad2.json" bob:wrong1 >/dev/null
n1=$(ks_auth_posts)
expect_eq "2 wrong-password requests for bob: 2 keystone logins (failures not cached)" 2 "$((n1 - n0))"

# ---------------------------------------------------------------- web interface (issue 14)
echo "# 3b. web interface login as Keystone users"
UJ=$WORK/ursula.jar VJ=$WORK/victor.jar
n0=$(ks_auth_posts)
UI_LOGIN_AT=$SECONDS
expect_eq "ui: ursula (keystone) logs in to the web interface: 200" 200 "$(ui_login ursula ursulapass "$UJ")"
expect_eq "ui: ... the answer names ursula" ursula "$(jq -r .user "$UJ.json" 2>/dev/null)"
check "ui: ... and sets the session cookie" grep -q berth_ui "$UJ"
expect_eq "ui: the web interface login reached keystone (1 POST /v3/auth/tokens)" 1 "$(($(ks_auth_posts) - n0))"
expect_eq "ui: victor (keystone) logs in: 200" 200 "$(ui_login victor victorpass "$VJ")"
expect_eq "ui: wrong password: 401" 401 "$(ui_login ursula wrongpass "$WORK/bad.jar")"
expect_eq "ui: ursula's session: GET /ui/api/session 200" 200 "$(ui_get "$UJ" /ui/api/session)"
expect_eq "ui: ... as ursula, not admin" "ursula false" "$(jq -r '"\(.user) \(.admin)"' "$WORK/ui.body" 2>/dev/null)"
expect_eq "ui: ursula's repository list: 200" 200 "$(ui_get "$UJ" '/ui/api/repositories?n=50')"
expect_eq "ui: ... a JSON list" array "$(jq -r '.repositories | type' "$WORK/ui.body" 2>/dev/null)"

# ================================================================ 4. real clients
echo "# 4. real clients with Keystone credentials"
use_private_container_config
L1=$WORK/oci1
M1=$(make_oci "$L1" v1 "hello from keystone_test $PORT")

if [[ $HAVE_SKOPEO == 1 ]]; then
  check "skopeo copy as alice (keystone creds) -> alice/ks:v1" \
    run_ok sk-push-alice skopeo copy --dest-cert-dir "$CERTDIR" --dest-creds alice:alicepass "oci:$L1:v1" "docker://$R/alice/ks:v1"
  run sk-inspect-alice skopeo inspect --cert-dir "$CERTDIR" --creds alice:alicepass "docker://$R/alice/ks:v1"
  expect_eq "skopeo inspect alice/ks:v1 as alice: the pushed digest" "$M1" "$(out sk-inspect-alice | jq -r .Digest 2>/dev/null)"
  run sk-push-bob-as-alice skopeo copy --dest-cert-dir "$CERTDIR" --dest-creds alice:alicepass "oci:$L1:v1" "docker://$R/bob/ks:v1"
  check "skopeo copy as alice -> bob/ks:v1 denied" denied $? sk-push-bob-as-alice
  echo "  (skopeo said: ...$(tail -1 "$LOGS/sk-push-bob-as-alice.err" | tr -d '"' | tail -c 170))"
  run sk-push-wrongpw skopeo copy --dest-cert-dir "$CERTDIR" --dest-creds alice:wrongpass "oci:$L1:v1" "docker://$R/alice/ks:v2"
  check "skopeo copy as alice with a wrong password fails (unauthorized)" denied $? sk-push-wrongpw
  run sk-list-carol skopeo list-tags --cert-dir "$CERTDIR" --creds carol:carolpass "docker://$R/alice/ks"
  expect_eq "skopeo list-tags alice/ks as carol (admin): v1" v1 "$(out sk-list-carol | jq -r '.Tags|join(",")' 2>/dev/null)"
fi

if [[ $HAVE_PODMAN == 1 ]]; then
  t0=$(now)
  check "podman login as bob (keystone creds)" run_ok pm-login podman login --cert-dir "$CERTDIR" -u bob -p bobpass "$R"
  timing "podman login (bob)" "$(since "$t0") s"
  expect_contains "podman login: Login Succeeded" "Login Succeeded" "$(out pm-login)$(err pm-login)"
  check "podman login stored bob's credentials in the private auth file" grep -q "$R" "$WORK/auth.json"
  run pm-login-bad podman login --cert-dir "$CERTDIR" -u bob -p wrongpass "$R"
  rc=$?
  check "podman login as bob with a wrong password fails" test $rc -ne 0
  expect_contains "... saying why" "invalid username/password" "$(err pm-login-bad)"
fi

# ================================================================ 5. cache expiry
echo "# 5. cache expiry and password change (second berth, keystone.cache_ttl=2)"
ROOT2=$WORK/root2
B2_PID=""
if start_serve "$ROOT2" BERTH_KEYSTONE_URL="$KEYSTONE_URL" BERTH_KEYSTONE_CACHE_TTL=2; then
  B2_PID=$BERTH_PID B2_TOKEN_URL=$SERVE_TOKEN_URL B2_CACERT=$CACERT
  EXTRA_PIDS+=("$B2_PID")
  use_main
  pass "second berth (cache_ttl=2) starts: $B2_TOKEN_URL"
  use_instance "$B2_TOKEN_URL" "$B2_CACERT"
  expect_eq "b2: erin logs in" 200 "$(tokget "$WORK/b2-erin.json" erin:erinpass "repository:erin/x:pull")"
  check "keystone: change erin's password" keystone_add_user erin erinpass2
  expect_eq "b2: erin's old password still works while cached (documented)" 200 \
    "$(tokget "$WORK/b2-erin-old.json" erin:erinpass "repository:erin/x:pull")"
  expect_eq "b2: erin's new password works at once" 200 \
    "$(tokget "$WORK/b2-erin-new.json" erin:erinpass2 "repository:erin/x:pull")"
  sleep 3
  expect_eq "b2: after the cache entry expired, erin's old password -> 401" 401 \
    "$(tokget "$WORK/b2-erin-old2.json" erin:erinpass "repository:erin/x:pull")"
  # dave is cached just before the outage; section 6 waits for the entry to expire.
  expect_eq "b2: dave logs in (keystone up, cached for 2 s)" 200 \
    "$(tokget "$WORK/b2-dave.json" dave:davepass "repository:dave/x:pull")"
  use_main
else
  adopt_extra
  use_main
  fail "second berth (cache_ttl=2) starts"
fi

# ---------------------------------------------------------------- web interface: refresh, revocation
echo "# 5b. web interface: refresh after the access token expired, Keystone revocation"
wait_s=$((UI_LOGIN_AT + 32 - SECONDS))
if ((wait_s > 0)); then
  echo "  (waiting $wait_s s for the web interface's access token to expire)"
  sleep "$wait_s"
fi
v0=$(ks_validations)
expect_eq "ui: ursula's repository list after her access token expired: 200 (refreshed)" 200 \
  "$(ui_get "$UJ" '/ui/api/repositories?n=50')"
check "ui: ... the refresh had keystone validate her token (GET /v3/auth/tokens: $(($(ks_validations) - v0)))" \
  test "$(($(ks_validations) - v0))" -ge 1
expect_eq "ui: ursula reads a repository of her own (new scope, refreshed): 200" 200 \
  "$(ui_get "$UJ" '/ui/api/tags?repository=ursula/none')"
# Keystone revokes every token of a user whose password changes (the same
# revocation DELETE /v3/auth/tokens makes for one token, which berth alone holds).
check "keystone: change ursula's password (revokes her keystone tokens)" keystone_add_user ursula ursulapass2
expect_eq "ui: ursula's session after keystone revoked her token: 401 (refresh refused)" 401 \
  "$(ui_get "$UJ" '/ui/api/tags?repository=ursula/other')"
check "berth log: the refresh was refused because keystone ended the session" \
  grep -q 'user=ursula result=denied reason="the identity backend ended the session' "$ROOT.log"
expect_eq "ui: victor's session is unaffected: 200" 200 "$(ui_get "$VJ" '/ui/api/tags?repository=victor/x')"

# ================================================================ 6. outage
echo "# 6. Keystone outage"
stop_keystone
check "keystone stopped (nothing listens on $KS_PORT)" \
  test "$(curl -s --max-time 5 -o /dev/null -w '%{http_code}' "$KEYSTONE_URL/")" == 000

expect_eq "alice (cached) during the outage: 200 (the cache bridges it)" 200 \
  "$(tokget "$WORK/o-alice.json" alice:alicepass "repository:alice/ks:pull")"

t0=$(now)
code=$(tokget "$WORK/o-frank.json" frank:frankpass "repository:frank/x:pull,push")
timing "new login with keystone down" "$(since "$t0") s"
expect_eq "frank (never logged in) during the outage: 503" 503 "$code"
expect_eq "... no token" "" "$(token_of "$WORK/o-frank.json")"
expect_eq "... no Basic challenge (the credentials were not judged)" "" "$(hdr "$WORK/o-frank.json.hdr" WWW-Authenticate)"
expect_eq "... error code UNAVAILABLE" UNAVAILABLE "$(jq -r '.errors[0].code' "$WORK/o-frank.json" 2>/dev/null)"
check "berth log: identity backend unavailable" grep -q 'identity backend unavailable' "$ROOT.log"

code=$(tokget "$WORK/o-alice-bad.json" alice:wrongpass "repository:alice/ks:pull")
expect_eq "alice with a wrong password during the outage: 503 (not 401)" 503 "$code"
expect_eq "... no token" "" "$(token_of "$WORK/o-alice-bad.json")"

# Repeated outage answers must not count as failed logins (no 429 lock-out).
for i in 1 2 3 4 5 6; do tokget "$WORK/o-frank-n.json" frank:frankpass >/dev/null; done
expect_eq "frank's 7th login during the outage: still 503 (not 429, not 401)" 503 \
  "$(tokget "$WORK/o-frank-7.json" frank:frankpass)"

v0=$(ks_validations)
expect_eq "ui: victor's refresh during the outage: 503 (not 401)" 503 \
  "$(ui_get "$VJ" '/ui/api/tags?repository=victor/y')"
VCSRF=$(jq -r .csrf "$VJ.json" 2>/dev/null)
expect_eq "ui: victor logs out during the outage: 200 (revocation needs no keystone)" 200 \
  "$(c -b "$VJ" -o /dev/null -w '%{http_code}' --cacert "$MAIN_CACERT" -X POST -H "X-CSRF-Token: $VCSRF" "$MAIN_BASE/ui/api/logout")"
expect_eq "ui: victor's old cookie after the logout: 401" 401 \
  "$(ui_get "$VJ" '/ui/api/tags?repository=victor/z')"
check "ui: berth's logs hold no keystone (fernet) token" \
  eval "! grep -q gAAAAA '$ROOT.log' '$ROOT2.log'"

if [[ $HAVE_SKOPEO == 1 ]]; then
  run sk-outage skopeo copy --dest-cert-dir "$CERTDIR" --dest-creds frank:frankpass "oci:$L1:v1" "docker://$R/frank/ks:v1"
  rc=$?
  check "skopeo as frank during the outage fails" test $rc -ne 0
  expect_contains "... and reports the token server's 503" "503" "$(err sk-outage)"
  echo "  (skopeo said: ...$(tail -1 "$LOGS/sk-outage.err" | tr -d '"' | tail -c 170))"
fi

if [[ -n $B2_PID ]]; then
  use_instance "$B2_TOKEN_URL" "$B2_CACERT"
  sleep 2.5
  code=$(tokget "$WORK/o-dave.json" dave:davepass "repository:dave/x:pull")
  expect_eq "b2: dave after his cache entry expired, keystone down: 503" 503 "$code"
  expect_eq "... no token" "" "$(token_of "$WORK/o-dave.json")"
  use_main
  check "b2 log: identity backend unavailable" grep -q 'identity backend unavailable' "$ROOT2.log"
fi

# A Keystone that accepts connections and never answers: bounded by timeout_ms.
HANG_PORT=$(free_port)
python3 - "$HANG_PORT" >"$LOGS/hang.log" 2>&1 <<'PY' &
import socket, sys, time
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen(16)
conns = []
deadline = time.time() + 120
s.settimeout(1)
while time.time() < deadline:
    try:
        conns.append(s.accept()[0])
    except socket.timeout:
        pass
PY
HANG_PID=$!
EXTRA_PIDS+=("$HANG_PID")
sleep 0.3
ROOT3=$WORK/root3
if start_serve "$ROOT3" BERTH_KEYSTONE_URL="http://127.0.0.1:$HANG_PORT/v3" BERTH_KEYSTONE_TIMEOUT_MS=1000; then
  B3_PID=$BERTH_PID
  EXTRA_PIDS+=("$BERTH_PID")
  B3_CACERT=$CACERT
  use_main
  use_instance "$SERVE_TOKEN_URL" "$B3_CACERT"
  t0=$(now)
  code=$(tokget "$WORK/h-alice.json" alice:alicepass "repository:alice/x:pull")
  el=$(since "$t0")
  timing "login against a hung keystone (timeout_ms=1000)" "$el s"
  use_main
  expect_eq "hung keystone: 503" 503 "$code"
  expect_eq "... no token" "" "$(token_of "$WORK/h-alice.json")"
  check "hung keystone: answered within 5 s ($el s)" lt "$el" 5
else
  adopt_extra
  use_main
  fail "third berth (hung keystone) starts"
fi

# ================================================================ shutdown
echo "# 7. shutdown"
# stop_checked NAME PID LOG: the berth exits on SIGTERM within 15 s.
# (A berth once ignored SIGTERM now and then: its two signal_sets were built
# by two coroutines at once, and Asio 1.81 lost one of its services. Runtime
# builds both before it starts the io threads now.)
stop_checked() {
  local t0
  t0=$(now)
  if stop_pid "$2" 15; then
    pass "$1 stops on SIGTERM ($(since "$t0") s)"
  else
    fail "$1 stops on SIGTERM (still running 15 s after SIGTERM, killed; last log line: $(tail -n 1 "$3" | cut -c1-200); 'signal 15 received' logged: $(grep -c 'signal 15 received' "$3"))"
  fi
}
[[ -n $B2_PID ]] && stop_checked "second berth" "$B2_PID" "$ROOT2.log"
[[ -n ${B3_PID:-} ]] && stop_checked "third berth" "$B3_PID" "$ROOT3.log"
stop_pid "$HANG_PID" 2
EXTRA_PIDS=()
stop_checked "main berth" "$MAIN_PID" "$ROOT.log"
BERTH_PID=""

# ================================================================ summary
echo "# timings"
for t in "${TIMINGS[@]}"; do echo "  $t"; done
summary
