#!/usr/bin/env bash
# The web interface (/ui/ on the registry port) end to end: `berth serve`
# with users alice, bob and admin, images pushed over the API
# (ui_push.py), checked with curl and in headless Chromium through Selenium
# (ui_browser.py):
#   0. ui/ passes eslint; tests/unit/ui/lib_test.mjs passes in node.
#   1. / redirects browsers to /ui/; the files carry CSP, X-Frame-Options,
#      nosniff; their sizes (page weight) are printed.
#   2. JSON API with curl: login sets an HttpOnly SameSite=Strict cookie;
#      alice's repository list holds hers and public/, none of bob's (also
#      across pages and searches); bob's the reverse; bounded parameters;
#      deleting in public/ is refused; tags page by 200; usage and quota
#      (alice and bob their own namespace, admin all); CSRF: no header, a wrong one, a
#      foreign Origin are refused; wrong passwords are 401.
#   3. The browser: login, list, search, keyboard, tags with digest/size/
#      platforms, an index and its images (layers, config), pull commands
#      and the clipboard, labels holding HTML shown as text with no script
#      run, deleting a tag, no delete in public/, lib.js's functions, logout,
#      400 px, and the time to first render with 1,000 more repositories.
#   4. After the browser: the deleted tag is gone for the registry API and
#      skopeo; the logged-out cookie is refused, and its refresh token too
#      at the token server; a wrong-password burst from one browser address
#      does not throttle another's login.
# With BERTH_TARGET=cluster (cluster_target.sh) the same checks run against
# two `berth serve` nodes on S3 (with s3.redirect: blob GETs of the API are
# answered 307 to RGW, which the interface reads through berth instead) and
# PostgreSQL behind HAProxy: logins, UI calls and logout land on either node.
# What differs there: the logged-out cookie is refused at once by the node
# that handled the logout, and by the other node once the access tokens it
# cached for that session expire (at most 10 s; the refresh token itself is
# refused by both token servers at once).
# Screenshots go to $UI_OUT (default: $WORK/ui, kept when KEEP_WORK=1).
source "$(dirname "$0")/lib.sh"

need() { command -v "$1" >/dev/null || { fail "$1 is installed (scripts/install-deps.sh --test)"; return 1; }; }
OK_DEPS=1
need curl || OK_DEPS=0
need jq || OK_DEPS=0
need chromium || OK_DEPS=0
need chromedriver || OK_DEPS=0
# Debian's python3-selenium is for Debian's python3, which may not be the first on PATH.
PY=""
for p in python3 /usr/bin/python3; do "$p" -c 'import selenium' 2>/dev/null && PY=$p && break; done
[[ -n $PY ]] || { fail "python3-selenium is installed"; OK_DEPS=0; }
need node || OK_DEPS=0
need eslint || OK_DEPS=0
((OK_DEPS)) || { summary; exit 1; }

# ---------------------------------------------------------------- the script itself
# Debian's eslint finds its modules through NODE_PATH when the node on PATH
# is not Debian's own; -f unix: the default formatter needs a module
# Debian ships only as a recommendation.
SRC=$(cd "$HERE/../.." && pwd)
lint=$(NODE_PATH=/usr/share/nodejs:/usr/lib/nodejs${NODE_PATH:+:$NODE_PATH} \
  timeout 120 eslint -f unix --max-warnings 0 --no-eslintrc -c "$SRC/ui/.eslintrc.json" "$SRC/ui" 2>&1)
check "eslint finds nothing in ui/ (ui/.eslintrc.json)" test -z "$lint"
[[ -z $lint ]] || echo "$lint" | head -20
out=$(timeout 60 node --test "$SRC/tests/unit/ui/lib_test.mjs" 2>&1)
check "lib.js unit tests pass in node ($(echo "$out" | awk '/^# pass/ {print $3}') of them)" \
  grep -q '^# fail 0' <<<"$out"
grep -q '^# fail 0' <<<"$out" || echo "$out" | grep -A12 'not ok' | head -40

for _ in $(seq 1 20); do
  cp "$BERTH_BIN" "$WORK/berth.bin" 2>/dev/null && "$WORK/berth.bin" --help >/dev/null 2>&1 && break
  sleep 3
done
BERTH_BIN=$WORK/berth.bin
UI_OUT=${UI_OUT:-$WORK/ui}
mkdir -p "$UI_OUT"
T0=$SECONDS

ROOT=$WORK/root
PORT=$(free_port)
TP=$(free_port)
while [[ $TP == "$PORT" ]]; do TP=$(free_port); done
TOKEN_URL=https://127.0.0.1:$TP/token
mkdir -p "$ROOT"
for u in alice bob admin; do
  echo "${u}pass" | timeout 30 "$BERTH_BIN" user add "$u" --password-stdin -f "$ROOT/htpasswd" >/dev/null 2>&1 ||
    fail "berth user add $u"
done
BERTH_ROLE=serve
CLUSTER=0
EXTRA=()
if [[ ${BERTH_TARGET:-one} == cluster ]]; then
  CLUSTER=1
  EXTRA=(BERTH_S3_REDIRECT=true)
fi
start_berth "$ROOT" "$PORT" BERTH_AUTH_ENABLED=true BERTH_TOKEN_ADDR=127.0.0.1 BERTH_TOKEN_PORT="$TP" \
  BERTH_AUTH_REALM="$TOKEN_URL" BERTH_TOKEN_ADMINS=admin BERTH_QUOTA_DEFAULT=1073741824 \
  ${EXTRA[@]+"${EXTRA[@]}"} || { summary; exit 1; }
for _ in $(seq 1 50); do
  [[ $(curl -s --cacert "$CACERT" -o /dev/null -w '%{http_code}' "$TOKEN_URL") != 000 ]] && break
  sleep 0.1
done

C=(curl -s --max-time 20 --cacert "$CACERT")
push() { timeout 120 python3 "$HERE/ui_push.py" "$BASE" "$TOKEN_URL" "$CACERT" "$@"; }

# ---------------------------------------------------------------- images
push alice:alicepass image alice/app v1 >/dev/null && push alice:alicepass image alice/app v2 >/dev/null &&
  pass "push alice/app:v1 and v2" || fail "push alice/app:v1 and v2"
push alice:alicepass index alice/app multi >/dev/null && pass "push the index alice/app:multi (amd64, arm64)" ||
  fail "push the index alice/app:multi"
EVIL='{"evil.script":"<script>window.__pwned=1</script>","evil.img":"<img src=x onerror=window.__pwned=2>"}'
push alice:alicepass image alice/evil v1 --labels "$EVIL" >/dev/null && pass "push alice/evil:v1 with HTML labels" ||
  fail "push alice/evil:v1"
push bob:bobpass image bob/secret v1 >/dev/null && pass "push bob/secret:v1" || fail "push bob/secret:v1"
push alice:alicepass tags alice/many 205 && pass "push alice/many with 205 tags" || fail "push alice/many with 205 tags"
push admin:adminpass image public/base v1 >/dev/null && pass "push public/base:v1 (admin)" || fail "push public/base:v1"
t=$SECONDS
push admin:adminpass many load/r 1000 && pass "push 1,000 repositories load/r0000..0999" || fail "push 1,000 repositories"
echo "# 1,000 repositories pushed in $((SECONDS - t)) s"

# ---------------------------------------------------------------- files and headers
code=$("${C[@]}" -o /dev/null -w '%{http_code} %{redirect_url}' -H 'Accept: text/html' "$BASE/")
expect_eq "GET / from a browser → 303 /ui/" "303 $BASE/ui/" "$code"
code=$("${C[@]}" -o /dev/null -w '%{http_code}' "$BASE/")
expect_eq "GET / from a registry client is not redirected" "404" "$code"
H=$WORK/h
"${C[@]}" -D "$H" -o /dev/null "$BASE/ui/"
hdr() { tr -d '\r' <"$H" | awk -v n="${1,,}" '{ i = index($0, ":"); if (i && tolower(substr($0, 1, i - 1)) == n) { v = substr($0, i + 2) } } END { print v }'; }
expect_contains "CSP default-src 'self'" "default-src 'self'" "$(hdr content-security-policy)"
expect_contains "CSP frame-ancestors 'none'" "frame-ancestors 'none'" "$(hdr content-security-policy)"
expect_eq "no unsafe-inline in the CSP" "" "$(hdr content-security-policy | grep -o unsafe-inline)"
expect_eq "X-Frame-Options DENY" "DENY" "$(hdr x-frame-options)"
expect_eq "X-Content-Type-Options nosniff" "nosniff" "$(hdr x-content-type-options)"
total=0
weights=""
for f in index.html app.js lib.js app.css; do
  n=$("${C[@]}" -o /dev/null -w '%{size_download}' "$BASE/ui/$f")
  gz=$("${C[@]}" "$BASE/ui/$f" | gzip -9 | wc -c)
  weights+="$f $n B ($gz gzipped); "
  total=$((total + n))
done
echo "# page weight: ${weights}total $total B"
check "the whole interface weighs under 64 KiB" test "$total" -lt 65536

# ---------------------------------------------------------------- JSON API
JAR=$WORK/alice.jar
login() { # login USER PASS JAR: prints the status, keeps the answer in $WORK/login.json
  "${C[@]}" -c "$3" -o "$WORK/login.json" -w '%{http_code}' -H 'Content-Type: application/json' \
    -d "{\"user\":\"$1\",\"password\":\"$2\"}" "$BASE/ui/api/login"
}
expect_eq "login with a wrong password → 401" 401 "$(login alice nope "$WORK/nope.jar")"
expect_eq "login as alice → 200" 200 "$(login alice alicepass "$JAR")"
CSRF=$(jq -r .csrf "$WORK/login.json")
expect_eq "login answers the user" alice "$(jq -r .user "$WORK/login.json")"
cookie_line=$(grep berth_ui "$JAR")
expect_contains "the cookie is HttpOnly" "#HttpOnly_" "$cookie_line"
expect_eq "the cookie's path is /ui/" "/ui/" "$(echo "$cookie_line" | awk '{print $3}')"
"${C[@]}" -D "$H" -o /dev/null -H 'Content-Type: application/json' -d '{"user":"alice","password":"alicepass"}' "$BASE/ui/api/login"
expect_contains "Set-Cookie has SameSite=Strict and Secure" "HttpOnly; SameSite=Strict; Secure" "$(hdr set-cookie)"
A=("${C[@]}" -b "$JAR")
all_repos() { # all_repos JAR [q]: every name over all pages, one a line
  local last="" page
  while :; do
    page=$("${C[@]}" -b "$1" -G --data-urlencode "n=50" --data-urlencode "q=${2:-}" --data-urlencode "last=$last" "$BASE/ui/api/repositories")
    echo "$page" | jq -r '.repositories[]'
    last=$(echo "$page" | jq -r '.next // empty')
    [[ -z $last ]] && break
  done
}
alice_list=$(all_repos "$JAR")
expect_eq "alice's list: alice/app, alice/evil, alice/many, public/base" "alice/app alice/evil alice/many public/base" "$(echo $alice_list)"
expect_eq "alice's list: no bob names, over all pages" "" "$(echo "$alice_list" | grep '^bob' )"
expect_eq "alice searching 'secret' gets nothing" "" "$(all_repos "$JAR" secret)"
raw=$("${A[@]}" "$BASE/ui/api/repositories?n=200")
expect_eq "the raw JSON never names bob" "" "$(echo "$raw" | grep -o 'bob' | head -1)"
expect_eq "login as bob → 200" 200 "$(login bob bobpass "$WORK/bob.jar")"
expect_eq "bob's list: bob/secret and public/base" "bob/secret public/base" "$(echo $(all_repos "$WORK/bob.jar"))"
expect_eq "login as admin → 200" 200 "$(login admin adminpass "$WORK/admin.jar")"
expect_eq "admin sees all 1,005 repositories" 1005 "$(all_repos "$WORK/admin.jar" | wc -l)"
expect_eq "admin's session says admin" true "$("${C[@]}" -b "$WORK/admin.jar" "$BASE/ui/api/session" | jq .admin)"
expect_eq "n=0 → 400" 400 "$("${A[@]}" -o /dev/null -w '%{http_code}' "$BASE/ui/api/repositories?n=0")"
expect_eq "n=100000 → 400" 400 "$("${A[@]}" -o /dev/null -w '%{http_code}' "$BASE/ui/api/repositories?n=100000")"
expect_eq "q of 300 characters → 400" 400 "$("${A[@]}" -o /dev/null -w '%{http_code}' "$BASE/ui/api/repositories?q=$(head -c 300 /dev/zero | tr '\0' a)")"
big=$(head -c 10000 /dev/zero | tr '\0' a)
expect_eq "a 10 kB login body → 413" 413 "$("${C[@]}" -o /dev/null -w '%{http_code}' -H 'Content-Type: application/json' -d "{\"user\":\"$big\"}" "$BASE/ui/api/login")"
expect_eq "alice reads bob's tags through the UI → 403" 403 "$("${A[@]}" -o /dev/null -w '%{http_code}' "$BASE/ui/api/v2/bob/secret/tags/list")"
expect_eq "alice reads her tags through the UI → 200" 200 "$("${A[@]}" -o /dev/null -w '%{http_code}' "$BASE/ui/api/v2/alice/app/tags/list")"
expect_eq "alice's tag list of bob/secret → 403" 403 "$("${A[@]}" -o /dev/null -w '%{http_code}' "$BASE/ui/api/tags?repository=bob/secret")"
pushed=$("${A[@]}" "$BASE/ui/api/tags?repository=alice/app" | jq -r '[.tags[] | select(.pushed_at > 1600000000) | .name] | join(" ")')
expect_eq "alice's tag list of alice/app has push times" "multi v1 v2" "$pushed"
page=$("${A[@]}" "$BASE/ui/api/tags?repository=alice/many" | jq -r '"\(.tags | length) \(.next)"')
expect_eq "the tag list of alice/many: 200 tags, then a marker" "200 t199" "$page"
page=$("${A[@]}" "$BASE/ui/api/tags?repository=alice/many&last=t199" | jq -r '"\(.tags | length) \(.next) \(.tags[-1].name)"')
expect_eq "… and after it the last 5" "5 null t204" "$page"
usage() { "${C[@]}" -b "$1" "$BASE/ui/api/usage" | jq -r '[.namespaces[] | "\(.namespace) \(.quota_bytes) \(.repositories) \(.used_bytes > 0)"] | join(", ")'; }
expect_eq "alice's usage: her namespace only, with its quota" "alice 1073741824 3 true" "$(usage "$JAR")"
expect_eq "bob's usage: his only" "bob 1073741824 1 true" "$(usage "$WORK/bob.jar")"
expect_eq "admin's usage: every namespace (the registry's usage call)" "alice bob load public" \
  "$("${C[@]}" -b "$WORK/admin.jar" "$BASE/ui/api/usage" | jq -r '[.namespaces[].namespace] | sort | join(" ")')"
expect_eq "usage without a session → 401" 401 "$("${C[@]}" -o /dev/null -w '%{http_code}' "$BASE/ui/api/usage")"
del() { "${A[@]}" -o "$WORK/del.json" -w '%{http_code}' -X DELETE "$@"; }
expect_eq "delete in public/ → 403" 403 "$(del -H "X-CSRF-Token: $CSRF" "$BASE/ui/api/v2/public/base/manifests/v1")"
expect_contains "… with a clear message" "not allowed: you may not delete in public/base" "$(cat "$WORK/del.json")"
expect_eq "delete without the CSRF header → 403" 403 "$(del "$BASE/ui/api/v2/alice/app/manifests/v1")"
expect_contains "… saying why" "X-CSRF-Token" "$(cat "$WORK/del.json")"
expect_eq "delete with another session's CSRF token → 403" 403 "$(del -H "X-CSRF-Token: $(jq -r .csrf "$WORK/login.json")" "$BASE/ui/api/v2/alice/app/manifests/v1")"
expect_eq "delete from a foreign Origin → 403" 403 "$(del -H "X-CSRF-Token: $CSRF" -H 'Origin: https://evil.example' "$BASE/ui/api/v2/alice/app/manifests/v1")"
expect_eq "logout without the CSRF header → 403" 403 "$("${A[@]}" -o /dev/null -w '%{http_code}' -X POST "$BASE/ui/api/logout")"
expect_eq "login from a foreign Origin → 403" 403 "$("${C[@]}" -o /dev/null -w '%{http_code}' -H 'Origin: https://evil.example' -H 'Content-Type: application/json' -d '{"user":"alice","password":"alicepass"}' "$BASE/ui/api/login")"
expect_eq "alice/app:v1 still there after the refused deletes" 200 "$("${A[@]}" -o /dev/null -w '%{http_code}' "$BASE/ui/api/v2/alice/app/manifests/v1")"

# The page reads an image's configuration as a blob through /ui/api/v2/.
# Where the API redirects blob GETs (s3.redirect, BERTH_TARGET=cluster), the
# page could not follow (CSP connect-src 'self', no CORS on the store): the
# interface reads the blob through berth, with the API's authorization.
cfg=$("${A[@]}" -H 'Accept: application/vnd.oci.image.manifest.v1+json' "$BASE/ui/api/v2/alice/app/manifests/v1" | jq -r .config.digest)
tok=$("${C[@]}" -u alice:alicepass "$TOKEN_URL?service=berth&scope=repository:alice/app:pull" | jq -r .token)
want=200
((CLUSTER)) && want=307
expect_eq "the registry API answers GET of alice/app:v1's config blob $want" "$want" \
  "$("${C[@]}" -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $tok" "$BASE/v2/alice/app/blobs/$cfg")"
code=$("${A[@]}" -D "$H" -o "$WORK/config.json" -w '%{http_code}' "$BASE/ui/api/v2/alice/app/blobs/$cfg")
expect_eq "the interface reads that config blob itself → 200" 200 "$code"
expect_eq "… with no redirect" "" "$(hdr location)"
expect_eq "… its bytes are the config's" "$cfg" "sha256:$(sha256sum "$WORK/config.json" | cut -c1-64)"
expect_eq "… a download, never a page" attachment "$(hdr content-disposition)"
expect_eq "bob reads alice's config blob through the UI → 403" 403 \
  "$("${C[@]}" -b "$WORK/bob.jar" -o /dev/null -w '%{http_code}' "$BASE/ui/api/v2/alice/app/blobs/$cfg")"

# ---------------------------------------------------------------- browser
t=$SECONDS
# In a process group of its own, so that chromedriver and Chromium go with
# it whatever happens (timeout, the suite interrupted).
setsid timeout 300 "$PY" "$HERE/ui_browser.py" "$BASE" "$UI_OUT" >"$WORK/browser.out" 2>"$WORK/browser.err" &
BROWSER_PID=$!
trap 'kill -KILL -- -$BROWSER_PID 2>/dev/null; cleanup' EXIT
wait "$BROWSER_PID"
rc=$?
kill -KILL -- -"$BROWSER_PID" 2>/dev/null
trap cleanup EXIT
cat "$WORK/browser.out"
PASSED=$((PASSED + $(grep -c '^ok ' "$WORK/browser.out")))
FAILED=$((FAILED + $(grep -c '^FAIL ' "$WORK/browser.out")))
if [[ $rc -ne 0 ]] && ! grep -q '^FAIL ' "$WORK/browser.out"; then
  fail "ui_browser.py exited $rc"; tail -20 "$WORK/browser.err"
fi
echo "# browser part: $((SECONDS - t)) s; screenshots in $UI_OUT: $(cd "$UI_OUT" && ls ./*.png 2>/dev/null | tr '\n' ' ')"

# ---------------------------------------------------------------- after the browser
tok=$("${C[@]}" -u alice:alicepass "$TOKEN_URL?service=berth&scope=repository:alice/app:pull" | jq -r .token)
tags=$("${C[@]}" -H "Authorization: Bearer $tok" "$BASE/v2/alice/app/tags/list" | jq -r '.tags | sort | join(" ")')
expect_eq "the registry API no longer lists v2" "multi v1" "$tags"
if command -v skopeo >/dev/null; then
  check "skopeo inspect alice/app:v2 fails" bash -c "! timeout 60 skopeo inspect --cert-dir '$CERTDIR' --creds alice:alicepass docker://127.0.0.1:$PORT/alice/app:v2 >/dev/null 2>&1"
  check "skopeo inspect alice/app:v1 works" bash -c "timeout 60 skopeo inspect --cert-dir '$CERTDIR' --creds alice:alicepass docker://127.0.0.1:$PORT/alice/app:v1 >/dev/null"
fi
old=$(cat "$UI_OUT/alice.cookie" 2>/dev/null)
if ((CLUSTER)); then
  # Each node on its own (HAProxy alternates): the node that handled the
  # logout refuses the cookie at once, the other once the access tokens it
  # cached for the session expire (TokenClient keeps one at most 10 s).
  t=$SECONDS
  for i in 1 2; do
    at=(--connect-to "127.0.0.1:$PORT:127.0.0.1:${NODE_REG[$i]}")
    first=""
    while :; do
      s1=$("${C[@]}" "${at[@]}" -o /dev/null -w '%{http_code}' -b "berth_ui=$old" "$BASE/ui/api/session")
      s2=$("${C[@]}" "${at[@]}" -o /dev/null -w '%{http_code}' -b "berth_ui=$old" "$BASE/ui/api/v2/alice/app/tags/list")
      first=${first:-"$s1 $s2"}
      [[ "$s1 $s2" == "401 401" ]] || ((SECONDS - t > 20)) && break
      sleep 1
    done
    expect_eq "node $i refuses the logged-out session's cookie, also for the registry calls" "401 401" "$s1 $s2"
    echo "# node $i answered the logged-out cookie '$first' at first, '$s1 $s2' after $((SECONDS - t)) s"
  done
  echo "# the logged-out cookie was refused by both nodes $((SECONDS - t)) s after the browser part"
else
  expect_eq "the logged-out session's cookie is refused" 401 "$("${C[@]}" -o /dev/null -w '%{http_code}' -b "berth_ui=$old" "$BASE/ui/api/session")"
  expect_eq "… also for the registry calls" 401 "$("${C[@]}" -o /dev/null -w '%{http_code}' -b "berth_ui=$old" "$BASE/ui/api/v2/alice/app/tags/list")"
fi
# Logout revoked the refresh token at the token server: it is worthless to
# any other client too. Bob's session, not logged out, still refreshes.
refresh() { "${C[@]}" -o /dev/null -w '%{http_code}' --data-urlencode grant_type=refresh_token \
  --data-urlencode service=berth --data-urlencode "refresh_token=$1" "$TOKEN_URL"; }
expect_eq "the logged-out session's refresh token is refused by the token server" 401 "$(refresh "$old")"
expect_eq "… while bob's live session still refreshes" 200 "$(refresh "$(awk '$6 == "berth_ui" {print $7}' "$WORK/bob.jar")")"

# Failed UI logins are counted per browser address (berth serve: the token
# server believes the web interface's X-Forwarded-For), so a burst of wrong
# passwords from one browser does not lock the user out of another. The
# browsers are 127.0.0.2 and 127.0.0.3 (loopback source addresses).
login_from() { # login_from ADDRESS USER PASS: prints the status
  "${C[@]}" --interface "$1" -o /dev/null -w '%{http_code}' -H 'Content-Type: application/json' \
    -d "{\"user\":\"$2\",\"password\":\"$3\"}" "$BASE/ui/api/login"
}
if [[ $(login_from 127.0.0.2 nobody x) == 401 ]]; then
  codes=""
  for _ in $(seq 1 8); do codes+="$(login_from 127.0.0.2 bob nope) "; done
  expect_contains "8 wrong passwords for bob from 127.0.0.2 are throttled" "401 429" "$codes"
  expect_eq "… and so is bob's right password from there" 429 "$(login_from 127.0.0.2 bob bobpass)"
  expect_eq "… but not from 127.0.0.3" 200 "$(login_from 127.0.0.3 bob bobpass)"
else
  echo "# skipped: curl cannot connect from 127.0.0.2 here"
fi
check "berth still runs" berth_alive
rm -f "$UI_OUT/alice.cookie"
rm -rf "$UI_OUT"/chrome-profile-*
echo "# ui_test: $((SECONDS - T0)) s"
summary
