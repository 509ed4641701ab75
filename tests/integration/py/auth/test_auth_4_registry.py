"""4. Registry enforcement: challenges (exact), an empty token on /v2/,
insufficient_scope for push/delete/catalog/another repository, invalid_token
for a tampered signature, edited claims, alg none, HS256 (key confusion), a
self-signed key, wrong iss/aud, expiry (+ the 60 s leeway), kid-only tokens
(libtrust id and RFC 7638 thumbprint), "bearer" in any case, and a
cross-repository mount without pull on the source -> 202."""

import hashlib
import os
import time

import pytest

import auth_jwt as jwt
from auth_http import challenge, expect_status, reg, request, tok

OCTETS = {"Content-Type": "application/octet-stream"}


@pytest.mark.parametrize("method,path,scope", [
    ("GET", "/v2/", None),
    ("GET", "/v2/alice/app/tags/list", "repository:alice/app:pull"),
    ("POST", "/v2/alice/app/blobs/uploads/", "repository:alice/app:pull,push"),
    ("DELETE", "/v2/alice/app/manifests/sha256:" + hashlib.sha256(b"x").hexdigest(), "repository:alice/app:delete"),
    ("GET", "/v2/_catalog", "registry:catalog:*"),
])
def test_no_token_challenge(t, method, path, scope):
    r = reg(t, "", method, path)
    expect_status(r, 401)
    assert r.challenge == challenge(t, scope), r.why("expected WWW-Authenticate: " + challenge(t, scope))


@pytest.fixture(scope="module")
def v2_no_token(t):
    return reg(t, "", "GET", "/v2/")


def test_401_body_code_unauthorized(v2_no_token):
    assert v2_no_token.json().get("errors", [{}])[0].get("code") == "UNAUTHORIZED", v2_no_token.why()


def test_api_version_header_on_401(v2_no_token):
    assert v2_no_token.header("Docker-Distribution-Api-Version") == "registry/2.0", v2_no_token.why()


def test_v2_with_empty_login_token_200(t, login_token):
    expect_status(reg(t, login_token, "GET", "/v2/"), 200)


@pytest.fixture(scope="module")
def pull(t):
    return tok(t, "alice", "repository:alice/app:pull")


@pytest.fixture(scope="module")
def push(t):
    return tok(t, "alice", "repository:alice/app:pull,push")


@pytest.fixture(scope="module")
def blob_a(t):
    data = ("alice blob %s %s\n" % (t.base, time.time())).encode()
    return data, "sha256:" + hashlib.sha256(data).hexdigest()


def insufficient(t, r, scope):
    expect_status(r, 401)
    want = challenge(t, scope, "insufficient_scope")
    assert r.challenge == want, r.why("expected WWW-Authenticate: " + want)


def test_pull_only_token_post_upload_insufficient_scope(t, pull):
    insufficient(t, reg(t, pull, "POST", "/v2/alice/app/blobs/uploads/"), "repository:alice/app:pull,push")


@pytest.fixture(scope="module")
def uploaded_a(t, push, blob_a):
    data, digest = blob_a
    return reg(t, push, "POST", "/v2/alice/app/blobs/uploads/?digest=" + digest, data=data, headers=OCTETS)


def test_pull_push_token_monolithic_upload_201(uploaded_a):
    expect_status(uploaded_a, 201)


def test_pull_only_token_head_blob_200(t, pull, blob_a, uploaded_a):
    expect_status(reg(t, pull, "HEAD", "/v2/alice/app/blobs/" + blob_a[1]), 200)


def test_pull_push_token_delete_blob_insufficient_scope(t, push, blob_a, uploaded_a):
    insufficient(t, reg(t, push, "DELETE", "/v2/alice/app/blobs/" + blob_a[1]), "repository:alice/app:delete")


def test_alice_token_on_bob_repository_insufficient_scope(t, push):
    insufficient(t, reg(t, push, "GET", "/v2/bob/app/tags/list"), "repository:bob/app:pull")


@pytest.mark.parametrize("scheme", ["bearer", "BEARER"])
def test_bearer_scheme_in_any_case(t, pull, blob_a, uploaded_a, scheme):
    expect_status(reg(t, pull, "HEAD", "/v2/alice/app/blobs/" + blob_a[1], scheme=scheme), 200)


def test_basic_credentials_at_registry_401(t, blob_a, uploaded_a):
    # tokens only
    r = request("HEAD", t.base + "/v2/alice/app/blobs/" + blob_a[1], t.cacert, auth=("alice", t.password("alice")))
    expect_status(r, 401)


# Forged and altered tokens: each must be 401 error="invalid_token"; the
# controls, signed with berth's real key (read from <root>/keys), must pass.
ALICE_ALL = {"iss": "berth-token", "sub": "alice", "aud": "berth",
             "access": [{"type": "repository", "name": "alice/app", "actions": ["pull", "push", "delete"]}]}


def now():
    return int(time.time())


def _keys(t):
    return os.path.join(t.root, "keys", "token.crt"), os.path.join(t.root, "keys", "token.key")


def signed(mode="es256", **claims):
    return lambda t, pull, other: jwt.forge(mode, dict(ALICE_ALL, **claims), *_keys(t))


def forged(mode):
    return lambda t, pull, other: jwt.forge(mode, ALICE_ALL, _keys(t)[0])


TOKENS = [
    ("signature with one character changed", False, lambda t, pull, other: jwt.tamper(pull)),
    ("claims edited (bob/app push added), signature kept", False, lambda t, pull, other: jwt.edit(pull, {"access": [
        {"type": "repository", "name": "alice/app", "actions": ["pull"]},
        {"type": "repository", "name": "bob/app", "actions": ["push"]}]})),
    ("alg none (x5c of the trusted cert, empty signature)", False, forged("none")),
    ("alg none, no key at all", False, forged("none-nox5c")),
    ("HS256 keyed with the trusted certificate (x5c)", False, forged("hs256")),
    ("HS256 keyed with the trusted certificate (kid)", False, forged("hs256-kid")),
    ("ES256 by an untrusted self-signed key (own x5c)", False, forged("selfsigned")),
    ("the token of service 'other' (aud other)", False, lambda t, pull, other: other),
    ("not a JWT", False, lambda t, pull, other: "not-a-token"),
    ("(control) hand-signed with berth's key and x5c", True, signed()),
    ("wrong iss", False, signed(iss="someone")),
    ("wrong aud", False, signed(aud="other")),
    ("aud as an array containing berth (checklist 9)", True, signed(aud=["x", "berth"])),
    ("expired 120 s ago", False, lambda t, p, o: signed(exp=now() - 120, iat=now() - 1000, nbf=now() - 1000)(t, p, o)),
    ("expired 20 s ago (60 s leeway)", True,
     lambda t, p, o: signed(exp=now() - 20, iat=now() - 1000, nbf=now() - 1000)(t, p, o)),
    ("nbf 300 s in the future", False, lambda t, p, o: signed(nbf=now() + 300, iat=now(), exp=now() + 900)(t, p, o)),
    ("exp as a float", False, lambda t, p, o: signed(exp=now() + 300.5, iat=now(), nbf=now())(t, p, o)),
    ("no exp", False, signed(exp=None)),
    ("kid = RFC 7638 thumbprint, no x5c", True, signed("es256-thumb")),
    ("kid = libtrust key id, no x5c", True, signed("es256-libtrust")),
]


def test_token_key_readable(t):
    assert os.access(_keys(t)[1], os.R_OK), "berth's token key is not readable at " + _keys(t)[1]


@pytest.mark.parametrize("case,valid,make", TOKENS, ids=[c[0] for c in TOKENS])
def test_token_validation(t, pull, other_token, blob_a, uploaded_a, case, valid, make):
    r = reg(t, make(t, pull, other_token), "HEAD", "/v2/alice/app/blobs/" + blob_a[1])
    if valid:
        expect_status(r, 200, case + ": accepted")
    else:
        expect_status(r, 401, case)
        assert 'error="invalid_token"' in (r.challenge or ""), r.why(case + ": not error=invalid_token")


# Cross-repository mount without pull on the source: a plain upload (202).

@pytest.fixture(scope="module")
def blob_b(t):
    data = ("bob blob %s %s\n" % (t.base, time.time())).encode()
    digest = "sha256:" + hashlib.sha256(data).hexdigest()
    r = reg(t, tok(t, "bob", "repository:bob/src:pull,push"), "POST", "/v2/bob/src/blobs/uploads/?digest=" + digest,
            data=data, headers=OCTETS)
    return r, digest


def test_bob_uploads_a_blob_to_bob_src_201(blob_b):
    expect_status(blob_b[0], 201)


def test_mount_without_token_challenge_asks_pull_on_the_source(t, blob_b):
    # checklist 3
    r = reg(t, "", "POST", "/v2/alice/app/blobs/uploads/?mount=%s&from=bob/src" % blob_b[1],
            headers={"Content-Length": "0"})
    expect_status(r, 401)
    want = challenge(t, "repository:alice/app:pull,push repository:bob/src:pull")
    assert r.challenge == want, r.why("expected WWW-Authenticate: " + want)


@pytest.fixture(scope="module")
def amnt(t):
    return tok(t, "alice", "repository:alice/app:pull,push", "repository:bob/src:pull")


def test_alice_token_has_no_pull_on_bob_src(amnt):
    assert jwt.grants(amnt) == "repository:alice/app:pull,push"


@pytest.fixture(scope="module")
def mount_as_alice(t, amnt, blob_b):
    return reg(t, amnt, "POST", "/v2/alice/app/blobs/uploads/?mount=%s&from=bob/src" % blob_b[1],
               headers={"Content-Length": "0"})


def test_mount_without_pull_on_source_is_a_normal_upload_202(mount_as_alice):
    expect_status(mount_as_alice, 202)


def test_mount_without_pull_on_source_has_location(mount_as_alice):
    assert mount_as_alice.header("Location"), mount_as_alice.why("no Location")


def test_mount_without_pull_on_source_blob_not_in_alice_app(t, amnt, blob_b, mount_as_alice):
    expect_status(reg(t, amnt, "HEAD", "/v2/alice/app/blobs/" + blob_b[1]), 404)


def test_control_bob_mounts_from_bob_src_into_bob_dst_201(t, blob_b):
    bmnt = tok(t, "bob", "repository:bob/dst:pull,push", "repository:bob/src:pull")
    expect_status(reg(t, bmnt, "POST", "/v2/bob/dst/blobs/uploads/?mount=%s&from=bob/src" % blob_b[1],
                      headers={"Content-Length": "0"}), 201)


def test_delete_token_delete_blob_202(t, blob_a, uploaded_a):
    expect_status(reg(t, tok(t, "alice", "repository:alice/app:delete"), "DELETE", "/v2/alice/app/blobs/" + blob_a[1]),
                  202)


def test_alice_catalog_insufficient_scope(t):
    insufficient(t, reg(t, tok(t, "alice", "registry:catalog:*"), "GET", "/v2/_catalog"), "registry:catalog:*")


@pytest.fixture(scope="module")
def admin_catalog(t, blob_b):
    return reg(t, tok(t, "admin", "registry:catalog:*"), "GET", "/v2/_catalog")


def test_admin_catalog_200(admin_catalog):
    expect_status(admin_catalog, 200)


def test_admin_catalog_lists_bob_src(admin_catalog):
    assert '"bob/src"' in admin_catalog.text, admin_catalog.why()


def test_admin_token_without_catalog_scope_401(t, blob_b):
    expect_status(reg(t, tok(t, "admin", "repository:bob/src:pull"), "GET", "/v2/_catalog"), 401)
