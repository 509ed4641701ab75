"""1. GET /token: Basic credentials, several scope parameters (and several
scopes in one), a host:port name, the answer's fields, the JWT header (ES256,
x5c = the signing certificate, kid = its RFC 7638 thumbprint) and claims;
login without scope; wrong password, unknown user, unknown service, malformed
scope, anonymous; offline_token -> refresh_token."""

import os
import re
import time

import pytest

import auth_jwt as jwt
from auth_http import TIMINGS, expect_status, tok, token_get


def test_token_signing_certificate_generated(t):
    path = os.path.join(t.root, "keys", "token.crt")
    assert os.path.isfile(path) and os.path.getsize(path) > 0, "no certificate at <root>/keys/token.crt"


@pytest.fixture(scope="module")
def t1(t):
    return token_get(t, "alice", ["repository:alice/app:pull,push", "repository:public/base:pull",
                                  "repository:127.0.0.1:5000/alice/x:pull", "repository:bob/app:pull"],
                     account="alice")


@pytest.fixture(scope="module")
def t1_token(t1):
    expect_status(t1, 200)
    return t1.token


def test_get_with_basic_and_4_scopes_200(t1):
    expect_status(t1, 200)


def test_content_type_json(t1):
    assert t1.header("Content-Type") == "application/json", t1.why()


def test_token_and_access_token_identical(t1, t1_token):
    assert t1.json().get("access_token") == t1_token, t1.why()


def test_expires_in_900_number(t1):
    v = t1.json().get("expires_in")
    assert type(v) is int and v == 900, t1.why("expires_in %r" % v)


def test_issued_at_rfc3339_utc(t1):
    v = t1.json().get("issued_at")
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z", str(v)), t1.why("issued_at %r" % v)


def test_no_refresh_token_without_offline_token(t1):
    assert "refresh_token" not in t1.json(), t1.why()


def test_granted_own_pull_push_and_public_pull_only(t1_token):
    # bob/ and 127.0.0.1:5000/alice/x left out
    assert jwt.grants(t1_token) == "repository:alice/app:pull,push repository:public/base:pull"


def test_host_port_name_not_in_token(t1_token):
    # host:port is part of the name, so 127.0.0.1:5000/alice/x is not alice's
    assert "127.0.0.1:5000" not in str(jwt.claims(t1_token))


@pytest.fixture(scope="module")
def header(t1_token):
    return jwt.header(t1_token)


@pytest.fixture(scope="module")
def claims(t1_token):
    return jwt.claims(t1_token)


@pytest.mark.parametrize("name,value", [("alg", "ES256"), ("typ", "JWT")])
def test_header_field(header, name, value):
    assert header.get(name) == value, header


def test_header_x5c_is_the_signing_certificate(t, header):
    assert header.get("x5c") == [jwt.cert_b64(os.path.join(t.root, "keys", "token.crt"))]


def test_header_has_kid(header):
    assert header.get("kid"), header


def test_header_kid_is_rfc7638_thumbprint(t, header):
    pub = jwt.load_cert(os.path.join(t.root, "keys", "token.crt")).public_key()
    assert header.get("kid") == jwt.thumbprint(pub)


def test_es256_signature_is_raw_r_s_64_bytes(t1_token):
    assert jwt.signature_length(t1_token) == 64


@pytest.mark.parametrize("name,value", [("iss", "berth-token"), ("sub", "alice"), ("aud", "berth")])
def test_claim(claims, name, value):
    # aud is the string "berth", not a list
    assert claims.get(name) == value, claims


def test_claims_exp_nbf_iat_are_integers(claims):
    assert all(type(claims.get(k)) is int for k in ("exp", "nbf", "iat")), claims


def test_exp_minus_iat_900(claims):
    assert claims["exp"] - claims["iat"] == 900, claims


def test_iat_near_now_and_nbf_not_after_iat(claims):
    assert abs(claims["iat"] - time.time()) < 60 and claims["nbf"] <= claims["iat"], claims


def test_claim_jti_present(claims):
    assert claims.get("jti"), claims


def test_jti_differs_between_two_tokens(t, claims):
    other = tok(t, "alice", "repository:alice/app:pull")
    assert jwt.claims(other).get("jti") != claims["jti"]


def test_several_scopes_in_one_scope_parameter(t):
    token = tok(t, "alice", "repository:alice/app:pull repository:public/base:pull repository:bob/app:pull")
    assert jwt.grants(token) == "repository:alice/app:pull repository:public/base:pull"


def test_login_without_scope(t):
    r = token_get(t, "alice", account="alice")
    expect_status(r, 200)
    assert (jwt.claims(r.token).get("access") or []) == [], r.why("login token: access not empty")


@pytest.mark.parametrize("case,user,scopes,params,status", [
    ("wrong password", "alice:wrongpass", ["repository:alice/app:pull"], {}, 401),
    ("unknown user", "nobody:whatever", [], {}, 401),
    ("unknown service", "alice", ["repository:alice/app:pull"], {"service": "other"}, 400),
    ("malformed scope (no actions part)", "alice", ["repository:alice/app"], {}, 400),
])
def test_refused(t, case, user, scopes, params, status):
    r = token_get(t, user, scopes, **params)
    expect_status(r, status, case)
    if case == "wrong password":
        assert "Basic" in (r.challenge or ""), r.why("no WWW-Authenticate: Basic")
        assert "token" not in r.json(), r.why("a token in the body")


def test_anonymous_gets_nothing(t):
    r = token_get(t, None, ["repository:public/base:pull"])
    expect_status(r, 200)
    c = jwt.claims(r.token)
    # anonymous_pull is off
    assert (c.get("access") or [], c.get("sub")) == ([], ""), r.why("claims %s" % c)


def test_offline_token_gives_refresh_token(t):
    r = token_get(t, "alice", ["repository:alice/app:pull"], offline_token="true", client_id="auth-test")
    expect_status(r, 200)
    assert len(r.json().get("refresh_token") or "") >= 32, r.why("no refresh_token of >= 32 chars")


def test_timing_10_token_gets(t):
    t0 = time.monotonic()
    tokens = [tok(t, "alice", "repository:alice/app:pull,push") for _ in range(10)]
    TIMINGS.append("%-34s %7.2f s" % ("token GET x10 (bcrypt cost 10)", time.monotonic() - t0))
    assert all(tokens), "a token GET failed"
