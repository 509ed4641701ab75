#!/bin/bash
# Integration test of the admin commands (docs/lifecycle.md, "Admin
# commands"): `berth images list|tags|delete`, `berth gc`, `berth usage`
# against a real `berth serve` (registry + token server, auth on, TLS with
# the generated certificate) on loopback.
#
#   1. Set-up: users admin and alice; images pushed with skopeo (alice/app:v1,
#      alice/app:v2, alice/tools:latest, bob/web:v1) and 1001 tags of
#      alice/many (so listing its tags follows a Link to a second page).
#   2. Listing: images list (all, one namespace, an unknown one), images tags,
#      human and --json; the config's defaults (URL from registry.addr 0.0.0.0
#      and port, CA from <root>/keys/tls.crt, berth.yaml in the working
#      directory); --user, --password-stdin.
#   3. Deleting: a tag and a manifest by digest, human and --json; a missing
#      tag and repository (exit 1) with the registry's message on stderr.
#   4. gc (dry run, then for real, with gc delays 0) and usage (all, one
#      namespace, unknown namespace, the quota column), human and --json.
#   5. Exit codes: wrong or no password (3), alice (not an admin) for images
#      list, gc and usage (3) but her own tags (0), an unreachable URL (4), a
#      certificate from another CA (4; 0 with --insecure), bad arguments (2).
#
# Environment: KEEP_WORK=1 keeps the temp dir (command output in $WORK/logs,
# berth's log in $WORK/root.log).

source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/oci.sh"
export -n BERTH_BIN BERTH_ROLE BERTH_TEST_LOG_LEVEL BERTH_TARGET 2>/dev/null

LOGS=$WORK/logs
mkdir -p "$LOGS" "$WORK/tmp"

# run LABEL CMD...: CMD's stdout and stderr in $LOGS/LABEL.out and .err; its
# exit code is returned and kept in $LOGS/LABEL.rc.
run() {
  local label=$1
  shift
  timeout 60 "$@" >"$LOGS/$label.out" 2>"$LOGS/$label.err"
  local rc=$?
  echo "$rc" >"$LOGS/$label.rc"
  return $rc
}
rc() { cat "$LOGS/$1.rc" 2>/dev/null; }

# adm LABEL ARGS...: berth ARGS with the test's config, as admin.
adm() {
  local label=$1
  shift
  run "$label" env BERTH_PASSWORD=adminpass "$BERTH_BIN" "$@" -c "$CFG"
}
# as_alice LABEL ARGS...: the same as alice.
as_alice() {
  local label=$1
  shift
  run "$label" env BERTH_USER=alice BERTH_PASSWORD=alicepass "$BERTH_BIN" "$@" -c "$CFG"
}
# expect_rc NAME RC LABEL: the command LABEL exited with RC.
expect_rc() {
  local got
  got=$(rc "$3")
  if [[ "$got" == "$2" ]]; then pass "$1 (exit $2)"; else
    fail "$1 (expected exit $2, got $got; stderr: $(head -c 300 "$LOGS/$3.err"))"
  fi
}

add_users() { # add_users HTPASSWD USER...: password = USER + "pass"
  local f=$1 u
  shift
  mkdir -p "$(dirname "$f")"
  for u in "$@"; do
    echo "${u}pass" | timeout 30 "$BERTH_BIN" user add "$u" --password-stdin -f "$f" \
      >>"$LOGS/user-add.log" 2>&1 || return 1
  done
}

# ---------------------------------------------------------------- set-up

# Others rebuild the binary while tests run: use one private copy throughout.
for _ in $(seq 1 20); do
  cp "$BERTH_BIN" "$WORK/berth.bin" 2>/dev/null && "$WORK/berth.bin" --help >/dev/null 2>&1 && break
  sleep 3
done
BERTH_BIN=$WORK/berth.bin
need curl || exit 1
need jq || exit 1
need skopeo || exit 1
use_private_container_config

ROOT=$WORK/root
PORT=$(free_port)
TP=$(free_port)
while [[ $TP == "$PORT" ]]; do TP=$(free_port); done
TOKEN_URL=https://127.0.0.1:$TP/token
R=127.0.0.1:$PORT

check "berth user add admin, alice" add_users "$ROOT/htpasswd" admin alice
BERTH_ROLE=serve
if ! start_berth "$ROOT" "$PORT" BERTH_AUTH_ENABLED=true BERTH_TOKEN_ADDR=127.0.0.1 \
  BERTH_TOKEN_PORT="$TP" BERTH_AUTH_REALM="$TOKEN_URL" BERTH_GC_INTERVAL=0 BERTH_GC_DELAY=0 \
  BERTH_GC_UNTAGGED_DELAY=0 BERTH_QUOTA_DEFAULT=1073741824; then
  fail "berth serve starts"
  summary
  exit 1
fi
for _ in $(seq 1 100); do
  [[ $(curl -s --cacert "$CACERT" -o /dev/null -w '%{http_code}' "$TOKEN_URL") != 000 ]] && break
  sleep 0.1
done

# The admin commands' config: the wildcard address stands for 127.0.0.1,
# and the CA is the certificate `berth serve` generated under the root.
CFG=$WORK/berth.yaml
cat >"$CFG" <<EOF
storage:
  root: $ROOT
registry:
  addr: 0.0.0.0
  port: $PORT
EOF

push() { # push DIR TAG TEXT REPO:TAG: prints the manifest digest
  local digest
  digest=$(make_oci "$1" "$2" "$3") || return 1
  timeout 60 skopeo copy --quiet --dest-cert-dir "$CERTDIR" --dest-creds admin:adminpass \
    "oci:$1:$2" "docker://$R/$4" >>"$LOGS/push.log" 2>&1 || return 1
  echo "$digest"
}
V1=$(push "$WORK/img1" v1 "app one" alice/app:v1) && V2=$(push "$WORK/img2" v2 "app two" alice/app:v2) &&
  push "$WORK/img3" latest "tools" alice/tools:latest >/dev/null &&
  push "$WORK/img4" v1 "web" bob/web:v1 >/dev/null &&
  MANY=$(push "$WORK/img5" t0000 "many" alice/many:t0000)
check "skopeo pushes alice/app:v1, alice/app:v2, alice/tools:latest, bob/web:v1, alice/many:t0000" \
  test -n "${MANY:-}"

# 1000 more tags of the same manifest over one connection: the tags list
# (1000 a page) then needs a second page.
TOKEN=$(curl -s --cacert "$CACERT" -u admin:adminpass \
  "$TOKEN_URL?service=berth&scope=repository:alice/many:pull,push" | jq -r .token)
tag_many() {
  python3 - "$PORT" "$TOKEN" "$CACERT" "$WORK/img5/blobs/sha256/${MANY#sha256:}" <<'EOF'
import http.client, ssl, sys
port, token, cafile, manifest = sys.argv[1:5]
ctx = ssl.create_default_context(cafile=cafile)
conn = http.client.HTTPSConnection("127.0.0.1", int(port), context=ctx, timeout=30)
body = open(manifest, "rb").read()
for i in range(1, 1001):
    conn.request("PUT", "/v2/alice/many/manifests/t%04d" % i, body,
                 {"Content-Type": "application/vnd.oci.image.manifest.v1+json",
                  "Authorization": "Bearer " + token})
    r = conn.getresponse()
    r.read()
    if r.status != 201:
        sys.exit("tag t%04d: HTTP %d" % (i, r.status))
EOF
}
check "1000 more tags of alice/many" tag_many

# ---------------------------------------------------------------- listing

adm list images list
expect_rc "images list" 0 list
expect_eq "images list: every repository, sorted" \
  "alice/app alice/many alice/tools bob/web" "$(out list | tr '\n' ' ' | sed 's/ $//')"
adm list-json images list --json
expect_rc "images list --json" 0 list-json
expect_eq "images list --json" '{"repositories":["alice/app","alice/many","alice/tools","bob/web"]}' \
  "$(out list-json | jq -c .)"
adm list-alice images list alice
expect_eq "images list alice" "alice/app alice/many alice/tools" "$(out list-alice | tr '\n' ' ' | sed 's/ $//')"
adm list-alice-json images list alice --json
expect_eq "images list alice --json" '["alice/app","alice/many","alice/tools"]' \
  "$(out list-alice-json | jq -c .repositories)"
adm list-bob images list bob
expect_eq "images list bob" "bob/web" "$(out list-bob)"
adm list-nobody images list nobody
expect_rc "images list of an unknown namespace" 1 list-nobody

adm tags images tags alice/app
expect_rc "images tags alice/app" 0 tags
expect_eq "images tags alice/app" "v1 v2" "$(out tags | tr '\n' ' ' | sed 's/ $//')"
adm tags-json images tags alice/app --json
expect_eq "images tags --json" '{"name":"alice/app","tags":["v1","v2"]}' "$(out tags-json | jq -c .)"
adm tags-many images tags alice/many
expect_rc "images tags alice/many (two pages)" 0 tags-many
expect_eq "images tags alice/many: every tag of both pages" 1001 "$(out tags-many | sort -u | wc -l)"
expect_eq "images tags alice/many: the last one" t1000 "$(out tags-many | tail -1)"
adm tags-many-json images tags alice/many --json
expect_eq "images tags alice/many --json" 1001 "$(out tags-many-json | jq '.tags | length')"
adm tags-missing images tags alice/nothere
expect_rc "images tags of a missing repository" 1 tags-missing
expect_contains "images tags of a missing repository: the registry's message" NAME_UNKNOWN \
  "$(err tags-missing)"

# Defaults: berth.yaml in the working directory; --user and --password-stdin.
run cwd-default bash -c "cd '$WORK' && BERTH_PASSWORD=adminpass '$BERTH_BIN' images list bob"
expect_rc "berth.yaml in the working directory is the default config" 0 cwd-default
expect_eq "berth.yaml in the working directory: its registry" "bob/web" "$(out cwd-default)"
run stdin bash -c "echo adminpass | '$BERTH_BIN' images tags alice/tools --password-stdin -c '$CFG'"
expect_rc "--password-stdin" 0 stdin
expect_eq "--password-stdin: the tags" latest "$(out stdin)"
run user-flag env BERTH_PASSWORD=alicepass "$BERTH_BIN" images tags alice/tools --user alice -c "$CFG"
expect_rc "--user alice, her own repository" 0 user-flag
run url-flag env BERTH_PASSWORD=adminpass "$BERTH_BIN" images list bob --url "https://localhost:$PORT/" \
  --ca-file "$CACERT"
expect_rc "--url https://localhost:PORT/ --ca-file (name checked against the certificate)" 0 url-flag

# ---------------------------------------------------------------- deleting

adm del-tag images delete alice/app:v2
expect_rc "images delete alice/app:v2" 0 del-tag
expect_eq "images delete: what went" "deleted alice/app:v2" "$(out del-tag)"
adm tags-after images tags alice/app
expect_eq "images tags after deleting v2" v1 "$(out tags-after)"
adm del-again images delete alice/app:v2
expect_rc "images delete of a missing tag" 1 del-again
expect_contains "images delete of a missing tag: the registry's message" MANIFEST_UNKNOWN "$(err del-again)"
adm del-repo images delete alice/nothere:v1
expect_rc "images delete in a missing repository" 1 del-repo
adm del-digest images delete "alice/app@$V1" --json
expect_rc "images delete alice/app@DIGEST --json" 0 del-digest
expect_eq "images delete --json" "{\"deleted\":\"alice/app@$V1\"}" "$(out del-digest | jq -c .)"
adm del-v1 images delete alice/app:v1
expect_rc "the manifest's tag went with it" 1 del-v1
adm del-digest-again images delete "alice/app@$V1"
expect_rc "images delete of a missing digest" 1 del-digest-again

# ---------------------------------------------------------------- gc, usage

# v2's manifest is untagged now, v1's is gone: with delays of 0, gc removes
# the first and the blobs of both (bob's and alice/tools' stay).
adm gc-dry gc --dry-run --json
expect_rc "gc --dry-run --json" 0 gc-dry
expect_eq "gc --dry-run: a dry run" true "$(out gc-dry | jq .dry_run)"
expect_eq "gc --dry-run: lists alice/app's untagged manifest" 1 \
  "$(out gc-dry | jq '[.manifests[]? | select(.repository == "alice/app")] | length')"
adm gc-dry-human gc --dry-run
expect_contains "gc --dry-run (human)" "would delete manifest alice/app@" "$(out gc-dry-human)"
adm gc gc --json
expect_rc "gc --json" 0 gc
expect_eq "gc: not a dry run" false "$(out gc | jq .dry_run)"
expect_eq "gc: alice/app's untagged manifest deleted" 1 "$(out gc | jq .manifests_deleted)"
check "gc: blobs deleted and bytes freed" \
  test "$(out gc | jq '.blobs_deleted >= 2 and .bytes_freed > 0')" == true
adm gc-human gc
expect_rc "gc (human)" 0 gc-human
expect_contains "gc (human): freed" "freed 0 B (0 bytes)" "$(out gc-human)"
adm gc-timeout gc --timeout 30
expect_rc "gc --timeout 30" 0 gc-timeout

adm usage usage
expect_rc "usage" 0 usage
expect_contains "usage: table heading" "NAMESPACE" "$(out usage | head -1)"
check "usage: a row for alice with the quota" grep -qE '^alice +[0-9.]+ (B|KiB) +[0-9]+ +1\.0 GiB +1073741824 ' "$LOGS/usage.out"
check "usage: a row for bob" grep -q '^bob ' "$LOGS/usage.out"
adm usage-json usage --json
expect_rc "usage --json" 0 usage-json
expect_eq "usage --json: namespaces" "alice bob" "$(out usage-json | jq -r '[.namespaces[].namespace] | join(" ")')"
expect_eq "usage --json: bob's quota" 1073741824 \
  "$(out usage-json | jq '.namespaces[] | select(.namespace == "bob") | .quota_bytes')"
check "usage --json: alice uses bytes" \
  test "$(out usage-json | jq '.namespaces[] | select(.namespace == "alice") | .used_bytes > 0')" == true
adm usage-alice usage alice --json
expect_eq "usage alice --json: one namespace" alice "$(out usage-alice | jq -r '.namespaces | map(.namespace) | join(" ")')"
adm usage-nobody usage nobody
expect_rc "usage of an unknown namespace" 1 usage-nobody

# ---------------------------------------------------------------- exit codes

run wrong-password env BERTH_PASSWORD=wrong "$BERTH_BIN" images list -c "$CFG"
expect_rc "wrong password" 3 wrong-password
expect_contains "wrong password: says the login was refused" "refused" "$(err wrong-password)"
run no-password env -u BERTH_PASSWORD "$BERTH_BIN" images list -c "$CFG"
expect_rc "no password" 3 no-password
expect_contains "no password: says how to give one" "BERTH_PASSWORD" "$(err no-password)"
run unknown-user env BERTH_PASSWORD=x "$BERTH_BIN" images list --user nobody -c "$CFG"
expect_rc "unknown user" 3 unknown-user

as_alice alice-list images list
expect_rc "alice: images list" 3 alice-list
expect_contains "alice: images list: the registry's message" "UNAUTHORIZED" "$(err alice-list)"
as_alice alice-gc gc
expect_rc "alice: gc" 3 alice-gc
as_alice alice-usage usage
expect_rc "alice: usage" 3 alice-usage
as_alice alice-tags images tags alice/tools
expect_rc "alice: images tags of her own repository" 0 alice-tags
as_alice alice-bob images tags bob/web
expect_rc "alice: images tags of bob's repository" 3 alice-bob
as_alice alice-del-bob images delete bob/web:v1
expect_rc "alice: images delete in bob's repository" 3 alice-del-bob

DEAD=$(free_port)
t0=$(date +%s)
adm unreachable images list --url "https://127.0.0.1:$DEAD"
expect_rc "unreachable registry" 4 unreachable
check "unreachable registry: fails fast" test $(($(date +%s) - t0)) -le 10
adm unreachable-gc gc --url "http://127.0.0.1:$DEAD"
expect_rc "unreachable registry: gc" 4 unreachable-gc

openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 -subj /CN=other \
  -keyout "$WORK/other.key" -out "$WORK/other.crt" >/dev/null 2>&1
adm other-ca images list --ca-file "$WORK/other.crt"
expect_rc "a certificate from another CA" 4 other-ca
expect_contains "a certificate from another CA: suggests --ca-file" "--ca-file" "$(err other-ca)"
adm insecure images list --ca-file "$WORK/other.crt" --insecure
expect_rc "--insecure" 0 insecure
adm plain-to-tls images list --url "http://127.0.0.1:$PORT"
expect_rc "plain HTTP to the TLS port" 4 plain-to-tls

adm bad-ref images delete alice/app
expect_rc "bad args: images delete without tag or digest" 2 bad-ref
adm bad-host images delete "$R/alice/app:v1"
expect_rc "bad args: images delete with the registry host in the reference" 2 bad-host
expect_contains "bad args: host in the reference: points at --url" "--url" "$(err bad-host)"
adm bad-digest images delete alice/app@sha256:abc
expect_rc "bad args: a malformed digest" 2 bad-digest
adm bad-missing images tags
expect_rc "bad args: images tags without a repository" 2 bad-missing
adm bad-repo images tags Alice/App
expect_rc "bad args: an invalid repository" 2 bad-repo
adm bad-ns images list alice/app
expect_rc "bad args: a namespace with a '/'" 2 bad-ns
adm bad-flag gc --bogus
expect_rc "bad args: an unknown option" 2 bad-flag
adm bad-sub images frobnicate
expect_rc "bad args: an unknown images subcommand" 2 bad-sub
adm bad-timeout gc --timeout 0
expect_rc "bad args: --timeout 0" 2 bad-timeout
adm bad-url images list --url ftp://127.0.0.1:1
expect_rc "bad args: an ftp URL" 2 bad-url
adm bad-ca images list --ca-file "$WORK/missing.crt"
expect_rc "bad args: a missing --ca-file" 2 bad-ca
run bad-config env BERTH_PASSWORD=adminpass "$BERTH_BIN" images list -c "$WORK/missing.yaml"
expect_rc "bad configuration: a missing config file" 2 bad-config
run bad-env env BERTH_PASSWORD=adminpass BERTH_NO_SUCH_KEY=1 "$BERTH_BIN" images list -c "$CFG"
expect_rc "bad configuration: an unknown BERTH_ variable" 2 bad-env

summary
