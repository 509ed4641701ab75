#!/usr/bin/env bash
# End-to-end check of tests/integration/keystone.sh against a real Keystone:
# start it, create users and roles, check every login answer the Keystone
# authenticator relies on (with curl), print timings, then run the
# authenticator's live unit tests (KeystoneLive.*) against it when the unit
# test binary is built. Needs python3-keystone (scripts/install-deps.sh --test).
# Not run by run_all.sh (it is not a *_test.sh): about 30 s on 2 busy cores.
#
#   tests/integration/keystone_auth_check.sh
#   BERTH_UNIT_TESTS=build-x/tests/unit/berth_unit_tests tests/integration/keystone_auth_check.sh
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
source "$HERE/lib.sh"
source "$HERE/keystone.sh"
trap 'stop_keystone; cleanup' EXIT

KS_PORT=${KEYSTONE_PORT:-$(free_port)}
if ! start_keystone "$WORK/keystone" "$KS_PORT"; then
  fail "keystone starts"
  summary
  exit 1
fi
pass "keystone starts on $KEYSTONE_URL"

t0=$(_ks_now)
check "add alice (no role)" keystone_add_user alice alicepass
check "add bob (member on berth)" keystone_add_user bob bobpass member
check "add carol (admin on berth)" keystone_add_user carol carolpass admin
echo "users created in $(_ks_since "$t0") s"

expect_eq "alice unscoped" 201 "$(keystone_login alice alicepass)"
expect_eq "alice wrong password" 401 "$(keystone_login alice wrong)"
expect_eq "unknown user" 401 "$(keystone_login nobody whatever)"
expect_eq "alice scoped to berth without a role" 401 "$(keystone_login alice alicepass berth)"
expect_eq "bob scoped to berth" 201 "$(keystone_login bob bobpass berth)"
expect_eq "carol scoped to berth" 201 "$(keystone_login carol carolpass berth)"

roles=$(_ks_auth_body carol carolpass berth |
  curl -s -H 'Content-Type: application/json' --data-binary @- "$KEYSTONE_URL/auth/tokens?nocatalog" |
  jq -r '[.token.roles[].name] | sort | join(",")')
expect_eq "carol's roles on berth (admin implies member, reader)" "admin,member,reader" "$roles"
roles=$(_ks_auth_body bob bobpass berth |
  curl -s -H 'Content-Type: application/json' --data-binary @- "$KEYSTONE_URL/auth/tokens?nocatalog" |
  jq -r '[.token.roles[].name] | sort | join(",")')
expect_eq "bob's roles on berth" "member,reader" "$roles"

check "reset alice's password" keystone_add_user alice newpass
expect_eq "old password refused" 401 "$(keystone_login alice alicepass)"
expect_eq "new password accepted" 201 "$(keystone_login alice newpass)"
check "restore alice's password" keystone_add_user alice alicepass

t0=$(_ks_now)
for i in $(seq 1 20); do keystone_login bob bobpass >/dev/null; done
echo "20 sequential unscoped logins: $(_ks_since "$t0") s"
t0=$(_ks_now)
for i in $(seq 1 20); do keystone_login bob wrong >/dev/null; done
echo "20 sequential wrong-password logins: $(_ks_since "$t0") s"

UNIT=${BERTH_UNIT_TESTS:-}
if [[ -z "$UNIT" ]]; then
  for b in "$TOP"/build*/tests/unit/berth_unit_tests; do
    if [[ -x "$b" ]] && "$b" --gtest_list_tests 2>/dev/null | grep -q '^KeystoneLive\.'; then
      UNIT=$b
      break
    fi
  done
fi
if [[ -n "$UNIT" && -x "$UNIT" ]]; then
  out=$(BERTH_TEST_KEYSTONE_URL=$KEYSTONE_URL "$UNIT" --gtest_filter='KeystoneLive.*' 2>&1)
  rc=$?
  echo "$out" | grep -E '^\[ +(OK|FAILED|SKIPPED) +\]|login:|Failure|Expected|Which is|Value of' | head -40
  if [[ $rc -eq 0 ]] && ! echo "$out" | grep -q SKIPPED; then
    pass "authenticator live tests ($UNIT)"
  else
    fail "authenticator live tests ($UNIT)"
  fi
else
  echo "no berth_unit_tests binary found: authenticator live tests not run"
fi

stop_keystone
summary
