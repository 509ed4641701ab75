# A real OpenStack Keystone on loopback for tests (SQLite, fernet tokens, the
# single-threaded wsgiref server). Source it; do not run it. Installs nothing:
# needs python3-keystone (scripts/install-deps.sh --test), curl and jq.
#
#   start_keystone DIR PORT            setup in DIR, serve on 127.0.0.1:PORT, wait for
#                                      a password login to answer 201 (up to
#                                      KEYSTONE_START_TIMEOUT seconds, default 90)
#   keystone_add_user NAME PASSWORD [ROLE]
#                                      create the user in domain Default (or reset the
#                                      password of an existing one); with ROLE, grant
#                                      it on project "berth" (created on first use)
#   keystone_login NAME PASSWORD [PROJECT]
#                                      prints the HTTP status of a password login
#                                      (unscoped, or scoped to PROJECT)
#   stop_keystone                      stop the server (DIR is left for the caller)
#
# After start_keystone: KEYSTONE_URL (http://127.0.0.1:PORT/v3), KEYSTONE_PID,
# KEYSTONE_DIR, KEYSTONE_SETUP_S and KEYSTONE_SERVE_S (seconds each phase took).
# The bootstrap admin is admin/adminpass with role admin on project admin.
# Passwords are hashed with bcrypt cost 4 (password_hash_rounds), so a login
# costs milliseconds instead of ~0.3 s. Functions return non-zero on failure
# and print the relevant log tail.

KEYSTONE_URL=""
KEYSTONE_PID=""
KEYSTONE_DIR=""
KEYSTONE_ADMIN_TOKEN=""
KEYSTONE_PROJECT_ID=""

_ks_now() { date +%s.%N; }
_ks_since() { echo "$(_ks_now) - $1" | bc | xargs printf '%.1f'; }

# _ks_auth_body NAME PASSWORD [PROJECT]: the JSON of a password login.
_ks_auth_body() {
  local scope='"unscoped"'
  if [[ -n "${3:-}" ]]; then scope=$(jq -cn --arg p "$3" '{project:{name:$p,domain:{id:"default"}}}'); fi
  jq -cn --arg u "$1" --arg pw "$2" --argjson scope "$scope" \
    '{auth:{identity:{methods:["password"],password:{user:{name:$u,domain:{id:"default"},password:$pw}}},scope:$scope}}'
}

# _ks_wal DB: switches the SQLite database to WAL (a persistent setting).
# Keystone sometimes leaves a read cursor open between requests; in the
# default rollback journal that reader makes the next write's commit wait 5 s
# and fail with "database is locked" (HTTP 500), even with one server process.
# Under WAL readers never block a writer.
_ks_wal() {
  /usr/bin/python3 -c 'import sqlite3, sys
c = sqlite3.connect(sys.argv[1])
assert c.execute("PRAGMA journal_mode=WAL").fetchone()[0] == "wal"' "$1"
}

keystone_login() {
  _ks_auth_body "$1" "$2" "${3:-}" |
    curl -s -o /dev/null -w '%{http_code}' --max-time "${_KS_MAX_TIME:-30}" \
      -H 'Content-Type: application/json' \
      --data-binary @- "$KEYSTONE_URL/auth/tokens?nocatalog"
}

start_keystone() {
  local dir port
  dir=$(realpath -m "$1")
  port=$2
  local timeout=${KEYSTONE_START_TIMEOUT:-90}
  local tool
  for tool in keystone-manage keystone-wsgi-public curl jq bc; do
    if ! command -v "$tool" >/dev/null; then
      echo "keystone.sh: $tool not found (scripts/install-deps.sh --test installs python3-keystone)"
      return 1
    fi
  done
  KEYSTONE_DIR=$dir
  KEYSTONE_URL=http://127.0.0.1:$port/v3
  KEYSTONE_ADMIN_TOKEN=""
  KEYSTONE_PROJECT_ID=""
  mkdir -p "$dir/log"
  cat >"$dir/keystone.conf" <<EOF
[DEFAULT]
log_dir = $dir/log

[database]
connection = sqlite:///$dir/keystone.db

[token]
provider = fernet

[fernet_tokens]
key_repository = $dir/fernet-keys

[fernet_receipts]
key_repository = $dir/fernet-keys

[credential]
key_repository = $dir/credential-keys

[identity]
# bcrypt cost 4 instead of 12 for every password set from now on: fast tests.
password_hash_rounds = 4
EOF

  local t0
  t0=$(_ks_now)
  local km=(keystone-manage --config-file "$dir/keystone.conf")
  # Each keystone-manage call is ~4 s of Python start-up. On exit it may print
  # a harmless eventlet "Exception ignored in: <function _removeHandlerRef"
  # into the log; the exit code is what counts.
  if ! { "${km[@]}" db_sync &&
    _ks_wal "$dir/keystone.db" &&
    "${km[@]}" fernet_setup --keystone-user root --keystone-group root &&
    "${km[@]}" credential_setup --keystone-user root --keystone-group root &&
    "${km[@]}" bootstrap --bootstrap-password adminpass \
      --bootstrap-username admin --bootstrap-project-name admin --bootstrap-role-name admin \
      --bootstrap-admin-url "$KEYSTONE_URL/" --bootstrap-internal-url "$KEYSTONE_URL/" \
      --bootstrap-public-url "$KEYSTONE_URL/" --bootstrap-region-id RegionOne; } \
    >>"$dir/setup.log" 2>&1; then
    echo "keystone.sh: setup failed:"
    tail -n 20 "$dir/setup.log" "$dir"/log/*.log 2>/dev/null
    return 1
  fi
  KEYSTONE_SETUP_S=$(_ks_since "$t0")

  t0=$(_ks_now)
  # The WSGI app takes no --config-file: it reads $OS_KEYSTONE_CONFIG_DIR/keystone.conf.
  # The inner shell records its own pid, then becomes the server (exec), so
  # the pid is right whether or not setsid had to fork.
  OS_KEYSTONE_CONFIG_DIR=$dir setsid sh -c 'echo $$ >"$1/keystone.pid"; exec keystone-wsgi-public --host 127.0.0.1 --port "$2"' \
    sh "$dir" "$port" >"$dir/server.log" 2>&1 </dev/null &
  local deadline=$((SECONDS + timeout)) code=""
  while ((SECONDS < deadline)); do
    KEYSTONE_PID=$(cat "$dir/keystone.pid" 2>/dev/null)
    code=$(_KS_MAX_TIME=5 keystone_login admin adminpass)
    if [[ "$code" == 201 ]]; then
      KEYSTONE_SERVE_S=$(_ks_since "$t0")
      echo "keystone: $KEYSTONE_URL ready (setup ${KEYSTONE_SETUP_S} s, server ${KEYSTONE_SERVE_S} s)"
      return 0
    fi
    if [[ -n "$KEYSTONE_PID" ]] && ! kill -0 "$KEYSTONE_PID" 2>/dev/null; then
      echo "keystone.sh: the server exited during start-up (port $port taken?):"
      tail -n 20 "$dir/server.log" "$dir"/log/*.log 2>/dev/null
      KEYSTONE_PID=""
      return 1
    fi
    sleep 0.5
  done
  echo "keystone.sh: no 201 from a password login within ${timeout} s (last answer: '$code'):"
  tail -n 20 "$dir/server.log" "$dir"/log/*.log 2>/dev/null
  stop_keystone
  return 1
}

stop_keystone() {
  if [[ -z "$KEYSTONE_PID" ]]; then return 0; fi
  kill "$KEYSTONE_PID" 2>/dev/null
  # wsgiref takes a second or two to stop on SIGTERM.
  local i
  for i in $(seq 1 50); do
    kill -0 "$KEYSTONE_PID" 2>/dev/null || break
    sleep 0.1
  done
  kill -KILL "$KEYSTONE_PID" 2>/dev/null
  KEYSTONE_PID=""
}

# _ks_admin_token: gets the admin's project-scoped token once. Call it in the
# current shell (not inside $(...), which would forget it).
_ks_admin_token() {
  if [[ -n "$KEYSTONE_ADMIN_TOKEN" ]]; then return 0; fi
  KEYSTONE_ADMIN_TOKEN=$(_ks_auth_body admin adminpass admin |
    curl -s -D - -o /dev/null --max-time 30 -H 'Content-Type: application/json' \
      --data-binary @- "$KEYSTONE_URL/auth/tokens?nocatalog" |
    awk -F': ' 'tolower($1)=="x-subject-token"{print $2}' | tr -d '\r')
  if [[ -z "$KEYSTONE_ADMIN_TOKEN" ]]; then
    echo "keystone.sh: could not get an admin token" >&2
    return 1
  fi
}

# _ks_call METHOD PATH JSON EXPECTED...: an admin REST call (after
# _ks_admin_token). Prints the body when the status is one of EXPECTED, else
# complains and fails. A 500 is retried: SQLite sometimes answers "database is
# locked" to a write even with this single server process.
_ks_call() {
  local out status attempt want
  for attempt in 1 2 3; do
    local args=(-s -w '\n%{http_code}' --max-time 30 -X "$1" -H "X-Auth-Token: $KEYSTONE_ADMIN_TOKEN")
    if [[ -n "$3" ]]; then args+=(-H 'Content-Type: application/json' --data-binary "$3"); fi
    out=$(curl "${args[@]}" "$KEYSTONE_URL$2")
    status=${out##*$'\n'}
    [[ "$status" == 500 ]] || break
    echo "keystone.sh: $1 $2 answered 500 (attempt $attempt)" >&2
  done
  for want in "${@:4}"; do
    if [[ "$status" == "$want" ]]; then
      echo "${out%$'\n'*}"
      return 0
    fi
  done
  echo "keystone.sh: $1 $2 answered $status: ${out%$'\n'*}" >&2
  return 1
}

# _ks_id METHOD PATH JSON EXPECTED JQ: _ks_call, then JQ on its body.
_ks_id() {
  local body
  body=$(_ks_call "$1" "$2" "$3" "$4") || return 1
  jq -r "$5" <<<"$body"
}

# _ks_project_id: sets KEYSTONE_PROJECT_ID to project "berth", creating it once.
_ks_project_id() {
  if [[ -n "$KEYSTONE_PROJECT_ID" ]]; then return 0; fi
  local id
  id=$(_ks_id GET "/projects?name=berth&domain_id=default" "" 200 '.projects[0].id // empty') || return 1
  if [[ -z "$id" ]]; then
    id=$(_ks_id POST /projects '{"project":{"name":"berth","domain_id":"default"}}' 201 .project.id) ||
      return 1
  fi
  KEYSTONE_PROJECT_ID=$id
}

keystone_add_user() {
  local name=$1 password=$2 role=${3:-} uid
  _ks_admin_token || return 1
  uid=$(_ks_id GET "/users?name=$name&domain_id=default" "" 200 '.users[0].id // empty') || return 1
  if [[ -z "$uid" ]]; then
    uid=$(_ks_id POST /users "$(jq -cn --arg n "$name" --arg p "$password" \
      '{user:{name:$n,domain_id:"default",password:$p}}')" 201 .user.id) || return 1
  else
    _ks_call PATCH "/users/$uid" "$(jq -cn --arg p "$password" '{user:{password:$p,enabled:true}}')" \
      200 >/dev/null || return 1
  fi
  if [[ -n "$role" ]]; then
    local rid
    _ks_project_id || return 1
    rid=$(_ks_id GET "/roles?name=$role" "" 200 '.roles[0].id // empty') || return 1
    if [[ -z "$rid" ]]; then
      rid=$(_ks_id POST /roles "$(jq -cn --arg r "$role" '{role:{name:$r}}')" 201 .role.id) || return 1
    fi
    _ks_call PUT "/projects/$KEYSTONE_PROJECT_ID/users/$uid/roles/$rid" "" 204 >/dev/null || return 1
  fi
}
