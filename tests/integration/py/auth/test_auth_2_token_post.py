"""2. POST /token (OAuth2 form): password grant with access_type=offline and
several space-separated scopes (%20 and '+'); the refresh grant returns the
same refresh token; a refresh token is refused by a token server of another
service (`berth token` with auth.service=other on the same root, started by
auth_test.sh); `berth revoke-tokens --user alice` while the server runs ->
alice's refresh grant 401, bob's still 200. Refresh tokens from GET
(offline_token=true) are used, so that the refresh and revocation checks do
not depend on the password grant."""

import pytest

import auth_jwt as jwt
from auth_http import alive, berth, expect_status, refresh, token_get, token_post

SCOPES = "repository:alice/app:pull,push repository:public/base:pull"


@pytest.fixture(scope="module")
def rt_get(t):
    """alice's refresh token from GET offline_token=true."""
    r = token_get(t, "alice", ["repository:alice/app:pull"], offline_token="true", client_id="auth-test")
    expect_status(r, 200)
    return r.json()["refresh_token"]


@pytest.fixture(scope="module")
def rt_bob(t):
    r = token_get(t, "bob", offline_token="true", client_id="auth-test")
    assert r.json().get("refresh_token"), r.why("bob gets no refresh token (GET offline_token=true)")
    return r.json()["refresh_token"]


def test_bob_gets_a_refresh_token(rt_bob):
    assert rt_bob


@pytest.fixture(scope="module")
def password_grant(t):
    return token_post(t, {"grant_type": "password", "username": "alice", "password": t.password("alice"),
                          "service": "berth", "client_id": "auth-test", "access_type": "offline",
                          "scope": SCOPES + " repository:bob/app:push"})


def test_password_grant_200(password_grant):
    expect_status(password_grant, 200)


def test_password_grant_access_token_present(password_grant):
    assert password_grant.json().get("access_token"), password_grant.why()


def test_password_grant_scope_is_the_granted_scopes(password_grant):
    assert password_grant.json().get("scope") == SCOPES, password_grant.why()


def test_password_grant_access_token_grants_the_same(password_grant):
    assert jwt.grants(password_grant.json().get("access_token", "")) == SCOPES, password_grant.why()


def test_password_grant_expires_in_900(password_grant):
    assert password_grant.json().get("expires_in") == 900, password_grant.why()


def test_password_grant_issued_at_present(password_grant):
    assert password_grant.json().get("issued_at"), password_grant.why()


def test_password_grant_offline_refresh_token(password_grant):
    assert len(password_grant.json().get("refresh_token") or "") >= 32, password_grant.why()


def test_refresh_token_is_opaque(rt_get):
    assert rt_get.count(".") < 2, "looks like a JWT: " + rt_get


@pytest.fixture(scope="module")
def plus_form(t):
    return token_post(t, "grant_type=password&username=alice&password=%s&service=berth&client_id=auth-test"
                         "&scope=repository%%3Aalice%%2Fapp%%3Apull+repository%%3Apublic%%2Fbase%%3Apull"
                      % t.password("alice"),
                      headers={"Content-Type": "application/x-www-form-urlencoded"})


def test_plus_between_scopes_200(plus_form):
    expect_status(plus_form, 200)


def test_plus_form_both_scopes_granted(plus_form):
    assert plus_form.json().get("scope") == "repository:alice/app:pull repository:public/base:pull", plus_form.why()


def test_no_refresh_token_without_access_type_offline(plus_form):
    expect_status(plus_form, 200)
    assert "refresh_token" not in plus_form.json(), plus_form.why()


@pytest.fixture(scope="module")
def refresh_grant(t, rt_get):
    return refresh(t, rt_get, scope="repository:alice/app:pull,push,delete repository:bob/app:pull")


def test_refresh_grant_200(refresh_grant):
    expect_status(refresh_grant, 200)


def test_refresh_grant_returns_the_same_refresh_token(refresh_grant, rt_get):
    assert refresh_grant.json().get("refresh_token") == rt_get, refresh_grant.why()


def test_refresh_grant_sub_alice(refresh_grant):
    assert jwt.claims(refresh_grant.json().get("access_token", "")).get("sub") == "alice", refresh_grant.why()


def test_refresh_grant_applies_the_policy_again(refresh_grant):
    # own namespace only
    assert jwt.grants(refresh_grant.json().get("access_token", "")) == "repository:alice/app:delete,pull,push", \
        refresh_grant.why()


def test_refresh_token_from_password_grant_works(t, password_grant):
    expect_status(refresh(t, password_grant.json().get("refresh_token", "")), 200)


@pytest.mark.parametrize("case,data,status", [
    ("wrong password", {"grant_type": "password", "username": "alice", "password": "wrong"}, 401),
    ("unknown refresh token", {"grant_type": "refresh_token", "refresh_token": "RT0"}, 401),
    ("unsupported grant_type", {"grant_type": "authorization_code"}, 400),
])
def test_post_refused(t, rt_get, case, data, status):
    data = dict(data, service="berth", client_id="auth-test")
    if data.get("refresh_token") == "RT0":
        data["refresh_token"] = "0" * len(rt_get)
    expect_status(token_post(t, data), status, case)


def test_refresh_grant_naming_another_service_400(t, rt_get):
    r = refresh(t, rt_get, service="other")
    expect_status(r, 400)
    assert "unknown service" in str(r.json().get("errors", [{}])[0].get("message")), r.why()


# A second token server of ANOTHER service on the same storage root (same
# tokens.db and users): alice's refresh token, issued for "berth", must not
# buy a token for "other" (checklist 25).

def test_other_service_control_login_200_aud_other(other_token):
    assert jwt.claims(other_token).get("aud") == "other"


@pytest.mark.parametrize("service", ["other", None], ids=["naming service other", "naming no service"])
def test_refresh_token_refused_by_other_service(t, other_token, rt_get, service):
    data = {"grant_type": "refresh_token", "refresh_token": rt_get, "client_id": "auth-test"}
    if service:
        data["service"] = service
    expect_status(token_post(t, data, url=t.other_token_url), 401)


@pytest.fixture(scope="module")
def revoked(t, rt_get, password_grant, rt_bob):
    """berth revoke-tokens --user alice, while the server runs."""
    return berth(t, "revoke-tokens", "--user", "alice", env=t.root_env, label="revoke")


def test_revoke_tokens_exit_0(revoked):
    assert revoked.rc == 0, revoked.why()


def test_revoke_tokens_reports_what_it_did(revoked):
    assert "of alice" in revoked.out + revoked.err, revoked.why()


def test_after_revoke_alice_refresh_401(t, revoked, rt_get):
    expect_status(refresh(t, rt_get), 401)


def test_after_revoke_alice_other_refresh_token_401(t, revoked, password_grant):
    expect_status(refresh(t, password_grant.json().get("refresh_token", "")), 401)


def test_after_revoke_bob_refresh_still_200(t, revoked, rt_bob):
    expect_status(refresh(t, rt_bob), 200)


def test_after_revoke_alice_password_login_200(t, revoked):
    expect_status(token_get(t, "alice"), 200)


def test_berth_survived_every_post(t):
    # token_post fails the request's own test at once; this one names it.
    assert alive(t.main_pid), "berth (pid %d) is gone; its log: %s" % (t.main_pid, t.root_log)
