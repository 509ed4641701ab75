"""5. Rate limiting, on a SEPARATE berth with its own root and ports (started
by auth_test.sh; default token.max_failures = 5; in a cluster its two nodes
share the counts): 5 free failures, then 429 + Retry-After; the right
password is throttled too from the same address; other users are not;
another loopback source address (127.0.0.2) is not; a success clears the
count; the per-address allowance (4 x 5 failures) finally blocks everybody
from that address. The tests are one sequence, in this order."""

import time

import pytest

from auth_http import expect_status, log_text, request, token_get

OTHER_ADDRESS = "127.0.0.2"
state = {}


@pytest.fixture(scope="module")
def rl(t):
    if not t.rl_token_url:
        pytest.fail("the rate-limit berth did not start (auth_test.sh)")

    def get(user, source=None):
        name, _, pw = user.partition(":")
        return token_get(t, "%s:%s" % (name, pw or t.rl_credentials[name]), url=t.rl_token_url,
                         cacert=t.rl_cacert, source=source)
    return get


def fail_until_blocked(rl, name):
    """Wrong passwords for NAME (a %d in it is replaced by a counter) until a
    429 with Retry-After >= 3 s (waits double: 1, 2, 4 s ...; a shorter one
    may run out before the next request). Returns the replies."""
    replies = []
    for i in range(1, 41):
        r = rl((name % i if "%d" in name else name) + ":wrong")
        replies.append(r)
        if r.status == 429:
            ra = r.header("Retry-After") or ""
            if ra.isdigit() and int(ra) >= 3:
                break
            time.sleep(int(ra) if ra.isdigit() else 1)
    return replies


def codes(replies):
    return " ".join(str(r.status) for r in replies)


def test_first_5_failures_are_plain_401(rl):
    state["alice"] = replies = fail_until_blocked(rl, "alice")
    print("alice's wrong-password answers:", codes(replies))
    assert codes(replies[:5]) == "401 401 401 401 401", "alice's wrong-password answers: " + codes(replies)


def test_then_429(rl):
    last = state["alice"][-1]
    expect_status(last, 429, "after 5 failures (answers: %s)" % codes(state["alice"]))


def test_429_retry_after_whole_seconds(rl):
    last = state["alice"][-1]
    ra = last.header("Retry-After") or ""
    assert ra.isdigit() and int(ra) >= 1, last.why("Retry-After %r" % ra)


def test_429_body_code_toomanyrequests(rl):
    last = state["alice"][-1]
    assert last.json().get("errors", [{}])[0].get("code") == "TOOMANYREQUESTS", last.why()


def test_right_password_throttled_from_the_same_address(rl):
    expect_status(rl("alice"), 429, "alice with the RIGHT password while throttled")


def test_bob_unaffected_by_alice_failures(rl):
    expect_status(rl("bob"), 200)


def test_bob_wrong_password_401_not_429(rl):
    expect_status(rl("bob:wrong"), 401)


def test_alice_from_another_address_200(rl):
    r = rl("alice", source=OTHER_ADDRESS)
    if r.status == 0:
        pytest.skip("no second loopback source address here (%s)" % r.error)
    expect_status(r, 200, "alice, right password, from source " + OTHER_ADDRESS)


def test_after_retry_after_right_password_200(rl):
    ra = state["alice"][-1].header("Retry-After") or "4"
    time.sleep(int(ra) + 1 if ra.isdigit() else 5)
    expect_status(rl("alice"), 200)


def test_a_success_cleared_the_count(rl):
    expect_status(rl("alice:wrong"), 401, "next wrong password")


# The per-address allowance: 4 x 5 = 20 failures from one address over all
# user names; then that address is throttled for everybody.

def test_spraying_unknown_names_eventually_429(rl):
    state["spray"] = replies = fail_until_blocked(rl, "guess%d")
    print("unknown users' answers:", codes(replies))
    expect_status(replies[-1], 429, "after %d attempts (%s)" % (len(replies), codes(replies)))


def test_then_carol_429_address_wide(rl):
    # carol never failed and gives the right password
    expect_status(rl("carol"), 429)


def test_carol_from_another_address_200(rl):
    r = rl("carol", source=OTHER_ADDRESS)
    if r.status == 0:
        pytest.skip("no second loopback source address here (%s)" % r.error)
    expect_status(r, 200)


def test_throttled_requests_logged(t, rl):
    n = log_text(t.rl_log).count("result=throttled")
    print("throttled requests logged by berth:", n)
    assert n > 0, "no result=throttled in " + t.rl_log


def test_password_grant_throttled_too(t, rl):
    r = request("POST", t.rl_token_url, t.rl_cacert, data={
        "grant_type": "password", "username": "carol", "password": t.rl_credentials["carol"],
        "service": "berth", "client_id": "t"})
    expect_status(r, 429, "POST password grant (carol) while the address is throttled")
